"""`groupsync inspect PATH`: validate an MIS export and summarise what the sync would see.

    groupsync inspect exports/4001.zip
    groupsync inspect exports/trust --school 4001 --json

Exit code 0 when the export is valid, 2 when it is not (every problem is printed with its
file, line and column). Reads files only: no settings, no Azure, no Graph.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from shared.domain.snapshot import GroupKind, MisSnapshot, Role
from shared.mis import FORMATS, MisExportError, read_mis_export

EXIT_VALID = 0
EXIT_INVALID = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, help="export folder, .zip or JSON snapshot")
    parser.add_argument("--format", choices=FORMATS, help="skip format detection")
    parser.add_argument("--school", metavar="ID", help="school sourcedId or DfE number")
    parser.add_argument(
        "--registration-pattern",
        metavar="REGEX",
        help="marks registration groups by course code or title (formats with no class type)",
    )
    parser.add_argument("--json", action="store_true", help="print the full result as JSON")


def run(args: argparse.Namespace) -> int:
    try:
        snapshot = read_mis_export(
            args.path,
            format=args.format,
            school_id=args.school,
            registration_pattern=args.registration_pattern,
        )
    except MisExportError as error:
        if args.json:
            _print_json(
                {
                    "valid": False,
                    "problems": [problem.to_dict() for problem in error.problems],
                    "truncated": error.truncated,
                }
            )
        else:
            count = len(error.problems)
            more = " (stopped there; fix these first)" if error.truncated else ""
            print(f"INVALID: {count} problem{'s' if count != 1 else ''}{more}", file=sys.stdout)
            for problem in error.problems:
                print(f"  {problem}")
        return EXIT_INVALID

    summary = summarise(snapshot)
    if args.json:
        _print_json(summary)
    else:
        print(_text(summary))
    return EXIT_VALID


def summarise(snapshot: MisSnapshot) -> dict[str, Any]:
    """The figures an admin checks before trusting an export, as plain JSON-ready data."""
    in_a_group: set[str] = set()
    for group in snapshot.groups.values():
        in_a_group.update(group.students)
        in_a_group.update(link.person_id for link in group.staff)
    people = snapshot.people.values()
    by_role = Counter(person.role.value for person in people)
    inactive = Counter(person.role.value for person in people if not person.active)
    # Guardians are never group members, so they are not counted as left out.
    left_out = Counter(
        person.role.value
        for person in people
        if person.mis_id not in in_a_group and person.role is not Role.GUARDIAN
    )
    groups = Counter(group.kind.value for group in snapshot.groups.values())
    return {
        "valid": True,
        "format": snapshot.source_format,
        "school": {
            "id": snapshot.school.mis_id,
            "name": snapshot.school.name,
            "dfe_number": snapshot.school.dfe_number,
        },
        "academic_year_start": snapshot.academic_year_start,
        "groups": {kind.value: groups.get(kind.value, 0) for kind in GroupKind},
        "empty_groups": sum(
            1 for group in snapshot.groups.values() if not group.students and not group.staff
        ),
        "people": dict(sorted(by_role.items())),
        "inactive_people": dict(sorted(inactive.items())),
        "people_not_in_any_group": dict(sorted(left_out.items())),
        "warnings": list(snapshot.warnings),
        "problems": [],
    }


def _text(summary: dict[str, Any]) -> str:
    school = summary["school"]
    dfe = f", DfE {school['dfe_number']}" if school["dfe_number"] else ""
    year = summary["academic_year_start"]
    lines = [
        f"VALID: {school['name']} ({school['id']}{dfe}), {summary['format']}, "
        f"academic year {year}/{str(year + 1)[-2:]}",
        "Groups: " + _counts(summary["groups"]),
        f"Empty groups: {summary['empty_groups']}",
        "People: " + _counts(summary["people"]),
        "Inactive people: " + (_counts(summary["inactive_people"]) or "none"),
        "People not in any group: " + (_counts(summary["people_not_in_any_group"]) or "none"),
    ]
    if summary["warnings"]:
        lines.append("Warnings:")
        lines.extend(f"  {warning}" for warning in summary["warnings"])
    return "\n".join(lines)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items())


def _print_json(document: dict[str, Any]) -> None:
    print(json.dumps(document, indent=2, ensure_ascii=False))
