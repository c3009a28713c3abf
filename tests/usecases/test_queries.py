"""The admin groups view: the pupils the sync would put in each group, read once per export."""

from __future__ import annotations

import dataclasses

from shared.usecases.queries import school_groups
from shared.usecases.services import Services


class CountingExports:
    """The stack's export store, counting the downloads it is asked for."""

    def __init__(self, exports) -> None:
        self._exports = exports
        self.downloads = 0

    def download_export(self, ref, dest):
        self.downloads += 1
        return self._exports.download_export(ref, dest)

    def __getattr__(self, name):
        return getattr(self._exports, name)


def _form_with_students(stack):
    form = next(c for c in stack.school.classes if c.class_type == "homeroom")
    pupils = {p.sourced_id: p for p in stack.school.people if p.role == "student" and p.active}
    enrolled = [e.user_id for e in stack.school.enrollments if e.class_id == form.sourced_id]
    return form, [pid for pid in enrolled if pid in pupils]


async def test_an_inactive_pupil_is_not_among_a_groups_mis_pupils(stack):
    form, pupils = _form_with_students(stack)
    leaver = pupils[0]
    people = [
        dataclasses.replace(p, status="tobedeleted") if p.sourced_id == leaver else p
        for p in stack.school.people
    ]
    stack.upload(dataclasses.replace(stack.school, people=people))

    groups = {g["mis_group_id"]: g for g in await school_groups(stack.services(), stack.school_id)}

    shown = [s["mis_id"] for s in groups[form.sourced_id]["students"]]
    assert leaver not in shown
    assert sorted(shown) == sorted(pupils[1:])


async def test_two_reads_of_the_same_export_download_it_once(stack):
    exports = CountingExports(stack.exports)
    services = Services(stack.env, state=stack.state, exports=exports)

    first = await school_groups(services, stack.school_id)
    second = await school_groups(services, stack.school_id)

    assert exports.downloads == 1
    assert first == second
