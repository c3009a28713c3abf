"""`groupsync sync --school ID`: run one school now, reconciling its groups right here.

    groupsync sync --school 4001                  # the whole school
    groupsync sync --school 4001 --group cls-17   # one group, planned fresh
    groupsync sync --school 4001 --json

The same use case as the nightly run, against whatever the app settings in the environment
point at (the local stack or a real tenant); only the transport differs: each group is
reconciled inline instead of through the group-reconcile queue. Exit code 0 when the run is
done (or planned, in preview-only mode), 1 when it failed or was blocked, 2 when the school
or group is unknown.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from datetime import UTC, datetime

EXIT_DONE = 0
EXIT_FAILED = 1
EXIT_REJECTED = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--school", required=True, metavar="ID", help="the school's id")
    parser.add_argument("--group", metavar="MIS_ID", help="sync only this MIS group")
    parser.add_argument("--json", action="store_true", help="print the run and its groups as JSON")


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_sync(args))


async def _sync(args: argparse.Namespace) -> int:
    from shared.state import RunStatus
    from shared.usecases.dispatch import reconcile_inline
    from shared.usecases.errors import CommandRejected
    from shared.usecases.queries import result_to_dict, run_to_dict
    from shared.usecases.school_run import run_school
    from shared.usecases.services import Services

    run_id = "cli-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    async with Services.from_env(os.environ) as services:
        try:
            finished = await run_school(
                services,
                args.school,
                run_id,
                "cli",
                reconcile_inline(services),
                only_group=args.group,
            )
        except CommandRejected as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_REJECTED
        results = await asyncio.to_thread(
            services.state.list_group_results, args.school, finished.run_id
        )

    if args.json:
        document = {
            "run": run_to_dict(finished),
            "groups": [result_to_dict(result) for result in results],
        }
        print(json.dumps(document, indent=2, default=str))
    else:
        from shared.cli.report import print_run

        print_run(run_to_dict(finished), [result_to_dict(result) for result in results])
    ok = finished.status in (RunStatus.DONE, RunStatus.PLANNED)
    return EXIT_DONE if ok else EXIT_FAILED
