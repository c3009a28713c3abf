"""Generating a UK secondary school: year groups, forms, sets, staff, joiners and leavers.

Everything comes from one seeded random generator and ordered containers, so the same
students and seed give the same school, and the same bytes once written.
"""

from __future__ import annotations

import math
import random
import unicodedata
from collections.abc import Sequence
from dataclasses import replace

from local.sample_school.model import (
    SampleClass,
    SampleCourse,
    SampleEnrollment,
    SamplePerson,
    SampleSchool,
)

DEFAULT_ACADEMIC_YEAR_START = 2025

# Relative size of each year group: the sixth form (12, 13) is smaller, as in most 11-18 schools.
YEAR_WEIGHTS = {7: 1.0, 8: 1.0, 9: 1.0, 10: 1.0, 11: 1.0, 12: 0.55, 13: 0.5}
FORM_SIZE = 28
SIXTH_FORM_TUTOR_GROUP_SIZE = 20
SET_SIZE = 28
OPTION_GROUP_SIZE = 26
A_LEVEL_GROUP_SIZE = 18
SETS_PER_TEACHER = 10
KS4_OPTIONS_PER_STUDENT = 4
A_LEVELS_PER_STUDENT = 3
PUPILS_PER_AIDE = 250
SETS_PER_AIDE = 6
CO_TAUGHT_SHARE = 0.03
UNFLAGGED_TEACHER_SHARE = 0.15
JOINER_SHARE = 0.02
LEAVER_SHARE = 0.015
FORM_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"

KS3_SUBJECTS = {
    "Ma": "Mathematics",
    "En": "English",
    "Sc": "Science",
    "Hi": "History",
    "Gg": "Geography",
    "Fr": "French",
    "Ar": "Art",
    "Mu": "Music",
    "Dt": "Design and Technology",
    "Cp": "Computing",
    "Pe": "Physical Education",
    "Re": "Religious Education",
    "Dr": "Drama",
}
SET_BY_ABILITY = frozenset({"Ma", "En", "Sc"})
KS4_CORE = ("Ma", "En", "Sc", "Pe", "Re")
KS4_OPTIONS = {
    "Hi": "History",
    "Gg": "Geography",
    "Fr": "French",
    "Sp": "Spanish",
    "Ar": "Art",
    "Mu": "Music",
    "Dt": "Design and Technology",
    "Cs": "Computer Science",
    "Dr": "Drama",
    "Bs": "Business Studies",
}
A_LEVELS = {
    "Ma": "Mathematics",
    "Fm": "Further Mathematics",
    "Bi": "Biology",
    "Ch": "Chemistry",
    "Ph": "Physics",
    "En": "English Literature",
    "Hi": "History",
    "Gg": "Geography",
    "Ps": "Psychology",
    "So": "Sociology",
    "Ec": "Economics",
    "Ar": "Art",
    "Cs": "Computer Science",
    "Fr": "French",
}

GIVEN_NAMES = (
    "Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Noah", "Mia", "Jack", "Ivy",
    "Leo", "Lily", "Arthur", "Isabella", "Muhammad", "Rosie", "Oscar", "Sophia", "Charlie",
    "Grace", "Jacob", "Freya", "Thomas", "Olivia", "Henry", "Evie", "William", "Poppy",
    "Alfie", "Ella", "Joshua", "Emily", "Freddie", "Chloé", "Archie", "Zoë", "Ethan",
    "Siobhán", "Aarav", "Priya", "Kwame", "Amara", "José", "Renée", "Yusuf", "Aisha",
    "Dylan", "Niamh", "Reuben", "Maja", "Kacper", "Zainab", "Theo", "Hannah", "Samuel",
    "Erin", "Lucas", "Ruby", "Daniel", "Eleanor",
)  # fmt: skip
FAMILY_NAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
    "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green",
    "Hall", "Wood", "Jackson", "Clarke", "Patel", "Khan", "Lewis", "James", "Phillips",
    "Mason", "Mitchell", "Rose", "Davis", "Rodriguez", "Cox", "Alexander", "O'Brien",
    "Smith-Jones", "Nowak", "Kowalski", "Begum", "Hussain", "Ahmed", "Okafor", "Mensah",
    "Nguyen", "Chen", "Singh", "Kaur", "MacDonald", "Murphy", "Kelly", "Hughes", "Edwards",
    "Morgan", "Bennett", "Cooper", "Ward", "Morris", "Turner", "Harris", "Martin", "Young",
    "King", "Baker", "Price", "Müller", "Da Silva", "Fernández", "Ali", "Shah", "Reid",
    "Campbell", "Stewart",
)  # fmt: skip
SCHOOL_NAMES = (
    "Oakfield Academy", "Riverside School", "St Aidan's Church of England High School",
    "Hillcrest Community College", "Kingsmead School", "Northgate High School",
    "Beechwood Academy", "Castle View School", "Meadowbank College", "Priory Park Academy",
)  # fmt: skip


