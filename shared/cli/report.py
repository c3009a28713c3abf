"""`groupsync report`: the last runs, with what each did to each group (R1).

    groupsync report                      # the last runs of every school
    groupsync report --school 4001 --runs 3 --json

Reads the state store only; exit code 0, or 1 when the newest run shown failed or was blocked.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

DEFAULT_RUNS = 5
# Group results printed per run in text mode; --json always has them all.
MAX_GROUPS_PRINTED = 50
_COUNTS = (
    ("members_added", "+m"),
    ("members_removed", "-m"),
    ("owners_added", "+o"),
    ("owners_removed", "-o"),
    ("not_matched", "?"),
    ("held_removals", "held"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--school", metavar="ID", help="one school (default: all)")
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS, help="how many runs")
    parser.add_argument("--json", action="store_true", help="print as JSON")


def run(args: argparse.Namespace) -> int:
    from shared.usecases.queries import list_runs, run_group_results
    from shared.usecases.services import Services

    services = Services.from_env(os.environ)
    try:
        runs = list_runs(services, args.school, args.runs)
        reports = [
            (run, run_group_results(services, run["school_id"], run["run_id"])) for run in runs
        ]
    finally:
        services.state.close()

    if args.json:
        document = [{"run": run, "groups": groups} for run, groups in reports]
        print(json.dumps(document, indent=2, default=str))
    elif not reports:
        print("no runs yet" + (f" for school {args.school}" if args.school else ""))
    for run, groups in [] if args.json else reports:
        print_run(run, groups)
        print()
    newest = reports[0][0] if reports else None
    return 1 if newest and newest["status"] in ("failed", "blocked") else 0


def print_run(run: dict[str, Any], groups: list[dict[str, Any]]) -> None:
    """A run and its groups as text, for people."""
    summary = run.get("summary") or {}
    print(
        f"school {run['school_id']}  run {run['run_id']}  {run['trigger']}  {run['status']}  "
        f"started {run['started_at']}"
    )
    if run.get("error"):
        print(f"  error: {run['error']}")
    for warning in summary.get("warnings", []):
        print(f"  warning: {warning}")
    if summary.get("loss_approval"):
        print(f"  {_approval_line(summary['loss_approval'])}")
    figures = [
        f"{name.replace('_', ' ')} {summary[name]}"
        for name in (
            "groups",
            "groups_to_create",
            "groups_to_change",
            "groups_in_line",
            "groups_missing",
            "people_not_matched",
            "dispatched",
        )
        if name in summary
    ]
    if figures:
        print("  " + ", ".join(figures))
    for group in sorted(groups, key=lambda g: g["mis_group_id"])[:MAX_GROUPS_PRINTED]:
        counts = " ".join(f"{label}{group[key]}" for key, label in _COUNTS if group.get(key))
        errors = f"  errors: {len(group['errors'])}" if group.get("errors") else ""
        name = group.get("display_name") or group["mis_group_id"]
        print(f"  {group['outcome']:<18} {name:<40} {counts}{errors}")
    if len(groups) > MAX_GROUPS_PRINTED:
        print(f"  ... and {len(groups) - MAX_GROUPS_PRINTED} more groups (use --json)")


def _approval_line(approval: dict[str, Any]) -> str:
    """Who approved a loss past the safety limits (X1), for which export, and whether it held."""
    who = approval.get("requested_by") or "an admin"
    export = approval.get("export_id") or "(none named)"
    if approval.get("applied"):
        blocked = approval.get("blocked_run")
        return f"loss approved by {who} for export {export}" + (
            f" (blocked in run {blocked})" if blocked else ""
        )
    if approval.get("note"):
        return f"loss approval by {who}: {approval['note']}"
    return f"loss approval by {who} for export {export} did not apply"
