"""The MIS readers on good exports: the same school in four formats gives one snapshot.

The fixtures under tests/mis/good are one small school written as OneRoster 1.1, OneRoster
1.2, SDS v2.1 and groupsync JSON, each with some of the mess real exports carry (a BOM, CRLF,
quoted commas and newlines, US dates, upper-case enums, metadata columns, trailing blanks).
"""

from __future__ import annotations

import json
import shutil
import zipfile
from datetime import date
from pathlib import Path

import pytest

from shared.domain.snapshot import GroupKind, MisSnapshot, Role, StaffLink
from shared.mis import list_schools, read_mis_export, snapshot_to_json
from shared.mis.assembly import Session, academic_year_start
from shared.mis.errors import Problems
from shared.mis.values import parse_date, year_group_key

GOOD = Path(__file__).parent / "good"
REGISTRATION_CODE = "^REG$"
FORMATS = ["oneroster-1.1", "oneroster-1.2", "sds-2.1", "groupsync-json"]


def _read(name: str, **options) -> MisSnapshot:
    return read_mis_export(GOOD / name, registration_pattern=REGISTRATION_CODE, **options)


def _comparable(snapshot: MisSnapshot) -> dict:
    """The snapshot as plain data, minus what SDS v2.1 cannot say (noted in the test)."""
    document = snapshot_to_json(snapshot)
    if snapshot.source_format == "sds-2.1":
        return document
    document["school"].pop("dfe_number", None)
    for person in document["people"]:
        person.pop("active", None)
    for group in document["groups"]:
        for link in group["staff"]:
            link["primary"] = False
    return document


@pytest.mark.parametrize("name", FORMATS)
def test_each_format_is_detected(name: str):
    snapshot = _read(name)

    assert snapshot.source_format == name


@pytest.mark.parametrize("name", FORMATS[1:])
def test_all_formats_give_the_same_snapshot(name: str):
    """SDS v2.1 has no DfE number, no inactive flag and no primary teacher, so those three are
    compared only between the formats that carry them."""
    reference = _read("oneroster-1.1")

    snapshot = _read(name)

    if name == "sds-2.1":
        assert _comparable(snapshot) == _comparable(reference)
    else:
        assert snapshot_to_json(snapshot) == snapshot_to_json(reference)
        assert snapshot.people == reference.people


def test_snapshot_holds_the_school_year_and_groups():
    snapshot = _read("oneroster-1.1")

    assert (snapshot.school.mis_id, snapshot.school.name) == ("sch-4001", "Northfield Academy")
    assert snapshot.school.dfe_number == "4001"
    assert snapshot.academic_year_start == 2025
    kinds = {group.mis_id: group.kind for group in snapshot.groups.values()}
    assert kinds == {
        "cls-7a": GroupKind.REGISTRATION,
        "cls-7b": GroupKind.REGISTRATION,
        "cls-8b": GroupKind.REGISTRATION,
        "cls-7ma1": GroupKind.TEACHING,
        "cls-8en1": GroupKind.TEACHING,
        "year:7": GroupKind.YEAR,
        "year:8": GroupKind.YEAR,
    }


def test_year_groups_come_from_student_grades_without_leading_zeros():
    snapshot = _read("oneroster-1.1")

    year_7 = snapshot.groups["year:7"]

    assert year_7.name == "Year 7"
    assert year_7.students == {"stu-1", "stu-2", "stu-3", "stu-6"}
    assert year_7.staff == []


@pytest.mark.parametrize(
    ("grade", "expected"),
    [
        ("07", ("year:7", "Year 7")),
        ("12", ("year:12", "Year 12")),
        ("S3", ("year:S3", "S3")),
        ("Reception", ("year:Reception", "Reception")),
    ],
)
def test_year_group_name_is_year_n_for_numbers_and_the_grade_otherwise(grade, expected):
    assert year_group_key(grade) == expected


def test_academic_year_is_the_year_the_session_starts_not_the_school_year_it_names():
    snapshot = _read("oneroster-1.2")

    assert snapshot.academic_year_start == 2025


def test_academic_year_without_a_start_date_counts_back_from_the_school_year():
    sessions = {
        "ay": Session("ay", "schoolYear", None, 2026, ""),
        "t1": Session("t1", "term", date(2026, 1, 5), 2026, "ay"),
    }

    year = academic_year_start(sessions, ["t1"], Problems())

    assert year == 2025


def test_most_used_academic_year_wins_with_a_warning():
    sessions = {
        "old": Session("old", "schoolYear", date(2024, 9, 1), 2025, ""),
        "new": Session("new", "schoolYear", date(2025, 9, 1), 2026, ""),
    }
    problems = Problems()

    year = academic_year_start(sessions, ["new", "new", "old"], problems)

    assert year == 2025
    assert problems.warnings == [
        "classes belong to more than one school year; using the one starting in 2025 "
        "(also found 2024)"
    ]


