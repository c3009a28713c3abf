"""The nightly plan applies every one of the school's safety limits."""

from __future__ import annotations

from shared.usecases.dispatch import reconcile_inline
from shared.usecases.school_run import run_school
from tests.usecases.conftest import without_students


async def test_the_schools_floor_on_held_removals_applies_to_the_nightly_run(stack, services):
    stack.save_settings(safety={"max_member_loss": 0.5, "min_held_removals": 1000})
    await night(stack, services, "night-1")
    form = next(c for c in stack.school.classes if c.class_type == "homeroom")
    enrolled = [e.user_id for e in stack.school.enrollments if e.class_id == form.sourced_id]
    leaving = set(enrolled[: len(enrolled) * 3 // 4])
    stack.upload(without_students(stack.school, lambda user_id: user_id not in leaving))

    run = await night(stack, services, "night-2")

    mapping = stack.mapping(form.sourced_id)
    group = next(g for g in stack.emulator.groups() if g["id"] == mapping.graph_id)
    assert run.summary["groups_with_held_removals"] == 0
    assert mapping.held_removals == set()
    upns = {p.sourced_id: p.upn for p in stack.school.people if p.has_account}
    gone = {stack.user(upns[person]) for person in leaving if person in upns}
    assert gone and not gone & set(group["members"])


async def night(stack, services, run_id: str):
    return await run_school(
        services, stack.school_id, run_id, "nightly", reconcile_inline(services)
    )
