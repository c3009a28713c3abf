"""What the OneRoster and SDS CSV readers share, SDS v2.1 keeping OneRoster's file shapes:
orgs.csv, and the checks that tie records to the orgs, courses, roles and users they name."""

from __future__ import annotations

from shared.domain.snapshot import School
from shared.mis.assembly import Org, RoleChoice
from shared.mis.csvtable import Columns, CsvTable, open_table
from shared.mis.errors import Problems
from shared.mis.oneroster_schema import is_gone
from shared.mis.package import ExportPackage

# Course id -> (course code, subject).
Courses = dict[str, tuple[str, str]]


def read_orgs(
    package: ExportPackage,
    problems: Problems,
    columns: Columns,
    *,
    standard: str,
    statuses: bool = False,
) -> dict[str, Org]:
    """orgs.csv by sourcedId; with `statuses` (OneRoster), orgs marked deleted are left out."""
    table = open_table(package, "orgs.csv", columns, problems, standard=standard)
    orgs: dict[str, Org] = {}
    if table is None:
        return orgs
    ix = table.index
    identifier_at = ix.get("identifier")
    status_at = ix.get("status") if statuses else None
    for line, row, org_id in table.records(("sourcedId", "name", "type")):
        if is_gone(table, row, status_at, line):
            continue
        school = School(org_id, row[ix["name"]].strip(), table.value(row, identifier_at))
        orgs[org_id] = Org(school, row[ix["type"]].strip(), line)
    return orgs


def unknown_org(table: CsvTable, line: int, column: str, org: str, reference: str) -> None:
    """Report a reference to an org that orgs.csv lacks; `reference` says in the remedy what
    to fix, as in "the role's org"."""
    table.bad_value(
        line,
        column,
        f"org '{org}' is not in orgs.csv",
        f"export the org in orgs.csv or fix {reference}",
    )


def course_of(
    table: CsvTable, line: int, course_id: str, courses: Courses | None
) -> tuple[str, str]:
    """A class's (course code, subject): blank when it names no course or the export has no
    courses.csv, and blank with a problem when courses.csv lacks the course it names."""
    if not course_id or courses is None:
        return "", ""
    found = courses.get(course_id)
    if found is None:
        table.bad_value(
            line,
            "courseSourcedId",
            f"course '{course_id}' is not in courses.csv",
            "export the class's course in courses.csv",
        )
        return "", ""
    return found


def roles_of(
    table: CsvTable,
    line: int,
    user_id: str,
    user_roles: dict[str, list[RoleChoice]],
    rejected: set[str],
) -> list[RoleChoice] | None:
    """A user's rows in roles.csv, or None. A user with none goes into `rejected`, so that
    their enrolments raise no more, and is reported unless a bad role row of theirs was."""
    found = user_roles.get(user_id)
    if found is None and user_id not in rejected:
        table.bad_value(
            line,
            "sourcedId",
            f"user '{user_id}' has no role in roles.csv",
            "export a roles.csv row for every user",
        )
        rejected.add(user_id)
    return found


def unknown_user(table: CsvTable, line: int, user_id: str, rejected: set[str]) -> None:
    """Report an enrolment whose user is not among those read, unless the user's own row was
    already reported (and so the user is in `rejected`)."""
    if user_id not in rejected:
        table.bad_value(
            line,
            "userSourcedId",
            f"user '{user_id}' is not in users.csv",
            "export the user in users.csv or remove the enrolment",
        )
