"""Steps every reader shares: choosing the schools, the academic year, the registration rule,
which enrolments and roles are current, where an enrolment puts its person, and the snapshot
each school ends up with.

The format readers turn rows into these small records; the decisions about them live here
once, so OneRoster, SDS and JSON exports of the same school give the same snapshot.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date

from shared.domain.snapshot import GroupKind, MisGroup, MisSnapshot, Person, Role, School, StaffLink
from shared.mis.errors import Problems
from shared.mis.values import add_year_groups

log = logging.getLogger(__name__)

# `enrol` runs once per enrolment row, and looking up an enum member costs as much as the rest.
_STUDENT = Role.STUDENT

SCHOOL_ORG = "school"
SCHOOL_YEAR_SESSION = "schoolyear"
MAX_SESSION_DEPTH = 10
# Where nothing says when a school year starts, one starting before this month belongs to
# the year before (a northern-hemisphere year that starts in late summer).
FIRST_MONTH_OF_SCHOOL_YEAR = 7


@dataclass(frozen=True, slots=True)
class Org:
    school: School
    type: str
    line: int


@dataclass(frozen=True, slots=True)
class Session:
    """An academic session (school year, term...) as the export gives it."""

    mis_id: str
    type: str
    start: date | None
    school_year: int | None
    parent: str


@dataclass(slots=True)
class SchoolParts:
    """One school's share of an export, filled in while the files are read once."""

    school: School
    groups: dict[str, MisGroup] = field(default_factory=dict)
    # Who the snapshot holds: people whose org (or role) is the school, and people with a
    # current enrolment in one of its groups.
    people: set[str] = field(default_factory=set)
    sessions: set[str] = field(default_factory=set)
    enrolments_out_of_date: int = 0


# The chosen schools' classes: class id -> (its group, its school's parts).
ClassIndex = dict[str, tuple[MisGroup, SchoolParts]]


def schools_in(orgs: dict[str, Org]) -> list[School]:
    """The orgs that are schools, in export order."""
    return [org.school for org in orgs.values() if org.type.lower() == SCHOOL_ORG]


@dataclass(frozen=True, slots=True)
class SchoolChoice:
    """Which schools of an export to read: the one `school_id` names (its sourcedId or DfE
    number), the only one when `school_id` is None, or all of them when `every` is set."""

    school_id: str | None = None
    every: bool = False

    def pick(self, orgs: dict[str, Org], problems: Problems, file: str) -> dict[str, SchoolParts]:
        """The chosen schools by MIS id, in export order, each with nothing read yet."""
        schools = schools_in(orgs)
        if self.school_id:
            for school in schools:
                if self.school_id in (school.mis_id, school.dfe_number):
                    return {school.mis_id: SchoolParts(school)}
            known = ", ".join(s.mis_id for s in schools) or "none"
            problems.fail(
                file,
                None,
                "sourcedId",
                f"no school with id '{self.school_id}'; schools in the export: {known}",
                "pass one of the listed school ids",
            )
        if not schools:
            problems.fail(
                file,
                None,
                "type",
                "no org has type 'school'",
                "export the school itself as an org with type 'school'",
            )
        if len(schools) > 1 and not self.every:
            listed = ", ".join(f"{s.mis_id} ({s.name})" for s in schools)
            problems.fail(
                file,
                None,
                "type",
                f"the export holds {len(schools)} schools where one was expected: {listed}",
                "pass a school id (--school ID) to choose one",
            )
        return {school.mis_id: SchoolParts(school) for school in schools}


def is_current(begin: date | None, end: date | None, as_of: date) -> bool:
    """True when a dated record (an enrolment, a role) holds on `as_of`; both ends count, and
    a missing date leaves that end open."""
    return (begin is None or begin <= as_of) and (end is None or as_of <= end)


@dataclass(frozen=True, slots=True)
class RoleChoice:
    """One role row of a person (OneRoster 1.2 or SDS roles.csv): the org it is at, whether
    its dates hold on the run date, and the grade it gives (None where grades live elsewhere,
    as in OneRoster's users.csv)."""

    org: str
    role: Role
    primary: bool
    current: bool = True
    grade: str | None = None


def enrol(parts: SchoolParts, group: MisGroup, person_id: str, role: Role, primary: bool) -> None:
    """Put a person with a current enrolment in the group, staff once each whatever the rows
    repeat, and in the group's school."""
    parts.people.add(person_id)
    if role is _STUDENT:
        group.students.add(person_id)
    elif all(link.person_id != person_id for link in group.staff):
        group.staff.append(StaffLink(person_id, role, primary))


def choose_role(choices: list[RoleChoice], school_id: str | None) -> RoleChoice:
    """The role that speaks for a person at `school_id`: one at the school before one
    elsewhere, then a current one, then a primary one, then the first listed."""
    return min(choices, key=lambda c: (c.org != school_id, not c.current, not c.primary))


