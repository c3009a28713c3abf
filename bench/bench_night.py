"""A whole night through the whole local stack: the timer, Service Bus, the three functions,
Graph (the emulator) and state (Azurite), for a 2,000-pupil school.

    python -m bench night
    python -m bench.bench_night --measure 2000      # one measurement, JSON out

Night one creates and fills every group: wall time, Graph work against the least the plan
allows, Service Bus messages and the host process's peak memory. Night two follows with no
MIS change at all: it must write nothing and read within ceil(2G/20) + ceil(U/999) + 3
requests for G groups and U directory users.

The measurement runs in a subprocess of its own, so peak memory is the host's alone (Azurite,
the emulator and the bus are its children, not counted). The emulator's write quota and the
app's write budget are raised: at Graph's real quota the first night is paced by the quota,
and the figures say how long that would take instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
STUDENTS = 2_000
SEED = 1
RAISED_WRITE_QUOTA = 1_000_000
LINKS_PER_REQUEST = 20
GROUPS_READ_PER_BATCH = 20  # a group's members and owners are two reads, 20 reads to a batch
USERS_PER_PAGE = 999
NO_CHANGE_READ_ALLOWANCE = 3
BATCH_ROUTE = "POST /$batch"


def _peak_mb() -> float:
    # Linux reports ru_maxrss in kilobytes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def operations(counters: dict[str, Any]) -> int:
    """Graph operations: every request inside a batch, plus every request sent on its own."""
    batches = counters.get("by_route", {}).get(BATCH_ROUTE, 0)
    return counters.get("batch_subrequests", 0) + counters.get("requests", 0) - batches


def first_night_lower_bound(rows: list[Any], users: int) -> dict[str, int]:
    """The fewest Graph operations night one's plan allows: one creation per new group (its
    owners bound in the creation, up to 20), one PATCH per 20 further links, and the
    directory read 999 users a page."""
    creations = sum(1 for row in rows if row.created)
    patches = 0
    for row in rows:
        bound = min(row.owners_added, LINKS_PER_REQUEST) if row.created else 0
        links = row.members_added + row.owners_added - bound
        patches += math.ceil(links / LINKS_PER_REQUEST)
    reads = math.ceil(users / USERS_PER_PAGE)
    return {
        "creations": creations,
        "link_patches": patches,
        "reads": reads,
        "total": creations + patches + reads,
    }


def no_change_read_bound(groups: int, users: int) -> int:
    return (
        math.ceil(2 * groups / GROUPS_READ_PER_BATCH)
        + math.ceil(users / USERS_PER_PAGE)
        + NO_CHANGE_READ_ALLOWANCE
    )


def measure(students: int) -> dict[str, Any]:
    """Two nights of one generated school on a fresh local stack; figures as a dict."""
    from local.sample_school import generate_school
    from local.stack import current_academic_year, nights_from_today, start_stack
    from shared.graph.config import TENANT_WRITE_WINDOW_SECONDS, default_write_budget

    raised = str(RAISED_WRITE_QUOTA)
    with start_stack(
        graph_options=("--write-quota", raised), extra_env={"GRAPH_WRITE_BUDGET": raised}
    ) as stack:
        school = generate_school(students, seed=SEED, academic_year_start=current_academic_year())
        seeded = stack.seed_school(school)
        baseline_mb = _peak_mb()
        first, second = nights_from_today(2)

        async def nights():
            try:
                return await stack.run_night(first), await stack.run_night(second)
            finally:
                await stack.close_host()

        night_one, night_two = asyncio.run(nights())
        peak_mb = _peak_mb()

    rows = night_one.results[seeded.school_id]
    users = night_one.run().summary.get("directory_users", 0)
    bound = first_night_lower_bound(rows, users)
    writes = night_one.counters["writes"]
    quota_per_second = default_write_budget(1) / TENANT_WRITE_WINDOW_SECONDS
    groups_two = len(night_two.results[seeded.school_id])
    return {
        "students": students,
        "groups": len(rows),
        "directory_users": users,
        "first_night": {
            "wall_s": round(night_one.wall_seconds, 2),
            "plan_s": night_one.run().summary.get("timings", {}).get("total"),
            "graph_http_requests": night_one.counters["requests"],
            "graph_operations": operations(night_one.counters),
            "lower_bound_operations": bound,
            "operations_over_bound": round(operations(night_one.counters) / bound["total"], 3),
            "write_units": writes,
            "throttled": night_one.counters["throttled"],
            "seconds_at_real_write_quota": math.ceil(writes / quota_per_second),
            "servicebus_messages": sum(night_one.drain.completed.values())
            + sum(night_one.drain.dead_lettered.values()),
            "servicebus_by_queue": dict(night_one.drain.completed),
            "abandoned": sum(night_one.drain.abandoned.values()),
            "members_added": sum(row.members_added for row in rows),
            "owners_added": sum(row.owners_added for row in rows),
            "errors": sum(len(row.errors) for row in rows),
        },
        "no_change_night": {
            "wall_s": round(night_two.wall_seconds, 2),
            "graph_http_requests": night_two.counters["requests"],
            "read_bound": no_change_read_bound(groups_two, users),
            "write_units": night_two.counters["writes"],
            "servicebus_messages": sum(night_two.drain.completed.values()),
        },
        "host_baseline_mb": round(baseline_mb, 1),
        "host_peak_mb": round(peak_mb, 1),
    }


def main() -> dict[str, Any]:
    print(f"two nights of a {STUDENTS:,}-pupil school through the whole local stack")
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "bench.bench_night", "--measure", str(STUDENTS)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    one, two = figures["first_night"], figures["no_change_night"]
    bound = one["lower_bound_operations"]
    print(
        f"night one: {figures['groups']} groups, {one['members_added']:,} members and "
        f"{one['owners_added']:,} owners added in {one['wall_s']:.1f} s "
        f"(planning {one['plan_s'] or 0:.1f} s; at Graph's real write quota at least "
        f"{one['seconds_at_real_write_quota']} s)"
    )
    print(
        f"  Graph: {one['graph_operations']:,} operations in {one['graph_http_requests']:,} "
        f"HTTP requests; lower bound {bound['total']:,} ({bound['creations']} creations + "
        f"{bound['link_patches']:,} link PATCHes + {bound['reads']} reads) = "
        f"{one['operations_over_bound']:.2f}x; {one['write_units']:,} write units, "
        f"{one['throttled']} throttled"
    )
    print(
        f"  Service Bus: {one['servicebus_messages']} messages {one['servicebus_by_queue']}, "
        f"{one['abandoned']} abandoned; host peak memory {figures['host_peak_mb']:.0f} MB "
        f"(after seeding {figures['host_baseline_mb']:.0f} MB)"
    )
    within = two["graph_http_requests"] <= two["read_bound"] and two["write_units"] == 0
    print(
        f"night two, no MIS change: {two['write_units']} write units, "
        f"{two['graph_http_requests']} Graph requests against a bound of {two['read_bound']} "
        f"({'met' if within else 'NOT met'}), {two['servicebus_messages']} messages, "
        f"{two['wall_s']:.1f} s"
    )
    figures["no_change_night"]["met"] = within
    figures["bench_wall_s"] = round(time.perf_counter() - started, 1)
    return figures


def _cli(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_night")
    parser.add_argument("--measure", type=int, metavar="STUDENTS", help="print one JSON result")
    args = parser.parse_args(argv)
    if args.measure is None:
        main()
        return 0
    print(json.dumps(measure(args.measure)))
    return 0


if __name__ == "__main__":
    raise SystemExit(_cli())
