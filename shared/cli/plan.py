"""`groupsync plan`: what a run would change, group by group, without changing anything.

    groupsync plan --mis exports/4001 --settings school.json
    groupsync plan --mis exports/trust.zip --settings 4003.json --school org-4003 --json

The plan is made against an empty tenant: every desired group is a creation, and people
stand for themselves by their match value (e.g. their UPN). Exit code 0 for a plan, 2 when
the settings or the MIS export are invalid.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from shared.domain.settings import SchoolSettings, SettingsError
from shared.domain.snapshot import GroupKind
from shared.mis import FORMATS, MisExportError, read_mis_export
from shared.planner import GroupPreview, SchoolPreview, preview_empty_tenant

EXIT_OK = 0
EXIT_INVALID = 2
# Enough ids to find the pattern; the full list is in --json.
MAX_UNMATCHED_SHOWN = 20
KIND_ORDER = {kind: position for position, kind in enumerate(GroupKind)}


class SettingsFileError(Exception):
    """The settings file cannot be read as JSON."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mis", type=Path, required=True, help="MIS export: folder or zip")
    parser.add_argument("--settings", type=Path, required=True, help="school settings (JSON)")
    parser.add_argument("--format", choices=sorted(FORMATS), help="export format if not detected")
    parser.add_argument("--school", help="MIS id of the school, for a trust export")
    parser.add_argument("--json", action="store_true", help="the complete plan as JSON")


def load_settings(path: Path) -> SchoolSettings:
    """Read a settings file; raises SettingsFileError or SettingsError naming the problem."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as error:
        raise SettingsFileError(
            f"cannot read settings file {path}: {error.strerror}; check the path"
        ) from None
    except json.JSONDecodeError as error:
        raise SettingsFileError(
            f"settings file {path} line {error.lineno}, column {error.colno}: {error.msg}; "
            "fix the JSON"
        ) from None
    return SchoolSettings.from_dict(data)


def plan_empty_tenant(
    mis: Path,
    settings: SchoolSettings,
    *,
    format: str | None = None,
    school_id: str | None = None,
) -> SchoolPreview:
    """Read and validate the export, then plan it against an empty tenant."""
    snapshot = read_mis_export(
        mis,
        format=format,
        school_id=school_id,
        registration_pattern=settings.registration_pattern,
    )
    return preview_empty_tenant(snapshot, settings)


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        settings = load_settings(args.settings)
        preview = plan_empty_tenant(args.mis, settings, format=args.format, school_id=args.school)
    except (SettingsFileError, SettingsError, MisExportError) as error:
        print(f"error: {error}", file=err)
        return EXIT_INVALID

    if args.json:
        json.dump(plan_document(preview), out, indent=2)
        out.write("\n")
    else:
        out.write(render_text(preview))
    return EXIT_OK


def plan_document(preview: SchoolPreview) -> dict[str, Any]:
    return {"tenant": "empty", **preview.to_dict()}


def _group_line(group: GroupPreview) -> str:
    desired, plan = group.desired, group.plan
    action = "create" if plan.create else ("change" if plan.has_changes else "in line")
    notes = []
    if group.unmatched_people:
        notes.append(f"not matched {len(group.unmatched_people)}")
    if group.unmatched_admins:
        notes.append(f"admin owners not found {len(group.unmatched_admins)}")
    if desired.inactive_left_out:
        notes.append(f"inactive {desired.inactive_left_out}")
    if plan.held_members:
        notes.append(f"removals held {len(plan.held_members)} ({plan.member_loss:.0%} loss)")
    counts = f"owners {len(plan.add_owners):>3}  members {len(plan.add_members):>4}"
    line = f"  {action:<7} {desired.kind.value:<12} {desired.display_name:<40} {counts}"
    return f"{line}  {', '.join(notes)}".rstrip() + "\n"


def _ordered(groups: Iterable[GroupPreview]) -> list[GroupPreview]:
    return sorted(groups, key=lambda g: (KIND_ORDER[g.desired.kind], g.desired.display_name))


def render_text(preview: SchoolPreview) -> str:
    """One line a group, then the totals; ids only, never a pupil's name."""
    totals = preview.totals()
    year = preview.academic_year
    lines = [
        f"Plan for school {preview.school_id}, academic year {year}/{(year + 1) % 100:02d}, "
        "against an empty tenant\n"
    ]
    if preview.check.blocked:
        lines.append(f"BLOCKED: {preview.check.reason}\n")
    lines.extend(_group_line(group) for group in _ordered(preview.groups))

    by_kind = ", ".join(f"{k} {n}" for k, n in totals["groups_to_create_by_kind"].items() if n)
    lines.append(
        f"Totals: {totals['groups_to_create']} groups to create ({by_kind or 'none'}); "
        f"{totals['owners_to_add']} owners and {totals['members_to_add']} members to add; "
        f"{totals['people_not_matched']} people not matched; "
        f"{totals['inactive_people']} inactive people left out.\n"
    )
    if preview.unmatched_people:
        shown = list(preview.unmatched_people[:MAX_UNMATCHED_SHOWN])
        more = len(preview.unmatched_people) - len(shown)
        tail = f" and {more} more (see --json)" if more else ""
        lines.append(f"Not matched (MIS ids): {', '.join(shown)}{tail}\n")
    return "".join(lines)
