"""The project's own JSON snapshot format (`groupsync-snapshot`, version 1): read and write.

Any connector that is not OneRoster or SDS can feed the sync by writing this file; the schema
is documented in docs/snapshot-format.md. Problems are located by JSON path, e.g.
`people[3].role`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any, TypeVar

from shared.domain.snapshot import (
    GroupKind,
    MisGroup,
    MisSnapshot,
    Person,
    Role,
    School,
    StaffLink,
)
from shared.mis.assembly import SchoolChoice, SchoolParts, build_snapshot, is_current
from shared.mis.errors import Problems
from shared.mis.package import ExportPackage
from shared.mis.values import parse_date

GROUPSYNC_JSON = "groupsync-json"
FORMAT_TAG = "groupsync-snapshot"
FORMAT_VERSION = 1
ROLES = {role.value: role for role in Role}
KINDS = {kind.value: kind for kind in GroupKind}
FIX = "fix the snapshot file (see docs/snapshot-format.md)"
DATE_KEYS = ("begin_date", "end_date")

T = TypeVar("T")


def snapshot_to_json(snapshot: MisSnapshot) -> dict[str, Any]:
    """The snapshot as a version 1 JSON document (blank optional fields left out)."""
    return {
        "format": FORMAT_TAG,
        "version": FORMAT_VERSION,
        "school": _compact(
            {
                "id": snapshot.school.mis_id,
                "name": snapshot.school.name,
                "dfe_number": snapshot.school.dfe_number,
            }
        ),
        "academic_year_start": snapshot.academic_year_start,
        "people": [_person_json(person) for person in snapshot.people.values()],
        "groups": [_group_json(group) for group in snapshot.groups.values()],
    }


def _person_json(person: Person) -> dict[str, Any]:
    document = _compact(
        {
            "id": person.mis_id,
            "role": person.role.value,
            "given_name": person.given_name,
            "family_name": person.family_name,
            "username": person.username,
            "email": person.email,
            "identifier": person.identifier,
            "grade": person.grade,
        }
    )
    if not person.active:
        document["active"] = False
    return document


def _group_json(group: MisGroup) -> dict[str, Any]:
    document = _compact(
        {
            "id": group.mis_id,
            "kind": group.kind.value,
            "name": group.name,
            "course_code": group.course_code,
            "subject": group.subject,
        }
    )
    document["students"] = sorted(group.students)
    document["staff"] = [
        {"id": link.person_id, "role": link.role.value, "primary": link.primary}
        for link in group.staff
    ]
    return document


def _compact(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if value != ""}


def list_schools(package: ExportPackage, problems: Problems, name: str) -> list[School]:
    document = _load(package, problems, name)
    return [_school(document, problems, name)]


def read_json_snapshot(
    package: ExportPackage,
    problems: Problems,
    name: str,
    choice: SchoolChoice,
    as_of: date,
) -> dict[str, MisSnapshot]:
    """Read and validate one JSON snapshot file (one school) from the package."""
    document = _load(package, problems, name)
    school = _school(document, problems, name)
    if choice.school_id and choice.school_id not in (school.mis_id, school.dfe_number):
        problems.fail(
            name,
            None,
            "school.id",
            f"the snapshot is for school '{school.mis_id}', not '{choice.school_id}'",
            "pass the school id the snapshot names, or the right snapshot file",
        )
    year = document.get("academic_year_start")
    if not isinstance(year, int) or isinstance(year, bool) or not 1900 < year < 3000:
        problems.add(
            name,
            None,
            "academic_year_start",
            f"academic_year_start is {year!r}; expected the calendar year the school year "
            "starts in, such as 2025",
            FIX,
        )
    rejected: set[str] = set()
    people = _people(document, problems, name, rejected)
    parts = SchoolParts(school, people=set(people))
    _groups(document, problems, name, people, rejected, parts, as_of)
    problems.raise_if_any()

    # With no year groups given, they come from the students' grades as for OneRoster.
    given_years = any(group.kind is GroupKind.YEAR for group in parts.groups.values())
    snapshot = build_snapshot(
        parts,
        year,  # type: ignore[arg-type]
        people,
        GROUPSYNC_JSON,
        problems,
        as_of,
        year_groups_from_grades=not given_years,
    )
    return {school.mis_id: snapshot}


def _load(package: ExportPackage, problems: Problems, name: str) -> dict[str, Any]:
    text = package.text(name)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        problems.fail(
            name,
            error.lineno,
            None,
            f"not valid JSON: {error.msg} (character {error.colno})",
            "save the snapshot as valid JSON",
        )
    if not isinstance(document, dict) or document.get("format") != FORMAT_TAG:
        found = document.get("format") if isinstance(document, dict) else type(document).__name__
        problems.fail(
            name,
            None,
            "format",
            f"format is {found!r}; expected '{FORMAT_TAG}'",
            f'start the file with {{"format": "{FORMAT_TAG}", "version": {FORMAT_VERSION}',
        )
    if document.get("version") != FORMAT_VERSION:
        problems.fail(
            name,
            None,
            "version",
            f"version {document.get('version')!r} is not supported; expected {FORMAT_VERSION}",
            "write the snapshot in version 1 of the format, or upgrade groupsync",
        )
    return document


def _text(
    item: dict[str, Any], key: str, path: str, problems: Problems, name: str, required=False
) -> str:
    value = item.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        problems.add(name, None, f"{path}.{key}", f"{key} must be a string, not {value!r}", FIX)
        return ""
    if required and not value.strip():
        problems.add(name, None, f"{path}.{key}", f"{key} is missing or blank", FIX)
    return value.strip()


def _list(item: dict[str, Any], path: str, problems: Problems, name: str) -> list[Any]:
    """The list at `path` (its last part is the key in `item`); a non-list is a problem."""
    value = item.get(path.rsplit(".", 1)[-1], [])
    if not isinstance(value, list):
        problems.add(name, None, path, "must be a list", FIX)
        return []
    return value


def _objects(
    document: dict[str, Any], key: str, noun: str, problems: Problems, name: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each object of the list under `key`, with its path such as `people[3]`; anything else
    in the list is a problem."""
    for index, item in enumerate(_list(document, key, problems, name)):
        path = f"{key}[{index}]"
        if not isinstance(item, dict):
            problems.add(name, None, path, f"each {noun} must be an object", FIX)
            continue
        yield path, item