def fold_name(text: str) -> str:
    """A name as username letters: ASCII, lowercase, letters and digits only."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_text.lower() if ch.isalnum())


def _split(count: int, weights: Sequence[float]) -> list[int]:
    """`count` shared out by weight, remainders to the largest fractions (stable)."""
    total = sum(weights)
    exact = [count * w / total for w in weights]
    shares = [math.floor(x) for x in exact]
    by_fraction = sorted(range(len(weights)), key=lambda i: (shares[i] - exact[i], i))
    for i in by_fraction[: count - sum(shares)]:
        shares[i] += 1
    return shares


def _chunks(items: list[str], size: int) -> list[list[str]]:
    """Split into ceil(len/size) groups of near-equal size."""
    if not items:
        return []
    groups = math.ceil(len(items) / size)
    return [items[i::groups] for i in range(groups)]


class _Builder:
    """Builds one school; a class so the running id counters and name registers stay in one
    place."""

    def __init__(self, school: SampleSchool, rng: random.Random) -> None:
        self.school = school
        self.rng = rng
        self.prefix = f"s{school.dfe_number}"
        self.usernames: set[str] = set()
        self.courses: dict[tuple[int, str], str] = {}
        self.counters = {"u": 0, "cls": 0, "enr": 0}
        self.dept_groups: dict[str, list[str]] = {}

    def next_id(self, kind: str) -> str:
        self.counters[kind] += 1
        return f"{self.prefix}-{kind}{self.counters[kind]:06d}"

    def username(self, given: str, family: str, tail: str) -> str:
        first, last = fold_name(given), fold_name(family)
        candidates = [f"{first[:1]}{last}{tail}", f"{first[:2]}{last}{tail}"]
        number = 2
        while all(c in self.usernames for c in candidates):
            candidates.append(f"{first[:1]}{last}{tail}{number}")
            number += 1
        chosen = next(c for c in candidates if c not in self.usernames)
        self.usernames.add(chosen)
        return f"{chosen}@{self.school.domain}"

    def person(self, role: str, identifier: str, grade: str = "", tail: str = "") -> SamplePerson:
        given = self.rng.choice(GIVEN_NAMES)
        family = self.rng.choice(FAMILY_NAMES)
        person = SamplePerson(
            sourced_id=self.next_id("u"),
            role=role,
            given_name=given,
            family_name=family,
            username=self.username(given, family, tail),
            identifier=identifier,
            org_id=self.school.org_id,
            grade=grade,
        )
        self.school.people.append(person)
        return person

    def course(self, year: int, code: str, title: str) -> str:
        key = (year, code)
        if key not in self.courses:
            course_id = f"{self.prefix}-crs-{year:02d}{code.lower()}"
            self.courses[key] = course_id
            self.school.courses.append(
                SampleCourse(
                    sourced_id=course_id,
                    title=f"Year {year} {title}",
                    course_code=f"{year}{code.upper()}",
                    grade=f"{year:02d}",
                    subject=title,
                )
            )
        return self.courses[key]

    def klass(self, title: str, class_type: str, year: int, code: str, subject: str) -> str:
        class_id = self.next_id("cls")
        course_id = self.course(year, code, subject)
        self.school.classes.append(
            SampleClass(class_id, title, class_type, course_id, f"{year:02d}", subject)
        )
        if class_type == "scheduled":
            self.dept_groups.setdefault(code, []).append(class_id)
        return class_id

    def enrol(self, class_id: str, user_id: str, role: str, primary: str = "") -> None:
        self.school.enrollments.append(
            SampleEnrollment(self.next_id("enr"), class_id, user_id, role, primary)
        )


def generate_school(
    students: int,
    seed: int,
    *,
    index: int = 0,
    academic_year_start: int = DEFAULT_ACADEMIC_YEAR_START,
) -> SampleSchool:
    """One school of about `students` pupils; `index` picks its name and DfE number."""
    rng = random.Random(f"sample-school:{seed}:{index}")
    name = SCHOOL_NAMES[index % len(SCHOOL_NAMES)]
    if index >= len(SCHOOL_NAMES):
        name = f"{name} {index // len(SCHOOL_NAMES) + 1}"
    dfe_number = str(4001 + index)
    slug = fold_name(name.split()[0]) + ("" if index < len(SCHOOL_NAMES) else str(index))
    school = SampleSchool(
        org_id=f"org-{dfe_number}",
        name=name,
        dfe_number=dfe_number,
        domain=f"{slug}.example.org",
        academic_year_start=academic_year_start,
    )
    builder = _Builder(school, rng)

    pupils_by_year = {}
    sizes = _split(students, list(YEAR_WEIGHTS.values()))
    for year, size in zip(YEAR_WEIGHTS, sizes, strict=True):
        intake = academic_year_start - (year - 7)
        tail = f"{intake % 100:02d}"
        pupils_by_year[year] = [
            builder.person("student", f"{100000 + len(school.people):06d}", f"{year:02d}", tail)
            for _ in range(size)
        ]

    for year, pupils in pupils_by_year.items():
        _year_classes(builder, year, [p.sourced_id for p in pupils])

    teachers = _staff_departments(builder)
    _tutors(builder, teachers)
    _aides(builder, students)
    for _ in range(2):
        builder.person("administrator", f"ADM{len(school.people)}")
    _joiners_and_leavers(builder, rng)
    return school


def _form_name(year: int, position: int) -> str:
    """`7A`, `7B`, ... and, past the alphabet, `7A2`, `7B2`, ..."""
    letter = FORM_LETTERS[position % len(FORM_LETTERS)]
    round_number = position // len(FORM_LETTERS)
    return f"{year}{letter}{round_number + 1 if round_number else ''}"


def _year_classes(builder: _Builder, year: int, pupils: list[str]) -> None:
    """Registration groups and teaching sets for one year; enrols the pupils."""
    rng = builder.rng
    form_size = SIXTH_FORM_TUTOR_GROUP_SIZE if year >= 12 else FORM_SIZE
    shuffled = pupils[:]
    rng.shuffle(shuffled)
    forms = _chunks(shuffled, form_size)
    for position, members in enumerate(forms):
        name = _form_name(year, position)
        class_id = builder.klass(name, "homeroom", year, "Reg", "Registration")
        for pupil in members:
            builder.enrol(class_id, pupil, "student")

    if year >= 12:
        _sixth_form_sets(builder, year, pupils)
        return

    # Two half-year bands, X and Y, each a run of whole forms.
    half = math.ceil(len(forms) / 2)
    bands = {"X": [p for f in forms[:half] for p in f], "Y": [p for f in forms[half:] for p in f]}
    ability = {pupil: rng.random() for pupil in pupils}
    for band, members in bands.items():
        if not members:
            continue
        for code in KS3_SUBJECTS if year <= 9 else KS4_CORE:
            subject = KS3_SUBJECTS[code]
            ordered = sorted(members, key=ability.get) if code in SET_BY_ABILITY else members
            sets = math.ceil(len(ordered) / SET_SIZE)
            size = math.ceil(len(ordered) / sets)
            for number in range(sets):
                chunk = ordered[number * size : (number + 1) * size]
                title = f"{year}{band}/{code}{number + 1}"
                _teaching_set(builder, title, year, code, subject, chunk)
        if year >= 10:
            _option_sets(builder, year, band, members)


def _teaching_set(
    builder: _Builder, title: str, year: int, code: str, subject: str, pupils: list[str]
) -> None:
    if not pupils:
        return
    class_id = builder.klass(title, "scheduled", year, code, subject)
    for pupil in pupils:
        builder.enrol(class_id, pupil, "student")


def _option_sets(builder: _Builder, year: int, band: str, members: list[str]) -> None:
    choices: dict[str, list[str]] = {code: [] for code in KS4_OPTIONS}
    codes = list(KS4_OPTIONS)
    for pupil in members:
        for code in builder.rng.sample(codes, KS4_OPTIONS_PER_STUDENT):
            choices[code].append(pupil)
    for code, pupils in choices.items():
        for number, chunk in enumerate(_chunks(pupils, OPTION_GROUP_SIZE), start=1):
            title = f"{year}{band}/{code}{number}"
            _teaching_set(builder, title, year, code, KS4_OPTIONS[code], chunk)


def _sixth_form_sets(builder: _Builder, year: int, pupils: list[str]) -> None:
    choices: dict[str, list[str]] = {code: [] for code in A_LEVELS}
    codes = list(A_LEVELS)
    for pupil in pupils:
        for code in builder.rng.sample(codes, A_LEVELS_PER_STUDENT):
            choices[code].append(pupil)
    for position, (code, chosen) in enumerate(choices.items()):
        block = "ABCDE"[position % 5]
        for number, chunk in enumerate(_chunks(chosen, A_LEVEL_GROUP_SIZE), start=1):
            title = f"{year}{block}/{code}{number}"
            _teaching_set(builder, title, year, code, A_LEVELS[code], chunk)


def _staff_departments(builder: _Builder) -> list[str]:
    """Teachers per department, each teaching several sets. A few sets are co-taught, with the
    primary teacher listed first or second; some single teachers carry no primary flag."""
    rng = builder.rng
    teachers: list[str] = []
    staff_number = 0
    for code in sorted(builder.dept_groups):
        groups = builder.dept_groups[code]
        dept = []
        for _ in range(math.ceil(len(groups) / SETS_PER_TEACHER)):
            staff_number += 1
            person = builder.person("teacher", f"T{staff_number:04d}")
            dept.append(person.sourced_id)
        teachers.extend(dept)
        for position, class_id in enumerate(groups):
            first = dept[position % len(dept)]
            if len(dept) > 1 and rng.random() < CO_TAUGHT_SHARE:
                second = dept[(position + 1) % len(dept)]
                primary_first = rng.random() < 0.5
                builder.enrol(class_id, first, "teacher", "true" if primary_first else "false")
                builder.enrol(class_id, second, "teacher", "false" if primary_first else "true")
            elif rng.random() < UNFLAGGED_TEACHER_SHARE:
                builder.enrol(class_id, first, "teacher")
            else:
                builder.enrol(class_id, first, "teacher", "true")
    return teachers


def _tutors(builder: _Builder, teachers: list[str]) -> None:
    homerooms = [c.sourced_id for c in builder.school.classes if c.class_type == "homeroom"]
    tutors = builder.rng.sample(teachers, min(len(teachers), len(homerooms)))
    for position, class_id in enumerate(homerooms):
        if tutors:
            builder.enrol(class_id, tutors[position % len(tutors)], "teacher", "true")


def _aides(builder: _Builder, students: int) -> None:
    """Teaching assistants: exports often enrol them as teachers; they must not own groups."""
    lower_school = [
        c.sourced_id
        for c in builder.school.classes
        if c.class_type == "scheduled" and c.grade in ("07", "08", "09")
    ]
    if not lower_school:
        return
    for number in range(max(1, students // PUPILS_PER_AIDE)):
        aide = builder.person("aide", f"TA{number + 1:03d}")
        for class_id in builder.rng.sample(lower_school, min(SETS_PER_AIDE, len(lower_school))):
            builder.enrol(class_id, aide.sourced_id, "teacher", "false")


def _joiners_and_leavers(builder: _Builder, rng: random.Random) -> None:
    """Mark a few pupils as mid-year joiners (some without an account yet) and leavers."""
    school = builder.school
    year_start = school.academic_year_start
    positions = [i for i, p in enumerate(school.people) if p.role == "student"]
    changed = rng.sample(positions, int(len(positions) * (JOINER_SHARE + LEAVER_SHARE)))
    joiners = set(changed[: int(len(positions) * JOINER_SHARE)])
    joined_on = f"{year_start + 1}-01-06"
    left_on = f"{year_start}-12-19"
    for position in changed:
        person = school.people[position]
        if position in joiners:
            if rng.random() < 0.5:
                school.people[position] = replace(person, has_account=False)
        elif rng.random() < 0.5:
            school.people[position] = replace(person, status="tobedeleted")
        else:
            school.people[position] = replace(person, enabled=False)
    joined = {school.people[i].sourced_id for i in joiners}
    left = {school.people[i].sourced_id for i in changed if i not in joiners}
    for position, enrolment in enumerate(school.enrollments):
        if enrolment.user_id in joined:
            school.enrollments[position] = replace(enrolment, begin_date=joined_on)
        elif enrolment.user_id in left:
            school.enrollments[position] = replace(enrolment, end_date=left_on)


def generate_trust(
    schools: int,
    students: int,
    seed: int,
    *,
    academic_year_start: int = DEFAULT_ACADEMIC_YEAR_START,
) -> list[SampleSchool]:
    """`schools` schools sharing `students` pupils between them, in one academic year."""
    counts = _split(students, [1.0] * schools)
    return [
        generate_school(count, seed, index=index, academic_year_start=academic_year_start)
        for index, count in enumerate(counts)
    ]
