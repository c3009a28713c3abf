"""The whole local stack in one place: Azurite, the Graph emulator and the Service Bus stand-in,
the app settings the functions read, a seeded school, and nights played through the real
function handlers by the local host. Used by the demo, the end-to-end tests and the benchmarks.

    with start_stack() as stack:                 # inside an async function
        school = stack.seed_school(generate_school(800, seed=1))
        night = await stack.run_night(date.today())
        print(night.run().status, night.counters["writes"])
        await stack.close_host()
"""

from __future__ import annotations

import contextlib
import itertools
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from local.host import DrainReport, HostSettings, LocalHost
from local.sample_school import SampleSchool, write_oneroster
from local.services import RunningService, start_azurite, start_graph_emulator, start_servicebus
from shared.messages.schemas import nightly_run_id
from shared.state import ExportStore, Mapping, Run, RunGroupResult, StateStore

# Any token will do: the emulator checks that one is sent, not what it says.
LOCAL_GRAPH_TOKEN = "local-stack-token"
# The emulator shows every change at once; a short wait keeps a mistake from hanging a night.
LOCAL_REPLICATION_WAIT_SECONDS = "5"
# The hour the nightly timer fires (UTC), as the deployment's default schedule has it.
NIGHTLY_HOUR, NIGHTLY_MINUTE = 1, 30
ADMIN_HTTP_TIMEOUT_SECONDS = 60.0
# How Graph names a user in a link reference; the emulator accepts any host.
DIRECTORY_OBJECT_URL = "https://graph.microsoft.com/v1.0/directoryObjects/{}"


class EmulatorAdmin:
    """The Graph emulator's side door (`/_emulator/...`) plus plain Graph calls made the way an
    admin would make them by hand in Microsoft 365, outside the sync."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._admin = httpx.Client(base_url=f"{url}/_emulator", timeout=ADMIN_HTTP_TIMEOUT_SECONDS)
        self._graph = httpx.Client(
            base_url=f"{url}/v1.0",
            timeout=ADMIN_HTTP_TIMEOUT_SECONDS,
            headers={"Authorization": f"Bearer {LOCAL_GRAPH_TOKEN}"},
        )

    def close(self) -> None:
        self._admin.close()
        self._graph.close()

    def reset(self) -> None:
        self._admin.post("/reset").raise_for_status()

    def seed_users(self, users: Sequence[dict[str, Any]]) -> list[str]:
        answer = self._admin.post("/users", json={"users": list(users)})
        answer.raise_for_status()
        return answer.json()["ids"]

    def state(self) -> dict[str, Any]:
        answer = self._admin.get("/state")
        answer.raise_for_status()
        return answer.json()

    def groups(self, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        return [g for g in self.state()["groups"] if include_deleted or not g["deleted"]]

    def group(self, group_id: str) -> dict[str, Any]:
        found = [g for g in self.state()["groups"] if g["id"] == group_id]
        if not found:
            raise LookupError(f"the emulator holds no group {group_id}")
        return found[0]

    def link_changes(self, group_id: str) -> list[dict[str, Any]]:
        """Members and owners added to and removed from one group, oldest first."""
        answer = self._admin.get(f"/link-changes/{group_id}")
        answer.raise_for_status()
        return answer.json()["changes"]

    def counters(self) -> dict[str, Any]:
        answer = self._admin.get("/counters")
        answer.raise_for_status()
        return answer.json()

    def reset_counters(self) -> None:
        self._admin.post("/counters/reset").raise_for_status()

    def configure(self, **options: Any) -> dict[str, Any]:
        answer = self._admin.post("/config", json=options)
        answer.raise_for_status()
        return answer.json()

    # --- changes made in Microsoft 365 by hand, through Graph itself ------------------------

    def add_member(self, group_id: str, user_id: str) -> None:
        self._add_link(group_id, "members", user_id)

    def add_owner(self, group_id: str, user_id: str) -> None:
        self._add_link(group_id, "owners", user_id)

    def rename_group(self, group_id: str, display_name: str) -> None:
        answer = self._graph.patch(f"/groups/{group_id}", json={"displayName": display_name})
        answer.raise_for_status()

    def delete_group(self, group_id: str) -> None:
        self._graph.delete(f"/groups/{group_id}").raise_for_status()

    def _add_link(self, group_id: str, relation: str, user_id: str) -> None:
        reference = {"@odata.id": DIRECTORY_OBJECT_URL.format(user_id)}
        answer = self._graph.post(f"/groups/{group_id}/{relation}/$ref", json=reference)
        answer.raise_for_status()


@dataclass
class SeededSchool:
    """A school set up on the stack: its generated records, settings and directory user ids."""

    school: SampleSchool
    school_id: str
    settings: dict[str, Any]
    user_ids: dict[str, str]

    @property
    def admin_upns(self) -> list[str]:
        return list(self.settings.get("admin_owners", []))

    def user_id(self, upn: str) -> str:
        return self.user_ids[upn.lower()]

    def person_user_id(self, person_id: str) -> str:
        """The directory id of an MIS person (who must have an account)."""
        person = next(p for p in self.school.people if p.sourced_id == person_id)
        return self.user_id(person.upn)


@dataclass
class NightOutcome:
    """One night as the stack saw it: the runs, every group's result, what the host drained,
    and the Graph emulator's counters for that night alone."""

    night: date
    runs: dict[str, Run]
    results: dict[str, list[RunGroupResult]]
    mappings: dict[str, list[Mapping]]
    drain: DrainReport
    counters: dict[str, Any]
    wall_seconds: float

    def run(self, school_id: str | None = None) -> Run:
        return self.runs[school_id or next(iter(self.runs))]

    def group_results(self, school_id: str | None = None) -> dict[str, RunGroupResult]:
        rows = self.results[school_id or next(iter(self.results))]
        return {row.mis_group_id: row for row in rows}

    def changed(self, school_id: str | None = None) -> dict[str, RunGroupResult]:
        """The groups this night created or changed, or failed on."""
        return {
            group_id: row
            for group_id, row in self.group_results(school_id).items()
            if row.created
            or row.members_added
            or row.members_removed
            or row.owners_added
            or row.owners_removed
            or row.errors
        }


