"""`python -m local.sample_school`: write a sample school or trust as OneRoster 1.1 CSV."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from local.sample_school.generate import (
    DEFAULT_ACADEMIC_YEAR_START,
    generate_school,
    generate_trust,
)
from local.sample_school.oneroster import write_oneroster


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local.sample_school",
        description="Write a made-up UK secondary school as a OneRoster 1.1 CSV export.",
    )
    parser.add_argument("--students", type=int, default=2000, help="pupils in total")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--schools", type=int, default=1, help="more than 1: a trust export")
    parser.add_argument(
        "--year",
        type=int,
        default=DEFAULT_ACADEMIC_YEAR_START,
        help="academic year start, e.g. 2025 for 2025/26",
    )
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    args = parser.parse_args(argv)
    if args.students < 0 or args.schools < 1:
        parser.error("--students must be 0 or more and --schools at least 1")

    started = time.perf_counter()
    if args.schools == 1:
        schools = [generate_school(args.students, args.seed, academic_year_start=args.year)]
    else:
        schools = generate_trust(
            args.schools, args.students, args.seed, academic_year_start=args.year
        )
    write_oneroster(schools, args.out)
    people = sum(len(s.people) for s in schools)
    classes = sum(len(s.classes) for s in schools)
    enrolments = sum(len(s.enrollments) for s in schools)
    print(
        f"wrote {args.out}: {len(schools)} school(s), {people} people, {classes} classes, "
        f"{enrolments} enrolments in {time.perf_counter() - started:.2f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
