"""Microsoft School Data Sync v2.1 CSV exports into MIS snapshots, one per school read.

SDS keeps roles and grades in roles.csv and has no class type, so a per-school pattern on the
course code or class title marks registration groups; everything else is a teaching group.
"""

from __future__ import annotations

from datetime import date

from shared.domain.snapshot import MisGroup, MisSnapshot, Person, Role, School
from shared.mis.assembly import (
    ClassIndex,
    Org,
    RegistrationRule,
    RoleChoice,
    SchoolChoice,
    SchoolParts,
    Session,
    academic_year_start,
    build_snapshot,
    choose_role,
    enrol,
    fallback_year_start,
    is_current,
    people_at_school,
    schools_in,
)
from shared.mis.csvrecords import (
    Courses,
    course_of,
    read_orgs,
    roles_of,
    unknown_org,
    unknown_user,
)
from shared.mis.csvtable import Columns, CsvTable, open_table
from shared.mis.errors import Problems
from shared.mis.package import ExportPackage
from shared.mis.values import parse_bool, parse_year, split_list

SDS_21 = "sds-2.1"
STANDARD = "SDS v2.1"

ORGS = Columns.of("sourcedId name type", "parentSourcedId identifier")
USERS = Columns.of(
    "sourcedId username",
    "familyName givenName password activeDirectoryMatchId email phone sms userNumber",
)
ROLES = Columns.of(
    "userSourcedId orgSourcedId role",
    "sessionSourcedId grade isPrimary roleStartDate roleEndDate",
)
CLASSES = Columns.of("sourcedId orgSourcedId title", "sessionSourcedIds courseSourcedId code")
ENROLLMENTS = Columns.of("classSourcedId userSourcedId role")
SESSIONS = Columns.of("sourcedId title type schoolYear startDate endDate")
COURSES = Columns.of("sourcedId orgSourcedId title", "code schoolYearSourcedId subject grade")

_TEACHERS = "teacher faculty instructor lecturer professor adjunct substitute"
_AIDES = "aide assistant teacherAssistant paraprofessional"
_OTHER_STAFF = (
    "principal chair researcher affiliate occupationalTherapist physicalTherapist"
    " speechTherapist visionTherapist specialServices advisor nurse officeStaff itAdmin"
    " administrator staff coach alumni other districtAdministrator counselor"
)
# SDS's role list is long; each word maps to the OneRoster role the sync understands.
SDS_ROLES: dict[str, Role] = {
    "student": Role.STUDENT,
    "proctor": Role.PROCTOR,
    "guardian": Role.GUARDIAN,
    "parent": Role.GUARDIAN,
    "relative": Role.GUARDIAN,
    **{word.lower(): Role.TEACHER for word in _TEACHERS.split()},
    **{word.lower(): Role.AIDE for word in _AIDES.split()},
    **{word.lower(): Role.ADMINISTRATOR for word in _OTHER_STAFF.split()},
}


def list_schools(package: ExportPackage, problems: Problems) -> list[School]:
    orgs = read_orgs(package, problems, ORGS, standard=STANDARD)
    problems.raise_if_any()
    return schools_in(orgs)


def read_sds(
    package: ExportPackage,
    problems: Problems,
    choice: SchoolChoice,
    registration_pattern: str | None,
    as_of: date,
) -> dict[str, MisSnapshot]:
    """Read an SDS v2.1 CSV package once, for each school `choice` picks.

    SDS enrolments carry no dates; a role's roleStartDate/roleEndDate decide instead whether
    the person is active at the school on `as_of`.
    """
    rule = RegistrationRule(registration_pattern, problems)
    users = open_table(package, "users.csv", USERS, problems, standard=STANDARD)
    roles = open_table(package, "roles.csv", ROLES, problems, standard=STANDARD)
    classes = open_table(package, "classes.csv", CLASSES, problems, standard=STANDARD)
    enrollments = open_table(package, "enrollments.csv", ENROLLMENTS, problems, standard=STANDARD)
    sessions_table = open_table(
        package, "academicSessions.csv", SESSIONS, problems, standard=STANDARD, required=False
    )
    courses_table = open_table(
        package, "courses.csv", COURSES, problems, standard=STANDARD, required=False
    )
    orgs = read_orgs(package, problems, ORGS, standard=STANDARD)
    problems.raise_if_any()

    schools = choice.pick(orgs, problems, "orgs.csv")
    sessions = _read_sessions(sessions_table) if sessions_table else {}
    # Every SDS upload carries the same files, so courses.csv may be there with no courses in
    # it; the classes' course ids are then not checked, as when the file is absent.
    courses = (_read_courses(courses_table) if courses_table else None) or None
    rejected: set[str] = set()
    user_roles = _read_roles(roles, problems, orgs, rejected, as_of)
    everyone = _read_users(users, schools, user_roles, rejected)
    class_index, other_classes = _read_classes(
        classes, problems, schools, orgs, sessions, courses, rule, sessions_table is not None
    )
    _read_enrollments(enrollments, problems, class_index, other_classes, everyone, rejected)
    problems.raise_if_any()

    if not rule.given:
        problems.warn(
            "SDS classes have no class type and no registration pattern is set, so every "
            "class is a teaching group"
        )
    snapshots: dict[str, MisSnapshot] = {}
    for school_id, parts in schools.items():
        school_problems = problems.for_school()
        if not parts.school.dfe_number:
            school_problems.warn(
                "orgs.csv gives no DfE number for the school (SDS has no such column); "
                "set the school's name identifier in its settings"
            )
        year = academic_year_start(sessions, parts.sessions, school_problems)
        if year is None:
            year = fallback_year_start(as_of, school_problems)
        people, roles_not_current = people_at_school(everyone, parts, user_roles)
        snapshots[school_id] = build_snapshot(
            parts,
            year,
            people,
            SDS_21,
            school_problems,
            as_of,
            roles_not_current=roles_not_current,
        )
    return snapshots


