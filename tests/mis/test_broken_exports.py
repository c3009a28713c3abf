"""Every broken export in tests/mis/broken gets a located, readable error.

Each row of the table names a case folder, the options it is read with, and the problem the
admin must see: a fragment of the message, and the file, line and column it points at.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from shared.mis import MisExportError, Problem, read_mis_export
from shared.mis.errors import MAX_PROBLEMS

BROKEN = Path(__file__).parent / "broken"
GOOD = Path(__file__).parent / "good"


@dataclass(frozen=True)
class Case:
    name: str
    fragment: str
    file: str
    line: int | None
    column: str | None
    options: dict[str, str] = field(default_factory=dict)
    target: str = ""


CASES = [
    Case("missing-users-file", "required file 'users.csv' is missing", "users.csv", None, None),
    Case(
        "missing-required-column",
        "required column 'classType' is missing",
        "classes.csv",
        1,
        "classType",
    ),
    Case(
        "header-wrong-case", "header 'SourcedId' should be 'sourcedId'", "users.csv", 1, "SourcedId"
    ),
    Case(
        "duplicate-user-sourcedid",
        "duplicate sourcedId 's-1' (first on line 2)",
        "users.csv",
        5,
        "sourcedId",
    ),
    Case(
        "enrolment-unknown-class",
        "class 'c-9' is not in classes.csv",
        "enrollments.csv",
        3,
        "classSourcedId",
    ),
    Case(
        "enrolment-unknown-user",
        "user 's-9' is not in users.csv",
        "enrollments.csv",
        4,
        "userSourcedId",
    ),
    Case(
        "unknown-user-role",
        "unknown role 'pupil'; expected one of administrator, aide",
        "users.csv",
        3,
        "role",
    ),
    Case(
        "enrolment-role-not-allowed",
        "unknown enrolment role 'aide'; expected one of administrator, proctor, student, teacher",
        "enrollments.csv",
        2,
        "role",
    ),
    Case(
        "unknown-class-type",
        "unknown classType 'lesson'; expected homeroom or scheduled",
        "classes.csv",
        2,
        "classType",
    ),
    Case("not-utf8", "byte 0xe9 at byte offset 277 is not valid UTF-8", "users.csv", 3, None),
    Case("empty-package", "the export is empty", "empty-package", None, None),
    Case(
        "several-schools",
        "2 schools where one was expected: sch-1 (Hill School), sch-2 (Vale School)",
        "orgs.csv",
        None,
        "type",
    ),
    Case(
        "unparseable-date",
        "'2025-13-01' is not a date; expected YYYY-MM-DD",
        "academicSessions.csv",
        2,
        "startDate",
    ),
    Case(
        "bad-school-year",
        "'25/26' is not a year",
        "academicSessions.csv",
        2,
        "schoolYear",
    ),
    Case("bad-boolean", "'maybe' is not a boolean", "users.csv", 4, "enabledUser"),
    Case("bad-primary-flag", "'sometimes' is not a boolean", "enrollments.csv", 2, "primary"),
    Case(
        "unsupported-manifest-version",
        "oneroster.version is '1.0'; expected 1.1 or 1.2",
        "manifest.csv",
        None,
        "value",
    ),
    Case(
        "delta-manifest",
        "file.users is 'delta'; a snapshot needs a full export",
        "manifest.csv",
        None,
        "value",
    ),
    Case("blank-required-value", "title is blank; a value is required", "classes.csv", 3, "title"),
    Case("unquoted-comma", "the row has 19 fields but the header has 18", "users.csv", 2, None),
    Case(
        "unknown-term",
        "term 'term-9' is not in academicSessions.csv",
        "classes.csv",
        3,
        "termSourcedIds",
    ),
    Case(
        "class-school-not-in-orgs",
        "schoolSourcedId 'sch-9' is not in orgs.csv",
        "classes.csv",
        2,
        "schoolSourcedId",
    ),
    Case("no-school-org", "no org has type 'school'", "orgs.csv", None, "type"),
    Case(
        "unrecognised-files",
        "cannot tell the export's format from its files (pupils.txt)",
        "unrecognised-files",
        None,
        None,
    ),
    Case(
        "file-name-wrong-case",
        "the file is named 'Users.csv'; it should be 'users.csv'",
        "users.csv",
        None,
        None,
    ),
    Case(
        "duplicate-header-column",
        "column 'role' appears twice in the header",
        "users.csv",
        1,
        "role",
    ),
    Case("unknown-status", "unknown status 'archived'", "users.csv", 2, "status"),
    Case(
        "user-org-not-in-orgs",
        "org 'sch-7' is not in orgs.csv",
        "users.csv",
        3,
        "orgSourcedIds",
    ),
    Case("empty-file", "the file is empty; a header row is required", "enrollments.csv", 1, None),
    Case("bad-zip", "the zip cannot be opened", "export.zip", None, None, target="export.zip"),
    Case(
        "oneroster12-user-without-role",
        "user 's-2' has no role in roles.csv",
        "users.csv",
        3,
        "sourcedId",
    ),
    Case(
        "oneroster12-unknown-role-type",
        "unknown roleType 'main'; expected primary or secondary",
        "roles.csv",
        3,
        "roleType",
    ),
    Case(
        "sds-unknown-role",
        "unknown role 'pupil'; expected an SDS role",
        "roles.csv",
        3,
        "role",
    ),
    Case(
        "sds-missing-roles-file",
        "required file 'roles.csv' is missing",
        "roles.csv",
        None,
        None,
        options={"format": "sds-2.1"},
    ),
    Case(
        "sds-enrolment-unknown-class",
        "class 'c-2' is not in the school's classes",
        "enrollments.csv",
        3,
        "classSourcedId",
    ),
    Case(
        "json-unknown-role",
        "unknown role 'pupil'; expected one of student, teacher",
        "snapshot.json",
        None,
        "people[0].role",
    ),
    Case("json-syntax-error", "not valid JSON", "snapshot.json", 3, None),
    Case(
        "json-unknown-member",
        "person 's-404' is not in people",
        "snapshot.json",
        None,
        "groups[0].students[1]",
    ),
    Case("json-wrong-version", "version 2 is not supported", "snapshot.json", None, "version"),
    Case(
        "json-bad-academic-year",
        "academic_year_start is '2025/26'",
        "snapshot.json",
        None,
        "academic_year_start",
    ),
]


def _read_problems(case: Case) -> list[Problem]:
    target = BROKEN / case.name / case.target if case.target else BROKEN / case.name
    with pytest.raises(MisExportError) as caught:
        read_mis_export(target, **case.options)  # type: ignore[arg-type]
    return caught.value.problems


def test_the_corpus_table_covers_every_broken_package():
    folders = {path.name for path in BROKEN.iterdir() if path.is_dir()}

    listed = {case.name for case in CASES}

    assert folders == listed
    assert len(folders) >= 25


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_broken_export_gets_a_located_error(case: Case):
    problems = _read_problems(case)

    matching = [problem for problem in problems if case.fragment in problem.message]
    assert matching, f"no problem says {case.fragment!r}; got {[str(p) for p in problems]}"
    first = matching[0]
    assert (first.file, first.line, first.column) == (case.file, case.line, case.column)
    assert first.remedy


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_broken_export_reports_its_problem_first_and_alone(case: Case):
    """A problem in one row is not echoed by the rows that refer to it."""
    problems = _read_problems(case)

    assert case.fragment in problems[0].message
    assert len(problems) == 1, [str(problem) for problem in problems]


def test_error_text_names_file_line_column_and_remedy():
    problems = _read_problems(CASES[[c.name for c in CASES].index("unknown-user-role")])

    text = str(MisExportError(problems))

    assert text.startswith("users.csv line 3, column role: unknown role 'pupil'; expected one of")
    assert text.endswith("(fix the export or map the MIS role to a OneRoster role)")


def test_several_bad_rows_are_all_reported(tmp_path: Path):
    export = _copy(GOOD / "oneroster-1.1", tmp_path)
    users = export / "users.csv"
    users.write_bytes(users.read_bytes().replace(b",student,", b",pupil,"))

    with pytest.raises(MisExportError) as caught:
        read_mis_export(export)

    lines = [problem.line for problem in caught.value.problems if problem.column == "role"]
    assert lines == [2, 3, 4, 5, 6, 7]


def test_problem_list_stops_at_the_cap(tmp_path: Path):
    export = _copy(GOOD / "oneroster-1.1", tmp_path)
    bad_rows = "".join(
        f"x{n},,,true,sch-4001,pupil,x{n}@example.org,,X,Y,,,,,,,07,\r\n"
        for n in range(MAX_PROBLEMS + 10)
    )
    with (export / "users.csv").open("a", encoding="utf-8", newline="") as handle:
        handle.write(bad_rows)

    with pytest.raises(MisExportError) as caught:
        read_mis_export(export)

    assert len(caught.value.problems) == MAX_PROBLEMS
    assert caught.value.truncated
    assert str(caught.value).endswith(
        f"stopped after {MAX_PROBLEMS} problems; fix these and re-run"
    )


def test_truncated_zip_member_is_reported(tmp_path: Path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as handle:
        for path in (GOOD / "oneroster-1.1").iterdir():
            handle.write(path, path.name)
    data = bytearray(archive.read_bytes())
    start = data.index(b"users.csv") + len(b"users.csv")
    data[start + 40 : start + 80] = b"\0" * 40
    archive.write_bytes(bytes(data))

    with pytest.raises(MisExportError) as caught:
        read_mis_export(archive)

    assert "users.csv" in str(caught.value)


def test_unknown_school_id_lists_the_schools():
    with pytest.raises(MisExportError) as caught:
        read_mis_export(BROKEN / "several-schools", school_id="sch-404")

    assert "no school with id 'sch-404'; schools in the export: sch-1, sch-2" in str(caught.value)


def test_invalid_registration_pattern_is_named():
    with pytest.raises(MisExportError) as caught:
        read_mis_export(GOOD / "sds-2.1", registration_pattern="[7")

    assert "registration pattern '[7' is not a valid regular expression" in str(caught.value)


def test_unknown_format_name_lists_the_formats():
    with pytest.raises(MisExportError) as caught:
        read_mis_export(GOOD / "sds-2.1", format="csv")

    assert "unknown format 'csv'" in str(caught.value)
    assert "oneroster-1.1, oneroster-1.2, sds-2.1, groupsync-json" in str(caught.value)


def test_missing_path_is_reported(tmp_path: Path):
    with pytest.raises(MisExportError) as caught:
        read_mis_export(tmp_path / "nowhere")

    assert "no such file or folder" in str(caught.value)


def _copy(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / source.name
    target.mkdir()
    for path in source.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    return target
