"""On-demand commands against the local stack: create, delete, release, sync one group."""

from __future__ import annotations

import pytest

from shared.messages.schemas import (
    CreateGroupCommand,
    DeleteGroupCommand,
    ReleaseHeldRemovalsCommand,
    SyncGroupCommand,
    SyncSchoolCommand,
)
from shared.state import MappingState, RunStatus
from shared.usecases.commands import handle_command
from shared.usecases.dispatch import reconcile_inline
from shared.usecases.errors import CommandRejected
from tests.usecases.conftest import ADMIN_UPN, TEACHER_UPN, without_students
from tests.usecases.test_school_run import night


def teaching_group(stack):
    return next(c for c in stack.school.classes if c.class_type == "scheduled")


async def test_a_group_created_on_demand_is_owned_by_its_requester_even_if_its_kind_is_off(
    stack, services, recorder
):
    chosen = teaching_group(stack)
    command = CreateGroupCommand(
        stack.school_id,
        chosen.sourced_id,
        lifetime="2026-07-31",
        requested_by=TEACHER_UPN,
        display_name="Maths club",
        description="After-school maths",
        visibility="Public",
    )

    run = await handle_command(services, command, recorder)

    mapping = stack.mapping(chosen.sourced_id)
    (group,) = [g for g in stack.emulator.groups() if g["id"] == mapping.graph_id]
    assert run.status is RunStatus.DONE
    assert group["displayName"] == "Maths club"
    assert group["visibility"] == "Public"
    assert stack.user(TEACHER_UPN) in group["owners"]
    assert stack.user(ADMIN_UPN) in group["owners"]
    assert mapping.on_demand and mapping.lifetime == "2026-07-31"
    assert mapping.requested_by == TEACHER_UPN
    assert stack.user(TEACHER_UPN) not in mapping.sync_owners


async def test_the_nightly_run_keeps_an_on_demand_group_and_its_requester(stack, services):
    chosen = teaching_group(stack)
    create = CreateGroupCommand(
        stack.school_id, chosen.sourced_id, lifetime="2026-07-31", requested_by=TEACHER_UPN
    )
    await handle_command(services, create, reconcile_inline(services))

    run = await night(stack, services, "night-1")

    mapping = stack.mapping(chosen.sourced_id)
    group = next(g for g in stack.emulator.groups() if g["id"] == mapping.graph_id)
    assert run.summary["groups"] == 15
    assert stack.user(TEACHER_UPN) in group["owners"]
    results = stack.state.list_group_results(stack.school_id, "night-1")
    assert [r.outcome for r in results if r.mis_group_id == chosen.sourced_id] == ["in line"]


async def test_a_group_deleted_on_demand_is_not_recreated_by_the_nightly_run(stack, services):
    await night(stack, services, "night-1")
    victim = stack.state.list_mappings(stack.school_id)[0]
    delete = DeleteGroupCommand(stack.school_id, victim.mis_group_id, requested_by=ADMIN_UPN)

    await handle_command(services, delete, reconcile_inline(services))
    run = await night(stack, services, "night-2")

    assert victim.graph_id not in {g["id"] for g in stack.emulator.groups()}
    assert victim.unique_key not in {g["uniqueName"] for g in stack.emulator.groups()}
    assert stack.mapping(victim.mis_group_id).state is MappingState.DELETED_ON_DEMAND
    assert run.summary["groups_to_create"] == 0
    results = stack.state.list_group_results(stack.school_id, "night-2")
    outcomes = [r.outcome for r in results if r.mis_group_id == victim.mis_group_id]
    assert outcomes == ["deleted on demand"]


async def test_released_held_removals_are_applied(stack, services):
    await night(stack, services, "night-1")
    form = next(c for c in stack.school.classes if c.class_type == "homeroom")
    enrolled = [e.user_id for e in stack.school.enrollments if e.class_id == form.sourced_id]
    leaving = set(enrolled[: len(enrolled) * 3 // 4])
    stack.upload(without_students(stack.school, lambda user_id: user_id not in leaving))
    await night(stack, services, "night-2")
    held = set(stack.mapping(form.sourced_id).held_removals)
    release = ReleaseHeldRemovalsCommand(stack.school_id, form.sourced_id, requested_by=ADMIN_UPN)

    run = await handle_command(services, release, reconcile_inline(services))

    mapping = stack.mapping(form.sourced_id)
    group = next(g for g in stack.emulator.groups() if g["id"] == mapping.graph_id)
    assert run.status is RunStatus.DONE
    assert held and not held & set(group["members"])
    assert mapping.held_removals == set()


async def test_syncing_one_group_touches_only_that_group(stack, services, recorder):
    await night(stack, services, "night-1")
    forms = [c for c in stack.school.classes if c.class_type == "homeroom"]
    stack.upload(without_students(stack.school, lambda user_id: False))
    stack.save_settings(safety={"max_student_loss": 1, "max_group_loss": 1, "max_member_loss": 1})
    stack.emulator.reset_counters()

    run = await handle_command(
        services, SyncGroupCommand(stack.school_id, forms[0].sourced_id), recorder
    )

    assert run.status is RunStatus.DONE
    results = stack.state.list_group_results(stack.school_id, run.run_id)
    assert [r.mis_group_id for r in results] == [forms[0].sourced_id]
    assert results[0].members_removed > 0
    other = stack.mapping(forms[1].sourced_id)
    group = next(g for g in stack.emulator.groups() if g["id"] == other.graph_id)
    assert group["members"]


async def test_a_command_for_an_unknown_school_is_rejected(stack, services, recorder):
    with pytest.raises(CommandRejected) as raised:
        await handle_command(services, SyncSchoolCommand("no-such-school"), recorder)

    assert "no-such-school" in str(raised.value)
