"""The engine's cost without Graph: read + validate an MIS export, then plan every group.

    python -m bench engine
    python -m bench.bench_engine --measure /tmp/export      # one measurement, JSON out

Each size runs in its own process, so peak memory (ru_maxrss) belongs to that size alone.
Exports are generated first by local.sample_school; generation is not part of the figures.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SEED = 1
GROWTH_SIZES = (500, 2_000, 5_000, 20_000)
TRUST_STUDENTS = 20_000
TRUST_SCHOOLS = 10
TARGET_STUDENTS = 2_000
TARGET_SECONDS = 1.0
TARGET_PEAK_MB = 150.0


def _peak_mb() -> float:
    # Linux reports ru_maxrss in kilobytes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(export: Path) -> dict[str, Any]:
    """Read and validate the export once (every school of a trust in one pass), then plan
    every school against an empty tenant."""
    from shared.domain.settings import SchoolSettings
    from shared.mis import read_mis_exports
    from shared.planner import preview_empty_tenant

    baseline_mb = _peak_mb()
    started = time.perf_counter()
    snapshots = read_mis_exports(export)
    read_s = time.perf_counter() - started
    school_count = len(snapshots)
    plan_s = 0.0
    people = groups = members = 0
    for school_id in list(snapshots):
        snapshot = snapshots.pop(school_id)
        settings = SchoolSettings.from_dict(
            {"school_id": school_id, "admin_owners": ["it.admin@trust.example.org"]}
        )
        t1 = time.perf_counter()
        preview = preview_empty_tenant(snapshot, settings)
        plan_s += time.perf_counter() - t1
        people += len(snapshot.people)
        groups += len(preview.groups)
        members += preview.totals()["members_to_add"]
        del snapshot, preview
    return {
        "schools": school_count,
        "people": people,
        "groups": groups,
        "members": members,
        "read_s": round(read_s, 3),
        "plan_s": round(plan_s, 3),
        "total_s": round(time.perf_counter() - started, 3),
        "baseline_mb": round(baseline_mb, 1),
        "peak_mb": round(_peak_mb(), 1),
    }


def _generate(students: int, schools: int, out: Path) -> tuple[float, int]:
    from local.sample_school import generate_school, generate_trust, write_oneroster

    started = time.perf_counter()
    if schools == 1:
        generated = [generate_school(students, SEED)]
    else:
        generated = generate_trust(schools, students, SEED)
    write_oneroster(generated, out)
    enrolments = sum(len(school.enrollments) for school in generated)
    return time.perf_counter() - started, enrolments


def _run_size(students: int, schools: int, work: Path) -> dict[str, Any]:
    export = work / f"{students}x{schools}"
    generate_s, enrolments = _generate(students, schools, export)
    completed = subprocess.run(
        [sys.executable, "-m", "bench.bench_engine", "--measure", str(export)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(completed.stdout)
    return {
        "students": students,
        "enrolments": enrolments,
        "generate_s": round(generate_s, 3),
        **figures,
    }


def _print_table(rows: list[dict[str, Any]]) -> None:
    header = (
        f"{'students':>8} {'schools':>7} {'people':>7} {'groups':>7} {'enrolments':>10} "
        f"{'read s':>7} {'plan s':>7} {'total s':>8} {'peak MB':>8}"
    )
    print(header)
    for row in rows:
        print(
            f"{row['students']:>8} {row['schools']:>7} {row['people']:>7} {row['groups']:>7} "
            f"{row['enrolments']:>10} {row['read_s']:>7.3f} {row['plan_s']:>7.3f} "
            f"{row['total_s']:>8.3f} {row['peak_mb']:>8.1f}"
        )


def main() -> dict[str, Any]:
    print("read + validate + plan against an empty tenant; one process per size")
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp:
        work = Path(tmp)
        growth = [_run_size(students, 1, work) for students in GROWTH_SIZES]
        trust = _run_size(TRUST_STUDENTS, TRUST_SCHOOLS, work)
    _print_table([*growth, trust])

    target = next(row for row in growth if row["students"] == TARGET_STUDENTS)
    smallest, largest = growth[0], growth[-1]
    # 1.0 means time grows in proportion to students; above 1, faster than that.
    exponent = math.log(largest["total_s"] / smallest["total_s"]) / math.log(
        largest["students"] / smallest["students"]
    )
    meets = target["total_s"] < TARGET_SECONDS and target["peak_mb"] < TARGET_PEAK_MB
    print(
        f"{TARGET_STUDENTS} students: {target['total_s']:.3f} s, {target['peak_mb']:.0f} MB peak "
        f"(target under {TARGET_SECONDS:.0f} s and {TARGET_PEAK_MB:.0f} MB: "
        f"{'met' if meets else 'NOT met'}); growth exponent {exponent:.2f}; "
        f"trust of {TRUST_SCHOOLS} schools: {trust['total_s']:.2f} s"
    )
    return {
        "growth": growth,
        "trust": trust,
        "target_2000": {
            "total_s": target["total_s"],
            "peak_mb": target["peak_mb"],
            "met": meets,
        },
        "growth_exponent": round(exponent, 2),
    }


def _cli(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_engine")
    parser.add_argument("--measure", type=Path, help="measure one export and print JSON")
    args = parser.parse_args(argv)
    if args.measure is None:
        main()
        return 0
    print(json.dumps(measure(args.measure)))
    return 0


if __name__ == "__main__":
    raise SystemExit(_cli())
