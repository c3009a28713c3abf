"""`read_mis_exports`: every school of a trust export from one read, each snapshot the same as
reading that school alone, each with its own warnings; a problem anywhere stays located.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from local.sample_school.generate import generate_trust
from local.sample_school.oneroster import write_oneroster
from shared.domain.snapshot import Role
from shared.mis import MisExportError, read_mis_export, read_mis_exports, snapshot_to_json

GOOD = Path(__file__).parent / "good"
REGISTRATION_CODE = "^REG$"


def _append(export: Path, name: str, *rows: str) -> None:
    path = export / name
    text = path.read_bytes().decode("utf-8-sig").rstrip("\r\n")
    path.write_text(text + "\n" + "\n".join(rows) + "\n", encoding="utf-8")


def _two_school_trust(tmp_path: Path) -> Path:
    """The good OneRoster 1.1 school plus Vale School (sch-4002): one class, three people."""
    export = tmp_path / "trust"
    shutil.copytree(GOOD / "oneroster-1.1", export)
    _append(export, "orgs.csv", "sch-4002,,,Vale School,school,4002,trust-1")
    _append(export, "classes.csv", "cls-v1,,,9V/Sc1,,crs-ma7,9V/Sc1,scheduled,,sch-4002,term-1,,,")
    _append(
        export,
        "users.csv",
        "v-1,,,true,sch-4002,student,v1@vale.sch.uk,,Vi,Vale,,V1,,,,,09,",
        "v-2,,,true,sch-4002,teacher,v2@vale.sch.uk,,Vo,Vale,,V2,,,,,,",
        "v-3,,,true,sch-4002,student,v3@vale.sch.uk,,Va,Vale,,V3,,,,,,",
    )
    _append(
        export,
        "enrollments.csv",
        "enr-v1,,,cls-v1,sch-4002,v-1,student,,,",
        "enr-v2,,,cls-v1,sch-4002,v-2,teacher,true,,",
    )
    return export


def test_a_trust_export_gives_every_school_keyed_by_its_mis_id(tmp_path: Path):
    export = _two_school_trust(tmp_path)

    snapshots = read_mis_exports(export)

    assert list(snapshots) == ["sch-4001", "sch-4002"]
    assert snapshots["sch-4002"].school.name == "Vale School"
    assert set(snapshots["sch-4002"].people) == {"v-1", "v-2", "v-3"}
    assert set(snapshots["sch-4002"].groups) == {"cls-v1", "year:9"}
    assert not set(snapshots["sch-4001"].people) & set(snapshots["sch-4002"].people)


def test_each_school_read_at_once_equals_that_school_read_alone(tmp_path: Path):
    export = _two_school_trust(tmp_path)

    snapshots = read_mis_exports(export)

    for school_id, snapshot in snapshots.items():
        alone = read_mis_export(export, school_id=school_id)
        assert snapshot_to_json(snapshot) == snapshot_to_json(alone)
        assert snapshot.people == alone.people
        assert snapshot.warnings == alone.warnings


def test_each_school_gets_only_its_own_warnings(tmp_path: Path):
    export = _two_school_trust(tmp_path)
    orgs = export / "orgs.csv"
    lines = orgs.read_text().splitlines()
    orgs.write_text("\n".join([lines[0] + ",colour"] + [line + ",blue" for line in lines[1:]]))

    snapshots = read_mis_exports(export)

    # v-3 is a Vale student with no grade; the unknown column concerns the whole export.
    assert snapshots["sch-4001"].warnings == ["orgs.csv: ignored unknown columns colour"]
    assert snapshots["sch-4002"].warnings == [
        "orgs.csv: ignored unknown columns colour",
        "1 students have no grade and so are in no year group",
    ]


@pytest.mark.parametrize("name", ["oneroster-1.1", "oneroster-1.2", "sds-2.1", "groupsync-json"])
def test_a_single_school_export_gives_one_snapshot_like_read_mis_export(name: str):
    snapshots = read_mis_exports(GOOD / name, registration_pattern=REGISTRATION_CODE)

    alone = read_mis_export(GOOD / name, registration_pattern=REGISTRATION_CODE)
    assert list(snapshots) == ["sch-4001"]
    assert snapshot_to_json(snapshots["sch-4001"]) == snapshot_to_json(alone)
    assert snapshots["sch-4001"].warnings == alone.warnings


def test_a_problem_in_one_school_fails_the_trust_read_at_its_line_but_not_the_other_school(
    tmp_path: Path,
):
    export = _two_school_trust(tmp_path)
    classes = export / "classes.csv"
    classes.write_text(classes.read_text().replace("9V/Sc1,scheduled", "9V/Sc1,lesson"))

    with pytest.raises(MisExportError) as caught:
        read_mis_exports(export)
    other = read_mis_export(export, school_id="4001")

    problem = caught.value.problems[0]
    assert (problem.file, problem.line, problem.column) == ("classes.csv", 7, "classType")
    assert "unknown classType 'lesson'" in problem.message
    assert other.school.mis_id == "sch-4001"


def test_a_person_with_roles_at_two_schools_takes_each_schools_role(tmp_path: Path):
    export = tmp_path / "trust"
    shutil.copytree(GOOD / "oneroster-1.2", export)
    _append(export, "orgs.csv", "sch-4002,,,Vale School,school,4002,trust-1")
    # stf-4 is an administrator at Northfield and teaches at Vale.
    _append(export, "roles.csv", "role-stf-4-v,,,stf-4,secondary,teacher,,,sch-4002,")

    snapshots = read_mis_exports(export)

    assert snapshots["sch-4001"].people["stf-4"].role is Role.ADMINISTRATOR
    assert snapshots["sch-4002"].people["stf-4"].role is Role.TEACHER
    assert set(snapshots["sch-4002"].people) == {"stf-4"}


def test_sds_trust_export_splits_people_and_classes_by_school(tmp_path: Path):
    export = tmp_path / "trust"
    shutil.copytree(GOOD / "sds-2.1", export)
    _append(export, "orgs.csv", "sch-4002,Vale School,school,")
    _append(export, "users.csv", "v-1,v1@vale.sch.uk,Vale,Vi,,,,,")
    _append(export, "roles.csv", "v-1,sch-4002,student,ay-2025,09,true,,")
    _append(export, "classes.csv", "cls-v1,sch-4002,9V/Sc1,ay-2025,,")
    _append(export, "enrollments.csv", "cls-v1,v-1,student")

    snapshots = read_mis_exports(export, registration_pattern=REGISTRATION_CODE)

    assert set(snapshots["sch-4002"].people) == {"v-1"}
    assert snapshots["sch-4002"].groups["cls-v1"].students == {"v-1"}
    assert "v-1" not in snapshots["sch-4001"].people


def test_a_generated_trust_reads_at_once_as_school_by_school(tmp_path: Path):
    write_oneroster(generate_trust(3, 150, seed=2), tmp_path)

    snapshots = read_mis_exports(tmp_path)

    assert len(snapshots) == 3
    for school_id, snapshot in snapshots.items():
        alone = read_mis_export(tmp_path, school_id=school_id)
        assert snapshot_to_json(snapshot) == snapshot_to_json(alone)
