"""Steps every CSV reader shares: choosing the school, the academic year, the registration rule.

The format readers turn rows into these small records; the decisions about them live here
once, so OneRoster and SDS exports of the same school give the same snapshot.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from shared.domain.snapshot import GroupKind, MisGroup, MisSnapshot, Person, Role, School
from shared.mis.errors import Problems
from shared.mis.values import add_year_groups

log = logging.getLogger(__name__)

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


def choose_school(
    orgs: dict[str, Org], school_id: str | None, problems: Problems, file: str
) -> School:
    """The one school the snapshot is for: the only school, or the one `school_id` names.

    `school_id` may be the org's sourcedId or its identifier (the DfE number).
    """
    schools = [org.school for org in orgs.values() if org.type.lower() == "school"]
    if school_id:
        for school in schools:
            if school_id in (school.mis_id, school.dfe_number):
                return school
        known = ", ".join(s.mis_id for s in schools) or "none"
        problems.fail(
            file,
            None,
            "sourcedId",
            f"no school with id '{school_id}'; schools in the export: {known}",
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
    if len(schools) > 1:
        listed = ", ".join(f"{s.mis_id} ({s.name})" for s in schools)
        problems.fail(
            file,
            None,
            "type",
            f"the export holds {len(schools)} schools where one was expected: {listed}",
            "pass a school id (--school ID) to choose one",
        )
    return schools[0]


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


def build_snapshot(
    school: School,
    academic_year_start: int,
    everyone: dict[str, Person],
    keep: set[str],
    groups: dict[str, MisGroup],
    source_format: str,
    problems: Problems,
) -> MisSnapshot:
    """The school's snapshot: the people in `keep` (export order), groups plus year groups."""
    people = {person_id: person for person_id, person in everyone.items() if person_id in keep}
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
    log.info(
        "read %s export for school %s: %d people, %d groups",
        source_format,
        school.mis_id,
        len(people),
        len(groups),
    )
    return MisSnapshot(
        school=school,
        academic_year_start=academic_year_start,
        people=people,
        groups=groups,
        source_format=source_format,
        warnings=problems.warnings,
    )
