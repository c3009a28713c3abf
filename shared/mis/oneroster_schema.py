"""OneRoster 1.1 and 1.2 CSV: the files, their columns and vocabularies, and manifest.csv.

Only what the readers check lives here; the reading itself is in `oneroster` (sessions,
courses, classes), `oneroster_people` (users, roles, enrolments) and `csvrecords` (orgs).
"""

from __future__ import annotations

from shared.domain.snapshot import GroupKind, Role
from shared.mis.csvtable import Columns, CsvTable, open_table
from shared.mis.errors import Problems
from shared.mis.package import ExportPackage

ONEROSTER_11 = "oneroster-1.1"
ONEROSTER_12 = "oneroster-1.2"
STANDARD_NAMES = {ONEROSTER_11: "OneRoster 1.1", ONEROSTER_12: "OneRoster 1.2"}

_RECORD = "status dateLastModified"
_USER = f"{_RECORD} userIds middleName identifier email sms phone agentSourcedIds grades password"
MANIFEST = Columns.of("propertyName value")
ORGS = Columns.of("sourcedId name type", f"{_RECORD} identifier parentSourcedId")
SESSIONS = Columns.of(
    "sourcedId title type startDate endDate schoolYear", f"{_RECORD} parentSourcedId"
)
COURSES = Columns.of(
    "sourcedId title orgSourcedId",
    f"{_RECORD} schoolYearSourcedId courseCode grades subjects subjectCodes resourceSourcedIds",
)
CLASSES = Columns.of(
    "sourcedId title courseSourcedId classType schoolSourcedId termSourcedIds",
    f"{_RECORD} grades classCode location subjects subjectCodes periods resourceSourcedIds",
)
USERS_11 = Columns.of(
    "sourcedId enabledUser orgSourcedIds role username givenName familyName", _USER
)
USERS_12 = Columns.of(
    "sourcedId enabledUser username givenName familyName",
    f"{_USER} userMasterIdentifier resourceSourcedIds preferredGivenName preferredMiddleName"
    " preferredFamilyName primaryOrgSourcedId pronouns",
)
ROLES_12 = Columns.of(
    "sourcedId userSourcedId roleType role orgSourcedId",
    f"{_RECORD} beginDate endDate userProfileSourcedId",
)
ENROLLMENTS = Columns.of(
    "sourcedId classSourcedId schoolSourcedId userSourcedId role",
    f"{_RECORD} primary beginDate endDate",
)

USER_ROLES_11 = {
    "administrator": Role.ADMINISTRATOR,
    "aide": Role.AIDE,
    "guardian": Role.GUARDIAN,
    "parent": Role.GUARDIAN,
    "proctor": Role.PROCTOR,
    "relative": Role.GUARDIAN,
    "student": Role.STUDENT,
    "teacher": Role.TEACHER,
}
USER_ROLES_12 = {
    "administrator": Role.ADMINISTRATOR,
    "aide": Role.AIDE,
    "counselor": Role.ADMINISTRATOR,
    "districtadministrator": Role.ADMINISTRATOR,
    "guardian": Role.GUARDIAN,
    "parent": Role.GUARDIAN,
    "principal": Role.ADMINISTRATOR,
    "proctor": Role.PROCTOR,
    "relative": Role.GUARDIAN,
    "siteadministrator": Role.ADMINISTRATOR,
    "student": Role.STUDENT,
    "systemadministrator": Role.ADMINISTRATOR,
    "teacher": Role.TEACHER,
}
ENROLMENT_ROLES = {
    "administrator": Role.ADMINISTRATOR,
    "proctor": Role.PROCTOR,
    "student": Role.STUDENT,
    "teacher": Role.TEACHER,
}
CLASS_TYPES = {"homeroom": GroupKind.REGISTRATION, "scheduled": GroupKind.TEACHING}
SESSION_TYPES = frozenset({"gradingperiod", "semester", "schoolyear", "term"})
STATUSES = frozenset({"active", "tobedeleted", "inactive"})
# "inactive" is OneRoster 1.0's word; exports still carry it and it means the same here.
GONE_STATUSES = frozenset({"tobedeleted", "inactive"})
ROLE_TYPES = frozenset({"primary", "secondary"})


def read_manifest(package: ExportPackage, problems: Problems) -> dict[str, str]:
    """manifest.csv as a property -> value map (empty when the file is absent)."""
    table = open_table(
        package, "manifest.csv", MANIFEST, problems, standard="OneRoster", required=False
    )
    if table is None:
        return {}
    name_at, value_at = table.index["propertyName"], table.index["value"]
    return {row[name_at].strip(): row[value_at].strip() for _, row in table.rows()}


def check_manifest(manifest: dict[str, str], problems: Problems) -> None:
    """Refuse delta packages: a snapshot must be a full (bulk) export."""
    for key, value in manifest.items():
        if key.startswith("file.") and value.lower() == "delta":
            problems.fail(
                "manifest.csv",
                None,
                "value",
                f"{key} is 'delta'; a snapshot needs a full export",
                "export the MIS data in bulk mode: every file.* entry bulk or absent",
            )


def is_gone(table: CsvTable, row: list[str], at: int | None, line: int) -> bool:
    """True for a record whose status marks it deleted; an unknown status is a problem."""
    if at is None or not row[at]:
        return False
    status = row[at].strip().lower()
    if status not in STATUSES:
        table.bad_value(
            line,
            "status",
            f"unknown status '{row[at]}'; expected active or tobedeleted (or blank)",
            "fix the status in the export",
        )
        return False
    return status in GONE_STATUSES
