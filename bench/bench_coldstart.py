"""Cold start: the time and memory it takes a fresh Python process to import the function app
(what the Functions host pays before the first trigger runs), and the `groupsync` command.

    python -m bench coldstart

Each import runs in a new subprocess, several times; the figures are medians. The heavy SDKs
(Graph, storage, Service Bus, identity) should not be among the modules an import pulls in:
they load inside the handlers that need them.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RUNS = 7
TARGETS = ("function_app", "shared.cli")
# Packages whose import at start-up would show in every cold start.
HEAVY_PACKAGES = (
    "msgraph",
    "kiota_abstractions",
    "azure.identity",
    "azure.data.tables",
    "azure.storage.blob",
    "azure.servicebus",
    "httpx",
    "aiohttp",
)

# Runs in the fresh process: times only the import itself, and reads peak memory before and
# after it (Linux reports ru_maxrss in kilobytes).
PROBE = """
import json, resource, sys, time
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
import {target}
seconds = time.perf_counter() - started
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
heavy = sorted(name for name in {heavy!r} if name in sys.modules)
print(json.dumps({{"seconds": seconds, "before_kb": before, "after_kb": after,
                  "modules": len(sys.modules), "heavy": heavy}}))
"""


def measure(target: str, runs: int = RUNS) -> dict[str, Any]:
    samples = []
    for _ in range(runs):
        completed = subprocess.run(
            [sys.executable, "-c", PROBE.format(target=target, heavy=HEAVY_PACKAGES)],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
        samples.append(json.loads(completed.stdout))
    return {
        "runs": runs,
        "import_ms_median": round(statistics.median(s["seconds"] for s in samples) * 1000, 1),
        "import_ms_min": round(min(s["seconds"] for s in samples) * 1000, 1),
        "import_ms_max": round(max(s["seconds"] for s in samples) * 1000, 1),
        "peak_mb_median": round(statistics.median(s["after_kb"] for s in samples) / 1024, 1),
        "added_mb_median": round(
            statistics.median(s["after_kb"] - s["before_kb"] for s in samples) / 1024, 1
        ),
        "modules_loaded": samples[-1]["modules"],
        "heavy_modules_loaded": samples[-1]["heavy"],
    }


def main() -> dict[str, Any]:
    print(f"import in a fresh process, {RUNS} runs each, medians")
    print(
        f"{'module':<14} {'import ms':>10} {'min-max ms':>14} {'peak MB':>8} {'added MB':>9}  heavy"
    )
    results = {}
    for target in TARGETS:
        figures = measure(target)
        results[target] = figures
        heavy = ", ".join(figures["heavy_modules_loaded"]) or "none"
        spread = f"{figures['import_ms_min']:.0f}-{figures['import_ms_max']:.0f}"
        print(
            f"{target:<14} {figures['import_ms_median']:>10.1f} {spread:>14} "
            f"{figures['peak_mb_median']:>8.1f} {figures['added_mb_median']:>9.1f}  {heavy}"
        )
    return results


if __name__ == "__main__":
    main()
