"""An admin approving an export the safety limits blocked: summer leavers of an 11-18 school."""

from __future__ import annotations

import dataclasses

from local.sample_school import SampleSchool
from shared.messages.schemas import SyncSchoolCommand
from shared.state import RunStatus
from shared.usecases.commands import handle_command
from shared.usecases.dispatch import reconcile_inline
from tests.usecases.conftest import ADMIN_UPN, without_students
from tests.usecases.test_school_run import night

# Years 11 and 13 leave in the summer: a quarter of the sample school's students.
LEAVING_YEARS = ("11", "13")


def without_years(school: SampleSchool, years: tuple[str, ...]) -> SampleSchool:
    """The school with the students of `years` gone from its people and its groups."""
    gone = {p.sourced_id for p in school.people if p.role == "student" and p.grade in years}
    remaining = without_students(school, lambda user_id: user_id not in gone)
    return dataclasses.replace(
        remaining, people=[p for p in remaining.people if p.sourced_id not in gone]
    )


def approval(stack, **fields) -> SyncSchoolCommand:
    return SyncSchoolCommand(stack.school_id, requested_by=ADMIN_UPN, accept_loss=True, **fields)


async def blocked_by_leavers(stack, services) -> str:
    """A synced school whose newest export lost its leavers and was blocked; the export id."""
    await night(stack, services, "night-1")
    leavers_export = stack.upload(without_years(stack.school, LEAVING_YEARS))
    blocked = await night(stack, services, "night-2")
    assert blocked.status is RunStatus.BLOCKED
    return leavers_export


def last_good_students(stack) -> int:
    return stack.state.get_school(stack.school_id).last_good["students"]


def figures_of(run) -> int:
    return run.summary["figures"]["students"]


async def test_a_blocked_run_stays_blocked_the_next_night_with_the_same_export(
    stack, services, recorder
):
    leavers_export = await blocked_by_leavers(stack, services)
    stack.emulator.reset_counters()

    run = await night(stack, services, "night-3", recorder)

    assert run.status is RunStatus.BLOCKED
    assert run.summary["export_id"] == leavers_export
    assert "accept-loss" in run.error
    assert recorder.messages == []
    assert stack.emulator.writes() == 0
    assert last_good_students(stack) > figures_of(run)


async def test_an_approved_export_runs_records_its_approver_and_becomes_the_baseline(
    stack, services
):
    leavers_export = await blocked_by_leavers(stack, services)

    run = await handle_command(services, approval(stack), reconcile_inline(services))
    next_night = await night(stack, services, "night-3")

    assert run.status is RunStatus.DONE
    assert run.summary["loss_approval"] == {
        "requested_by": ADMIN_UPN,
        "export_id": leavers_export,
        "blocked_run": "night-2",
        "applied": True,
    }
    assert run.summary["groups_to_change"] > 0
    assert last_good_students(stack) == figures_of(run)
    assert next_night.status is RunStatus.DONE
    assert "loss_approval" not in next_night.summary


async def test_an_approval_does_not_carry_over_to_a_different_export(stack, services, recorder):
    leavers_export = await blocked_by_leavers(stack, services)
    broken_export = stack.upload(without_years(stack.school, ("07", "08", "11", "13")))
    stack.emulator.reset_counters()

    run = await handle_command(services, approval(stack), recorder)

    assert run.status is RunStatus.BLOCKED
    assert run.summary["loss_approval"]["export_id"] == leavers_export
    assert run.summary["loss_approval"]["applied"] is False
    assert f"newest export is {broken_export}" in run.error
    assert recorder.messages == []
    assert stack.emulator.writes() == 0
    assert last_good_students(stack) > figures_of(run)


async def test_an_approval_naming_its_export_covers_that_export_only(stack, services, recorder):
    leavers_export = await blocked_by_leavers(stack, services)
    stack.upload(without_years(stack.school, ("07", "11", "13")))

    named = await handle_command(services, approval(stack, export_id=leavers_export), recorder)

    assert named.status is RunStatus.BLOCKED
    assert recorder.messages == []


async def test_a_later_lossy_export_is_blocked_again_after_an_approval(stack, services, recorder):
    await blocked_by_leavers(stack, services)
    await handle_command(services, approval(stack), reconcile_inline(services))
    stack.upload(without_years(stack.school, ("07", "08", "11", "13")))

    run = await night(stack, services, "night-3", recorder)

    assert run.status is RunStatus.BLOCKED
    assert "loss_approval" not in run.summary
    assert recorder.messages == []


async def test_an_approval_for_a_school_within_its_limits_is_recorded_as_not_needed(
    stack, services, recorder
):
    run = await handle_command(services, approval(stack), recorder)

    assert run.status is RunStatus.DONE
    assert run.summary["loss_approval"]["applied"] is False
    assert "not needed" in run.summary["loss_approval"]["note"]