def _read_sessions(table: CsvTable) -> dict[str, Session]:
    sessions: dict[str, Session] = {}
    ix = table.index
    for line, row, session_id in table.records(("sourcedId", "type")):
        start = table.date(row, line, "startDate")
        table.date(row, line, "endDate")
        school_year = None
        if row[ix["schoolYear"]].strip():
            try:
                school_year = parse_year(row[ix["schoolYear"]])
            except ValueError as error:
                table.bad_value(line, "schoolYear", str(error), "fix the export")
        session_type = row[ix["type"]].strip()
        sessions[session_id] = Session(session_id, session_type, start, school_year, "")
    return sessions


def _read_courses(table: CsvTable) -> Courses:
    """Each course's code and subject."""
    courses: Courses = {}
    code_at, subject_at = table.col("code"), table.col("subject")
    for _, row, course_id in table.records(("sourcedId",)):
        courses[course_id] = (table.value(row, code_at), table.value(row, subject_at))
    return courses


def _role(table: CsvTable, text: str, line: int) -> Role | None:
    role = SDS_ROLES.get(text.strip().lower())
    if role is None:
        table.bad_value(
            line,
            "role",
            f"unknown role '{text}'; expected an SDS role such as student, teacher, aide, "
            "staff or administrator",
            "fix the role in the export",
        )
    return role


def _read_roles(
    table: CsvTable | None,
    problems: Problems,
    orgs: dict[str, Org],
    rejected: set[str],
    as_of: date,
) -> dict[str, list[RoleChoice]]:
    """Each user's roles, in file order, with their grade and whether their roleStartDate and
    roleEndDate hold on `as_of`. Users with a bad role row go into `rejected`.

    Which role speaks for a user at a school is `choose_role`'s decision, per school.
    """
    choices: dict[str, list[RoleChoice]] = {}
    if table is None:
        return choices
    ix = table.index
    grade_at, primary_at = ix.get("grade"), ix.get("isPrimary")
    for line, row in table.rows():
        if table.blank(row, line, ("userSourcedId", "orgSourcedId", "role")):
            continue
        user_id = row[ix["userSourcedId"]]
        role = _role(table, row[ix["role"]], line)
        if role is None:
            rejected.add(user_id)
            continue
        org = row[ix["orgSourcedId"]]
        if org not in orgs:
            unknown_org(table, line, "orgSourcedId", org, "the role's org")
            rejected.add(user_id)
            continue
        try:
            primary = parse_bool(table.value(row, primary_at), default=False)
        except ValueError as error:
            problems.add(table.name, line, "isPrimary", str(error), "fix the export")
            rejected.add(user_id)
            continue
        begin = table.date(row, line, "roleStartDate")
        end = table.date(row, line, "roleEndDate")
        choice = RoleChoice(
            org, role, primary, is_current(begin, end, as_of), table.value(row, grade_at)
        )
        choices.setdefault(user_id, []).append(choice)
    return choices


