"""On-demand commands (T2, C1, C2, X1, X2): sync a school or a group now (a school past its
safety limits with an admin's approval), create or delete one group, release a group's held
removals.

    await handle_command(services, CreateGroupCommand(...), send_to_queue(services))

Each command is recorded as a run of its own (run id `<type>-<command id>`), so a redelivered
command finds its run and does not repeat finished work, and the admin sees it in the report.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from shared.domain.policy import desired_groups
from shared.messages.schemas import (
    Command,
    CreateGroupCommand,
    DeleteGroupCommand,
    ReleaseHeldRemovalsCommand,
    SyncGroupCommand,
    SyncSchoolCommand,
)
from shared.mis import MisExportError
from shared.planner import plan_group, resolve_desired
from shared.state import Mapping, MappingState, Run, RunGroupResult, RunStatus
from shared.usecases.approval import LossApproval
from shared.usecases.dispatch import Dispatch, reconcile_inline
from shared.usecases.errors import CommandRejected
from shared.usecases.people import resolve_people
from shared.usecases.planning import (
    NoExport,
    load_school,
    read_snapshot,
    reconcile_message,
    school_settings,
)
from shared.usecases.reconcile import reconcile_group
from shared.usecases.school_run import FINISHED, finish_run, run_school
from shared.usecases.services import Services

log = logging.getLogger(__name__)

TRIGGER = "command"


def command_run_id(command: Command) -> str:
    return f"{command.TYPE}-{command.command_id}"


async def handle_command(services: Services, command: Command, dispatch: Dispatch) -> Run:
    """Carry out one command; `dispatch` hands on a whole-school sync's reconciles."""
    run_id = command_run_id(command)
    log.info("school %s: command %s (%s)", command.school_id, command.TYPE, run_id)
    match command:
        case SyncSchoolCommand():
            approval = None
            if command.accept_loss:
                approval = LossApproval(command.requested_by, command.export_id)
            return await run_school(
                services, command.school_id, run_id, TRIGGER, dispatch, accept_loss=approval
            )
        case SyncGroupCommand():
            return await run_school(
                services,
                command.school_id,
                run_id,
                TRIGGER,
                reconcile_inline(services),
                only_group=command.mis_group_id,
            )
        case ReleaseHeldRemovalsCommand():
            return await run_school(
                services,
                command.school_id,
                run_id,
                TRIGGER,
                reconcile_inline(services),
                only_group=command.mis_group_id,
                release_held=True,
            )
        case CreateGroupCommand():
            return await create_group(services, command, run_id)
        case DeleteGroupCommand():
            return await delete_group(services, command, run_id)
    raise CommandRejected(f"unknown command {command!r}")  # pragma: no cover