@dataclass
class LocalStack:
    """The three stand-ins, and the settings that point the functions at them.

    `table_prefix` and `container` keep several stacks' state apart in one Azurite (the tests
    share one Azurite across the session).
    """

    azurite: RunningService
    graph: RunningService
    servicebus: RunningService
    table_prefix: str = ""
    container: str = "mis"
    extra_env: dict[str, str] = field(default_factory=dict)
    # None: host.json's settings, as the Functions host would read them.
    host_settings: HostSettings | None = None

    def __post_init__(self) -> None:
        self.emulator = EmulatorAdmin(self.graph.url)
        self._state: StateStore | None = None
        self._exports: ExportStore | None = None
        self._export_numbers = itertools.count(1)
        self._schools: list[str] = []
        self._host: LocalHost | None = None

    @property
    def env(self) -> dict[str, str]:
        """The app settings the Function App would be given, pointing at the local stand-ins."""
        storage = self.azurite.connection_string
        bus = self.servicebus.connection_string
        env = {
            "AzureWebJobsStorage": storage,
            "STATE_STORAGE_CONNECTION": storage,
            "MIS_EXPORT_CONTAINER": self.container,
            "ServiceBusConnection": bus,
            "GRAPH_BASE_URL": f"{self.graph.url}/v1.0",
            "GRAPH_AUTH": "static",
            "GRAPH_TOKEN": LOCAL_GRAPH_TOKEN,
            "GRAPH_REPLICATION_WAIT_SECONDS": LOCAL_REPLICATION_WAIT_SECONDS,
        }
        if self.table_prefix:
            env["STATE_TABLE_PREFIX"] = self.table_prefix
        env.update(self.extra_env)
        return env

    @property
    def state(self) -> StateStore:
        if self._state is None:
            self._state = StateStore.from_env(self.env)
            self._state.ensure_tables()
        return self._state

    @property
    def exports(self) -> ExportStore:
        if self._exports is None:
            self._exports = ExportStore.from_env(self.env)
            self._exports.ensure_container()
        return self._exports

    def close(self) -> None:
        self.emulator.close()
        for store in (self._state, self._exports):
            if store is not None:
                store.close()
        self._state = self._exports = None

    # --- a school -------------------------------------------------------------------------

    def seed_school(
        self,
        school: SampleSchool,
        *,
        school_id: str | None = None,
        extra_users: Sequence[str] = (),
        **settings: Any,
    ) -> SeededSchool:
        """Set a school up as an admin would: its settings in the state store, its people (and
        `extra_users`, by UPN) in the directory, and its MIS export in Blob Storage.

        The admin owner defaults to `it.admin@<school domain>`; `settings` override any setting.
        """
        school_id = school_id or school.dfe_number
        values: dict[str, Any] = {
            "school_id": school_id,
            "dfe_number": school.dfe_number,
            "admin_owners": [f"it.admin@{school.domain}"],
        }
        values.update(settings)
        self.state.save_school(school_id, values)

        directory = school.directory_users()
        known = {user["userPrincipalName"].lower() for user in directory}
        extras = sorted({upn.lower() for upn in (*values["admin_owners"], *extra_users)} - known)
        directory.extend(_plain_user(upn) for upn in extras)
        ids = self.emulator.seed_users(directory)
        user_ids = {
            user["userPrincipalName"].lower(): user_id
            for user, user_id in zip(directory, ids, strict=True)
        }
        self.upload(school, school_id=school_id)
        self._schools.append(school_id)
        return SeededSchool(school, school_id, values, user_ids)

    def upload(self, school: SampleSchool, *, school_id: str | None = None) -> str:
        """Write `school` as a OneRoster export and upload it as the school's newest export."""
        # Ids that sort in upload order: two uploads within one second still rank correctly.
        export_id = f"export-{next(self._export_numbers):05d}"
        with tempfile.TemporaryDirectory(prefix="groupsync-stack-") as scratch:
            folder = write_oneroster(school, Path(scratch) / export_id)
            return self.exports.upload_export(school_id or school.dfe_number, folder, export_id)

    def save_settings(self, school: SeededSchool, **changes: Any) -> None:
        school.settings = {**school.settings, **changes}
        self.state.save_school(school.school_id, school.settings)

    # --- nights ---------------------------------------------------------------------------

    def host(self) -> LocalHost:
        """The stack's local host, opened on first use and kept open across nights: closing
        one costs a second or two of SDK connection shutdown. `close_host` closes it."""
        if self._host is None:
            self._host = LocalHost(self.env, settings=self.host_settings)
        return self._host

    async def close_host(self) -> None:
        if self._host is not None:
            host, self._host = self._host, None
            await host.close()

    async def run_night(self, night: date) -> NightOutcome:
        """Fire the nightly timer as at 01:30 UTC on `night`, drain every queue through the
        function handlers, and collect what happened.

        Use real dates (today, then the days after): the state store stamps records with the
        real time, and the sync compares those stamps with the night's clock.
        """
        self.emulator.reset_counters()
        host = self.host()
        started = time.monotonic()
        await host.run_night(nightly_time(night))
        drain = await host.drain()
        wall_seconds = time.monotonic() - started
        return self.outcome(night, nightly_run_id(night), drain, wall_seconds)

    async def run_command(self, command: Any, *, at: datetime | None = None) -> DrainReport:
        """Queue one command as the admin API would, and drain every queue."""
        from shared.usecases.queries import submit_command
        from shared.usecases.services import Services

        host = self.host()
        if at is not None:
            host.set_time(at)
        async with Services(self.env) as services:
            await submit_command(services, command)
        return await host.drain()

    def outcome(
        self, night: date, run_id: str, drain: DrainReport, wall_seconds: float
    ) -> NightOutcome:
        runs: dict[str, Run] = {}
        results: dict[str, list[RunGroupResult]] = {}
        mappings: dict[str, list[Mapping]] = {}
        for school_id in self._schools:
            run = self.state.get_run(school_id, run_id)
            if run is None:
                continue
            runs[school_id] = run
            results[school_id] = self.state.list_group_results(school_id, run_id)
            mappings[school_id] = self.state.list_mappings(school_id)
        return NightOutcome(
            night=night,
            runs=runs,
            results=results,
            mappings=mappings,
            drain=drain,
            counters=self.emulator.counters(),
            wall_seconds=wall_seconds,
        )


