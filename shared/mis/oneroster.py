"""OneRoster 1.1 and 1.2 CSV exports (bulk) into MIS snapshots, one per school read.

1.2 differs only in users: the role and the orgs move from users.csv to roles.csv. Year
groups come from the students' grades (OneRoster has no year-group object); `classType` tells
registration groups (homeroom) from teaching groups (scheduled).
"""

from __future__ import annotations

from datetime import date

from shared.domain.snapshot import MisGroup, MisSnapshot, School
from shared.mis.assembly import (
    ClassIndex,
    Org,
    SchoolChoice,
    SchoolParts,
    Session,
    academic_year_start,
    build_snapshot,
    people_at_school,
    schools_in,
)
from shared.mis.csvrecords import Courses, course_of, read_orgs
from shared.mis.csvtable import CsvTable, open_table
from shared.mis.errors import Problems
from shared.mis.oneroster_people import read_enrollments, read_roles, read_users
from shared.mis.oneroster_schema import (
    CLASS_TYPES,
    CLASSES,
    COURSES,
    ENROLLMENTS,
    ONEROSTER_12,
    ORGS,
    ROLES_12,
    SESSION_TYPES,
    SESSIONS,
    STANDARD_NAMES,
    USERS_11,
    USERS_12,
    check_manifest,
    is_gone,
    read_manifest,
)
from shared.mis.package import ExportPackage
from shared.mis.values import parse_year, split_list


def list_schools(package: ExportPackage, problems: Problems, fmt: str) -> list[School]:
    orgs = read_orgs(package, problems, ORGS, standard=STANDARD_NAMES[fmt], statuses=True)
    problems.raise_if_any()
    return schools_in(orgs)


def read_oneroster(
    package: ExportPackage,
    problems: Problems,
    fmt: str,
    choice: SchoolChoice,
    as_of: date,
) -> dict[str, MisSnapshot]:
    """Read a OneRoster 1.1 or 1.2 CSV package once, for each school `choice` picks.

    `fmt` is ONEROSTER_11 or ONEROSTER_12. Rows of schools not picked are checked only as far
    as every school needs them (users, for instance), so one school's mistakes in its classes
    and enrolments do not stop another school's read.
    """
    standard = STANDARD_NAMES[fmt]
    check_manifest(read_manifest(package, problems), problems)

    # Open every file first so that all missing files and bad headers are reported together.
    tables = {
        "sessions": open_table(
            package, "academicSessions.csv", SESSIONS, problems, standard=standard
        ),
        "courses": open_table(
            package, "courses.csv", COURSES, problems, standard=standard, required=False
        ),
        "classes": open_table(package, "classes.csv", CLASSES, problems, standard=standard),
        "users": open_table(
            package,
            "users.csv",
            USERS_12 if fmt == ONEROSTER_12 else USERS_11,
            problems,
            standard=standard,
        ),
        "enrollments": open_table(
            package, "enrollments.csv", ENROLLMENTS, problems, standard=standard
        ),
    }
    roles = (
        open_table(package, "roles.csv", ROLES_12, problems, standard=standard)
        if fmt == ONEROSTER_12
        else None
    )
    orgs = read_orgs(package, problems, ORGS, standard=standard, statuses=True)
    problems.raise_if_any()

    schools = choice.pick(orgs, problems, "orgs.csv")
    sessions = _read_sessions(tables["sessions"])
    courses = _read_courses(tables["courses"]) if tables["courses"] else None
    classes, other_classes = _read_classes(
        tables["classes"], problems, schools, orgs, sessions, courses
    )
    rejected: set[str] = set()
    user_roles = read_roles(roles, problems, orgs, rejected, as_of) if roles is not None else None
    everyone = read_users(tables["users"], problems, schools, orgs, rejected, user_roles=user_roles)
    read_enrollments(
        tables["enrollments"], problems, classes, other_classes, everyone, rejected, as_of
    )
    problems.raise_if_any()

    snapshots: dict[str, MisSnapshot] = {}
    for school_id, parts in schools.items():
        school_problems = problems.for_school()
        year = academic_year_start(sessions, parts.sessions, school_problems)
        if year is None:
            problems.fail(
                "academicSessions.csv",
                None,
                None,
                f"no session gives the academic year of school '{school_id}'",
                "export the school year as a session with type schoolYear and its start date",
            )
        people, roles_not_current = people_at_school(everyone, parts, user_roles)
        snapshots[school_id] = build_snapshot(
            parts,
            year,
            people,
            fmt,
            school_problems,
            as_of,
            roles_not_current=roles_not_current,
        )
    return snapshots


