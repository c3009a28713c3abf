"""The sync's state in Table Storage: schools, mappings, user links, runs and per-group run
results, every table partitioned by school, with ETag concurrency where two writers can race.

    store = StateStore.from_env(os.environ)
    store.ensure_tables()
    for school in store.list_schools():
        mappings = store.list_mappings(school.school_id)

Records and their entity layout live in `records` and `entities`; this file does the I/O.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator
from collections.abc import Mapping as MappingOf
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from shared.state.connection import StorageLocation
from shared.state.entities import (
    SCHOOL_ROW_KEY,
    Entity,
    group_result_entity,
    group_result_from_entity,
    last_good_entity,
    mapping_entity,
    mapping_from_entity,
    run_entity,
    run_from_entity,
    school_entity,
    school_from_entity,
    user_link_entity,
    user_link_from_entity,
)
from shared.state.errors import ConcurrencyError, storage_errors
from shared.state.keys import (
    INDEX_ROW_PREFIX,
    composite_key,
    encode_key,
    index_key,
    mapping_key,
    prefix_range,
)
from shared.state.records import (
    Mapping,
    Run,
    RunGroupResult,
    RunStatus,
    SchoolRecord,
    UserLink,
    as_utc,
    utc_now,
)

log = logging.getLogger(__name__)

TABLE_NAMES = ("Schools", "Mappings", "UserLinks", "Runs", "RunGroups")
TABLE_PREFIX_SETTING = "STATE_TABLE_PREFIX"
# Table Storage's limits for one entity group transaction: 100 operations and 4 MiB of
# payload. The budget leaves room for the multipart envelope around the entities.
TRANSACTION_MAX_OPERATIONS = 100
TRANSACTION_PAYLOAD_BUDGET = 3_500_000
TRANSACTION_OPERATION_OVERHEAD_BYTES = 1_000
TABLE_NAME_MAX_CHARS = 63
_TABLE_PREFIX = re.compile(r"^([A-Za-z][A-Za-z0-9]*)?$")
_RUN_INDEX = "run"
_RUN_ROW_KEY_PROPERTY = "RunRowKey"


class StateStore:
    """Reads and writes the sync's state. Not an async client: each call is one short request
    (or one transaction per 100 rows), and the callers run it from worker threads."""

    def __init__(
        self,
        connection_string: str | None = None,
        *,
        table_prefix: str = "",
        location: StorageLocation | None = None,
    ) -> None:
        if location is None:
            location = StorageLocation.from_connection_string(connection_string or "")
        if not _TABLE_PREFIX.match(table_prefix):
            raise ValueError(
                f"table prefix {table_prefix!r} must be letters and digits, starting with a "
                f"letter (Table Storage's rule for table names); fix {TABLE_PREFIX_SETTING}"
            )
        self._location = location
        self._prefix = table_prefix
        self._service = location.table_service()
        self._tables: dict[str, TableClient] = {}
        # What each school's user links looked like when last read or written, so that
        # save_user_links writes only the links that changed.
        self._known_links: dict[str, dict[str, tuple]] = {}

    @classmethod
    def from_env(cls, env: MappingOf[str, str] | None = None) -> StateStore:
        """The store the app settings name (see `shared.state.connection` for the order)."""
        location = StorageLocation.from_env(env)
        prefix = (os.environ if env is None else env).get(TABLE_PREFIX_SETTING, "")
        return cls(table_prefix=prefix, location=location)

    def close(self) -> None:
        for table in self._tables.values():
            table.close()
        self._service.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def table_name(self, name: str) -> str:
        return f"{self._prefix}{name}"

    def ensure_tables(self) -> None:
        """Create the five tables if they are missing; safe to call on every start."""
        for name in TABLE_NAMES:
            with self._errors(f"creating table {self.table_name(name)}", name):
                self._service.create_table_if_not_exists(self.table_name(name))

    # Schools ----------------------------------------------------------------------------------

    def save_school(self, school_id: str, settings: dict, enabled: bool = True) -> SchoolRecord:
        """Write a school's settings; its last good figures are left as they are."""
        entity = school_entity(school_id, settings, enabled)
        with self._errors(f"saving school {school_id}", "Schools"):
            self._table("Schools").upsert_entity(entity, mode=UpdateMode.MERGE)
        return self.get_school(school_id)

    def get_school(self, school_id: str) -> SchoolRecord | None:
        entity = self._get("Schools", encode_key(school_id), SCHOOL_ROW_KEY)
        return None if entity is None else school_from_entity(entity)

    def list_schools(self, enabled_only: bool = True) -> list[SchoolRecord]:
        query = "Enabled eq true" if enabled_only else ""
        schools = [school_from_entity(entity) for entity in self._query("Schools", query)]
        return sorted(schools, key=lambda school: school.school_id)

    def save_last_good(self, school_id: str, figures: dict, etag: str | None) -> SchoolRecord:
        """Record the figures of the school's last good MIS snapshot (the X1 baseline).

        `etag` is the school's as read: if the row changed since (another run, or an admin
        saving settings), `ConcurrencyError` is raised and nothing is written. None writes
        unconditionally.
        """
        entity = last_good_entity(school_id, figures)
        conditions: dict[str, Any] = {}
        if etag is not None:
            conditions = {"etag": etag, "match_condition": MatchConditions.IfNotModified}
        with self._errors(f"saving last good figures of school {school_id}", "Schools"):
            self._table("Schools").update_entity(entity, mode=UpdateMode.MERGE, **conditions)
        return self.get_school(school_id)

    # Mappings ---------------------------------------------------------------------------------

    def list_mappings(self, school_id: str) -> list[Mapping]:
        query = "PartitionKey eq @school"
        entities = self._query("Mappings", query, school=encode_key(school_id))
        return [mapping_from_entity(entity) for entity in entities]

    def get_mapping(self, school_id: str, mis_group_id: str, academic_year: int) -> Mapping | None:
        row_key = mapping_key(mis_group_id, academic_year)
        entity = self._get("Mappings", encode_key(school_id), row_key)
        return None if entity is None else mapping_from_entity(entity)

    def create_mapping(self, mapping: Mapping) -> Mapping:
        """Insert a new mapping; `ConcurrencyError` if one exists for that group and year."""
        now = utc_now()
        mapping = replace(mapping, created_at=mapping.created_at or now, updated_at=now)
        what = f"creating the mapping of MIS group {mapping.mis_group_id!r}"
        with self._errors(what, "Mappings"):
            metadata = self._table("Mappings").create_entity(mapping_entity(mapping))
        return replace(mapping, etag=metadata["etag"])

    def update_mapping(self, mapping: Mapping) -> Mapping:
        """Replace a mapping read earlier; `ConcurrencyError` if it changed since that read."""
        if mapping.etag is None:
            raise ValueError(
                f"mapping of MIS group {mapping.mis_group_id!r} has no ETag: update only a "
                "mapping returned by get_mapping, list_mappings or create_mapping"
            )
        mapping = replace(mapping, updated_at=utc_now())
        what = f"updating the mapping of MIS group {mapping.mis_group_id!r}"
        with self._errors(what, "Mappings"):
            metadata = self._table("Mappings").update_entity(
                mapping_entity(mapping),
                mode=UpdateMode.REPLACE,
                etag=mapping.etag,
                match_condition=MatchConditions.IfNotModified,
            )
        return replace(mapping, etag=metadata["etag"])

    def save_mappings(self, mappings: Iterable[Mapping]) -> list[Mapping]:
        """Write many mappings in transactions of at most 100 per school.

        A mapping with an ETag is replaced only if unchanged since it was read; one without is
        written whatever is stored. A conflict raises `ConcurrencyError` and undoes its own
        transaction of up to 100, but transactions already committed stay.
        """
        now = utc_now()
        saved: list[Mapping] = []
        for school_id, group in _by_school(mappings):
            group = [replace(m, created_at=m.created_at or now, updated_at=now) for m in group]
            operations = [_mapping_operation(mapping) for mapping in group]
            etags = self._transact("Mappings", f"saving mappings of school {school_id}", operations)
            saved.extend(replace(m, etag=etag) for m, etag in zip(group, etags, strict=True))
        return saved

    # User links -------------------------------------------------------------------------------

    def get_user_links(self, school_id: str) -> dict[str, UserLink]:
        entities = self._query("UserLinks", "PartitionKey eq @school", school=encode_key(school_id))
        links = {link.person_id: link for link in map(user_link_from_entity, entities)}
        self._known_links[school_id] = {pid: _link_fields(link) for pid, link in links.items()}
        return links

    def save_user_links(
        self, school_id: str, links: MappingOf[str, UserLink] | Iterable[UserLink]
    ) -> int:
        """Upsert the links that differ from what is stored, 100 per transaction; returns
        how many were written. A link whose only change is `confirmed_at` is written too."""
        links = list(links.values()) if isinstance(links, MappingOf) else list(links)
        if school_id not in self._known_links:
            self.get_user_links(school_id)
        known = self._known_links[school_id]
        changed = [link for link in links if known.get(link.person_id) != _link_fields(link)]
        operations = [("upsert", user_link_entity(school_id, link)) for link in changed]
        self._transact("UserLinks", f"saving user links of school {school_id}", operations)
        known.update((link.person_id, _link_fields(link)) for link in changed)
        log.debug("school %s: %d of %d user links written", school_id, len(changed), len(links))
        return len(changed)

    def delete_user_links(self, school_id: str, person_ids: Iterable[str]) -> int:
        """Forget the links of people who left the MIS; returns how many were deleted."""
        if school_id not in self._known_links:
            self.get_user_links(school_id)
        known = self._known_links[school_id]
        gone = [pid for pid in dict.fromkeys(person_ids) if pid in known]
        partition = encode_key(school_id)
        operations = [
            ("delete", {"PartitionKey": partition, "RowKey": encode_key(pid)}) for pid in gone
        ]
        self._transact("UserLinks", f"deleting user links of school {school_id}", operations)
        for pid in gone:
            known.pop(pid, None)
        return len(gone)

    # Runs -------------------------------------------------------------------------------------

    def start_run(
        self,
        school_id: str,
        run_id: str,
        trigger: str,
        *,
        started_at: datetime | None = None,
        status: RunStatus | str = RunStatus.RUNNING,
    ) -> Run:
        """Record a run's start. Idempotent: for a run id already started (a redelivered
        message) the stored run is returned unchanged."""
        run = Run(school_id, run_id, trigger, as_utc(started_at) or utc_now(), status=status)
        entity = run_entity(run)
        index = {
            "PartitionKey": entity["PartitionKey"],
            "RowKey": index_key(_RUN_INDEX, run_id),
            _RUN_ROW_KEY_PROPERTY: entity["RowKey"],
        }
        try:
            # One transaction, so the lookup row and the run row exist together or not at all.
            (etag, _) = self._transact(
                "Runs", f"starting run {run_id}", [("create", entity), ("create", index)]
            )
        except ConcurrencyError:
            existing = self.get_run(school_id, run_id)
            if existing is None:
                raise
            return existing
        log.debug("school %s: run %s started (%s)", school_id, run_id, trigger)
        return replace(run, etag=etag)

    def update_run(self, run: Run) -> Run:
        """Replace a run row (status, summary, finish time). With an ETag, only if unchanged
        since read. `started_at` is part of the row's key and must be the stored one."""
        conditions: dict[str, Any] = {}
        if run.etag is not None:
            conditions = {"etag": run.etag, "match_condition": MatchConditions.IfNotModified}
        with self._errors(f"updating run {run.run_id}", "Runs"):
            metadata = self._table("Runs").update_entity(
                run_entity(run), mode=UpdateMode.REPLACE, **conditions
            )
        return replace(run, etag=metadata["etag"])

    def get_run(self, school_id: str, run_id: str) -> Run | None:
        partition = encode_key(school_id)
        index = self._get("Runs", partition, index_key(_RUN_INDEX, run_id))
        if index is None:
            return None
        entity = self._get("Runs", partition, index[_RUN_ROW_KEY_PROPERTY])
        return None if entity is None else run_from_entity(entity)

    def list_runs(self, school_id: str, limit: int = 10) -> list[Run]:
        """The school's last `limit` runs, newest first."""
        query = "PartitionKey eq @school and RowKey lt @index"
        entities = self._query(
            "Runs", query, page=limit, school=encode_key(school_id), index=INDEX_ROW_PREFIX
        )
        return [run_from_entity(entity) for entity in itertools.islice(entities, limit)]

    def list_all_runs(self, limit: int = 20) -> list[Run]:
        """The last `limit` runs of all schools, newest first.

        Limitation: reads `limit` runs of every school in the Schools table, so the runs of a
        school whose row was deleted no longer appear, and the cost grows with the schools.
        """
        runs = [
            run
            for school in self.list_schools(enabled_only=False)
            for run in self.list_runs(school.school_id, limit)
        ]
        runs.sort(key=lambda run: run.started_at, reverse=True)
        return runs[:limit]

    def record_group_result(self, result: RunGroupResult) -> None:
        """Write one group's outcome in a run; a redelivered message overwrites its own row."""
        row_key = composite_key(result.run_id, result.mis_group_id)
        with self._errors(
            f"recording the result of MIS group {result.mis_group_id!r}", "RunGroups"
        ):
            self._table("RunGroups").upsert_entity(
                group_result_entity(result, row_key), mode=UpdateMode.REPLACE
            )

    def record_group_results(self, results: Iterable[RunGroupResult]) -> int:
        """Write many groups' outcomes, in transactions of at most 100 rows per school; returns
        how many rows were written. As with `record_group_result`, a redelivered run overwrites
        its own rows; a group given twice keeps its last result."""
        by_school: dict[str, dict[str, Entity]] = {}
        for result in results:
            row_key = composite_key(result.run_id, result.mis_group_id)
            # A transaction may name each row once, so a repeated group keeps its last result.
            by_school.setdefault(result.school_id, {})[row_key] = group_result_entity(
                result, row_key
            )
        for school_id, entities in by_school.items():
            operations = [("upsert", e, {"mode": UpdateMode.REPLACE}) for e in entities.values()]
            self._transact(
                "RunGroups", f"recording group results of school {school_id}", operations
            )
        return sum(len(entities) for entities in by_school.values())

    def list_group_results(self, school_id: str, run_id: str) -> list[RunGroupResult]:
        low, high = prefix_range(run_id)
        query = "PartitionKey eq @school and RowKey ge @low and RowKey lt @high"
        entities = self._query("RunGroups", query, school=encode_key(school_id), low=low, high=high)
        return [group_result_from_entity(entity) for entity in entities]

    # Plumbing ---------------------------------------------------------------------------------

    def _table(self, name: str) -> TableClient:
        if name not in self._tables:
            self._tables[name] = self._service.get_table_client(self.table_name(name))
        return self._tables[name]

    def _errors(self, what: str, table: str) -> AbstractContextManager[None]:
        where = f"table {self.table_name(table)} at {self._service.url}"
        return storage_errors(what, where=where, setting=self._location.setting)

    def _get(self, table: str, partition_key: str, row_key: str) -> Entity | None:
        with self._errors(f"reading {table} row {row_key}", table):
            try:
                return self._table(table).get_entity(partition_key, row_key)
            except ResourceNotFoundError as error:
                if "TableNotFound" in str(error):
                    raise
                return None

    def _query(self, table: str, query: str, *, page: int | None = None, **params: str) -> Iterator:
        with self._errors(f"querying {table}", table):
            if not query:
                yield from self._table(table).list_entities(results_per_page=page)
                return
            yield from self._table(table).query_entities(
                query, parameters=params, results_per_page=page
            )

    def _transact(self, table: str, what: str, operations: list[tuple]) -> list[str]:
        """Submit `operations` (one partition) in transactions of at most 100 operations and
        Table Storage's payload limit; returns their ETags in order."""
        etags: list[str] = []
        for chunk in _transactions(operations):
            with self._errors(what, table):
                results = self._table(table).submit_transaction(chunk)
            etags.extend(result.get("etag", "") for result in results)
        return etags


