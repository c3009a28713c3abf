"""The reader accepts what the local sample-school generator writes (the demo's MIS)."""

from __future__ import annotations

from pathlib import Path

from local.sample_school.generate import generate_school, generate_trust
from local.sample_school.oneroster import write_oneroster
from shared.domain.snapshot import GroupKind, Role
from shared.mis import list_schools, read_mis_export


def test_generated_school_reads_with_every_pupil_in_a_year_group(tmp_path: Path):
    school = generate_school(300, seed=1)
    write_oneroster(school, tmp_path)

    snapshot = read_mis_export(tmp_path)

    students = {p.mis_id for p in snapshot.people.values() if p.role is Role.STUDENT}
    in_years = set().union(
        *(g.students for g in snapshot.groups.values() if g.kind is GroupKind.YEAR)
    )
    graded = {p.mis_id for p in snapshot.people.values() if p.role is Role.STUDENT and p.grade}
    assert snapshot.school.dfe_number == school.dfe_number
    assert snapshot.academic_year_start == school.academic_year_start
    assert len(students) == sum(1 for p in school.people if p.role == "student")
    assert in_years == graded


def test_generated_trust_lists_its_schools_and_reads_each(tmp_path: Path):
    write_oneroster(generate_trust(2, 200, seed=1), tmp_path)

    schools = list_schools(tmp_path)
    snapshots = [read_mis_export(tmp_path, school_id=s.dfe_number) for s in schools]

    assert len(schools) == 2
    assert [s.school for s in snapshots] == schools
    assert not set(snapshots[0].people) & set(snapshots[1].people)