def _read_sessions(table: CsvTable | None) -> dict[str, Session]:
    sessions: dict[str, Session] = {}
    if table is None:
        return sessions
    ix = table.index
    parent_at = ix.get("parentSourcedId")
    for line, row, session_id in table.records(("sourcedId", "type", "startDate", "schoolYear")):
        # A session with a bad value is still kept, so classes naming it raise nothing more.
        session_type = row[ix["type"]].strip()
        if session_type.lower() not in SESSION_TYPES:
            table.bad_value(
                line,
                "type",
                f"unknown session type '{session_type}'; expected one of schoolYear, term, "
                "semester, gradingPeriod",
                "fix the session type in the export",
            )
        start = table.date(row, line, "startDate")
        table.date(row, line, "endDate")
        school_year = None
        try:
            school_year = parse_year(row[ix["schoolYear"]])
        except ValueError as error:
            table.bad_value(line, "schoolYear", str(error), "fix the school year in the export")
        parent = row[parent_at].strip() if parent_at is not None else ""
        sessions[session_id] = Session(session_id, session_type, start, school_year, parent)
    return sessions


def _read_courses(table: CsvTable) -> Courses:
    """Each course's code and first subject."""
    courses: Courses = {}
    ix = table.index
    code_at, subjects_at = ix.get("courseCode"), ix.get("subjects")
    for _, row, course_id in table.records(("sourcedId",)):
        code = row[code_at].strip() if code_at is not None else ""
        subjects = split_list(row[subjects_at]) if subjects_at is not None else []
        courses[course_id] = (code, subjects[0] if subjects else "")
    return courses


def _read_classes(
    table: CsvTable | None,
    problems: Problems,
    schools: dict[str, SchoolParts],
    orgs: dict[str, Org],
    sessions: dict[str, Session],
    courses: Courses | None,
) -> tuple[ClassIndex, set[str]]:
    """The chosen schools' classes as groups (each also put in its school's parts), and the
    ids of every other class."""
    classes: ClassIndex = {}
    others: set[str] = set()
    if table is None:
        return classes, others
    ix = table.index
    code_at, subjects_at, status_at = ix.get("classCode"), ix.get("subjects"), ix.get("status")
    required = ("sourcedId", "title", "classType", "schoolSourcedId", "termSourcedIds")
    seen: dict[str, int] = {}
    for line, row in table.rows():
        class_id = row[ix["sourcedId"]]
        if table.blank(row, line, required):
            # Its enrolments would only repeat the problem.
            others.add(class_id)
            continue
        if table.duplicate(seen, class_id, line, "sourcedId"):
            continue
        school_ref = row[ix["schoolSourcedId"]]
        parts = schools.get(school_ref)
        if parts is None:
            if school_ref not in orgs:
                problems.add(
                    table.name,
                    line,
                    "schoolSourcedId",
                    f"schoolSourcedId '{school_ref}' is not in orgs.csv",
                    "export the school in orgs.csv or fix the class's school",
                )
            others.add(class_id)
            continue
        if is_gone(table, row, status_at, line):
            others.add(class_id)
            continue
        class_type = row[ix["classType"]].strip()
        kind = CLASS_TYPES.get(class_type.lower())
        if kind is None:
            problems.add(
                table.name,
                line,
                "classType",
                f"unknown classType '{class_type}'; expected homeroom or scheduled",
                "mark registration groups homeroom and teaching groups scheduled",
            )
            others.add(class_id)
            continue
        for term in split_list(row[ix["termSourcedIds"]]):
            if term not in sessions:
                problems.add(
                    table.name,
                    line,
                    "termSourcedIds",
                    f"term '{term}' is not in academicSessions.csv",
                    "export the class's terms in academicSessions.csv",
                )
            parts.sessions.add(term)
        course_code, subject = course_of(table, line, row[ix["courseSourcedId"]].strip(), courses)
        if not course_code and code_at is not None:
            course_code = row[code_at].strip()
        if subjects_at is not None and row[subjects_at].strip():
            subject = split_list(row[subjects_at])[0]
        group = MisGroup(
            class_id, kind, row[ix["title"]].strip(), course_code=course_code, subject=subject
        )
        parts.groups[class_id] = group
        classes[class_id] = (group, parts)
    others.update(table.skipped)
    return classes, others
