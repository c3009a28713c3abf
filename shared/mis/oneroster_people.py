"""OneRoster people: users.csv (with 1.2's roles.csv) and the enrolments that put them in groups.

These files are the bulk of an export (a trust's enrollments.csv runs to a million rows), so
the loops here index rows directly and only build messages on the slow path.
"""

from __future__ import annotations

from datetime import date

from shared.domain.snapshot import Person, Role
from shared.mis.assembly import (
    ClassIndex,
    Org,
    RoleChoice,
    SchoolParts,
    choose_role,
    enrol,
    is_current,
)
from shared.mis.csvrecords import roles_of, unknown_org, unknown_user
from shared.mis.csvtable import CsvTable
from shared.mis.errors import Problems
from shared.mis.oneroster_schema import (
    ENROLLMENTS,
    ENROLMENT_ROLES,
    ROLE_TYPES,
    USER_ROLES_11,
    USER_ROLES_12,
    is_gone,
)
from shared.mis.values import first_grade, parse_bool, split_list


def read_roles(
    table: CsvTable | None,
    problems: Problems,
    orgs: dict[str, Org],
    rejected: set[str],
    as_of: date,
) -> dict[str, list[RoleChoice]]:
    """OneRoster 1.2 roles.csv: each user's roles, in file order, with whether their
    beginDate/endDate hold on `as_of`. Users with a bad role row go into `rejected`.

    Which role speaks for a user at a school is `choose_role`'s decision, per school.
    """
    choices: dict[str, list[RoleChoice]] = {}
    if table is None:
        return choices
    ix = table.index
    status_at, begin_at, end_at = ix.get("status"), ix.get("beginDate"), ix.get("endDate")
    required = ("sourcedId", "userSourcedId", "roleType", "role", "orgSourcedId")
    for line, row, _ in table.records(required):
        if is_gone(table, row, status_at, line):
            continue
        user_id = row[ix["userSourcedId"]]
        role_text = row[ix["role"]].strip()
        role = USER_ROLES_12.get(role_text.lower())
        if role is None:
            problems.add(
                table.name,
                line,
                "role",
                f"unknown role '{role_text}'; expected one of {', '.join(USER_ROLES_12)}",
                "fix the role in the export",
            )
            rejected.add(user_id)
            continue
        role_type = row[ix["roleType"]].strip().lower()
        if role_type not in ROLE_TYPES:
            problems.add(
                table.name,
                line,
                "roleType",
                f"unknown roleType '{row[ix['roleType']]}'; expected primary or secondary",
                "fix the roleType in the export",
            )
            rejected.add(user_id)
            continue
        org = row[ix["orgSourcedId"]]
        if org not in orgs:
            unknown_org(table, line, "orgSourcedId", org, "the role's org")
            rejected.add(user_id)
            continue
        current = _dates_hold(table, row, line, begin_at, end_at, as_of)
        choice = RoleChoice(org, role, role_type == "primary", current)
        choices.setdefault(user_id, []).append(choice)
    return choices


def read_users(
    table: CsvTable | None,
    problems: Problems,
    schools: dict[str, SchoolParts],
    orgs: dict[str, Org],
    rejected: set[str],
    *,
    user_roles: dict[str, list[RoleChoice]] | None = None,
) -> dict[str, Person]:
    """Every user in users.csv; each one whose orgs (or roles) name a chosen school is put in
    that school's parts.

    With 1.2's `user_roles`, a user's role here is the one chosen with no school in mind; each
    school's snapshot takes the role chosen for it. Users whose row has a problem go into
    `rejected`, so their enrolments raise no more.
    """
    everyone: dict[str, Person] = {}
    if table is None:
        return everyone
    ix = table.index
    get = ix.get
    sid_at, enabled_at, username_at = ix["sourcedId"], ix["enabledUser"], ix["username"]
    given_at, family_at = ix["givenName"], ix["familyName"]
    role_at, orgs_at = get("role"), get("orgSourcedIds")
    status_at, identifier_at, email_at, grades_at = (
        get("status"),
        get("identifier"),
        get("email"),
        get("grades"),
    )
    seen: dict[str, int] = {}
    no_username = 0
    roles11 = USER_ROLES_11
    for line, row in table.rows():
        user_id = row[sid_at]
        if not user_id.strip():
            table.blank(row, line, ("sourcedId",))
            continue
        if user_id in seen:
            table.duplicate(seen, user_id, line, "sourcedId")
            continue
        seen[user_id] = line

        if user_roles is None:
            role_text = row[role_at]  # type: ignore[index]
            role = roles11.get(role_text) or roles11.get(role_text.strip().lower())
            if role is None:
                problems.add(
                    table.name,
                    line,
                    "role",
                    f"unknown role '{role_text}'; expected one of {', '.join(roles11)}",
                    "fix the export or map the MIS role to a OneRoster role",
                )
                rejected.add(user_id)
                continue
            user_orgs = row[orgs_at]  # type: ignore[index]
            org_ids = split_list(user_orgs)
            if not org_ids:
                table.blank(row, line, ("orgSourcedIds",))
                rejected.add(user_id)
                continue
            for org in org_ids:
                if org not in orgs:
                    unknown_org(table, line, "orgSourcedIds", org, "the user's orgs")
        else:
            found = roles_of(table, line, user_id, user_roles, rejected)
            if found is None:
                continue
            role = choose_role(found, None).role
            org_ids = [choice.org for choice in found]

        try:
            active = parse_bool(row[enabled_at], default=True)
        except ValueError as error:
            problems.add(table.name, line, "enabledUser", str(error), "fix the export")
            rejected.add(user_id)
            continue
        if is_gone(table, row, status_at, line):
            active = False
        username = row[username_at].strip()
        if not username:
            no_username += 1
        everyone[user_id] = Person(
            mis_id=user_id,
            role=role,
            given_name=row[given_at].strip(),
            family_name=row[family_at].strip(),
            username=username,
            email=row[email_at].strip() if email_at is not None else "",
            identifier=row[identifier_at].strip() if identifier_at is not None else "",
            grade=first_grade(row[grades_at]) if grades_at is not None else "",
            active=active,
        )
        for org in org_ids:
            parts = schools.get(org)
            if parts is not None:
                parts.people.add(user_id)
    rejected.update(table.skipped)
    if no_username:
        problems.warn(f"users.csv: {no_username} people have a blank username")
    return everyone


