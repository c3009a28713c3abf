"""`make demo`: two nights of a generated secondary school, end to end on this machine.

    python -m local.demo                     # 600 pupils; reports in .demo/night-{1,2}.json
    python -m local.demo --students 1000 --verbose

Starts Azurite, the Graph emulator and the Service Bus stand-in, sets the school up, runs night
one through the real function handlers, makes a known set of changes (in the MIS export, and by
hand in Microsoft 365), runs night two, and checks that night two did exactly those changes.
Exits 1 if it did not. Everything it started is stopped on the way out, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import math
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.host import HostSettings
from local.mis_changes import GroupChange, MisChanges, apply_demo_changes, plain_people
from local.sample_school import generate_school
from local.stack import (
    LocalStack,
    NightOutcome,
    SeededSchool,
    current_academic_year,
    nights_from_today,
    start_stack,
)
from shared.graph.config import TENANT_WRITE_WINDOW_SECONDS, default_write_budget

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = REPO_ROOT / ".demo"
DEMO_STUDENTS = 600
DEMO_SEED = 1
# Graph's write quota would make night one of even a small school last minutes (about 3,000
# write units per 150 s); the demo raises it in the emulator and the app alike, and says how
# long the night would take at the real quota.
DEMO_WRITE_QUOTA = 1_000_000
# Four instances of host.json's four concurrent calls each, as a scaled-out app would run.
DEMO_CONCURRENT_CALLS = 16
DEPUTY_HEAD = "deputy.head"
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DirectChanges:
    """What the demo changes by hand in Microsoft 365 between the nights."""

    member_group: str  # MIS group id of the group a member was added to
    member: str  # MIS id of the pupil added
    member_user: str
    owner_group: str
    owner_upn: str
    owner_user: str


@dataclass(frozen=True, slots=True)
class Check:
    what: str
    ok: bool
    detail: str = ""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local.demo", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--students", type=int, default=DEMO_STUDENTS, help="pupils in the school")
    parser.add_argument("--seed", type=int, default=DEMO_SEED)
    parser.add_argument("--out", type=Path, default=DEMO_DIR, help="where the reports go")
    parser.add_argument("--verbose", action="store_true", help="log every run and group")
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)

    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    _say("Starting Azurite, the Graph emulator and the Service Bus stand-in...")
    try:
        with start_stack(
            log_dir=args.out / "logs",
            graph_options=("--write-quota", str(DEMO_WRITE_QUOTA)),
            extra_env={"GRAPH_WRITE_BUDGET": str(DEMO_WRITE_QUOTA)},
            host_settings=dataclasses.replace(
                HostSettings.load(), max_concurrent_calls=DEMO_CONCURRENT_CALLS
            ),
        ) as stack:
            checks = asyncio.run(_demo_then_close(stack, args))
    except KeyboardInterrupt:
        _say("\nInterrupted: everything the demo started has been stopped.")
        return 130
    failed = [check for check in checks if not check.ok]
    _say(f"\nEverything stopped. The demo took {time.monotonic() - started:.0f} s.")
    if failed:
        _say(f"{len(failed)} of {len(checks)} expectations FAILED; see above.")
        return 1
    _say(f"All {len(checks)} expectations met.")
    return 0


async def _demo_then_close(stack: LocalStack, args: argparse.Namespace) -> list[Check]:
    try:
        return await _demo(stack, args)
    finally:
        await stack.close_host()


async def _demo(stack: LocalStack, args: argparse.Namespace) -> list[Check]:
    school = generate_school(
        args.students, seed=args.seed, academic_year_start=current_academic_year()
    )
    seeded = stack.seed_school(school, extra_users=[f"{DEPUTY_HEAD}@{school.domain}"])
    _say(
        f"School {seeded.school_id} ({school.name}): {len(school.students)} pupils, "
        f"{len(school.staff)} staff, {len(school.classes)} classes in the MIS export; "
        f"{len(seeded.user_ids)} directory users; admin owner {seeded.admin_upns[0]}."
    )
    first_night, second_night = nights_from_today(2)

    _say("\nNight one: the nightly timer fires, the functions plan and reconcile every group.")
    night_one = await stack.run_night(first_night)
    report_one = night_report(night_one, seeded)
    _print_report("Night one", report_one)
    _write(args.out / "night-1.json", report_one)

    changes = apply_demo_changes(school)
    stack.upload(changes.school, school_id=seeded.school_id)
    direct = _change_by_hand(stack, seeded, night_one, changes)
    _say("\nBetween the nights, the MIS export changes:")
    for line in changes.describe():
        _say(f"  - {line}")
    _say("and someone changes Microsoft 365 by hand, through Graph:")
    names = _group_names(night_one, seeded)
    _say(f"  - pupil {direct.member} added as a member of {names[direct.member_group]}")
    _say(f"  - {direct.owner_upn} added as an owner of {names[direct.owner_group]}")

    _say("\nNight two.")
    night_two = await stack.run_night(second_night)
    report_two = night_report(night_two, seeded)
    _print_report("Night two", report_two, _reasons(changes, direct))
    _write(args.out / "night-2.json", report_two)
    _say(f"\nReports written to {args.out}/night-1.json and night-2.json.")

    checks = [
        *_check_night_one(night_one),
        *_check_night_two(stack, seeded, night_two, changes, direct),
    ]
    _say("\nWhat the demo checks:")
    for check in checks:
        mark = "ok    " if check.ok else "FAILED"
        _say(f"  {mark} {check.what}" + (f" ({check.detail})" if check.detail else ""))
    return checks


def _change_by_hand(
    stack: LocalStack, seeded: SeededSchool, night: NightOutcome, changes: MisChanges
) -> DirectChanges:
    """One member and one owner added directly, to groups the MIS changes leave alone."""
    mappings = {m.mis_group_id: m for m in night.mappings[seeded.school_id]}
    untouched = [group_id for group_id in sorted(mappings) if group_id not in changes.groups]
    registration = [g for g in untouched if mappings[g].kind == "registration"]
    teaching = [g for g in untouched if mappings[g].kind == "teaching"]
    member_group, owner_group = registration[0], teaching[-1]

    members = set(stack.emulator.group(mappings[member_group].graph_id)["members"])
    gone = {changes.leaver, *changes.moved_pupils, *changes.new_set_pupils}
    pupil = next(
        person
        for person in plain_people(changes.school)
        if person.role == "student"
        and person.sourced_id not in gone
        and seeded.user_id(person.upn) not in members
    )
    member_user = seeded.user_id(pupil.upn)
    stack.emulator.add_member(mappings[member_group].graph_id, member_user)

    owner_upn = f"{DEPUTY_HEAD}@{seeded.school.domain}"
    owner_user = seeded.user_id(owner_upn)
    stack.emulator.add_owner(mappings[owner_group].graph_id, owner_user)
    return DirectChanges(
        member_group, pupil.sourced_id, member_user, owner_group, owner_upn, owner_user
    )


# --- the report -------------------------------------------------------------------------------


def night_report(night: NightOutcome, seeded: SeededSchool) -> dict[str, Any]:
    """One night as a school IT admin reads it: JSON-safe, ids and counts, no pupil names."""
    run = night.run(seeded.school_id)
    rows = night.results.get(seeded.school_id, [])
    kinds = {m.mis_group_id: m.kind for m in night.mappings.get(seeded.school_id, [])}
    summary = run.summary
    changed = night.changed(seeded.school_id)
    outcomes = Counter(row.outcome for row in rows)
    counters = night.counters
    quota_per_second = default_write_budget(1) / TENANT_WRITE_WINDOW_SECONDS
    return {
        "night": night.night.isoformat(),
        "school": seeded.school_id,
        "run_id": run.run_id,
        "status": run.status.value,
        "error": run.error,
        "warnings": list(summary.get("warnings", [])),
        "export_id": summary.get("export_id"),
        "groups": {
            "in_mis": summary.get("groups", len(rows)),
            "by_kind": dict(
                sorted(Counter(kinds.get(row.mis_group_id, "?") for row in rows).items())
            ),
            "created": sum(1 for row in rows if row.created),
            "changed": sum(1 for row in changed.values() if not row.created),
            "in_line": outcomes.get("in line", 0),
            "outcomes": dict(sorted(outcomes.items())),
        },
        "members": {
            "added": sum(row.members_added for row in rows),
            "removed": sum(row.members_removed for row in rows),
        },
        "owners": {
            "added": sum(row.owners_added for row in rows),
            "removed": sum(row.owners_removed for row in rows),
        },
        "held_removals": sum(row.held_removals for row in rows),
        "people": {
            "not_matched": summary.get("people_not_matched", 0),
            "inactive_left_out": summary.get("inactive_people", 0),
            "directory_users": summary.get("directory_users", 0),
        },
        "errors": [f"{row.mis_group_id}: {error}" for row in rows for error in row.errors],
        "timings": {
            "plan_seconds": summary.get("timings", {}).get("total"),
            "steps": summary.get("timings", {}),
            "night_seconds": round(night.wall_seconds, 2),
            "seconds_at_real_write_quota": math.ceil(counters.get("writes", 0) / quota_per_second),
        },
        "graph": {
            "requests": counters.get("requests", 0),
            "batch_subrequests": counters.get("batch_subrequests", 0),
            "write_units": counters.get("writes", 0),
            "throttled": counters.get("throttled", 0),
        },
        "service_bus": night.drain.to_dict(),
        "changed_groups": [
            {
                "mis_group_id": row.mis_group_id,
                "name": row.display_name,
                "kind": kinds.get(row.mis_group_id, "?"),
                "outcome": row.outcome,
                **dataclasses.asdict(GroupChange.of(row)),
                "errors": list(row.errors),
            }
            for row in sorted(changed.values(), key=lambda row: row.display_name)
        ],
    }


def _print_report(
    title: str, report: dict[str, Any], reasons: dict[str, str] | None = None
) -> None:
    groups, graph, people = report["groups"], report["graph"], report["people"]
    bus = report["service_bus"]
    kinds = ", ".join(f"{kind} {count}" for kind, count in groups["by_kind"].items())
    _say(f"{title} ({report['night']}), school {report['school']}: run {report['status']}")
    if report["error"]:
        _say(f"  Error: {report['error']}")
    for warning in report["warnings"]:
        _say(f"  Warning:  {warning}")
    _say(f"  Groups:   {groups['in_mis']} in the MIS ({kinds})")
    _say(
        f"            {groups['created']} created, {groups['changed']} changed, "
        f"{groups['in_line']} already in line"
    )
    _say(
        f"  Members:  {report['members']['added']:,} added, {report['members']['removed']:,} "
        f"removed   Owners: {report['owners']['added']:,} added, "
        f"{report['owners']['removed']:,} removed"
    )
    _say(
        f"  People:   {people['not_matched']} not matched to a directory user (reported, never "
        f"guessed); {people['inactive_left_out']} inactive in the MIS, left out"
    )
    if report["held_removals"]:
        _say(f"  Held:     {report['held_removals']} removals held for an admin to release")
    for error in report["errors"][:10]:
        _say(f"  Error:    {error}")
    _say(
        f"  Graph:    {graph['requests']:,} requests ({graph['batch_subrequests']:,} inside "
        f"batches), {graph['write_units']:,} write units, {graph['throttled']} throttled"
    )
    handled = sum(bus["completed"].values())
    queues = ", ".join(f"{queue} {count}" for queue, count in sorted(bus["completed"].items()))
    _say(
        f"  Messages: {handled} handled ({queues}), {sum(bus['dead_lettered'].values())} "
        "dead-lettered"
    )
    timings = report["timings"]
    _say(
        f"  Time:     {timings['night_seconds']:.1f} s for the night (planning "
        f"{timings['plan_seconds'] or 0:.1f} s); at Graph's real write quota at least "
        f"{timings['seconds_at_real_write_quota']} s"
    )
    if 0 < len(report["changed_groups"]) <= 30:
        _say("  Changes:")
        for group in report["changed_groups"]:
            why = (reasons or {}).get(group["mis_group_id"], "")
            _say(f"    {group['name']:<20} {_change_text(group):<44} {why}".rstrip())


def _reasons(changes: MisChanges, direct: DirectChanges) -> dict[str, str]:
    """Why each group changed on night two, in the admin's words."""
    reasons = {group_id: "the leaver left" for group_id in changes.leaver_groups}
    reasons.update(
        {
            changes.moved_from: "pupils moved out",
            changes.moved_to: "pupils moved in",
            changes.new_set: "new set in the MIS",
            changes.swapped_set: "teacher swap: new owner first, then the old one out",
            direct.member_group: "the member added by hand removed",
        }
    )
    return reasons