def test_inactive_people_are_kept_with_their_enrolments():
    snapshot = _read("oneroster-1.1")

    finn = snapshot.people["stu-6"]

    assert finn.active is False
    assert "stu-6" in snapshot.groups["cls-7a"].students
    assert snapshot.inactive_people == 1


def test_tobedeleted_status_marks_a_person_inactive(tmp_path: Path):
    export = _copy(GOOD / "oneroster-1.1", tmp_path)
    users = export / "users.csv"
    users.write_bytes(users.read_bytes().replace(b"stu-1,,,true", b"stu-1,tobedeleted,,true"))

    snapshot = read_mis_export(export)

    assert snapshot.people["stu-1"].active is False
    assert snapshot.people["stu-2"].active is True


def test_staff_keep_the_mis_order_and_the_primary_flag():
    snapshot = _read("oneroster-1.1")

    staff = snapshot.groups["cls-7ma1"].staff

    assert staff == [
        StaffLink("stf-1", Role.TEACHER, primary=False),
        StaffLink("stf-2", Role.TEACHER, primary=True),
    ]


def test_people_keep_their_identity_fields_as_given():
    snapshot = _read("oneroster-1.1")

    amara = snapshot.people["stu-1"]

    assert amara.username == "AOkafor@northfield.sch.uk"
    assert amara.email == "aokafor@northfield.sch.uk"
    assert amara.identifier == "A100001"
    assert amara.grade == "07"
    assert amara.role is Role.STUDENT


def test_quoted_commas_and_accents_survive():
    snapshot = _read("oneroster-1.2")

    assert snapshot.people["stu-5"].family_name == "O'Brien, Jr"
    assert snapshot.people["stu-3"].given_name == "Chloé"


def test_quoted_newline_does_not_shift_later_line_numbers(tmp_path: Path):
    export = _copy(GOOD / "oneroster-1.1", tmp_path)
    courses = export / "courses.csv"
    courses.write_text(courses.read_text() + "crs-reg,,,ay-2025,Dup,X,,sch-4001,,\n")

    with pytest.raises(Exception) as caught:
        read_mis_export(export)

    assert "courses.csv line 6, column sourcedId: duplicate sourcedId 'crs-reg'" in str(
        caught.value
    )


def test_us_and_iso_dates_are_both_read():
    assert parse_date("9/1/2025") == parse_date("2025-09-01") == date(2025, 9, 1)
    assert parse_date("2025-09-01T00:00:00Z") == date(2025, 9, 1)


def test_extra_metadata_columns_are_ignored_without_a_warning():
    snapshot = _read("oneroster-1.2")

    assert snapshot.warnings == []


def test_unknown_columns_are_ignored_with_a_warning(tmp_path: Path):
    export = _copy(GOOD / "oneroster-1.1", tmp_path)
    orgs = export / "orgs.csv"
    lines = orgs.read_text().splitlines()
    orgs.write_text("\n".join([lines[0] + ",colour"] + [line + ",blue" for line in lines[1:]]))

    snapshot = read_mis_export(export)

    assert snapshot.warnings == ["orgs.csv: ignored unknown columns colour"]


def test_a_zipped_folder_reads_like_the_folder(tmp_path: Path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as handle:
        for path in sorted((GOOD / "oneroster-1.1").iterdir()):
            handle.write(path, f"northfield-export/{path.name}")
        handle.writestr("__MACOSX/northfield-export/._users.csv", b"\0\1")

    snapshot = read_mis_export(archive)

    assert snapshot_to_json(snapshot) == snapshot_to_json(_read("oneroster-1.1"))


def test_json_snapshot_round_trips(tmp_path: Path):
    original = _read("oneroster-1.1")
    path = tmp_path / "northfield.json"
    path.write_text(json.dumps(snapshot_to_json(original)))

    copy = read_mis_export(path)

    assert copy.people == original.people
    assert snapshot_to_json(copy) == snapshot_to_json(original)


def test_json_year_groups_keep_the_mis_own_name(tmp_path: Path):
    document = json.loads((GOOD / "groupsync-json" / "snapshot.json").read_text())
    document["groups"].append(
        {"id": "yg-7", "kind": "year", "name": "Year Seven", "students": ["stu-1"]}
    )
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(document))

    snapshot = read_mis_export(path)

    years = [group for group in snapshot.groups.values() if group.kind is GroupKind.YEAR]
    assert [(group.mis_id, group.name) for group in years] == [("yg-7", "Year Seven")]