def read_enrollments(
    table: CsvTable | None,
    problems: Problems,
    classes: ClassIndex,
    other_classes: set[str],
    everyone: dict[str, Person],
    rejected: set[str],
    as_of: date,
) -> None:
    """Put each current enrolment into its group and its person into the group's school.

    An enrolment whose beginDate/endDate do not hold on `as_of` is checked like any other,
    then only counted. Enrolments of other classes are skipped, as are those of `rejected`
    users.
    """
    if table is None:
        return
    ix = table.index
    sid_at, class_at, user_at, role_at = (
        ix["sourcedId"],
        ix["classSourcedId"],
        ix["userSourcedId"],
        ix["role"],
    )
    school_at = ix["schoolSourcedId"]
    primary_at, status_at = ix.get("primary"), ix.get("status")
    begin_at, end_at = ix.get("beginDate"), ix.get("endDate")
    seen: set[str] = set()
    roles = ENROLMENT_ROLES
    student = Role.STUDENT
    for line, row in table.rows():
        enrolment_id, class_id, user_id = row[sid_at], row[class_at], row[user_at]
        if not (enrolment_id and class_id and user_id and row[role_at] and row[school_at]):
            table.blank(row, line, tuple(ENROLLMENTS.required))
            continue
        if enrolment_id in seen:
            problems.add(
                table.name,
                line,
                "sourcedId",
                f"duplicate sourcedId '{enrolment_id}'",
                "each enrolment needs its own sourcedId; remove or renumber the duplicate",
            )
            continue
        seen.add(enrolment_id)
        if status_at is not None and row[status_at] and is_gone(table, row, status_at, line):
            continue
        current = _dates_hold(table, row, line, begin_at, end_at, as_of)

        found = classes.get(class_id)
        if found is None:
            if class_id not in other_classes:
                problems.add(
                    table.name,
                    line,
                    "classSourcedId",
                    f"class '{class_id}' is not in classes.csv",
                    "export the class in classes.csv or remove the enrolment",
                )
            continue
        if user_id not in everyone:
            unknown_user(table, line, user_id, rejected)
            continue
        role_text = row[role_at]
        role = roles.get(role_text) or roles.get(role_text.strip().lower())
        if role is None:
            problems.add(
                table.name,
                line,
                "role",
                f"unknown enrolment role '{role_text}'; expected one of {', '.join(roles)}",
                "fix the enrolment role in the export",
            )
            continue
        primary = False
        if role is not student and primary_at is not None:
            try:
                primary = parse_bool(row[primary_at], default=False)
            except ValueError as error:
                problems.add(table.name, line, "primary", str(error), "fix the export")
                continue

        group, parts = found
        if not current:
            parts.enrolments_out_of_date += 1
            continue
        enrol(parts, group, user_id, role, primary)


def _dates_hold(
    table: CsvTable,
    row: list[str],
    line: int,
    begin_at: int | None,
    end_at: int | None,
    as_of: date,
) -> bool:
    """Whether a row's beginDate and endDate hold on `as_of`."""
    # Most rows carry no dates, so the dates are parsed only when there are some.
    if (begin_at is None or not row[begin_at]) and (end_at is None or not row[end_at]):
        return True
    return is_current(table.date(row, line, "beginDate"), table.date(row, line, "endDate"), as_of)
