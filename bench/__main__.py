"""`python -m bench [NAME ...]`: run the benchmarks and write `bench/results/latest.json`.

    python -m bench            # every bench/bench_*.py
    python -m bench engine     # only bench/bench_engine.py

A benchmark that fails is recorded with its error and the others still run; the exit code
is 1 if any failed.
"""

from __future__ import annotations

import importlib
import json
import platform
import sys
import time
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results" / "latest.json"
PREFIX = "bench_"


def discover() -> list[str]:
    return sorted(path.stem[len(PREFIX) :] for path in BENCH_DIR.glob(f"{PREFIX}*.py"))


def main(argv: Sequence[str] | None = None) -> int:
    names = list(argv if argv is not None else sys.argv[1:]) or discover()
    unknown = sorted(set(names) - set(discover()))
    if unknown:
        print(f"no benchmark {', '.join(unknown)}; choose from {', '.join(discover())}")
        return 2

    results: dict[str, object] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    failed = []
    for name in names:
        print(f"== bench {name}", flush=True)
        started = time.perf_counter()
        try:
            figures = importlib.import_module(f"bench.{PREFIX}{name}").main()
        except Exception:
            # One broken benchmark must not hide the figures of the others.
            traceback.print_exc()
            failed.append(name)
            figures = {"error": traceback.format_exc(limit=3)}
        results[name] = figures
        print(f"== bench {name}: {time.perf_counter() - started:.1f} s\n", flush=True)

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(BENCH_DIR.parent)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