def _change_text(group: dict[str, Any]) -> str:
    parts = ["created"] if group["created"] else []
    for key, text in (
        ("members_added", "+{} members"),
        ("members_removed", "-{} members"),
        ("owners_added", "+{} owners"),
        ("owners_removed", "-{} owners"),
    ):
        if group[key]:
            parts.append(text.format(group[key]))
    parts.extend(f"error: {error}" for error in group["errors"])
    return ", ".join(parts)


# --- the checks ---------------------------------------------------------------------------------


def _check_night_one(night: NightOutcome) -> list[Check]:
    run = night.run()
    rows = night.group_results()
    summary = run.summary
    return [
        Check("night one finished", run.status.value == "done", run.error),
        Check(
            "night one created every group",
            sum(1 for row in rows.values() if row.created) == summary.get("groups"),
            f"{sum(1 for row in rows.values() if row.created)} of {summary.get('groups')}",
        ),
        Check(
            "night one had no errors and nothing dead-lettered",
            not any(row.errors for row in rows.values()) and not night.drain.dead_lettered,
        ),
    ]


def _check_night_two(
    stack: LocalStack,
    seeded: SeededSchool,
    night: NightOutcome,
    changes: MisChanges,
    direct: DirectChanges,
) -> list[Check]:
    run = night.run(seeded.school_id)
    changed = night.changed(seeded.school_id)
    expected = changes.expected(admin_owners=len(seeded.admin_upns))
    expected[direct.member_group] = expected.get(direct.member_group, GroupChange()) + GroupChange(
        members_removed=1
    )
    actual = {group_id: GroupChange.of(row) for group_id, row in changed.items()}
    wrong = sorted(
        group_id
        for group_id in set(expected) | set(actual)
        if expected.get(group_id) != actual.get(group_id)
    )
    mappings = {m.mis_group_id: m for m in night.mappings[seeded.school_id]}
    groups = {g["id"]: g for g in stack.emulator.groups()}

    def group_of(mis_group_id: str) -> dict[str, Any]:
        return groups.get(mappings[mis_group_id].graph_id, {"members": [], "owners": []})

    def user(person_id: str) -> str:
        return seeded.person_user_id(person_id)

    new_teacher, old_teacher = user(changes.new_teacher), user(changes.old_teacher)
    order = stack.emulator.link_changes(mappings[changes.swapped_set].graph_id)
    added_at = _sequence(order, new_teacher, "owners", added=True)
    removed_at = _sequence(order, old_teacher, "owners", added=False)
    leaver = user(changes.leaver)
    return [
        Check("night two finished", run.status.value == "done", run.error),
        Check(
            "night two changed exactly the expected groups by exactly the expected counts",
            not wrong,
            f"{len(actual)} groups changed; differing: {', '.join(wrong)}" if wrong else "",
        ),
        Check(
            "the member added by hand was removed",
            direct.member_user not in group_of(direct.member_group)["members"],
        ),
        Check(
            "the owner added by hand was kept",
            direct.owner_user in group_of(direct.owner_group)["owners"],
        ),
        Check(
            "the moved pupils left their old set and joined the new one",
            all(
                user(p) not in group_of(changes.moved_from)["members"] for p in changes.moved_pupils
            )
            and all(user(p) in group_of(changes.moved_to)["members"] for p in changes.moved_pupils),
        ),
        Check(
            "the new set was created with its pupils and teacher",
            changes.new_set in mappings
            and set(map(user, changes.new_set_pupils)) <= set(group_of(changes.new_set)["members"])
            and user(changes.new_set_teacher) in group_of(changes.new_set)["owners"],
        ),
        Check(
            "the new teacher was added as owner before the old one was removed",
            added_at is not None and removed_at is not None and added_at < removed_at,
            f"owner added at change {added_at}, old owner removed at change {removed_at}",
        ),
        Check(
            "the leaver is in no group any more",
            all(leaver not in group["members"] for group in groups.values()),
        ),
        Check(
            "night two had no errors and nothing dead-lettered",
            not any(row.errors for row in changed.values()) and not night.drain.dead_lettered,
        ),
    ]


def _sequence(
    changes: list[dict[str, Any]], user_id: str, relation: str, *, added: bool
) -> int | None:
    for change in changes:
        if (
            change["user"] == user_id
            and change["relation"] == relation
            and change["added"] is added
        ):
            return change["sequence"]
    return None


# --- plumbing ---------------------------------------------------------------------------------


def _group_names(night: NightOutcome, seeded: SeededSchool) -> dict[str, str]:
    return {m.mis_group_id: m.name_at_creation for m in night.mappings[seeded.school_id]}


def _write(path: Path, report: dict[str, Any]) -> None:
    path.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")


def _say(text: str) -> None:
    print(text, flush=True)


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # The Azure SDKs log every request and AMQP state change at INFO; the stand-ins closing
    # their connections at the end shows as SDK warnings that mean nothing here.
    for noisy in ("azure", "uamqp", "httpx"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


if __name__ == "__main__":
    sys.exit(main())
