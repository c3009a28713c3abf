"""A known set of MIS changes to a generated school, and the group changes they must cause on
the next night: what the demo shows and the end-to-end tests check.

    changes = apply_demo_changes(school)            # two pupils move sets, a new set appears,
    upload(changes.school)                          # a teacher swap on one set, a pupil leaves
    expected = changes.expected(admin_owners=1)     # MIS group id -> GroupChange

Each change is also a function of its own (`move_pupils`, `add_set`, `swap_teacher`,
`remove_pupil`) so a test can make just the one it is about. People and sets are picked in a
stable order from those whose records are plain (an account, active, no dated enrolment), so
the expected figures do not depend on the generator's corner cases.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass

from local.sample_school import SampleClass, SampleEnrollment, SamplePerson, SampleSchool
from shared.mis.values import year_group_key

PUPILS_MOVED = 2
NEW_SET_PUPILS = 6
SCHEDULED = "scheduled"
HOMEROOM = "homeroom"
STUDENT = "student"
TEACHER = "teacher"


class NoSuitableRecords(LookupError):
    """The school is too small or too odd for the change asked for."""


@dataclass(frozen=True, slots=True)
class GroupChange:
    """What one group's result row must say after a night."""

    created: bool = False
    members_added: int = 0
    members_removed: int = 0
    owners_added: int = 0
    owners_removed: int = 0

    def __add__(self, other: GroupChange) -> GroupChange:
        return GroupChange(
            created=self.created or other.created,
            members_added=self.members_added + other.members_added,
            members_removed=self.members_removed + other.members_removed,
            owners_added=self.owners_added + other.owners_added,
            owners_removed=self.owners_removed + other.owners_removed,
        )

    @classmethod
    def of(cls, row: object) -> GroupChange:
        """The same figures read from a run's result row (`RunGroupResult`)."""
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class MisChanges:
    """The changed school and what was changed, by MIS id."""

    school: SampleSchool
    moved_pupils: tuple[str, ...]
    moved_from: str
    moved_to: str
    new_set: str
    new_set_pupils: tuple[str, ...]
    new_set_teacher: str
    swapped_set: str
    old_teacher: str
    new_teacher: str
    leaver: str
    leaver_groups: tuple[str, ...]

    @property
    def groups(self) -> frozenset[str]:
        """Every MIS group these changes touch."""
        touched = {self.moved_from, self.moved_to, self.new_set, self.swapped_set}
        return frozenset(touched | set(self.leaver_groups))

    def expected(self, admin_owners: int) -> dict[str, GroupChange]:
        """The result each touched group must show on the next night of a Microsoft 365 groups
        school with `admin_owners` admin owners; every other group must show no change.

        A teacher owner is a member too, so a swap moves one owner and one member each way,
        and a new set's members are its pupils and its teacher.
        """
        changes = {
            self.moved_from: GroupChange(members_removed=len(self.moved_pupils)),
            self.moved_to: GroupChange(members_added=len(self.moved_pupils)),
            self.new_set: GroupChange(
                created=True,
                members_added=len(self.new_set_pupils) + 1,
                owners_added=admin_owners + 1,
            ),
            self.swapped_set: GroupChange(
                members_added=1, members_removed=1, owners_added=1, owners_removed=1
            ),
        }
        for group_id in self.leaver_groups:
            changes[group_id] = changes.get(group_id, GroupChange()) + GroupChange(
                members_removed=1
            )
        return changes

    def describe(self) -> list[str]:
        """One line per change, for a school IT admin (MIS ids and set names, no pupil names)."""
        title = _titles(self.school)
        return [
            f"pupils {', '.join(self.moved_pupils)} move from set {title[self.moved_from]} "
            f"to {title[self.moved_to]}",
            f"a new set {title[self.new_set]} appears with {len(self.new_set_pupils)} pupils "
            f"and teacher {self.new_set_teacher}",
            f"set {title[self.swapped_set]}: teacher {self.old_teacher} hands over to "
            f"{self.new_teacher}",
            f"pupil {self.leaver} leaves the school ({len(self.leaver_groups)} groups)",
        ]


