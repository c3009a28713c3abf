"""A school's run against the local stack: Azurite, the Graph emulator, a generated school."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from local.sample_school import generate_school, write_oneroster
from shared.graph import MembershipChange
from shared.state import MappingState, RunStatus
from shared.usecases.dispatch import reconcile_inline
from shared.usecases.reconcile import reconcile_group
from shared.usecases.school_run import run_school
from tests.usecases.conftest import ADMIN_UPN, TEACHER_UPN, without_students

YEAR_AND_REGISTRATION_GROUPS = 14
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


async def test_a_first_run_creates_and_fills_every_group(stack, services):
    run = await night(stack, services, "night-1")

    groups = {g["uniqueName"]: g for g in stack.emulator.groups()}
    mappings = stack.state.list_mappings(stack.school_id)
    assert run.status is RunStatus.DONE
    assert run.summary["dispatched"] == YEAR_AND_REGISTRATION_GROUPS
    assert len(groups) == YEAR_AND_REGISTRATION_GROUPS
    assert all(m.state is MappingState.ACTIVE for m in mappings)
    admin = stack.user(ADMIN_UPN)
    for mapping in mappings:
        group = groups[mapping.unique_key]
        assert group["id"] == mapping.graph_id
        assert group["owners"] == [admin]
        assert len(group["members"]) > 0
        assert mapping.sync_owners == {admin}
    results = stack.state.list_group_results(stack.school_id, "night-1")
    assert {r.outcome for r in results} == {"created"}
    assert sum(r.members_added for r in results) == sum(len(g["members"]) for g in groups.values())


async def test_a_second_run_with_no_mis_change_sends_nothing_and_writes_nothing(
    stack, services, recorder
):
    await night(stack, services, "night-1")
    stack.emulator.reset_counters()

    run = await night(stack, services, "night-2", recorder)

    assert recorder.messages == []
    assert run.summary["dispatched"] == 0
    assert run.summary["groups_in_line"] == YEAR_AND_REGISTRATION_GROUPS
    assert stack.emulator.writes() == 0


async def test_a_redelivered_school_sync_for_a_finished_run_does_nothing_again(
    stack, services, recorder
):
    await night(stack, services, "night-1", recorder)
    first = list(recorder.messages)

    run = await night(stack, services, "night-1", recorder)

    assert run.status is RunStatus.DONE
    assert recorder.messages == first


async def test_a_reconcile_delivered_twice_at_once_creates_one_group(stack, services, recorder):
    await night(stack, services, "night-1", recorder)
    message = recorder.messages[0]

    await asyncio.gather(reconcile_group(services, message), reconcile_group(services, message))
    await reconcile_group(services, message)

    matching = [g for g in stack.emulator.groups() if g["uniqueName"] == message.unique_key]
    assert len(matching) == 1
    assert stack.mapping(message.mis_group_id).graph_id == matching[0]["id"]


async def test_a_bad_export_fails_the_run_before_any_graph_write(stack, services, recorder):
    with _broken_export() as folder:
        stack.exports.upload_export(stack.school_id, folder, stack.next_export_id())
    stack.emulator.reset_counters()

    run = await night(stack, services, "night-1", recorder)

    assert run.status is RunStatus.FAILED
    assert run.summary["problems"][0]["file"] == "users.csv"
    assert "users.csv" in run.error
    assert recorder.messages == []
    assert stack.emulator.writes() == 0


async def test_a_snapshot_that_lost_too_many_students_blocks_the_run(stack, services, recorder):
    await night(stack, services, "night-1")
    students = [p.sourced_id for p in stack.school.people if p.role == "student"]
    gone = set(students[: len(students) // 2])
    shrunk = without_students(stack.school, lambda user_id: user_id not in gone)
    shrunk = dataclasses.replace(
        shrunk, people=[p for p in shrunk.people if p.sourced_id not in gone]
    )
    stack.upload(shrunk)
    stack.emulator.reset_counters()

    run = await night(stack, services, "night-2", recorder)

    assert run.status is RunStatus.BLOCKED
    assert "active students fell" in run.error
    assert recorder.messages == []
    assert stack.emulator.writes() == 0


async def test_a_group_losing_most_members_holds_its_removals_and_still_adds(stack, services):
    await night(stack, services, "night-1")
    form = next(c for c in stack.school.classes if c.class_type == "homeroom")
    enrolled = [e.user_id for e in stack.school.enrollments if e.class_id == form.sourced_id]
    leaving = set(enrolled[: len(enrolled) * 3 // 4])
    stack.upload(without_students(stack.school, lambda user_id: user_id not in leaving))

    run = await night(stack, services, "night-2")

    mapping = stack.mapping(form.sourced_id)
    group = next(g for g in stack.emulator.groups() if g["id"] == mapping.graph_id)
    assert run.summary["groups_with_held_removals"] == 1
    assert len(mapping.held_removals) == len(leaving)
    assert mapping.held_removals <= set(group["members"])
    results = stack.state.list_group_results(stack.school_id, "night-2")
    held = next(r for r in results if r.mis_group_id == form.sourced_id)
    assert held.held_removals == len(leaving)
    assert held.members_removed == 0


async def test_preview_only_records_the_plans_and_writes_nothing(stack, services, recorder):
    stack.save_settings(preview_only=True)

    run = await night(stack, services, "night-1", recorder)

    assert run.status is RunStatus.PLANNED
    assert recorder.messages == []
    assert stack.emulator.groups() == []
    assert stack.emulator.writes() == 0
    results = stack.state.list_group_results(stack.school_id, "night-1")
    assert len(results) == YEAR_AND_REGISTRATION_GROUPS
    assert all(r.outcome == "preview" and r.members_added > 0 for r in results)


async def test_a_group_deleted_in_microsoft_365_is_reported_not_recreated(stack, services):
    await night(stack, services, "night-1")
    victim = stack.state.list_mappings(stack.school_id)[0]
    await services.graph.delete_group(victim.graph_id)
    _age(stack, victim.mis_group_id)

    run = await night(stack, services, "night-2")

    assert run.summary["groups_missing"] == 1
    assert stack.mapping(victim.mis_group_id).state is MappingState.MISSING
    assert victim.unique_key not in {g["uniqueName"] for g in stack.emulator.groups()}
    results = stack.state.list_group_results(stack.school_id, "night-2")
    assert [r.outcome for r in results if r.mis_group_id == victim.mis_group_id] == ["missing"]


async def test_a_directly_added_member_is_removed_and_a_directly_added_owner_kept(stack, services):
    await night(stack, services, "night-1")
    mapping = stack.state.list_mappings(stack.school_id)[0]
    direct_owner = stack.user(TEACHER_UPN)
    teacher = next(p for p in stack.school.staff if p.role == "teacher" and p.has_account)
    direct_member = stack.user(teacher.upn)
    await services.graph.apply_changes(
        [
            MembershipChange(
                mapping.graph_id, add_owners=(direct_owner,), add_members=(direct_member,)
            )
        ]
    )

    await night(stack, services, "night-2")

    group = next(g for g in stack.emulator.groups() if g["id"] == mapping.graph_id)
    assert direct_owner in group["owners"]
    assert direct_member not in group["members"]
    assert stack.mapping(mapping.mis_group_id).sync_owners == {stack.user(ADMIN_UPN)}


async def night(stack, services, run_id: str, dispatch=None):
    """A nightly run of the stack's school, reconciling inline unless given a dispatch."""
    dispatch = dispatch or reconcile_inline(services)
    return await run_school(services, stack.school_id, run_id, "nightly", dispatch)


def _age(stack, mis_group_id: str) -> None:
    """Make a mapping look created long ago, past the replication grace period."""
    mapping = stack.mapping(mis_group_id)
    stack.state.save_mappings([dataclasses.replace(mapping, created_at=LONG_AGO)])


@contextlib.contextmanager
def _broken_export() -> Iterator[Path]:
    """An export whose users.csv has a row cut short."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "export"
        write_oneroster(generate_school(20, seed=2), folder)
        users = folder / "users.csv"
        lines = users.read_text().splitlines()
        lines[3] = ",".join(lines[3].split(",")[:3])
        users.write_text("\n".join(lines) + "\n")
        yield folder


async def test_a_school_targeting_classes_gets_education_classes_with_teachers_in_both_lists(
    stack, services
):
    stack.save_settings(target="classes", enabled_kinds=["year"])

    run = await night(stack, services, "night-1")

    classes = stack.emulator.groups()
    admin = stack.user(ADMIN_UPN)
    assert run.summary["dispatched"] == 7
    assert len(classes) == 7
    assert all(c["isEducationClass"] for c in classes)
    assert all(admin in c["owners"] and admin in c["members"] for c in classes)
