"""Reading a school's inputs and planning its groups: the steps a school run and the on-demand
commands share, up to (not including) any write to Microsoft 365.

    settings = school_settings(load_school(services, "4001"))
    read = await read_export(services, "4001", settings)    # snapshot, export id and time
    plan = await plan_school(services, "4001", run_id, read.snapshot, settings)
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from shared.domain.policy import DesiredGroup, desired_groups
from shared.domain.settings import SchoolSettings, SettingsError
from shared.domain.snapshot import GroupKind, MisSnapshot
from shared.messages.schemas import GroupReconcile
from shared.mis import read_mis_export
from shared.planner import CurrentGroup, DesiredMembership, GroupPlan, plan_group, resolve_desired
from shared.state import ConcurrencyError, Mapping, MappingState, RunGroupResult, SchoolRecord
from shared.usecases.errors import CommandRejected
from shared.usecases.people import ResolvedPeople, resolve_people
from shared.usecases.services import Services

log = logging.getLogger(__name__)

# A group created this recently may not be visible to reads yet (replication lag), so a read
# that misses it says "not yet", not "deleted". Microsoft 365 can take about half an hour.
REPLICATION_GRACE = timedelta(minutes=45)


class NoExport(Exception):
    """The school has no complete MIS export to read."""


@dataclass(slots=True)
class GroupWork:
    """One desired group: who it should hold, its plan, and the reconcile to send if it drifted."""

    school_id: str
    run_id: str
    desired: DesiredGroup
    wanted: DesiredMembership
    plan: GroupPlan
    mapping: Mapping | None
    message: GroupReconcile | None

    @property
    def outcome(self) -> str:
        if self.message is not None:
            return "to create" if self.plan.create else "to change"
        return "removals held" if self.plan.removals_held else "in line"

    def result(self, outcome: str) -> RunGroupResult:
        plan = self.plan
        return RunGroupResult(
            school_id=self.school_id,
            run_id=self.run_id,
            mis_group_id=self.desired.mis_group_id,
            display_name=self.desired.display_name,
            outcome=outcome,
            created=False,
            members_added=len(plan.add_members),
            members_removed=len(plan.remove_members),
            owners_added=len(plan.add_owners),
            owners_removed=len(plan.remove_owners),
            not_matched=len(self.wanted.unmatched_people),
            held_removals=len(plan.held_members),
        )


@dataclass(slots=True)
class SchoolPlan:
    """Every group planned in one run, and the groups left alone with the reason."""

    work: list[GroupWork] = field(default_factory=list)
    skipped: list[RunGroupResult] = field(default_factory=list)
    people: ResolvedPeople = field(default_factory=ResolvedPeople)
    inactive_people: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        drifted = [work for work in self.work if work.message is not None]
        return {
            "groups": len(self.work) + len(self.skipped),
            "groups_to_create": sum(1 for work in drifted if work.plan.create),
            "groups_to_change": sum(1 for work in drifted if not work.plan.create),
            "groups_in_line": sum(1 for work in self.work if work.message is None),
            "groups_missing": sum(1 for row in self.skipped if row.outcome == "missing"),
            "groups_skipped": len(self.skipped),
            "groups_with_held_removals": sum(1 for w in self.work if w.plan.removals_held),
            "people_not_matched": len(self.people.unmatched),
            "people_matched_from_cache": len(self.people.from_cache),
            "people_ambiguous": len(self.people.ambiguous),
            "admin_owners_not_found": list(self.people.unknown_admins),
            "directory_users": self.people.directory_users,
            "user_links_written": self.people.links_written,
            "inactive_people": self.inactive_people,
        }


def load_school(services: Services, school_id: str) -> SchoolRecord:
    """The school's record; `CommandRejected` if the school is not set up."""
    record = services.state.get_school(school_id)
    if record is None:
        raise CommandRejected(
            f"school {school_id!r} is not set up: save its settings in the Schools table "
            "(StateStore.save_school) before syncing it"
        )
    return record


def school_settings(record: SchoolRecord) -> SchoolSettings:
    """The school's settings; `CommandRejected` naming the bad setting if they are invalid."""
    try:
        return SchoolSettings.from_dict(record.settings)
    except SettingsError as error:
        raise CommandRejected(
            f"school {record.school_id!r} has invalid settings: {error}"
        ) from error