def apply_demo_changes(school: SampleSchool) -> MisChanges:
    """Two pupils move sets, a new set appears, one set changes teacher, one pupil leaves.

    The changes touch disjoint groups, so each group's expected figures come from one change
    alone: the sets come from the year with most sets, the leaver from another year.
    """
    from_set, to_set = _sibling_sets(school)
    year = from_set.grade
    moved = _plain_pupils_in(school, from_set.sourced_id, exclude=_members(school, to_set))
    moved = moved[:PUPILS_MOVED]
    if len(moved) < PUPILS_MOVED:
        raise NoSuitableRecords(f"set {from_set.title} has too few plain pupils to move")
    changed = move_pupils(school, moved, from_set.sourced_id, to_set.sourced_id)

    swap_set = _single_teacher_set(changed, year, exclude_courses={from_set.course_id})
    old_teacher = _teachers(changed, swap_set.sourced_id)[0]
    new_teacher = _plain_teacher(changed, exclude=set(_teachers(changed, swap_set.sourced_id)))
    changed = swap_teacher(changed, swap_set.sourced_id, new_teacher)

    # Joining a set changes no other group, so the new set may take any pupil of the year.
    pupils = [p for p in _plain_pupils(changed, grade=year) if p not in moved][:NEW_SET_PUPILS]
    if len(pupils) < NEW_SET_PUPILS:
        raise NoSuitableRecords(f"year {year} has too few plain pupils for a new set")
    teacher = _teachers(changed, from_set.sourced_id)[0]
    changed, new_set = add_set(changed, from_set.sourced_id, pupils, teacher)

    leaver_grade = next(g for g in _grades(changed) if g != from_set.grade)
    leaver = _plain_pupils(changed, grade=leaver_grade)[0]
    leaver_groups = (year_group_key(leaver_grade)[0], *_classes_of(changed, leaver))
    changed = remove_pupil(changed, leaver)

    return MisChanges(
        school=changed,
        moved_pupils=tuple(moved),
        moved_from=from_set.sourced_id,
        moved_to=to_set.sourced_id,
        new_set=new_set,
        new_set_pupils=tuple(pupils),
        new_set_teacher=teacher,
        swapped_set=swap_set.sourced_id,
        old_teacher=old_teacher,
        new_teacher=new_teacher,
        leaver=leaver,
        leaver_groups=tuple(sorted(leaver_groups)),
    )


# --- single changes ---------------------------------------------------------------------------


def move_pupils(
    school: SampleSchool, pupils: Iterable[str], from_class: str, to_class: str
) -> SampleSchool:
    """The pupils' enrolment in `from_class` becomes one in `to_class`."""
    moving = set(pupils)
    enrollments = [
        dataclasses.replace(e, class_id=to_class)
        if e.class_id == from_class and e.user_id in moving and e.role == STUDENT
        else e
        for e in school.enrollments
    ]
    return dataclasses.replace(school, enrollments=enrollments)


def swap_teacher(school: SampleSchool, class_id: str, new_teacher: str) -> SampleSchool:
    """The class's registered teacher hands it over to `new_teacher` (primary from now on)."""
    old = _teachers(school, class_id)[0]
    enrollments = [
        dataclasses.replace(e, user_id=new_teacher, primary="true")
        if e.class_id == class_id and e.user_id == old and e.role == TEACHER
        else e
        for e in school.enrollments
    ]
    return dataclasses.replace(school, enrollments=enrollments)


def add_set(
    school: SampleSchool, like_class: str, pupils: Iterable[str], teacher: str
) -> tuple[SampleSchool, str]:
    """A new teaching set of the same course as `like_class`, with the next free number in
    its name (`10X/Ma1` gives `10X/Ma3` when there are two); returns the school and its id."""
    model = next(c for c in school.classes if c.sourced_id == like_class)
    stem = re.sub(r"\d+$", "", model.title)
    taken = [int(m.group(1)) for c in school.classes if (m := _numbered(stem, c.title))]
    title = f"{stem}{max(taken, default=0) + 1}"
    class_id = f"{model.sourced_id}-new"
    added = SampleClass(class_id, title, SCHEDULED, model.course_id, model.grade, model.subject)
    enrollments = [
        SampleEnrollment(f"{class_id}-e{n}", class_id, pupil, STUDENT)
        for n, pupil in enumerate(pupils, start=1)
    ]
    enrollments.append(SampleEnrollment(f"{class_id}-t1", class_id, teacher, TEACHER, "true"))
    changed = dataclasses.replace(
        school,
        classes=[*school.classes, added],
        enrollments=[*school.enrollments, *enrollments],
    )
    return changed, class_id