def _one_of(
    item: dict[str, Any], key: str, choices: dict[str, T], path: str, problems: Problems, name: str
) -> T | None:
    """The required value under `key`, one of `choices` in any case; None when it is blank or
    unknown (a problem either way)."""
    text = _text(item, key, path, problems, name, required=True)
    value = choices.get(text.lower())
    if text and value is None:
        problems.add(
            name,
            None,
            f"{path}.{key}",
            f"unknown {key} '{text}'; expected one of {', '.join(choices)}",
            FIX,
        )
    return value


def _school(document: dict[str, Any], problems: Problems, name: str) -> School:
    school = document.get("school")
    if not isinstance(school, dict):
        problems.fail(name, None, "school", "school is missing or not an object", FIX)
    school_id = _text(school, "id", "school", problems, name, required=True)
    school_name = _text(school, "name", "school", problems, name, required=True)
    dfe = _text(school, "dfe_number", "school", problems, name)
    problems.raise_if_any()
    return School(school_id, school_name, dfe)


def _people(
    document: dict[str, Any], problems: Problems, name: str, rejected: set[str]
) -> dict[str, Person]:
    """The people; the ids of people with a problem go into `rejected`."""
    people: dict[str, Person] = {}
    for path, item in _objects(document, "people", "person", problems, name):
        person_id = _text(item, "id", path, problems, name, required=True)
        role = _one_of(item, "role", ROLES, path, problems, name)
        active = item.get("active", True)
        if not isinstance(active, bool):
            problems.add(name, None, f"{path}.active", "active must be true or false", FIX)
        if person_id in people:
            problems.add(name, None, f"{path}.id", f"duplicate person id '{person_id}'", FIX)
            continue
        if not person_id or role is None:
            rejected.add(person_id)
            continue
        people[person_id] = Person(
            mis_id=person_id,
            role=role,
            given_name=_text(item, "given_name", path, problems, name),
            family_name=_text(item, "family_name", path, problems, name),
            username=_text(item, "username", path, problems, name),
            email=_text(item, "email", path, problems, name),
            identifier=_text(item, "identifier", path, problems, name),
            grade=_text(item, "grade", path, problems, name),
            active=active is not False,
        )
    return people


