"""The whole local stack for the end-to-end tests: nights run through the real function
handlers by the local host, against Azurite, the Graph emulator and the Service Bus stand-in.

The emulator and the bus are this suite's own, so options or messages other suites leave
behind cannot leak in; Azurite is the session's, with tables and a container per test.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from local.host import HostSettings
from local.sample_school import SampleSchool, generate_school
from local.services import RunningService, start_graph_emulator, start_servicebus
from local.stack import LocalStack, SeededSchool, current_academic_year, isolated_stack

LOG_DIR = Path(__file__).resolve().parents[2] / ".pytest_cache" / "service-logs" / "e2e"
SCHOOL_STUDENTS = 200
# Several instances' worth of concurrent calls: a night's reconciles run in one or two passes.
CONCURRENT_CALLS = 16
# The app paces Graph writes with one budget per process and Graph endpoint, so in one test
# process the suite's nights would share a budget that each test's emulator reset does not
# refill: past about ten tests, a night would wait for the quota window.
UNPACED_WRITES = {"GRAPH_WRITE_BUDGET": "1000000"}
SETS_KEPT = 6
CO_TAUGHT_SETS_KEPT = 2


@pytest.fixture(scope="session")
def e2e_graph() -> Iterator[RunningService]:
    with start_graph_emulator(log_dir=LOG_DIR) as service:
        yield service


@pytest.fixture(scope="session")
def e2e_bus() -> Iterator[RunningService]:
    with start_servicebus(log_dir=LOG_DIR) as service:
        yield service


@pytest.fixture
async def stack(
    azurite: RunningService, e2e_graph: RunningService, e2e_bus: RunningService
) -> AsyncIterator[LocalStack]:
    settings = dataclasses.replace(HostSettings.load(), max_concurrent_calls=CONCURRENT_CALLS)
    built = isolated_stack(
        azurite, e2e_graph, e2e_bus, host_settings=settings, extra_env=UNPACED_WRITES
    )
    yield built
    await built.close_host()
    built.close()


def small_school(students: int = SCHOOL_STUDENTS, *, seed: int = 1) -> SampleSchool:
    """A generated school cut down to its forms and a few sets, so that a night takes seconds:
    the first sets of the first year (single-teacher ones), plus a couple of co-taught sets."""
    school = generate_school(students, seed=seed, academic_year_start=current_academic_year())
    teachers: dict[str, int] = {}
    for enrolment in school.enrollments:
        if enrolment.role == "teacher":
            teachers[enrolment.class_id] = teachers.get(enrolment.class_id, 0) + 1
    scheduled = [c for c in school.classes if c.class_type == "scheduled"]
    first_year = scheduled[0].grade
    kept = [c for c in scheduled if c.grade == first_year and teachers.get(c.sourced_id) == 1]
    kept = kept[:SETS_KEPT]
    kept += [c for c in scheduled if teachers.get(c.sourced_id, 0) > 1][:CO_TAUGHT_SETS_KEPT]
    keep = {c.sourced_id for c in kept} | {
        c.sourced_id for c in school.classes if c.class_type == "homeroom"
    }
    return dataclasses.replace(
        school,
        classes=[c for c in school.classes if c.sourced_id in keep],
        enrollments=[e for e in school.enrollments if e.class_id in keep],
    )


def seed(
    stack: LocalStack, school: SampleSchool, *, extra_users: tuple[str, ...] = (), **settings: Any
) -> SeededSchool:
    """The school on the stack under an id of its own: the bus's duplicate detection keys on
    the school and the night, and the suite shares one bus."""
    school_id = f"{school.dfe_number}{uuid.uuid4().hex[:6]}"
    return stack.seed_school(school, school_id=school_id, extra_users=extra_users, **settings)


def groups_by_mis_id(stack: LocalStack, seeded: SeededSchool) -> dict[str, dict[str, Any]]:
    """Each synced group as the emulator holds it now (deleted ones too), by MIS group id."""
    groups = {g["id"]: g for g in stack.emulator.groups(include_deleted=True)}
    return {
        mapping.mis_group_id: groups[mapping.graph_id]
        for mapping in stack.state.list_mappings(seeded.school_id)
        if mapping.graph_id in groups
    }


def set_ids(school: SampleSchool) -> list[str]:
    return [c.sourced_id for c in school.classes if c.class_type == "scheduled"]


def teachers_of(school: SampleSchool, class_id: str) -> list[str]:
    """A class's teachers, the registered (primary) one first."""
    links = [e for e in school.enrollments if e.class_id == class_id and e.role == "teacher"]
    links.sort(key=lambda e: e.primary != "true")
    return [e.user_id for e in links]