def _read_users(
    table: CsvTable | None,
    schools: dict[str, SchoolParts],
    user_roles: dict[str, list[RoleChoice]],
    rejected: set[str],
) -> dict[str, Person]:
    """Every user, with the role and grade chosen with no school in mind (each school's
    snapshot takes its own); each user with a role at a chosen school goes in its parts."""
    everyone: dict[str, Person] = {}
    if table is None:
        return everyone
    ix = table.index
    get = ix.get
    given_at, family_at, email_at, number_at = (
        get("givenName"),
        get("familyName"),
        get("email"),
        get("userNumber"),
    )
    for line, row, user_id in table.records(("sourcedId", "username")):
        found = roles_of(table, line, user_id, user_roles, rejected)
        if found is None:
            continue
        chosen = choose_role(found, None)
        # Limitation: SDS v2.1 has no inactive flag (a leaver is dropped from the upload), so
        # a person listed with no roleEndDate stays active even after leaving.
        everyone[user_id] = Person(
            mis_id=user_id,
            role=chosen.role,
            given_name=table.value(row, given_at),
            family_name=table.value(row, family_at),
            username=row[ix["username"]].strip(),
            email=table.value(row, email_at),
            identifier=table.value(row, number_at),
            grade=chosen.grade or "",
        )
        for role_choice in found:
            parts = schools.get(role_choice.org)
            if parts is not None:
                parts.people.add(user_id)
    rejected.update(table.skipped)
    return everyone


def _read_classes(
    table: CsvTable | None,
    problems: Problems,
    schools: dict[str, SchoolParts],
    orgs: dict[str, Org],
    sessions: dict[str, Session],
    courses: Courses | None,
    rule: RegistrationRule,
    have_sessions: bool,
) -> tuple[ClassIndex, set[str]]:
    """The chosen schools' classes as groups (each also put in its school's parts), and the
    ids of every other class."""
    classes: ClassIndex = {}
    others: set[str] = set()
    if table is None:
        return classes, others
    ix = table.index
    get = ix.get
    sessions_at, course_at, code_at = get("sessionSourcedIds"), get("courseSourcedId"), get("code")
    seen: dict[str, int] = {}
    for line, row in table.rows():
        class_id = row[ix["sourcedId"]]
        if table.blank(row, line, ("sourcedId", "orgSourcedId", "title")):
            others.add(class_id)
            continue
        if table.duplicate(seen, class_id, line, "sourcedId"):
            continue
        org = row[ix["orgSourcedId"]]
        if org not in orgs:
            unknown_org(table, line, "orgSourcedId", org, "the class's org")
            others.add(class_id)
            continue
        parts = schools.get(org)
        if parts is None:
            others.add(class_id)
            continue
        for session_id in split_list(table.value(row, sessions_at)):
            if session_id not in sessions:
                where = "academicSessions.csv" if have_sessions else "academicSessions.csv (absent)"
                problems.add(
                    table.name,
                    line,
                    "sessionSourcedIds",
                    f"session '{session_id}' is not in {where}",
                    "export the class's sessions in academicSessions.csv",
                )
            parts.sessions.add(session_id)
        course_code, subject = course_of(table, line, table.value(row, course_at), courses)
        course_code = course_code or table.value(row, code_at)
        title = row[ix["title"]].strip()
        kind = rule.kind(course_code, table.value(row, code_at), title)
        group = MisGroup(class_id, kind, title, course_code=course_code, subject=subject)
        parts.groups[class_id] = group
        classes[class_id] = (group, parts)
    others.update(table.skipped)
    return classes, others


def _read_enrollments(
    table: CsvTable | None,
    problems: Problems,
    classes: ClassIndex,
    other_classes: set[str],
    everyone: dict[str, Person],
    rejected: set[str],
) -> None:
    """Put each enrolment into its group and its person into the group's school.

    SDS enrolments have no id of their own, so a repeated row is merged, not an error.
    """
    if table is None:
        return
    ix = table.index
    class_at, user_at, role_at = ix["classSourcedId"], ix["userSourcedId"], ix["role"]
    roles_cache: dict[str, Role] = {}
    for line, row in table.rows():
        class_id, user_id, role_text = row[class_at], row[user_at], row[role_at]
        if not (class_id and user_id and role_text):
            table.blank(row, line, ENROLLMENTS.required)
            continue
        found = classes.get(class_id)
        if found is None:
            if class_id not in other_classes:
                problems.add(
                    table.name,
                    line,
                    "classSourcedId",
                    f"class '{class_id}' is not in the school's classes in classes.csv",
                    "export the class in classes.csv or remove the enrolment",
                )
            continue
        if user_id not in everyone:
            unknown_user(table, line, user_id, rejected)
            continue
        role = roles_cache.get(role_text) or _role(table, role_text, line)
        if role is None:
            continue
        roles_cache[role_text] = role
        group, parts = found
        enrol(parts, group, user_id, role, False)
