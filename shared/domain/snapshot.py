"""The MIS snapshot: one school's people and groups as its MIS exported them, format-free.

Every MIS reader produces a `MisSnapshot`; the policy and the planner read nothing else.

    snapshot = read_mis_export(Path("exports/4001"))
    year_10 = [g for g in snapshot.groups.values() if g.kind is GroupKind.YEAR]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    """A person's role in the MIS, in OneRoster's vocabulary."""

    STUDENT = "student"
    TEACHER = "teacher"
    AIDE = "aide"
    ADMINISTRATOR = "administrator"
    PROCTOR = "proctor"
    GUARDIAN = "guardian"

    @property
    def is_staff(self) -> bool:
        return self in (Role.TEACHER, Role.AIDE, Role.ADMINISTRATOR, Role.PROCTOR)


class GroupKind(StrEnum):
    """The three kinds of MIS group the sync knows."""

    YEAR = "year"
    REGISTRATION = "registration"
    TEACHING = "teaching"


@dataclass(frozen=True, slots=True)
class School:
    mis_id: str
    name: str
    dfe_number: str = ""


@dataclass(frozen=True, slots=True)
class Person:
    """One MIS person. `active` is False for people the MIS marks disabled or inactive."""

    mis_id: str
    role: Role
    given_name: str = ""
    family_name: str = ""
    username: str = ""
    email: str = ""
    identifier: str = ""
    grade: str = ""
    active: bool = True


@dataclass(frozen=True, slots=True)
class StaffLink:
    """A staff member enrolled in a group, in the order the MIS lists them."""

    person_id: str
    role: Role = Role.TEACHER
    primary: bool = False


@dataclass(slots=True)
class MisGroup:
    """A year, registration or teaching group with its enrolments.

    `students` and `staff` hold person MIS ids; `staff` keeps the MIS order so that
    "the first teacher" is stable from night to night.
    """

    mis_id: str
    kind: GroupKind
    name: str
    students: set[str] = field(default_factory=set)
    staff: list[StaffLink] = field(default_factory=list)
    course_code: str = ""
    subject: str = ""


@dataclass(slots=True)
class MisSnapshot:
    """One school's MIS export, validated.

    Readers keep every person and every current enrolment as exported, inactive people
    included; the policy is the one place that leaves inactive people out of groups (and counts
    them). Enrolments that had ended or not yet begun on the run date are left out of the
    groups by the reader and only counted, in `enrolments_out_of_date`.
    """

    school: School
    academic_year_start: int
    people: dict[str, Person]
    groups: dict[str, MisGroup]
    source_format: str = ""
    warnings: list[str] = field(default_factory=list)
    enrolments_out_of_date: int = 0

    @property
    def inactive_people(self) -> int:
        return sum(1 for person in self.people.values() if not person.active)

    @property
    def student_count(self) -> int:
        return sum(1 for p in self.people.values() if p.active and p.role is Role.STUDENT)