async def create_group(services: Services, command: CreateGroupCommand, run_id: str) -> Run:
    """C1: one group now, for a chosen MIS group of any kind; the requester becomes an owner."""
    school = await asyncio.to_thread(load_school, services, command.school_id)
    settings = school_settings(school)
    run = await _start(services, command.school_id, run_id)
    if run.status in FINISHED:
        return run

    try:
        snapshot, export_id = await read_snapshot(services, command.school_id, settings)
    except (NoExport, MisExportError) as error:
        return await finish_run(services, run, RunStatus.FAILED, {}, error=str(error))
    group = snapshot.groups.get(command.mis_group_id)
    if group is None:
        error = (
            f"MIS group {command.mis_group_id!r} is not in the newest export ({export_id}) of "
            f"school {command.school_id}; choose a group from the current export"
        )
        return await finish_run(services, run, RunStatus.FAILED, {}, error=error)
    (desired,) = [
        candidate
        for candidate in desired_groups(snapshot, settings, kinds={group.kind})
        if candidate.mis_group_id == command.mis_group_id
    ]

    mapping = await asyncio.to_thread(
        services.state.get_mapping, command.school_id, desired.mis_group_id, desired.academic_year
    )
    if mapping is not None and mapping.graph_id and mapping.state is MappingState.ACTIVE:
        error = (
            f"MIS group {command.mis_group_id!r} is already synced as group {mapping.graph_id}; "
            "send sync-group to bring it in line instead"
        )
        return await finish_run(services, run, RunStatus.FAILED, {}, error=error)

    people = await resolve_people(
        services, snapshot, settings, services.clock(), extra_upns=(command.requested_by,)
    )
    requester = people.admin_ids.get(command.requested_by.lower())
    wanted = resolve_desired(desired, people.links, people.admin_ids)
    owners = set(wanted.owners) | ({requester} if requester else set())
    plan = plan_group(owners, wanted.members, None, (), settings.safety)
    # O4 and O5: the requester owns the group as if added by hand, so a later run, which does
    # not know the requester, keeps them instead of removing an owner "the sync added".
    # A requester the policy names anyway (the registered teacher, an admin owner) stays the
    # sync's, so the sync removes them like any other teacher who leaves the class.
    plan = replace(
        plan,
        sync_owners=tuple(
            owner for owner in plan.sync_owners if owner != requester or owner in wanted.owners
        ),
    )
    message = reconcile_message(
        command.school_id,
        run_id,
        desired,
        mapping,
        plan,
        wanted,
        display_name=command.display_name.strip() or None,
        visibility=command.visibility,
        description=command.description,
        on_demand=True,
        requested_by=command.requested_by,
        lifetime=command.lifetime,
    )
    result = await reconcile_group(services, message)
    summary = {"export_id": export_id, "groups": 1, "requester_found": requester is not None}
    error = "" if requester else f"requester {command.requested_by} is not a directory user"
    return await finish_run(services, run, RunStatus.DONE, summary, error=error or _errors(result))


async def delete_group(services: Services, command: DeleteGroupCommand, run_id: str) -> Run:
    """C2: delete the group from Microsoft 365; the nightly run leaves it deleted (G6)."""
    await asyncio.to_thread(load_school, services, command.school_id)
    # Before the run starts: a group the school never synced is rejected without leaving a
    # run that stays unfinished.
    mapping = await _chosen_mapping(services, command)
    run = await _start(services, command.school_id, run_id)
    if run.status in FINISHED:
        return run

    # The mapping is marked first: if the host dies between the two steps, the nightly run
    # already leaves the group alone, and the redelivered command deletes it.
    marked = replace(mapping, state=MappingState.DELETED_ON_DEMAND, allow_recreate=False)
    marked.held_removals = set()
    if mapping.state is not MappingState.DELETED_ON_DEMAND or mapping.allow_recreate:
        await asyncio.to_thread(services.state.update_mapping, marked)
    if mapping.graph_id:
        await services.graph.delete_group(mapping.graph_id)

    result = RunGroupResult(
        school_id=command.school_id,
        run_id=run_id,
        mis_group_id=mapping.mis_group_id,
        display_name=mapping.name_at_creation,
        outcome="deleted on demand",
        started_at=run.started_at,
        finished_at=services.clock(),
    )
    await asyncio.to_thread(services.state.record_group_result, result)
    log.info("school %s: group %s deleted on demand", command.school_id, mapping.graph_id)
    summary = {"groups": 1, "deleted": mapping.graph_id, "requested_by": command.requested_by}
    return await finish_run(services, run, RunStatus.DONE, summary)


async def _chosen_mapping(services: Services, command: DeleteGroupCommand) -> Mapping:
    mappings = await asyncio.to_thread(services.state.list_mappings, command.school_id)
    candidates = [
        mapping
        for mapping in mappings
        if mapping.mis_group_id == command.mis_group_id
        and command.academic_year in (None, mapping.academic_year)
    ]
    if not candidates:
        raise CommandRejected(
            f"school {command.school_id} has no synced group for MIS group "
            f"{command.mis_group_id!r}; check the id in the admin console's group list"
        )
    return max(candidates, key=lambda mapping: mapping.academic_year)


async def _start(services: Services, school_id: str, run_id: str) -> Run:
    return await asyncio.to_thread(
        services.state.start_run, school_id, run_id, TRIGGER, started_at=services.clock()
    )


def _errors(result: RunGroupResult) -> str:
    return "; ".join(result.errors)
