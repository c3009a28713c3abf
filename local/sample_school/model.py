"""The generated school's records, one dataclass per OneRoster file they end up in."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SamplePerson:
    """One generated person. `has_account` is False for a pupil whose account IT has not made
    yet (a recent joiner): the directory does not know them."""

    sourced_id: str
    role: str
    given_name: str
    family_name: str
    username: str
    identifier: str
    org_id: str
    grade: str = ""
    enabled: bool = True
    status: str = ""
    has_account: bool = True

    @property
    def active(self) -> bool:
        return self.enabled and self.status != "tobedeleted"

    @property
    def upn(self) -> str:
        return self.username

    def directory_user(self) -> dict[str, str]:
        """The user as the Graph emulator's seeding endpoint takes it."""
        return {
            "userPrincipalName": self.username,
            "displayName": f"{self.given_name} {self.family_name}",
            "mail": self.username,
            "employeeId": self.identifier,
        }


@dataclass(frozen=True, slots=True)
class SampleCourse:
    sourced_id: str
    title: str
    course_code: str
    grade: str
    subject: str


@dataclass(frozen=True, slots=True)
class SampleClass:
    sourced_id: str
    title: str
    class_type: str
    course_id: str
    grade: str
    subject: str


@dataclass(frozen=True, slots=True)
class SampleEnrollment:
    sourced_id: str
    class_id: str
    user_id: str
    role: str
    primary: str = ""
    begin_date: str = ""
    end_date: str = ""


@dataclass(slots=True)
class SampleSchool:
    """One generated school: its org, people, courses, classes and enrolments in file order."""

    org_id: str
    name: str
    dfe_number: str
    domain: str
    academic_year_start: int
    people: list[SamplePerson] = field(default_factory=list)
    courses: list[SampleCourse] = field(default_factory=list)
    classes: list[SampleClass] = field(default_factory=list)
    enrollments: list[SampleEnrollment] = field(default_factory=list)

    @property
    def students(self) -> list[SamplePerson]:
        return [p for p in self.people if p.role == "student"]

    @property
    def staff(self) -> list[SamplePerson]:
        return [p for p in self.people if p.role != "student"]

    def directory_users(self) -> list[dict[str, str]]:
        """Everyone with an account, ready for `POST /_emulator/users`."""
        return [p.directory_user() for p in self.people if p.has_account]
