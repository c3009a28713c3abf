"""Records to Table Storage entities and back: keys, JSON-encoded lists and dicts split over
several properties when long, and the size guards for Table Storage's per-entity limits.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from shared.state.errors import StateTooLarge
from shared.state.keys import (
    decode_key,
    encode_key,
    mapping_key,
    newest_first_key,
    split_composite_key,
)
from shared.state.records import (
    Mapping,
    Run,
    RunGroupResult,
    SchoolRecord,
    UserLink,
    as_utc,
)

# A string property holds at most 64 KiB of UTF-16, i.e. 32,768 characters; leave headroom.
PROPERTY_MAX_CHARS = 32_000
# An entity holds at most 1 MiB and 252 custom properties; keep a margin for keys and metadata.
ENTITY_MAX_BYTES = 1_000_000
ENTITY_MAX_PROPERTIES = 240
# The report keeps the first errors of a group, each cut short: enough to act on.
GROUP_ERRORS_KEPT = 50
GROUP_ERROR_MAX_CHARS = 1_000
SCHOOL_ROW_KEY = "school"

Entity = dict[str, Any]


def put_json(entity: Entity, name: str, value: Any) -> None:
    """Store `value` as JSON in `name`, `name_1`, ... with the part count in `nameParts`.

    The count is always written, so a MERGE that shortens a value leaves no stale part behind.
    """
    text = json.dumps(value, separators=(",", ":"), sort_keys=True)
    parts = [
        text[start : start + PROPERTY_MAX_CHARS]
        for start in range(0, len(text), PROPERTY_MAX_CHARS)
    ]
    for index, part in enumerate(parts or [""]):
        entity[name if index == 0 else f"{name}_{index}"] = part
    entity[f"{name}Parts"] = max(len(parts), 1)


def get_json(entity: Entity, name: str, default: Any) -> Any:
    if name not in entity:
        return default
    count = int(entity.get(f"{name}Parts", 1))
    text = entity[name] + "".join(entity[f"{name}_{index}"] for index in range(1, count))
    return json.loads(text) if text else default


def check_size(entity: Entity, what: str) -> Entity:
    """Raise `StateTooLarge` before Table Storage would refuse the entity."""
    size = sum(2 * len(name) + _value_bytes(value) for name, value in entity.items())
    if size > ENTITY_MAX_BYTES or len(entity) > ENTITY_MAX_PROPERTIES:
        raise StateTooLarge(
            f"{what} needs about {size:,} bytes in {len(entity)} properties; one Table Storage "
            f"row holds at most {ENTITY_MAX_BYTES:,} bytes in {ENTITY_MAX_PROPERTIES}: the list "
            "inside it is too long to keep in state"
        )
    return entity


def _value_bytes(value: Any) -> int:
    if isinstance(value, str):
        return 2 * len(value)
    return 8


def read_datetime(value: Any) -> datetime | None:
    # The SDK returns its own datetime subclass; callers get a plain aware UTC datetime.
    if value is None:
        return None
    return datetime(
        value.year, value.month, value.day, value.hour, value.minute, value.second,
        value.microsecond, tzinfo=UTC,
    )  # fmt: skip


def _optional_datetime(entity: Entity, name: str, value: datetime | None) -> None:
    if value is not None:
        entity[name] = as_utc(value)


# Schools --------------------------------------------------------------------------------------


def school_entity(school_id: str, settings: dict, enabled: bool) -> Entity:
    entity: Entity = {
        "PartitionKey": encode_key(school_id),
        "RowKey": SCHOOL_ROW_KEY,
        "SchoolId": school_id,
        "Enabled": enabled,
    }
    put_json(entity, "Settings", settings)
    return check_size(entity, f"settings of school {school_id}")


def last_good_entity(school_id: str, figures: dict) -> Entity:
    entity: Entity = {"PartitionKey": encode_key(school_id), "RowKey": SCHOOL_ROW_KEY}
    put_json(entity, "LastGood", figures)
    return entity


def school_from_entity(entity: Entity) -> SchoolRecord:
    return SchoolRecord(
        school_id=entity.get("SchoolId") or decode_key(entity["PartitionKey"]),
        settings=get_json(entity, "Settings", {}),
        enabled=bool(entity.get("Enabled", True)),
        last_good=get_json(entity, "LastGood", None),
        etag=entity.metadata.get("etag"),
    )


# Mappings -------------------------------------------------------------------------------------


def mapping_entity(mapping: Mapping) -> Entity:
    entity: Entity = {
        "PartitionKey": encode_key(mapping.school_id),
        "RowKey": mapping_key(mapping.mis_group_id, mapping.academic_year),
        "MisGroupId": mapping.mis_group_id,
        "AcademicYear": mapping.academic_year,
        "GraphId": mapping.graph_id or "",
        "UniqueKey": mapping.unique_key,
        "Kind": mapping.kind,
        "NameAtCreation": mapping.name_at_creation,
        "MailNickname": mapping.mail_nickname,
        "State": mapping.state.value,
        "OnDemand": mapping.on_demand,
        "RequestedBy": mapping.requested_by,
        "Description": mapping.description,
        "Visibility": mapping.visibility,
        "Lifetime": mapping.lifetime,
        "AllowRecreate": mapping.allow_recreate,
    }
    put_json(entity, "SyncOwners", sorted(mapping.sync_owners))
    put_json(entity, "HeldRemovals", sorted(mapping.held_removals))
    _optional_datetime(entity, "CreatedAt", mapping.created_at)
    _optional_datetime(entity, "UpdatedAt", mapping.updated_at)
    return check_size(entity, f"mapping of MIS group {mapping.mis_group_id!r}")


def mapping_from_entity(entity: Entity) -> Mapping:
    year_text, group_id = split_composite_key(entity["RowKey"])
    return Mapping(
        school_id=decode_key(entity["PartitionKey"]),
        mis_group_id=entity.get("MisGroupId", group_id),
        academic_year=int(entity.get("AcademicYear", year_text)),
        graph_id=entity.get("GraphId") or None,
        unique_key=entity.get("UniqueKey", ""),
        kind=entity.get("Kind", ""),
        name_at_creation=entity.get("NameAtCreation", ""),
        mail_nickname=entity.get("MailNickname", ""),
        state=entity.get("State", "active"),
        sync_owners=set(get_json(entity, "SyncOwners", [])),
        held_removals=set(get_json(entity, "HeldRemovals", [])),
        created_at=read_datetime(entity.get("CreatedAt")),
        updated_at=read_datetime(entity.get("UpdatedAt")),
        on_demand=bool(entity.get("OnDemand", False)),
        requested_by=entity.get("RequestedBy", ""),
        description=entity.get("Description", ""),
        visibility=entity.get("Visibility", ""),
        lifetime=entity.get("Lifetime", ""),
        allow_recreate=bool(entity.get("AllowRecreate", False)),
        etag=entity.metadata.get("etag"),
    )


# User links -----------------------------------------------------------------------------------


def user_link_entity(school_id: str, link: UserLink) -> Entity:
    return {
        "PartitionKey": encode_key(school_id),
        "RowKey": encode_key(link.person_id),
        "UserId": link.user_id,
        "MatchValue": link.match_value,
        "ConfirmedAt": as_utc(link.confirmed_at),
    }


def user_link_from_entity(entity: Entity) -> UserLink:
    return UserLink(
        person_id=decode_key(entity["RowKey"]),
        user_id=entity.get("UserId", ""),
        match_value=entity.get("MatchValue", ""),
        confirmed_at=read_datetime(entity.get("ConfirmedAt")),
    )


# Runs -----------------------------------------------------------------------------------------


def run_entity(run: Run) -> Entity:
    entity: Entity = {
        "PartitionKey": encode_key(run.school_id),
        "RowKey": newest_first_key(as_utc(run.started_at), run.run_id),
        "RunId": run.run_id,
        "Trigger": run.trigger,
        "StartedAt": as_utc(run.started_at),
        "Status": run.status.value,
        "Error": run.error[:PROPERTY_MAX_CHARS],
    }
    _optional_datetime(entity, "FinishedAt", run.finished_at)
    put_json(entity, "Summary", run.summary)
    return check_size(entity, f"run {run.run_id}")


def run_from_entity(entity: Entity) -> Run:
    return Run(
        school_id=decode_key(entity["PartitionKey"]),
        run_id=entity["RunId"],
        trigger=entity.get("Trigger", ""),
        started_at=read_datetime(entity["StartedAt"]),
        finished_at=read_datetime(entity.get("FinishedAt")),
        status=entity.get("Status", "running"),
        summary=get_json(entity, "Summary", {}),
        error=entity.get("Error", ""),
        etag=entity.metadata.get("etag"),
    )


def group_result_entity(result: RunGroupResult, row_key: str) -> Entity:
    errors = [error[:GROUP_ERROR_MAX_CHARS] for error in result.errors[:GROUP_ERRORS_KEPT]]
    if len(result.errors) > GROUP_ERRORS_KEPT:
        errors.append(f"... and {len(result.errors) - GROUP_ERRORS_KEPT} more errors not kept")
    entity: Entity = {
        "PartitionKey": encode_key(result.school_id),
        "RowKey": row_key,
        "RunId": result.run_id,
        "MisGroupId": result.mis_group_id,
        "DisplayName": result.display_name,
        "Outcome": result.outcome,
        "Created": result.created,
        "MembersAdded": result.members_added,
        "MembersRemoved": result.members_removed,
        "OwnersAdded": result.owners_added,
        "OwnersRemoved": result.owners_removed,
        "NotMatched": result.not_matched,
        "HeldRemovals": result.held_removals,
        "Seconds": float(result.seconds),
    }
    put_json(entity, "Errors", errors)
    _optional_datetime(entity, "StartedAt", result.started_at)
    _optional_datetime(entity, "FinishedAt", result.finished_at)
    return check_size(entity, f"result of MIS group {result.mis_group_id!r}")


def group_result_from_entity(entity: Entity) -> RunGroupResult:
    return RunGroupResult(
        school_id=decode_key(entity["PartitionKey"]),
        run_id=entity["RunId"],
        mis_group_id=entity["MisGroupId"],
        display_name=entity.get("DisplayName", ""),
        outcome=entity.get("Outcome", ""),
        created=bool(entity.get("Created", False)),
        members_added=int(entity.get("MembersAdded", 0)),
        members_removed=int(entity.get("MembersRemoved", 0)),
        owners_added=int(entity.get("OwnersAdded", 0)),
        owners_removed=int(entity.get("OwnersRemoved", 0)),
        not_matched=int(entity.get("NotMatched", 0)),
        held_removals=int(entity.get("HeldRemovals", 0)),
        errors=get_json(entity, "Errors", []),
        started_at=read_datetime(entity.get("StartedAt")),
        finished_at=read_datetime(entity.get("FinishedAt")),
        seconds=float(entity.get("Seconds", 0.0)),
    )
