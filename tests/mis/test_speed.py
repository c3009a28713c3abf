"""The readers are fast enough for a trust: timed on generated OneRoster 1.1 exports.

The school-sized check runs with every `make test`; the trust-sized ones (a million enrolment
rows, one school of it and every school at once) are marked slow.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from shared.domain.snapshot import GroupKind
from shared.mis import read_mis_export, read_mis_exports
from tests.mis.bulk import write_export

SCHOOL_STUDENTS = 2000
SCHOOL_GROUPS_PER_STUDENT = 29  # about 60,000 enrolment rows
SCHOOL_READ_CEILING_S = 0.5
TRUST_STUDENTS = 20_000
TRUST_SCHOOLS = 10
TRUST_GROUPS_PER_STUDENT = 49  # about a million enrolment rows
TRUST_READ_CEILING_S = 6.0
TRUST_ALL_SCHOOLS_READ_CEILING_S = 12.0


def _best_read_time(folder: Path, school_id: str | None, tries: int) -> float:
    best = float("inf")
    for _ in range(tries):
        started = time.perf_counter()
        read_mis_export(folder, school_id=school_id)
        best = min(best, time.perf_counter() - started)
    return best


def test_a_2000_student_school_reads_in_well_under_half_a_second(tmp_path: Path):
    write_export(tmp_path, SCHOOL_STUDENTS, groups_per_student=SCHOOL_GROUPS_PER_STUDENT)
    rows = sum(1 for _ in (tmp_path / "enrollments.csv").open()) - 1

    elapsed = _best_read_time(tmp_path, None, tries=3)

    snapshot = read_mis_export(tmp_path)
    assert rows > 60_000
    assert sum(1 for p in snapshot.people.values() if p.role == "student") == SCHOOL_STUDENTS
    assert len([g for g in snapshot.groups.values() if g.kind is GroupKind.YEAR]) == 5
    assert elapsed < SCHOOL_READ_CEILING_S, f"read took {elapsed:.3f} s"


@pytest.fixture(scope="module")
def trust_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("trust")
    write_export(
        folder, TRUST_STUDENTS, schools=TRUST_SCHOOLS, groups_per_student=TRUST_GROUPS_PER_STUDENT
    )
    return folder


@pytest.mark.slow
def test_one_school_of_a_million_row_trust_export_reads_in_seconds(trust_export: Path):
    rows = sum(1 for _ in (trust_export / "enrollments.csv").open()) - 1

    elapsed = _best_read_time(trust_export, "sch3", tries=1)

    assert rows > 1_000_000
    assert elapsed < TRUST_READ_CEILING_S, f"read took {elapsed:.3f} s"


@pytest.mark.slow
def test_every_school_of_a_million_row_trust_reads_in_one_pass(trust_export: Path):
    one_school = _best_read_time(trust_export, "sch3", tries=1)

    started = time.perf_counter()
    snapshots = read_mis_exports(trust_export)
    elapsed = time.perf_counter() - started

    assert len(snapshots) == TRUST_SCHOOLS
    assert sum(len(s.people) for s in snapshots.values()) > TRUST_STUDENTS
    # Reading the schools one by one would cost TRUST_SCHOOLS reads of the whole export.
    assert elapsed < one_school * TRUST_SCHOOLS / 2, f"{elapsed:.3f} s against {one_school:.3f} s"
    assert elapsed < TRUST_ALL_SCHOOLS_READ_CEILING_S, f"read took {elapsed:.3f} s"
