"""Enrolment and role dates: a set enrolment that has ended or not yet begun on the run date
puts nobody in the set, and is counted; a role that has ended makes the person inactive.

The run date is `as_of`, today in UTC when not given. Both ends of a date range count.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from shared.mis import MisExportError, read_mis_export, snapshot_to_json

GOOD = Path(__file__).parent / "good"
RUN_DATE = date(2026, 1, 12)
LAST_WEEK = "2026-01-05"
NEXT_WEEK = "2026-01-19"


def _oneroster(tmp_path: Path, dates: dict[str, tuple[str, str]], version: str = "1.1") -> Path:
    """The good OneRoster export with (beginDate, endDate) set on the enrolments named."""
    export = tmp_path / f"oneroster-{version}"
    shutil.copytree(GOOD / f"oneroster-{version}", export)
    path = export / "enrollments.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    begin_at, end_at = header.index("beginDate"), header.index("endDate")
    for number, line in enumerate(lines):
        fields = line.split(",")
        if fields[0] in dates:
            fields[begin_at], fields[end_at] = dates[fields[0]]
            lines[number] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return export


def test_pupil_whose_set_enrolment_ended_last_week_is_not_a_member(tmp_path: Path):
    # enr-11 puts stu-1 in the maths set 7A/Ma1.
    export = _oneroster(tmp_path, {"enr-11": ("2025-09-01", LAST_WEEK)})

    snapshot = read_mis_export(export, as_of=RUN_DATE)

    assert "stu-1" not in snapshot.groups["cls-7ma1"].students
    assert snapshot.groups["cls-7ma1"].students == {"stu-2", "stu-3"}
    assert "stu-1" in snapshot.groups["cls-7a"].students
    assert "stu-1" in snapshot.groups["year:7"].students
    assert snapshot.people["stu-1"].active is True
    assert snapshot.enrolments_out_of_date == 1
    assert (
        "left out of groups: 1 enrolment that had ended or not yet begun on 2026-01-12"
        in snapshot.warnings
    )


def test_pupil_whose_set_enrolment_starts_next_week_is_not_yet_a_member(tmp_path: Path):
    export = _oneroster(tmp_path, {"enr-11": (NEXT_WEEK, "")})

    snapshot = read_mis_export(export, as_of=RUN_DATE)

    assert "stu-1" not in snapshot.groups["cls-7ma1"].students
    assert snapshot.enrolments_out_of_date == 1


@pytest.mark.parametrize("run_date", [date(1990, 1, 1), RUN_DATE, date(2100, 1, 1)])
def test_an_enrolment_with_no_dates_is_always_current(run_date: date):
    snapshot = read_mis_export(GOOD / "oneroster-1.1", as_of=run_date)

    assert snapshot.groups["cls-7ma1"].students == {"stu-1", "stu-2", "stu-3"}
    assert snapshot.enrolments_out_of_date == 0
    assert not any("left out of groups" in warning for warning in snapshot.warnings)


@pytest.mark.parametrize(
    ("begin", "end", "run_date", "member"),
    [
        (NEXT_WEEK, "", date(2026, 1, 18), False),
        (NEXT_WEEK, "", date(2026, 1, 19), True),
        ("", LAST_WEEK, date(2026, 1, 5), True),
        ("", LAST_WEEK, date(2026, 1, 6), False),
        ("2025-09-01", "2026-07-20", RUN_DATE, True),
    ],
)
def test_the_as_of_date_decides_and_both_ends_of_the_range_count(
    tmp_path: Path, begin: str, end: str, run_date: date, member: bool
):
    export = _oneroster(tmp_path, {"enr-11": (begin, end)})

    snapshot = read_mis_export(export, as_of=run_date)

    assert ("stu-1" in snapshot.groups["cls-7ma1"].students) is member
    assert snapshot.enrolments_out_of_date == (0 if member else 1)


def test_without_as_of_the_run_date_is_today_in_utc(tmp_path: Path):
    today = datetime.now(UTC).date()
    export = _oneroster(
        tmp_path,
        {
            "enr-11": ("", (today - timedelta(days=2)).isoformat()),
            "enr-12": ("", (today + timedelta(days=2)).isoformat()),
        },
    )

    snapshot = read_mis_export(export)

    assert snapshot.groups["cls-7ma1"].students == {"stu-2", "stu-3"}
    assert str(today) in " ".join(snapshot.warnings)


def test_teacher_whose_set_enrolment_ended_is_no_longer_its_staff(tmp_path: Path):
    # enr-10 makes stf-2 the primary teacher of 7A/Ma1.
    export = _oneroster(tmp_path, {"enr-10": ("", LAST_WEEK)})

    snapshot = read_mis_export(export, as_of=RUN_DATE)

    assert [link.person_id for link in snapshot.groups["cls-7ma1"].staff] == ["stf-1"]


def test_dated_enrolments_apply_in_oneroster_1_2_too(tmp_path: Path):
    export = _oneroster(tmp_path, {"enr-11": ("", LAST_WEEK)}, version="1.2")

    snapshot = read_mis_export(export, as_of=RUN_DATE)

    assert snapshot.groups["cls-7ma1"].students == {"stu-2", "stu-3"}


def test_an_out_of_date_enrolment_is_still_checked(tmp_path: Path):
    export = _oneroster(tmp_path, {"enr-11": ("", LAST_WEEK)})
    path = export / "enrollments.csv"
    path.write_text(path.read_text().replace("enr-11,,,cls-7ma1", "enr-11,,,cls-9zz"))

    with pytest.raises(MisExportError) as caught:
        read_mis_export(export, as_of=RUN_DATE)

    assert "enrollments.csv line 12, column classSourcedId: class 'cls-9zz'" in str(caught.value)


def test_a_person_whose_only_enrolment_ended_is_not_in_another_schools_snapshot(
    tmp_path: Path,
):
    export = _oneroster(tmp_path, {})
    (export / "orgs.csv").write_text(
        (export / "orgs.csv").read_text() + "sch-4002,,,Vale School,school,4002,trust-1\n"
    )
    users = export / "users.csv"
    users.write_text(
        users.read_text(encoding="utf-8-sig")
        + "v-9,,,true,sch-4002,teacher,v9@vale.sch.uk,,Vi,Vale,,V9,,,,,,\n",
        encoding="utf-8",
    )
    enrollments = export / "enrollments.csv"
    enrollments.write_text(
        enrollments.read_text() + f"enr-v9,,,cls-7ma1,sch-4001,v-9,teacher,,,{LAST_WEEK}\n"
    )

    snapshot = read_mis_export(export, school_id="4001", as_of=RUN_DATE)

    assert "v-9" not in snapshot.people
    assert snapshot.enrolments_out_of_date == 1


def test_sds_pupil_whose_role_ended_is_inactive(tmp_path: Path):
    export = tmp_path / "sds-2.1"
    shutil.copytree(GOOD / "sds-2.1", export)
    roles = export / "roles.csv"
    roles.write_text(
        roles.read_text().replace(
            "stu-1,sch-4001,student,ay-2025,07,true,,",
            f"stu-1,sch-4001,student,ay-2025,07,true,,{LAST_WEEK}",
        )
    )

    snapshot = read_mis_export(export, as_of=RUN_DATE)
    before = read_mis_export(export, as_of=date(2026, 1, 5))

    assert snapshot.people["stu-1"].active is False
    assert snapshot.people["stu-1"].grade == "07"
    assert "stu-1" in snapshot.groups["cls-7a"].students
    assert (
        "inactive: 1 person whose roles at the school had ended or not yet begun on 2026-01-12"
        in snapshot.warnings
    )
    assert before.people["stu-1"].active is True


def test_sds_role_not_yet_begun_makes_the_person_inactive_until_it_does(tmp_path: Path):
    export = tmp_path / "sds-2.1"
    shutil.copytree(GOOD / "sds-2.1", export)
    roles = export / "roles.csv"
    roles.write_text(
        roles.read_text().replace(
            "stf-1,sch-4001,teacher,ay-2025,,true,,",
            f"stf-1,sch-4001,teacher,ay-2025,,true,{NEXT_WEEK},",
        )
    )

    waiting = read_mis_export(export, as_of=RUN_DATE)
    started = read_mis_export(export, as_of=date(2026, 1, 19))

    assert waiting.people["stf-1"].active is False
    assert started.people["stf-1"].active is True


def test_oneroster_1_2_role_that_ended_makes_the_person_inactive(tmp_path: Path):
    export = tmp_path / "oneroster-1.2"
    shutil.copytree(GOOD / "oneroster-1.2", export)
    roles = export / "roles.csv"
    roles.write_text(
        roles.read_text().replace(
            "role-stu-2,,,stu-2,primary,student,,,",
            f"role-stu-2,,,stu-2,primary,student,,{LAST_WEEK},",
        )
    )

    snapshot = read_mis_export(export, as_of=RUN_DATE)

    assert snapshot.people["stu-2"].active is False
    assert snapshot.people["stu-3"].active is True


def test_a_bad_enrolment_date_is_located(tmp_path: Path):
    export = _oneroster(tmp_path, {"enr-11": ("", "2026-02-30")})

    with pytest.raises(MisExportError) as caught:
        read_mis_export(export, as_of=RUN_DATE)

    problem = caught.value.problems[0]
    assert (problem.file, problem.line, problem.column) == ("enrollments.csv", 12, "endDate")


def _json_snapshot(tmp_path: Path, students: list, staff: list) -> Path:
    document = json.loads((GOOD / "groupsync-json" / "snapshot.json").read_text())
    group = next(group for group in document["groups"] if group["id"] == "cls-7ma1")
    group["students"], group["staff"] = students, staff
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(document))
    return path


def test_json_enrolments_may_carry_dates(tmp_path: Path):
    path = _json_snapshot(
        tmp_path,
        [
            "stu-1",
            {"id": "stu-2", "end_date": LAST_WEEK},
            {"id": "stu-3", "begin_date": "2025-09-01"},
        ],
        [
            {"id": "stf-1", "role": "teacher", "begin_date": NEXT_WEEK},
            {"id": "stf-2", "role": "teacher", "primary": True},
        ],
    )

    snapshot = read_mis_export(path, as_of=RUN_DATE)

    assert snapshot.groups["cls-7ma1"].students == {"stu-1", "stu-3"}
    assert [link.person_id for link in snapshot.groups["cls-7ma1"].staff] == ["stf-2"]
    assert snapshot.enrolments_out_of_date == 2


def test_a_bad_json_enrolment_date_is_located(tmp_path: Path):
    path = _json_snapshot(tmp_path, [{"id": "stu-1", "end_date": "last week"}], [])

    with pytest.raises(MisExportError) as caught:
        read_mis_export(path, as_of=RUN_DATE)

    problem = caught.value.problems[0]
    assert problem.column.endswith(".students[0].end_date")
    assert "'last week' is not a date" in problem.message


def test_a_snapshot_written_as_json_holds_only_current_enrolments(tmp_path: Path):
    export = _oneroster(tmp_path, {"enr-11": ("", LAST_WEEK)})
    original = read_mis_export(export, as_of=RUN_DATE)
    path = tmp_path / "written.json"
    path.write_text(json.dumps(snapshot_to_json(original)))

    copy = read_mis_export(path, as_of=date(2020, 1, 1))

    assert copy.groups["cls-7ma1"].students == {"stu-2", "stu-3"}
    assert snapshot_to_json(copy) == snapshot_to_json(original)