def _groups(
    document: dict[str, Any],
    problems: Problems,
    name: str,
    people: dict[str, Person],
    rejected: set[str],
    parts: SchoolParts,
    as_of: date,
) -> None:
    """The groups into `parts`, each with its enrolments current on `as_of`."""
    groups = parts.groups
    for path, item in _objects(document, "groups", "group", problems, name):
        group_id = _text(item, "id", path, problems, name, required=True)
        kind = _one_of(item, "kind", KINDS, path, problems, name)
        group_name = _text(item, "name", path, problems, name, required=True)
        if group_id in groups:
            problems.add(name, None, f"{path}.id", f"duplicate group id '{group_id}'", FIX)
            continue
        group = MisGroup(
            group_id,
            kind or GroupKind.TEACHING,
            group_name,
            course_code=_text(item, "course_code", path, problems, name),
            subject=_text(item, "subject", path, problems, name),
        )
        for position, entry in enumerate(_list(item, f"{path}.students", problems, name)):
            student_path = f"{path}.students[{position}]"
            current = True
            student = entry
            if isinstance(entry, dict):
                student = entry.get("id")
                current = _current(entry, student_path, problems, name, as_of)
            if not isinstance(student, str):
                problems.add(
                    name,
                    None,
                    student_path,
                    "each student must be a person id, or an object with the id under 'id'",
                    FIX,
                )
                continue
            if student in rejected:
                continue
            if student not in people:
                problems.add(
                    name,
                    None,
                    student_path,
                    f"person '{student}' is not in people",
                    FIX,
                )
                continue
            if not current:
                parts.enrolments_out_of_date += 1
                continue
            group.students.add(student)
        for position, link in enumerate(_list(item, f"{path}.staff", problems, name)):
            staff_path = f"{path}.staff[{position}]"
            staff_id = link.get("id") if isinstance(link, dict) else None
            if isinstance(staff_id, str) and staff_id in rejected:
                continue
            if not isinstance(staff_id, str) or staff_id not in people:
                problems.add(
                    name,
                    None,
                    staff_path,
                    "each staff entry needs the id of a person in people",
                    FIX,
                )
                continue
            role = ROLES.get(str(link.get("role", "teacher")).lower())
            if role is None:
                problems.add(
                    name, None, f"{staff_path}.role", f"unknown role '{link.get('role')}'", FIX
                )
                continue
            if not _current(link, staff_path, problems, name, as_of):
                parts.enrolments_out_of_date += 1
                continue
            group.staff.append(StaffLink(staff_id, role, link.get("primary") is True))
        if group_id and kind is not None:
            groups[group_id] = group


def _current(entry: dict[str, Any], path: str, problems: Problems, name: str, as_of: date) -> bool:
    """Whether an enrolment's optional begin_date and end_date hold on `as_of`."""
    bounds: list[date | None] = []
    for key in DATE_KEYS:
        value = entry.get(key)
        bound = None
        if isinstance(value, str) and value.strip():
            try:
                bound = parse_date(value)
            except ValueError as error:
                problems.add(name, None, f"{path}.{key}", str(error), FIX)
        elif value not in (None, ""):
            problems.add(
                name,
                None,
                f"{path}.{key}",
                f'{key} must be a date such as "2025-09-01", not {value!r}',
                FIX,
            )
        bounds.append(bound)
    return is_current(bounds[0], bounds[1], as_of)