@dataclass(frozen=True, slots=True)
class ExportRead:
    """A school's newest complete export, read: the snapshot, the export's id and its time."""

    snapshot: MisSnapshot
    export_id: str
    # When the export was taken: the time in its id, or when its upload completed.
    exported_at: datetime


async def read_snapshot(
    services: Services, school_id: str, settings: SchoolSettings
) -> tuple[MisSnapshot, str]:
    """The newest complete export's snapshot and id; raises `NoExport` or `MisExportError`."""
    read = await read_export(services, school_id, settings)
    return read.snapshot, read.export_id


async def read_export(services: Services, school_id: str, settings: SchoolSettings) -> ExportRead:
    """The newest complete export, downloaded and read; raises `NoExport` or `MisExportError`."""
    ref = await asyncio.to_thread(services.exports.latest_export, school_id)
    if ref is None:
        raise NoExport(
            f"school {school_id} has no complete MIS export: upload one to the export container "
            f"under {school_id}/ (a zip, or a folder with its _complete marker)"
        )
    with tempfile.TemporaryDirectory(prefix="groupsync-") as scratch:
        path = await asyncio.to_thread(services.exports.download_export, ref, Path(scratch))
        snapshot = await asyncio.to_thread(
            read_mis_export,
            path,
            school_id=settings.dfe_number or None,
            registration_pattern=settings.registration_pattern,
            # Enrolments are current or not on the run's date, not the machine's.
            as_of=services.clock().date(),
        )
    return ExportRead(snapshot, ref.export_id, ref.exported_at)


async def plan_school(
    services: Services,
    school_id: str,
    run_id: str,
    snapshot: MisSnapshot,
    settings: SchoolSettings,
    *,
    only_group: str | None = None,
    release_held: bool = False,
) -> SchoolPlan:
    """Resolve people, read the synced groups from Graph in batches, and plan each group."""
    result = SchoolPlan(inactive_people=snapshot.inactive_people)
    started = time.monotonic()
    now = services.clock()
    result.people = await resolve_people(services, snapshot, settings, now)
    result.timings["match_people"] = _since(started)

    mappings = await asyncio.to_thread(services.state.list_mappings, school_id)
    by_key = {(m.mis_group_id, m.academic_year): m for m in mappings}
    groups = _groups_to_sync(snapshot, settings, by_key, only_group)

    # Mapped groups are read from Graph together (20 reads to a batch); the rest are new.
    reading_started = time.monotonic()
    to_read: dict[str, Mapping] = {}
    for group in groups:
        mapping = by_key.get((group.mis_group_id, group.academic_year))
        skip = _skip_reason(mapping)
        if skip is not None:
            result.skipped.append(_skipped(school_id, run_id, group, skip))
        elif mapping is not None and mapping.graph_id and not mapping.allow_recreate:
            to_read[mapping.graph_id] = mapping
    memberships = await services.graph.read_memberships(list(to_read)) if to_read else {}
    result.timings["read_groups"] = _since(reading_started)

    planning_started = time.monotonic()
    skipped_ids = {row.mis_group_id for row in result.skipped}
    for group in groups:
        if group.mis_group_id in skipped_ids:
            continue
        mapping = by_key.get((group.mis_group_id, group.academic_year))
        current: CurrentGroup | None = None
        if mapping is not None and mapping.graph_id in to_read:
            membership = memberships.get(mapping.graph_id)
            if membership is None:
                result.skipped.append(await _not_found(services, run_id, group, mapping, now))
                continue
            current = CurrentGroup(
                owners=frozenset(membership.owners), members=frozenset(membership.members)
            )
        result.work.append(
            _plan_group(school_id, run_id, group, mapping, current, result.people, settings,
                        release_held)
        )  # fmt: skip
    result.timings["plan"] = _since(planning_started)
    return result