def remove_pupil(school: SampleSchool, pupil: str) -> SampleSchool:
    """The pupil leaves: gone from the export with every enrolment."""
    return dataclasses.replace(
        school,
        people=[p for p in school.people if p.sourced_id != pupil],
        enrollments=[e for e in school.enrollments if e.user_id != pupil],
    )


# --- picking plain records ----------------------------------------------------------------


def plain_people(school: SampleSchool) -> list[SamplePerson]:
    """People with an account, active, and with no dated enrolment, in file order."""
    dated = {e.user_id for e in school.enrollments if e.begin_date or e.end_date}
    return [p for p in school.people if p.has_account and p.active and p.sourced_id not in dated]


def _plain_pupils(school: SampleSchool, *, grade: str | None = None) -> list[str]:
    return [
        p.sourced_id
        for p in plain_people(school)
        if p.role == STUDENT and (grade is None or p.grade == grade)
    ]


def _plain_pupils_in(school: SampleSchool, class_id: str, *, exclude: set[str]) -> list[str]:
    plain = set(_plain_pupils(school))
    return [
        e.user_id
        for e in school.enrollments
        if e.class_id == class_id
        and e.role == STUDENT
        and e.user_id in plain
        and e.user_id not in exclude
    ]


def _plain_teacher(school: SampleSchool, *, exclude: set[str]) -> str:
    for person in plain_people(school):
        if person.role == TEACHER and person.sourced_id not in exclude:
            return person.sourced_id
    raise NoSuitableRecords("the school has no other plain teacher")


def _members(school: SampleSchool, group: SampleClass) -> set[str]:
    return {e.user_id for e in school.enrollments if e.class_id == group.sourced_id}


def _teachers(school: SampleSchool, class_id: str) -> list[str]:
    """The class's teachers, the registered (primary) one first."""
    links = [e for e in school.enrollments if e.class_id == class_id and e.role == TEACHER]
    links.sort(key=lambda e: e.primary != "true")
    return [e.user_id for e in links]


def _classes_of(school: SampleSchool, pupil: str) -> list[str]:
    return sorted(
        {e.class_id for e in school.enrollments if e.user_id == pupil and e.role == STUDENT}
    )


def _grades(school: SampleSchool) -> list[str]:
    return sorted({p.grade for p in school.people if p.role == STUDENT and p.grade})


def _scheduled(school: SampleSchool, grade: str) -> list[SampleClass]:
    return [c for c in school.classes if c.class_type == SCHEDULED and c.grade == grade]


def _sibling_sets(school: SampleSchool) -> tuple[SampleClass, SampleClass]:
    """Two sets of one course with a single teacher each, from the year with most sets."""
    grades = sorted(_grades(school), key=lambda grade: (-len(_scheduled(school, grade)), grade))
    for grade in grades:
        by_course: dict[str, list[SampleClass]] = {}
        for group in _scheduled(school, grade):
            if len(_teachers(school, group.sourced_id)) == 1:
                by_course.setdefault(group.course_id, []).append(group)
        for sets in by_course.values():
            if len(sets) >= 2:
                return sets[0], sets[1]
    raise NoSuitableRecords("no year has a course taught in two single-teacher sets")


def _single_teacher_set(
    school: SampleSchool, grade: str, *, exclude_courses: set[str]
) -> SampleClass:
    staff = {p.sourced_id for p in school.people if p.role == TEACHER}
    for group in _scheduled(school, grade):
        teachers = _teachers(school, group.sourced_id)
        if group.course_id in exclude_courses or len(teachers) != 1:
            continue
        if teachers[0] in staff:
            return group
    raise NoSuitableRecords(f"year {grade} has no other set with a single teacher")


def _numbered(stem: str, title: str) -> re.Match[str] | None:
    return re.fullmatch(re.escape(stem) + r"(\d+)", title)


def _titles(school: SampleSchool) -> dict[str, str]:
    titles = {c.sourced_id: c.title for c in school.classes}
    for grade in _grades(school):
        group_id, name = year_group_key(grade)
        titles[group_id] = name
    return titles
