"""How commands end when they cannot be carried out, and whose ownership an on-demand group
records as the sync's."""

from __future__ import annotations

import pytest

from shared.messages.schemas import CreateGroupCommand, DeleteGroupCommand, SyncGroupCommand
from shared.state import RunStatus
from shared.usecases.commands import command_run_id, handle_command
from shared.usecases.errors import CommandRejected
from tests.usecases.conftest import ADMIN_UPN
from tests.usecases.test_commands import teaching_group


def graph_requests(stack) -> dict[str, int]:
    return stack.emulator.http.get("/counters").json()["by_route"]


async def test_syncing_an_unknown_group_fails_its_run_without_asking_graph(
    stack, services, recorder
):
    stack.emulator.reset_counters()
    command = SyncGroupCommand(stack.school_id, "no-such-group")

    run = await handle_command(services, command, recorder)

    stored = stack.state.get_run(stack.school_id, command_run_id(command))
    assert stored.status is RunStatus.FAILED and run.status is RunStatus.FAILED
    assert "'no-such-group' is not in school" in stored.error
    assert graph_requests(stack) == {}
    assert recorder.messages == []


async def test_a_redelivered_sync_of_an_unknown_group_does_nothing_again(stack, services, recorder):
    command = SyncGroupCommand(stack.school_id, "no-such-group")
    first = await handle_command(services, command, recorder)

    again = await handle_command(services, command, recorder)

    assert again.status is RunStatus.FAILED
    assert again.finished_at == first.finished_at


async def test_deleting_a_group_never_synced_is_rejected_before_a_run_starts(
    stack, services, recorder
):
    command = DeleteGroupCommand(stack.school_id, "no-such-group", requested_by=ADMIN_UPN)

    with pytest.raises(CommandRejected, match="no synced group"):
        await handle_command(services, command, recorder)

    assert stack.state.get_run(stack.school_id, command_run_id(command)) is None


async def test_a_requester_who_is_the_registered_teacher_stays_a_sync_added_owner(
    stack, services, recorder
):
    chosen = teaching_group(stack)
    teacher_id = next(
        e.user_id
        for e in stack.school.enrollments
        if e.class_id == chosen.sourced_id and e.role == "teacher" and e.primary == "true"
    )
    teacher = next(p for p in stack.school.people if p.sourced_id == teacher_id)
    command = CreateGroupCommand(
        stack.school_id, chosen.sourced_id, lifetime="2026-07-31", requested_by=teacher.username
    )

    run = await handle_command(services, command, recorder)

    assert run.status is RunStatus.DONE
    assert stack.user(teacher.username) in stack.mapping(chosen.sourced_id).sync_owners
