"""A large, valid OneRoster 1.1 export written straight to disk, for timing the reader.

Shaped like a UK secondary school: grades 7-11, a registration group per 30 students and
each student in `groups_per_student` teaching groups of about 30, each with one or two teachers.
"""

from __future__ import annotations

import csv
from pathlib import Path

GRADES = ("07", "08", "09", "10", "11")
STUDENTS_PER_REGISTRATION_GROUP = 30
STUDENTS_PER_STAFF = 15
ORGS_HEADER = "sourcedId status dateLastModified name type identifier parentSourcedId"
SESSIONS_HEADER = (
    "sourcedId status dateLastModified title type startDate endDate parentSourcedId schoolYear"
)
USERS_HEADER = (
    "sourcedId status dateLastModified enabledUser orgSourcedIds role username userIds"
    " givenName familyName middleName identifier email sms phone agentSourcedIds grades password"
)
CLASSES_HEADER = (
    "sourcedId status dateLastModified title grades courseSourcedId classCode classType"
    " location schoolSourcedId termSourcedIds subjects subjectCodes periods"
)
ENROLLMENTS_HEADER = (
    "sourcedId status dateLastModified classSourcedId schoolSourcedId userSourcedId role"
    " primary beginDate endDate"
)


def write_export(
    folder: Path, students: int, *, schools: int = 1, groups_per_student: int = 10
) -> None:
    """Write `students` students (spread over `schools` schools) as a OneRoster 1.1 package."""
    folder.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[list[str]]] = {name: [] for name in ("orgs", "users", "classes")}
    rows["enrollments"] = []
    rows["orgs"].append(["trust", "", "", "Trust", "district", "", ""])
    per_school = students // schools
    for school_number in range(schools):
        school = f"sch{school_number}"
        rows["orgs"].append(
            [
                school,
                "",
                "",
                f"School {school_number}",
                "school",
                f"{4000 + school_number}",
                "trust",
            ]
        )
        _school(rows, school, per_school, groups_per_student)

    _write(folder / "manifest.csv", "propertyName value", [["oneroster.version", "1.1"]])
    _write(folder / "orgs.csv", ORGS_HEADER, rows["orgs"])
    _write(
        folder / "academicSessions.csv",
        SESSIONS_HEADER,
        [["ay", "", "", "2025/26", "schoolYear", "2025-09-01", "2026-07-20", "", "2026"]],
    )
    _write(folder / "users.csv", USERS_HEADER, rows["users"])
    _write(folder / "classes.csv", CLASSES_HEADER, rows["classes"])
    _write(folder / "enrollments.csv", ENROLLMENTS_HEADER, rows["enrollments"])


def _school(
    rows: dict[str, list[list[str]]], school: str, students: int, groups_per_student: int
) -> None:
    users, classes, enrollments = rows["users"], rows["classes"], rows["enrollments"]
    staff = max(1, students // STUDENTS_PER_STAFF)
    for number in range(staff):
        user = f"{school}-t{number}"
        users.append(
            [
                user,
                "",
                "",
                "true",
                school,
                "teacher",
                f"{user}@example.org",
                "",
                "T",
                str(number),
                "",
                user,
                f"{user}@example.org",
                "",
                "",
                "",
                "",
                "",
            ]
        )
    per_grade = students // len(GRADES)
    groups_per_grade = max(1, per_grade // STUDENTS_PER_REGISTRATION_GROUP)
    for grade_index, grade in enumerate(GRADES):
        for group in range(groups_per_grade):
            classes.append(
                [
                    f"{school}-reg{grade}{group}",
                    "",
                    "",
                    f"{grade}{group}",
                    grade,
                    "reg",
                    f"{grade}{group}",
                    "homeroom",
                    "",
                    school,
                    "ay",
                    "",
                    "",
                    "",
                ]
            )
            for subject in range(groups_per_student):
                class_id = f"{school}-c{grade}{group}s{subject}"
                classes.append(
                    [
                        class_id,
                        "",
                        "",
                        f"{grade}{group}/S{subject}",
                        grade,
                        "c",
                        class_id,
                        "scheduled",
                        "",
                        school,
                        "ay",
                        "",
                        "",
                        "",
                    ]
                )
                teacher = f"{school}-t{(grade_index * 31 + group * 7 + subject) % staff}"
                enrollments.append(
                    [
                        f"{class_id}-{teacher}",
                        "",
                        "",
                        class_id,
                        school,
                        teacher,
                        "teacher",
                        "true",
                        "",
                        "",
                    ]
                )
        for number in range(per_grade):
            user = f"{school}-s{grade}-{number}"
            group = min(number // STUDENTS_PER_REGISTRATION_GROUP, groups_per_grade - 1)
            users.append(
                [
                    user,
                    "",
                    "",
                    "true",
                    school,
                    "student",
                    f"{user}@example.org",
                    "",
                    "S",
                    str(number),
                    "",
                    user,
                    "",
                    "",
                    "",
                    "",
                    grade,
                    "",
                ]
            )
            enrollments.append(
                [
                    f"{user}-reg",
                    "",
                    "",
                    f"{school}-reg{grade}{group}",
                    school,
                    user,
                    "student",
                    "",
                    "",
                    "",
                ]
            )
            for subject in range(groups_per_student):
                class_id = f"{school}-c{grade}{group}s{subject}"
                enrollments.append(
                    [f"{user}-{subject}", "", "", class_id, school, user, "student", "", "", ""]
                )


def _write(path: Path, header: str, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header.split())
        writer.writerows(rows)