def test_sds_without_a_registration_pattern_makes_every_class_a_teaching_group():
    snapshot = read_mis_export(GOOD / "sds-2.1")

    kinds = {g.kind for g in snapshot.groups.values() if not g.mis_id.startswith("year:")}
    assert kinds == {GroupKind.TEACHING}
    assert any("no registration pattern is set" in warning for warning in snapshot.warnings)


def test_registration_pattern_matches_the_class_title_too():
    snapshot = read_mis_export(GOOD / "sds-2.1", registration_pattern=r"^\d+[A-Z]$")

    registration = {g.mis_id for g in snapshot.groups.values() if g.kind is GroupKind.REGISTRATION}
    assert registration == {"cls-7a", "cls-7b", "cls-8b"}


def test_registration_pattern_does_not_override_oneroster_class_types():
    snapshot = read_mis_export(GOOD / "oneroster-1.1", registration_pattern=".*")

    assert snapshot.groups["cls-7ma1"].kind is GroupKind.TEACHING


def test_trust_export_reads_the_chosen_school_only(tmp_path: Path):
    export = _two_school_trust(tmp_path)

    snapshot = read_mis_export(export, school_id="4002")

    assert snapshot.school.mis_id == "sch-4002"
    assert set(snapshot.groups) == {"cls-v1", "year:9"}
    assert set(snapshot.people) == {"v-1", "v-2"}


def test_list_schools_names_every_school_in_a_trust(tmp_path: Path):
    export = _two_school_trust(tmp_path)

    schools = list_schools(export)

    assert [(s.mis_id, s.dfe_number) for s in schools] == [
        ("sch-4001", "4001"),
        ("sch-4002", "4002"),
    ]


def test_missing_manifest_reads_as_oneroster_1_1_with_a_warning(tmp_path: Path):
    export = _copy(GOOD / "oneroster-1.1", tmp_path)
    (export / "manifest.csv").unlink()

    snapshot = read_mis_export(export)

    assert snapshot.source_format == "oneroster-1.1"
    assert "manifest.csv is missing; reading the export as OneRoster 1.1" in snapshot.warnings


def test_duplicate_sds_enrolment_rows_are_merged(tmp_path: Path):
    export = _copy(GOOD / "sds-2.1", tmp_path)
    enrollments = export / "enrollments.csv"
    enrollments.write_text(enrollments.read_text() + "cls-7ma1,stf-1,teacher\n")

    snapshot = read_mis_export(export)

    assert [link.person_id for link in snapshot.groups["cls-7ma1"].staff] == ["stf-1", "stf-2"]


def _two_school_trust(tmp_path: Path) -> Path:
    export = _copy(GOOD / "oneroster-1.1", tmp_path)

    def append(name: str, *rows: str) -> None:
        path = export / name
        text = path.read_bytes().decode("utf-8-sig").rstrip("\r\n")
        path.write_text(text + "\n" + "\n".join(rows) + "\n", encoding="utf-8")

    append("orgs.csv", "sch-4002,,,Vale School,school,4002,trust-1")
    append("classes.csv", "cls-v1,,,9V/Sc1,,crs-ma7,9V/Sc1,scheduled,,sch-4002,term-1,,,")
    append(
        "users.csv",
        "v-1,,,true,sch-4002,student,v1@vale.sch.uk,,Vi,Vale,,V1,,,,,09,",
        "v-2,,,true,sch-4002,teacher,v2@vale.sch.uk,,Vo,Vale,,V2,,,,,,",
    )
    append(
        "enrollments.csv",
        "enr-v1,,,cls-v1,sch-4002,v-1,student,,,",
        "enr-v2,,,cls-v1,sch-4002,v-2,teacher,true,,",
    )
    return export


def _copy(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / source.name
    shutil.copytree(source, target)
    return target


def test_the_documented_json_example_is_a_valid_snapshot(tmp_path: Path):
    docs = Path(__file__).resolve().parents[2] / "docs" / "snapshot-format.md"
    text = docs.read_text(encoding="utf-8")
    example = text.split("```json\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "example.json"
    path.write_text(example, encoding="utf-8")

    snapshot = read_mis_export(path, as_of=date(2026, 1, 12))
    in_autumn = read_mis_export(path, as_of=date(2025, 12, 19))

    assert snapshot.groups["year:7"].students == {"stu-1", "stu-6"}
    assert snapshot.groups["cls-7ma1"].staff[1].primary is True
    assert snapshot.groups["cls-7ma1"].students == {"stu-1"}
    assert in_autumn.groups["cls-7ma1"].students == {"stu-1", "stu-6"}
