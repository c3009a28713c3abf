"""`groupsync sync --school ID`: run one school now, reconciling its groups right here.

    groupsync sync --school 4001                  # the whole school
    groupsync sync --school 4001 --group cls-17   # one group, planned fresh
    groupsync sync --school 4001 --accept-loss    # approve the export the safety limits blocked
    groupsync sync --school 4001 --json

The same use case as the nightly run, against whatever the app settings in the environment
point at (the local stack or a real tenant); only the transport differs: each group is
reconciled inline instead of through the group-reconcile queue. Exit code 0 when the run is
done (or planned, in preview-only mode), 1 when it failed or was blocked, 2 when the school
or group is unknown or the options do not go together.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from datetime import UTC, datetime

EXIT_DONE = 0
EXIT_FAILED = 1
EXIT_REJECTED = 2

ACCEPT_LOSS_HELP = (
    "approve the export the school's newest blocked run read: when the safety limits blocked "
    "it because students or groups fell by more than the allowed share and the loss is real "
    "(leavers at the end of a school year), this run goes ahead for that export only, records "
    "who approved it, and makes its figures the next runs' baseline. A different export is "
    "still blocked."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--school", required=True, metavar="ID", help="the school's id")
    parser.add_argument("--group", metavar="MIS_ID", help="sync only this MIS group")
    parser.add_argument("--accept-loss", action="store_true", help=ACCEPT_LOSS_HELP)
    parser.add_argument(
        "--export",
        metavar="EXPORT_ID",
        help="with --accept-loss: the export approved (default: the newest blocked run's)",
    )
    parser.add_argument(
        "--requested-by",
        metavar="NAME",
        help="with --accept-loss: who approves, kept in the run's report (default: your login)",
    )
    parser.add_argument("--json", action="store_true", help="print the run and its groups as JSON")


def run(args: argparse.Namespace) -> int:
    problem = _conflicting_options(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_REJECTED
    return asyncio.run(_sync(args))


async def _sync(args: argparse.Namespace) -> int:
    from shared.state import RunStatus
    from shared.usecases.approval import LossApproval
    from shared.usecases.dispatch import reconcile_inline
    from shared.usecases.errors import CommandRejected
    from shared.usecases.queries import result_to_dict, run_to_dict
    from shared.usecases.school_run import run_school
    from shared.usecases.services import Services

    approval = None
    if args.accept_loss:
        approval = LossApproval(args.requested_by or _login(), args.export or "")
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
                accept_loss=approval,
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


def _conflicting_options(args: argparse.Namespace) -> str:
    if args.accept_loss and args.group:
        return "--accept-loss approves a whole school's export; leave out --group"
    if (args.export or args.requested_by) and not args.accept_loss:
        return "--export and --requested-by go with --accept-loss"
    if args.accept_loss and args.requested_by is not None and not args.requested_by.strip():
        return "--requested-by is blank: give the name of the admin approving the export"
    return ""


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        # No login name in a bare container: the run still records that the CLI approved it.
        return "groupsync"
