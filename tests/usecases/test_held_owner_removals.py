"""A class whose member removals are held keeps its outgoing teacher as an owner too, until the
same admin release lets both go."""

from __future__ import annotations

import dataclasses

from shared.messages.schemas import ReleaseHeldRemovalsCommand
from shared.state import RunStatus
from shared.usecases.commands import handle_command
from shared.usecases.dispatch import reconcile_inline
from shared.usecases.school_run import run_school
from tests.usecases.conftest import ADMIN_UPN


async def test_a_class_losing_most_pupils_and_its_teacher_keeps_both_until_released(
    stack, services
):
    stack.save_settings(enabled_kinds=["teaching"])
    await night(stack, services, "night-1")
    school = stack.school
    upn = {p.sourced_id: p.upn for p in school.people}
    teachers = {p.sourced_id for p in school.people if p.role == "teacher" and p.has_account}
    taught = [e for e in school.enrollments if e.role == "teacher" and e.user_id in teachers]
    lesson = taught[0].class_id
    old_teacher = stack.user(upn[taught[0].user_id])
    replacement = next(t for t in sorted(teachers) if stack.user(upn[t]) != old_teacher)
    pupils = [e.user_id for e in school.enrollments if e.class_id == lesson and e.role == "student"]
    leaving = set(pupils[: len(pupils) * 3 // 4]) | {
        e.user_id for e in taught if e.class_id == lesson
    }
    enrollments = [
        e for e in school.enrollments if not (e.class_id == lesson and e.user_id in leaving)
    ]
    enrollments.append(
        dataclasses.replace(taught[0], sourced_id="new-teacher-link", user_id=replacement)
    )
    stack.upload(dataclasses.replace(school, enrollments=enrollments))

    await night(stack, services, "night-2")

    mapping = stack.mapping(lesson)
    held_group = _group(stack, mapping.graph_id)
    assert mapping.held_removals
    assert old_teacher in held_group["owners"]
    assert stack.user(upn[replacement]) in held_group["owners"]
    assert old_teacher in mapping.sync_owners

    release = ReleaseHeldRemovalsCommand(stack.school_id, lesson, requested_by=ADMIN_UPN)
    run = await handle_command(services, release, reconcile_inline(services))

    released = _group(stack, mapping.graph_id)
    assert run.status is RunStatus.DONE
    assert old_teacher not in released["owners"]
    assert stack.user(upn[replacement]) in released["owners"]
    assert old_teacher not in stack.mapping(lesson).sync_owners


async def night(stack, services, run_id: str):
    return await run_school(
        services, stack.school_id, run_id, "nightly", reconcile_inline(services)
    )


def _group(stack, graph_id: str) -> dict:
    return next(g for g in stack.emulator.groups() if g["id"] == graph_id)
