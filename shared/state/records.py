"""The records the state layer keeps, as plain dataclasses of JSON-safe values: schools,
mappings (MIS group -> Microsoft 365 group), user links, runs and per-group run results.

Nothing here does I/O; `shared.state.store` reads and writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class MappingState(StrEnum):
    """Where a mapped group is in its life."""

    CREATING = "creating"  # written before the Graph create, so a crash leaves a trace
    ACTIVE = "active"
    DELETED_ON_DEMAND = "deleted-on-demand"  # not recreated until an admin allows it
    MISSING = "missing"  # gone from Microsoft 365 without the sync deleting it: reported
    RETIRED = "retired"  # the MIS group or its academic year has ended


class RunStatus(StrEnum):
    PLANNED = "planned"  # preview only: the plan was recorded, nothing was written
    BLOCKED = "blocked"  # a safety limit stopped the run before any change
    FAILED = "failed"
    RUNNING = "running"
    DONE = "done"


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime | None) -> datetime | None:
    """`moment` as an aware UTC datetime; a naive one is taken to be UTC already."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass
class SchoolRecord:
    """A school's settings (a JSON-safe dict the domain interprets) and its last good figures."""

    school_id: str
    settings: dict[str, Any]
    enabled: bool = True
    last_good: dict[str, Any] | None = None
    etag: str | None = None


@dataclass
class Mapping:
    """One MIS group in one academic year, and the Microsoft 365 group made for it."""

    school_id: str
    mis_group_id: str
    academic_year: int
    graph_id: str | None = None
    unique_key: str = ""
    kind: str = ""
    name_at_creation: str = ""
    mail_nickname: str = ""
    state: MappingState = MappingState.CREATING
    sync_owners: set[str] = field(default_factory=set)
    held_removals: set[str] = field(default_factory=set)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    on_demand: bool = False
    requested_by: str = ""
    description: str = ""
    visibility: str = ""
    lifetime: str = ""
    allow_recreate: bool = False
    etag: str | None = None

    def __post_init__(self) -> None:
        self.state = _member_of(MappingState, self.state, "mapping state")
        self.sync_owners = set(self.sync_owners)
        self.held_removals = set(self.held_removals)


@dataclass
class UserLink:
    """An MIS person matched to a directory user, and when that match was last confirmed."""

    person_id: str
    user_id: str
    match_value: str
    confirmed_at: datetime


@dataclass
class Run:
    """One school's run. Per-group figures live in `RunGroupResult` rows, summed by the report."""

    school_id: str
    run_id: str
    trigger: str
    started_at: datetime
    finished_at: datetime | None = None
    status: RunStatus = RunStatus.RUNNING
    summary: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    etag: str | None = None

    def __post_init__(self) -> None:
        self.status = _member_of(RunStatus, self.status, "run status")


@dataclass
class RunGroupResult:
    """What one group reconcile did in one run (rule R1 in docs/rules.md)."""

    school_id: str
    run_id: str
    mis_group_id: str
    display_name: str = ""
    outcome: str = ""
    created: bool = False
    members_added: int = 0
    members_removed: int = 0
    owners_added: int = 0
    owners_removed: int = 0
    not_matched: int = 0
    held_removals: int = 0
    errors: list[str] = field(default_factory=list)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    seconds: float = 0.0


def _member_of(enum: type[StrEnum], value: Any, what: str):
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise ValueError(f"unknown {what} {value!r}; expected one of {allowed}") from None
