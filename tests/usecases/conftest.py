"""A school on the local stack for the use-case tests: Azurite (own tables and container per
test), the Graph emulator (reset per test) and a small generated secondary school."""

from __future__ import annotations

import dataclasses
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.sample_school import SampleSchool, generate_school, write_oneroster
from local.services import RunningService
from shared.messages.schemas import GroupReconcile
from shared.state import ExportStore, StateStore
from shared.usecases.services import Services

SCHOOL_STUDENTS = 60
ADMIN_UPN = "it.admin@oakfield.example.org"
TEACHER_UPN = "requesting.teacher@oakfield.example.org"
EXPORTS_START = datetime(2025, 9, 1, 22, 0, tzinfo=UTC)


class Emulator:
    """The Graph emulator's admin side door, for arranging and asserting."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=f"{url}/_emulator", timeout=30)

    def reset(self) -> None:
        self.http.post("/reset").raise_for_status()

    def seed_users(self, users: list[dict[str, Any]]) -> list[str]:
        answer = self.http.post("/users", json={"users": users})
        answer.raise_for_status()
        return answer.json()["ids"]

    def groups(self) -> list[dict[str, Any]]:
        answer = self.http.get("/state")
        answer.raise_for_status()
        return [group for group in answer.json()["groups"] if not group["deleted"]]

    def writes(self) -> int:
        return self.http.get("/counters").json()["writes"]

    def reset_counters(self) -> None:
        self.http.post("/counters/reset").raise_for_status()


@dataclass
class Stack:
    env: dict[str, str]
    emulator: Emulator
    state: StateStore
    exports: ExportStore
    school: SampleSchool
    user_ids: dict[str, str]
    uploads: int = 0

    @property
    def school_id(self) -> str:
        return self.school.dfe_number

    def services(self, **overrides: Any) -> Services:
        return Services(self.env, state=self.state, exports=self.exports, **overrides)

    def next_export_id(self) -> str:
        """Export ids that are times a minute apart, so the newest export is never a tie."""
        self.uploads += 1
        return (EXPORTS_START + timedelta(minutes=self.uploads)).strftime("%Y%m%dT%H%M%SZ")

    def upload(self, school: SampleSchool | None = None) -> str:
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch) / "export"
            write_oneroster(school or self.school, folder)
            return self.exports.upload_export(self.school_id, folder, self.next_export_id())

    def save_settings(self, **settings: Any) -> None:
        values = {
            "school_id": self.school_id,
            "dfe_number": self.school_id,
            "enabled_kinds": ["year", "registration"],
            "admin_owners": [ADMIN_UPN],
        }
        values.update(settings)
        self.state.save_school(self.school_id, values)

    def mapping(self, mis_group_id: str):
        mappings = [m for m in self.state.list_mappings(self.school_id)]
        return next(m for m in mappings if m.mis_group_id == mis_group_id)

    def user(self, upn: str) -> str:
        return self.user_ids[upn.lower()]


@pytest.fixture
def stack(azurite: RunningService, graph_emulator: RunningService) -> Stack:
    suffix = uuid.uuid4().hex[:10]
    env = {
        "STATE_STORAGE_CONNECTION": azurite.connection_string,
        "STATE_TABLE_PREFIX": f"t{suffix}",
        "MIS_EXPORT_CONTAINER": f"mis-{suffix}",
        "GRAPH_BASE_URL": f"{graph_emulator.url}/v1.0",
        "GRAPH_TOKEN": "local-test-token",
        "GRAPH_REPLICATION_WAIT_SECONDS": "5",
    }
    emulator = Emulator(graph_emulator.url)
    emulator.reset()
    state = StateStore.from_env(env)
    state.ensure_tables()
    exports = ExportStore.from_env(env)
    exports.ensure_container()

    school = generate_school(SCHOOL_STUDENTS, seed=1)
    people = [*school.directory_users(), _user(ADMIN_UPN), _user(TEACHER_UPN)]
    ids = emulator.seed_users(people)
    user_ids = {p["userPrincipalName"].lower(): i for p, i in zip(people, ids, strict=True)}
    built = Stack(env, emulator, state, exports, school, user_ids)
    built.save_settings()
    built.upload()
    yield built
    state.close()
    exports.close()
    emulator.http.close()


@pytest.fixture
async def services(stack: Stack) -> AsyncIterator[Services]:
    ports = stack.services()
    yield ports
    # State and exports belong to the stack fixture; only Graph is closed here.
    await ports.graph.aclose()


class Recorder:
    """A dispatch that keeps the reconciles it is handed instead of sending them."""

    def __init__(self) -> None:
        self.messages: list[GroupReconcile] = []

    async def __call__(self, messages) -> int:
        self.messages.extend(messages)
        return len(messages)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def _user(upn: str) -> dict[str, str]:
    return {"userPrincipalName": upn, "displayName": upn.split("@")[0], "mail": upn}


def without_students(school: SampleSchool, keep: Callable[[str], bool]) -> SampleSchool:
    """The school with only the student enrolments `keep(user_id)` accepts."""
    students = {p.sourced_id for p in school.people if p.role == "student"}
    enrollments = [e for e in school.enrollments if e.user_id not in students or keep(e.user_id)]
    return dataclasses.replace(school, enrollments=enrollments)
