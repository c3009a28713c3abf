"""Small MIS snapshots built in code, for the policy, planner and CLI tests."""

from __future__ import annotations

from shared.domain.snapshot import (
    GroupKind,
    MisGroup,
    MisSnapshot,
    Person,
    Role,
    School,
    StaffLink,
)

SCHOOL = School(mis_id="org-1", name="Oakfield Academy", dfe_number="4001")


def student(mis_id: str, *, active: bool = True, grade: str = "10") -> Person:
    return Person(
        mis_id=mis_id,
        role=Role.STUDENT,
        username=f"{mis_id}@oakfield.example.org",
        email=f"{mis_id}@oakfield.example.org",
        identifier=f"ADM-{mis_id}",
        grade=grade,
        active=active,
    )


def staff(mis_id: str, role: Role = Role.TEACHER, *, active: bool = True) -> Person:
    return Person(
        mis_id=mis_id,
        role=role,
        username=f"{mis_id}@oakfield.example.org",
        email=f"{mis_id}@oakfield.example.org",
        identifier=f"STAFF-{mis_id}",
        active=active,
    )


def snapshot(
    people: list[Person],
    groups: list[MisGroup],
    *,
    school: School = SCHOOL,
    year: int = 2025,
) -> MisSnapshot:
    return MisSnapshot(
        school=school,
        academic_year_start=year,
        people={person.mis_id: person for person in people},
        groups={group.mis_id: group for group in groups},
        source_format="test",
    )


def teaching_group(
    mis_id: str,
    name: str,
    students: list[str],
    staff_links: list[StaffLink],
) -> MisGroup:
    return MisGroup(
        mis_id=mis_id,
        kind=GroupKind.TEACHING,
        name=name,
        students=set(students),
        staff=list(staff_links),
    )


def small_school() -> MisSnapshot:
    """A year group, a registration group and two teaching groups, one pupil who left."""
    people = [
        student("s1"),
        student("s2"),
        student("s3"),
        student("s4", active=False),
        staff("t1"),
        staff("t2"),
        staff("a1", Role.AIDE),
    ]
    groups = [
        MisGroup("year:10", GroupKind.YEAR, "Year 10", {"s1", "s2", "s3", "s4"}),
        MisGroup(
            "reg-10A",
            GroupKind.REGISTRATION,
            "10A",
            {"s1", "s2", "s3", "s4"},
            [StaffLink("t1", Role.TEACHER, primary=True)],
        ),
        teaching_group(
            "class-10X-Ma1",
            "10X/Ma1",
            ["s1", "s2", "s4"],
            [StaffLink("t1", Role.TEACHER, primary=True), StaffLink("a1", Role.TEACHER)],
        ),
        teaching_group("class-10X-En1", "10X/En1", ["s2", "s3"], [StaffLink("t2")]),
    ]
    return snapshot(people, groups)
