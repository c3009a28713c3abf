"""What admins read and send (R1, R2, T2): schools, runs, per-group results, each group with
its MIS students and its state in Microsoft 365, and commands onto the queue.

Read-only against storage; the only write is a message on the `commands` queue. Values come
back JSON-safe, for the admin API and `groupsync report --json` alike.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections import OrderedDict
from datetime import datetime
from typing import Any

from shared.domain.policy import desired_groups
from shared.domain.settings import SchoolSettings, SettingsError
from shared.domain.snapshot import GroupKind, MisSnapshot
from shared.messages.schemas import (
    COMMANDS_QUEUE,
    SCHEMA_VERSION,
    Command,
    InvalidMessage,
    SyncSchoolCommand,
    decode,
    encode,
    message_id,
)
from shared.state import Run, RunGroupResult
from shared.usecases.approval import BLOCKED_RUN_LOOKBACK, newest_blocked_run
from shared.usecases.errors import CommandRejected
from shared.usecases.services import Services


def list_schools(services: Services) -> list[dict[str, Any]]:
    return [
        {
            "school_id": school.school_id,
            "enabled": school.enabled,
            "settings": school.settings,
            "last_good": school.last_good,
        }
        for school in services.state.list_schools(enabled_only=False)
    ]


def list_runs(services: Services, school_id: str | None, count: int) -> list[dict[str, Any]]:
    """The last runs, newest first: one school's, or every school's when `school_id` is None."""
    if school_id is None:
        runs = services.state.list_all_runs(count)
    else:
        runs = services.state.list_runs(school_id, count)
    return [run_to_dict(run) for run in runs]


def run_group_results(services: Services, school_id: str, run_id: str) -> list[dict[str, Any]]:
    results = services.state.list_group_results(school_id, run_id)
    return [result_to_dict(result) for result in results]


def run_to_dict(run: Run) -> dict[str, Any]:
    """The run as JSON-safe values, with its warnings (a stale export) also at the top level."""
    return {**_plain(run, exclude={"etag"}), "warnings": list(run.summary.get("warnings", []))}


def result_to_dict(result: RunGroupResult) -> dict[str, Any]:
    return _plain(result)


async def school_groups(services: Services, school_id: str) -> list[dict[str, Any]]:
    """Each group of the newest export with its MIS students, and its mapping's state.

    The students are the ones the sync would put in the group (the policy's rule). Mapped
    groups the export no longer has are listed too, with no students, so an admin sees every
    group the sync looks after.
    """
    from shared.usecases.planning import load_school, school_settings

    record = await asyncio.to_thread(load_school, services, school_id)
    settings = school_settings(record)
    view = await _export_view(services, school_id, record.settings, settings)
    mappings = await asyncio.to_thread(services.state.list_mappings, school_id)
    by_key = {(m.mis_group_id, m.academic_year): m for m in mappings}

    groups = []
    for group in view.groups:
        mapping = by_key.pop((group["mis_group_id"], group["academic_year"]), None)
        # Copies, so no caller can change the cached view.
        students = [dict(student) for student in group["students"]]
        groups.append(
            {**group, "students": students, "synced": mapping is not None, **_mapping_view(mapping)}
        )
    for (group_id, year), mapping in sorted(by_key.items()):
        groups.append(
            {
                "mis_group_id": group_id,
                "name": mapping.name_at_creation,
                "kind": mapping.kind,
                "academic_year": year,
                "export_id": view.export_id,
                "students": [],
                "synced": True,
                **_mapping_view(mapping),
            }
        )
    return groups


# Parsed exports kept for the groups view; each is one school's groups and pupils, so a few
# stay small while sparing a download and parse on every admin request for the same export.
EXPORT_VIEW_CACHE_SIZE = 8


@dataclasses.dataclass(frozen=True, slots=True)
class _ExportView:
    export_id: str
    groups: tuple[dict[str, Any], ...]


_export_views: OrderedDict[tuple[str, ...], _ExportView] = OrderedDict()


async def _export_view(
    services: Services, school_id: str, raw_settings: dict[str, Any], settings: SchoolSettings
) -> _ExportView:
    """The newest export's groups and the pupils the policy puts in each, cached per export.

    The key also holds the settings and the day, since the reader and the policy use both;
    only the first request for an export downloads it, the rest list the exports.
    """
    from shared.usecases.planning import read_export

    settings_key = json.dumps(raw_settings, sort_keys=True, default=str)
    day = services.clock().date().isoformat()
    ref = await asyncio.to_thread(services.exports.latest_export, school_id)
    # The upload time tells apart an export uploaded again under the same id.
    key = None
    if ref is not None:
        key = (school_id, ref.export_id, ref.last_modified.isoformat(), settings_key, day)
    cached = _export_views.get(key) if key is not None else None
    if cached is not None:
        _export_views.move_to_end(key)
        return cached

    # Raises NoExport when the school has no complete export.
    read = await read_export(services, school_id, settings)
    view = _build_export_view(read.snapshot, read.export_id, settings)
    if key is None or read.export_id != ref.export_id:
        # A newer export landed between the two listings: serve it, cache it next time.
        return view
    _export_views[key] = view
    while len(_export_views) > EXPORT_VIEW_CACHE_SIZE:
        _export_views.popitem(last=False)
    return view


def _build_export_view(
    snapshot: MisSnapshot, export_id: str, settings: SchoolSettings
) -> _ExportView:
    # Every kind, not only the enabled ones: on-demand groups of any kind have mappings too.
    try:
        wanted_groups = desired_groups(snapshot, settings, kinds=set(GroupKind))
    except SettingsError as error:
        raise CommandRejected(
            f"school {settings.school_id!r} cannot be synced with these settings: {error}"
        ) from error
    desired = {group.mis_group_id: group for group in wanted_groups}
    groups = []
    for group_id in sorted(snapshot.groups):
        group = snapshot.groups[group_id]
        # A group the policy leaves out (teaching groups where the school cannot have them)
        # gets no pupils, as the sync would give it none.
        wanted = desired.get(group_id)
        students = wanted.student_people if wanted is not None else ()
        groups.append(
            {
                "mis_group_id": group_id,
                "name": group.name,
                "kind": group.kind.value,
                "academic_year": snapshot.academic_year_start,
                "export_id": export_id,
                "students": [
                    {"mis_id": pid, "name": _name(snapshot.people[pid])} for pid in students
                ],
            }
        )
    return _ExportView(export_id, tuple(groups))


def command_from_request(document: Any) -> Command:
    """A command from the admin API's JSON (`type` plus the command's fields), checked."""
    if not isinstance(document, dict):
        raise InvalidMessage("send a JSON object with the command's type and fields")
    body = json.dumps({"version": SCHEMA_VERSION, **document}).encode("utf-8")
    return decode(body, COMMANDS_QUEUE)


async def pin_loss_approval(services: Services, command: Command) -> Command:
    """A sync-school that approves a loss (X1) without naming the export gets the export of the
    school's newest blocked run, fixed now: the one the admin saw blocked, not whichever is
    newest when the command runs. `CommandRejected` if there is no blocked run to approve."""
    if not isinstance(command, SyncSchoolCommand) or not command.accept_loss:
        return command
    if command.export_id:
        return command
    blocked = await asyncio.to_thread(newest_blocked_run, services, command.school_id)
    if blocked is None:
        raise CommandRejected(
            f"school {command.school_id} has no blocked run in its last {BLOCKED_RUN_LOOKBACK} "
            "runs, so there is no export to approve; send the command without accept_loss, or "
            "name the export with export_id"
        )
    return dataclasses.replace(command, export_id=blocked.summary["export_id"])


async def submit_command(services: Services, command: Command) -> str:
    """Queue `command` on `commands`; returns its message id."""
    from shared.messages.bus import OutgoingMessage

    sent_id = message_id(command)
    outgoing = OutgoingMessage(body=encode(command), message_id=sent_id, subject=command.TYPE)
    await services.send(COMMANDS_QUEUE, [outgoing])
    return sent_id


def _mapping_view(mapping: Any) -> dict[str, Any]:
    if mapping is None:
        return {"state": "not synced", "graph_id": None}
    return {
        "state": mapping.state.value,
        "graph_id": mapping.graph_id,
        "display_name": mapping.name_at_creation,
        "mail_nickname": mapping.mail_nickname,
        "on_demand": mapping.on_demand,
        "requested_by": mapping.requested_by,
        "lifetime": mapping.lifetime,
        "held_removals": len(mapping.held_removals),
        "allow_recreate": mapping.allow_recreate,
    }


def _name(person: Any) -> str:
    return " ".join(part for part in (person.given_name, person.family_name) if part)


def _plain(record: Any, exclude: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
    values = {}
    for spec in dataclasses.fields(record):
        if spec.name in exclude:
            continue
        value = getattr(record, spec.name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, set):
            value = sorted(value)
        elif hasattr(value, "value") and isinstance(value.value, str):
            value = value.value
        values[spec.name] = value
    return values