def nightly_time(night: date) -> datetime:
    return datetime(night.year, night.month, night.day, NIGHTLY_HOUR, NIGHTLY_MINUTE, tzinfo=UTC)


def current_academic_year(today: date | None = None) -> int:
    """The academic year running today, by the year it started in: a school generated for it
    gives an export the sync does not flag as stale."""
    from shared.usecases.freshness import academic_year_end

    today = today or datetime.now(UTC).date()
    return today.year if today >= academic_year_end(today.year - 1) else today.year - 1


def nights_from_today(count: int) -> list[date]:
    """`count` nights starting tonight, so record stamps (real time) and night clocks agree."""
    today = datetime.now(UTC).date()
    return [today + timedelta(days=offset) for offset in range(count)]


@contextlib.contextmanager
def start_stack(
    *,
    log_dir: Path | None = None,
    graph_options: Sequence[str] = (),
    servicebus_options: Sequence[str] = (),
    extra_env: dict[str, str] | None = None,
    host_settings: HostSettings | None = None,
) -> Iterator[LocalStack]:
    """Start the three stand-ins on free loopback ports; stop all of them on the way out,
    whatever happened (an error, Ctrl-C). `extra_env` adds or overrides app settings."""
    with contextlib.ExitStack() as running:
        azurite = running.enter_context(start_azurite(log_dir=log_dir))
        graph = running.enter_context(start_graph_emulator(*graph_options, log_dir=log_dir))
        servicebus = running.enter_context(start_servicebus(*servicebus_options, log_dir=log_dir))
        stack = LocalStack(
            azurite,
            graph,
            servicebus,
            table_prefix=_prefix(),
            extra_env=dict(extra_env or {}),
            host_settings=host_settings,
        )
        running.callback(stack.close)
        yield stack


def isolated_stack(
    azurite: RunningService,
    graph: RunningService,
    servicebus: RunningService,
    *,
    host_settings: HostSettings | None = None,
    extra_env: dict[str, str] | None = None,
) -> LocalStack:
    """A stack on stand-ins that are already running, with tables and an export container of
    its own, and an emptied Graph emulator."""
    stack = LocalStack(
        azurite,
        graph,
        servicebus,
        table_prefix=_prefix(),
        container=f"mis-{uuid.uuid4().hex[:12]}",
        extra_env=dict(extra_env or {}),
        host_settings=host_settings,
    )
    stack.emulator.reset()
    return stack


def _prefix() -> str:
    return f"s{uuid.uuid4().hex[:10]}"


def _plain_user(upn: str) -> dict[str, str]:
    return {"userPrincipalName": upn, "displayName": upn.split("@", 1)[0], "mail": upn}