def academic_year_start(
    sessions: dict[str, Session], used: Iterable[str], problems: Problems
) -> int | None:
    """The calendar year the school year starts in, from the sessions the classes use.

    A school-year session's start date wins; else its `schoolYear`, which names the year the
    school year ends, minus one. Terms defer to their parent school year.
    """
    starts: Counter[int] = Counter()
    for session_id in used:
        session = sessions.get(session_id)
        if session is not None:
            year = _session_year_start(session, sessions)
            if year is not None:
                starts[year] += 1
    if not starts:
        for session in sessions.values():
            if session.type.lower() == SCHOOL_YEAR_SESSION:
                year = _session_year_start(session, sessions)
                if year is not None:
                    starts[year] += 1
    if not starts:
        return None
    chosen = starts.most_common(1)[0][0]
    if len(starts) > 1:
        others = ", ".join(str(year) for year in sorted(starts) if year != chosen)
        problems.warn(
            f"classes belong to more than one school year; using the one starting in {chosen} "
            f"(also found {others})"
        )
    return chosen


def _session_year_start(session: Session, sessions: dict[str, Session]) -> int | None:
    current = session
    for _ in range(MAX_SESSION_DEPTH):
        if current.type.lower() == SCHOOL_YEAR_SESSION:
            if current.start is not None:
                return current.start.year
            if current.school_year is not None:
                return current.school_year - 1
        parent = sessions.get(current.parent) if current.parent else None
        if parent is None:
            break
        current = parent
    if session.school_year is not None:
        return session.school_year - 1
    if session.start is not None:
        # Limitation: a term with no school year above it and no schoolYear value is placed
        # by its start month, which is wrong for schools whose year starts before July.
        if session.start.month >= FIRST_MONTH_OF_SCHOOL_YEAR:
            return session.start.year
        return session.start.year - 1
    return None


def fallback_year_start(today: date, problems: Problems) -> int:
    year = today.year if today.month >= FIRST_MONTH_OF_SCHOOL_YEAR else today.year - 1
    problems.warn(
        f"the export names no academic session; assuming the school year starting in {year}"
    )
    return year


class RegistrationRule:
    """Marks a class as a registration group when its code or title matches a pattern."""

    def __init__(self, pattern: str | None, problems: Problems) -> None:
        self._pattern: re.Pattern[str] | None = None
        if pattern:
            try:
                self._pattern = re.compile(pattern)
            except re.error as error:
                problems.fail(
                    "",
                    None,
                    None,
                    f"the registration pattern '{pattern}' is not a valid regular expression "
                    f"({error})",
                    "fix the school's registration group pattern setting",
                )

    @property
    def given(self) -> bool:
        return self._pattern is not None

    def kind(self, *texts: str) -> GroupKind:
        if self._pattern is not None and any(text and self._pattern.search(text) for text in texts):
            return GroupKind.REGISTRATION
        return GroupKind.TEACHING


def people_at_school(
    everyone: dict[str, Person],
    parts: SchoolParts,
    roles: dict[str, list[RoleChoice]] | None,
) -> tuple[dict[str, Person], int]:
    """The school's people in export order, and how many are inactive only because their
    role at the school has ended or not yet begun.

    With `roles` (formats whose roles live in roles.csv) each person takes the role and grade
    their rows give at this school, so one person of a trust export may differ by school.
    """
    keep = parts.people
    people = {person_id: person for person_id, person in everyone.items() if person_id in keep}
    if roles is None:
        return people, 0
    school_id = parts.school.mis_id
    roles_not_current = 0
    for person_id, person in list(people.items()):
        choices = roles.get(person_id)
        if not choices:
            continue
        chosen = choose_role(choices, school_id)
        grade = person.grade if chosen.grade is None else chosen.grade
        if not chosen.current and person.active:
            roles_not_current += 1
        if chosen.current and chosen.role is person.role and grade == person.grade:
            continue
        people[person_id] = replace(
            person, role=chosen.role, grade=grade, active=person.active and chosen.current
        )
    return people, roles_not_current


def build_snapshot(
    parts: SchoolParts,
    academic_year_start: int,
    people: dict[str, Person],
    source_format: str,
    problems: Problems,
    as_of: date,
    *,
    year_groups_from_grades: bool = True,
    roles_not_current: int = 0,
) -> MisSnapshot:
    """The school's snapshot: its people and groups, plus year groups built from grades."""
    groups = parts.groups
    if year_groups_from_grades:
        by_grade: dict[str, list[str]] = {}
        no_grade = 0
        for person in people.values():
            if person.role is Role.STUDENT:
                if person.grade:
                    by_grade.setdefault(person.grade, []).append(person.mis_id)
                else:
                    no_grade += 1
        add_year_groups(groups, by_grade)
        if no_grade:
            problems.warn(f"{no_grade} students have no grade and so are in no year group")
    out_of_date = parts.enrolments_out_of_date
    if out_of_date:
        problems.warn(
            f"left out of groups: {_count(out_of_date, 'enrolment', 'enrolments')} that had "
            f"ended or not yet begun on {as_of.isoformat()}"
        )
    if roles_not_current:
        problems.warn(
            f"inactive: {_count(roles_not_current, 'person', 'people')} whose roles at the "
            f"school had ended or not yet begun on {as_of.isoformat()}"
        )
    log.info(
        "read %s export for school %s: %d people, %d groups, %d enrolments out of date",
        source_format,
        parts.school.mis_id,
        len(people),
        len(groups),
        parts.enrolments_out_of_date,
    )
    return MisSnapshot(
        school=parts.school,
        academic_year_start=academic_year_start,
        people=people,
        groups=groups,
        source_format=source_format,
        warnings=problems.warnings,
        enrolments_out_of_date=parts.enrolments_out_of_date,
    )


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"
