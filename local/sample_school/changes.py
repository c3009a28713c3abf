"""The school a night later: the ordinary churn a nightly export shows.

    tomorrow = next_night(school, seed=2)
    write_oneroster(tomorrow, Path("/tmp/oakfield-night-2"))

A few pupils move between sets of the same course, a few join (copying a classmate's
timetable, with an account ready), a few leave (`status=tobedeleted`), and a class changes
teacher. The school passed in is left as it was.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace

from local.sample_school.generate import FAMILY_NAMES, GIVEN_NAMES, fold_name
from local.sample_school.model import SampleEnrollment, SamplePerson, SampleSchool


@dataclass(frozen=True, slots=True)
class NightChanges:
    """What `next_night` changed, by sourced id, so a test or the demo can check the sync."""

    moved: tuple[tuple[str, str, str], ...]  # (pupil, from class, to class)
    joined: tuple[str, ...]
    left: tuple[str, ...]
    new_teacher: tuple[tuple[str, str, str], ...]  # (class, old teacher, new teacher)


def _next_number(ids: list[str]) -> int:
    """One past the highest running number in ids like `s4001-u000123`."""
    return max((int(re.sub(r"\D", "", i.rsplit("-", 1)[1])) for i in ids), default=0) + 1


def next_night(
    school: SampleSchool,
    seed: int,
    *,
    moves: int = 5,
    joiners: int = 2,
    leavers: int = 2,
    teacher_changes: int = 1,
) -> tuple[SampleSchool, NightChanges]:
    """A copy of the school with a night's churn, and what changed."""
    rng = random.Random(f"next-night:{seed}")
    people = list(school.people)
    enrollments = list(school.enrollments)
    classes = {c.sourced_id: c for c in school.classes}
    by_course: dict[str, list[str]] = {}
    for c in school.classes:
        if c.class_type == "scheduled":
            by_course.setdefault(c.course_id, []).append(c.sourced_id)
    roles = {p.sourced_id: p.role for p in people}
    active_pupils = [p.sourced_id for p in people if p.role == "student" and p.active]

    left = rng.sample(active_pupils, min(leavers, len(active_pupils)))
    for position, person in enumerate(people):
        if person.sourced_id in left:
            people[position] = replace(person, status="tobedeleted")

    # Pupils who stay move: a move and a departure on one night would hide each other.
    staying = set(active_pupils) - set(left)
    moved = []
    candidates = [
        i
        for i, e in enumerate(enrollments)
        if e.user_id in staying
        and classes[e.class_id].class_type == "scheduled"
        and len(by_course[classes[e.class_id].course_id]) > 1
    ]
    for i in rng.sample(candidates, min(moves, len(candidates))):
        e = enrollments[i]
        others = [c for c in by_course[classes[e.class_id].course_id] if c != e.class_id]
        target = rng.choice(others)
        enrollments[i] = replace(e, class_id=target)
        moved.append((e.user_id, e.class_id, target))

    prefix = people[0].sourced_id.rsplit("-", 1)[0]
    next_user = _next_number([p.sourced_id for p in people])
    next_enrolment = _next_number([e.sourced_id for e in enrollments])
    usernames = {p.username for p in people}
    joined = []
    for _ in range(joiners):
        classmate = rng.choice([p for p in active_pupils if p not in left])
        model = next(p for p in people if p.sourced_id == classmate)
        given, family = rng.choice(GIVEN_NAMES), rng.choice(FAMILY_NAMES)
        local, domain = model.username.split("@")
        tail = "".join(ch for ch in local if ch.isdigit())[:2]
        username = f"{fold_name(given)[:1]}{fold_name(family)}{tail}@{domain}"
        number = 2
        while username in usernames:
            username = f"{fold_name(given)[:1]}{fold_name(family)}{tail}{number}@{domain}"
            number += 1
        usernames.add(username)
        joiner = SamplePerson(
            sourced_id=f"{prefix}-u{next_user:06d}",
            role="student",
            given_name=given,
            family_name=family,
            username=username,
            identifier=f"{100000 + next_user:06d}",
            org_id=model.org_id,
            grade=model.grade,
        )
        next_user += 1
        people.append(joiner)
        joined.append(joiner.sourced_id)
        for e in [e for e in enrollments if e.user_id == classmate]:
            enrolment_id = f"{prefix}-enr{next_enrolment:06d}"
            enrollments.append(
                SampleEnrollment(enrolment_id, e.class_id, joiner.sourced_id, "student")
            )
            next_enrolment += 1

    new_teacher = []
    teaching = [
        i
        for i, e in enumerate(enrollments)
        if roles.get(e.user_id) == "teacher" and classes[e.class_id].class_type == "scheduled"
    ]
    for i in rng.sample(teaching, min(teacher_changes, len(teaching))):
        e = enrollments[i]
        in_class = {other.user_id for other in enrollments if other.class_id == e.class_id}
        colleagues = sorted(
            {
                other.user_id
                for other in enrollments
                if roles.get(other.user_id) == "teacher"
                and other.user_id not in in_class
                and classes[other.class_id].course_id == classes[e.class_id].course_id
            }
        )
        if colleagues:
            successor = rng.choice(colleagues)
            enrollments[i] = replace(e, user_id=successor)
            new_teacher.append((e.class_id, e.user_id, successor))

    tomorrow = replace(school, people=people, enrollments=enrollments)
    changes = NightChanges(tuple(moved), tuple(joined), tuple(left), tuple(new_teacher))
    return tomorrow, changes