def _groups_to_sync(
    snapshot: MisSnapshot,
    settings: SchoolSettings,
    mappings: dict[tuple[str, int], Mapping],
    only_group: str | None,
) -> list[DesiredGroup]:
    """The enabled kinds' groups, plus groups of other kinds already synced (created on demand)."""
    year = snapshot.academic_year_start
    mapped = {group_id for (group_id, mapped_year) in mappings if mapped_year == year}
    known_kinds = {kind.value for kind in GroupKind}
    mapped_kinds = {
        GroupKind(m.kind)
        for m in mappings.values()
        if m.academic_year == year and m.kind in known_kinds
    }
    kinds = set(settings.enabled_kinds) | mapped_kinds
    if only_group is not None and only_group in snapshot.groups:
        kinds.add(snapshot.groups[only_group].kind)
    groups = [
        group
        for group in desired_groups(snapshot, settings, kinds=kinds)
        if group.kind in settings.enabled_kinds or group.mis_group_id in mapped
    ]
    if only_group is not None:
        groups = [group for group in groups if group.mis_group_id == only_group]
    return groups


def _skip_reason(mapping: Mapping | None) -> str | None:
    if mapping is None or mapping.allow_recreate:
        return None
    if mapping.state is MappingState.DELETED_ON_DEMAND:
        return "deleted on demand"
    if mapping.state is MappingState.MISSING:
        return "missing"
    if mapping.state is MappingState.RETIRED:
        return "retired"
    return None


def _skipped(school_id: str, run_id: str, group: DesiredGroup, why: str) -> RunGroupResult:
    return RunGroupResult(
        school_id=school_id,
        run_id=run_id,
        mis_group_id=group.mis_group_id,
        display_name=group.display_name,
        outcome=why,
    )


async def _not_found(
    services: Services, run_id: str, group: DesiredGroup, mapping: Mapping, now: datetime
) -> RunGroupResult:
    """A mapped group Graph does not return: too new to be visible yet, or gone (G6)."""
    created_at = mapping.created_at
    if created_at is not None and now - created_at < REPLICATION_GRACE:
        return _skipped(mapping.school_id, run_id, group, "not visible yet")
    log.warning(
        "school %s: group %s (MIS %s) is gone from Microsoft 365; reported, not recreated",
        mapping.school_id,
        mapping.graph_id,
        mapping.mis_group_id,
    )
    try:
        await asyncio.to_thread(
            services.state.update_mapping, replace(mapping, state=MappingState.MISSING)
        )
    except ConcurrencyError:
        log.info("mapping of MIS group %s changed meanwhile; left as it is", mapping.mis_group_id)
    row = _skipped(mapping.school_id, run_id, group, "missing")
    row.errors.append(
        f"group {mapping.graph_id} no longer exists in Microsoft 365; it is not recreated "
        "until an admin allows it (allow_recreate on its mapping)"
    )
    return row


def _plan_group(
    school_id: str,
    run_id: str,
    group: DesiredGroup,
    mapping: Mapping | None,
    current: CurrentGroup | None,
    people: ResolvedPeople,
    settings: SchoolSettings,
    release_held: bool,
) -> GroupWork:
    wanted = resolve_desired(group, people.links, people.admin_ids)
    sync_owners = mapping.sync_owners if mapping is not None else ()
    plan = plan_group(
        wanted.owners,
        wanted.members,
        current,
        sync_owners,
        settings.safety,
        release_held_removals=release_held,
    )
    held_changed = mapping is not None and set(plan.held_members) != mapping.held_removals
    message = None
    if plan.has_changes or held_changed:
        message = reconcile_message(school_id, run_id, group, mapping, plan, wanted)
    return GroupWork(school_id, run_id, group, wanted, plan, mapping, message)


def reconcile_message(
    school_id: str,
    run_id: str,
    group: DesiredGroup,
    mapping: Mapping | None,
    plan: GroupPlan,
    wanted: DesiredMembership,
    **extra: Any,
) -> GroupReconcile:
    """The `group-reconcile` message for one planned group; `extra` sets on-demand fields."""
    return GroupReconcile(
        school_id=school_id,
        run_id=run_id,
        mis_group_id=group.mis_group_id,
        academic_year=group.academic_year,
        kind=group.kind.value,
        display_name=extra.pop("display_name", None) or group.display_name,
        mail_nickname=(mapping.mail_nickname if mapping and mapping.mail_nickname else "")
        or group.mail_nickname,
        unique_key=(mapping.unique_key if mapping and mapping.unique_key else "")
        or group.unique_key,
        plan=plan.to_dict(),
        desired_owners=sorted(wanted.owners),
        visibility=extra.pop("visibility", None) or group.privacy.value,
        education=group.education,
        not_matched=len(wanted.unmatched_people),
        **extra,
    )


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)