def _transactions(operations: list[tuple]) -> Iterator[list[tuple]]:
    """`operations` cut into transactions of at most 100 operations and the payload budget."""
    chunk: list[tuple] = []
    size = 0
    for operation in operations:
        cost = _operation_bytes(operation[1])
        if chunk and (
            len(chunk) == TRANSACTION_MAX_OPERATIONS or size + cost > TRANSACTION_PAYLOAD_BUDGET
        ):
            yield chunk
            chunk, size = [], 0
        chunk.append(operation)
        size += cost
    if chunk:
        yield chunk


def _operation_bytes(entity: Entity) -> int:
    # The entity as JSON with every non-ASCII character escaped (the worst case on the wire),
    # plus its part's headers in the multipart request.
    body = json.dumps(entity, default=str, ensure_ascii=True)
    return len(body) + TRANSACTION_OPERATION_OVERHEAD_BYTES


def _by_school(mappings: Iterable[Mapping]) -> Iterator[tuple[str, list[Mapping]]]:
    grouped: dict[str, list[Mapping]] = {}
    for mapping in mappings:
        grouped.setdefault(mapping.school_id, []).append(mapping)
    for school_id, group in grouped.items():
        keys = [(m.mis_group_id, m.academic_year) for m in group]
        if len(set(keys)) != len(keys):
            raise ValueError(
                f"save_mappings got the same MIS group and year twice for school {school_id}: "
                "a transaction may hold each row once; merge the duplicates first"
            )
        yield school_id, group


def _mapping_operation(mapping: Mapping) -> tuple:
    entity = mapping_entity(mapping)
    if mapping.etag is None:
        return ("upsert", entity, {"mode": UpdateMode.REPLACE})
    conditions = {"etag": mapping.etag, "match_condition": MatchConditions.IfNotModified}
    return ("update", entity, {"mode": UpdateMode.REPLACE, **conditions})


def _link_fields(link: UserLink) -> tuple:
    return (link.user_id, link.match_value, as_utc(link.confirmed_at))
