"""`groupsync`: the command line for admins and operators.

    groupsync inspect exports/4001            # validate and summarise an MIS export
    groupsync plan --mis exports/4001 --settings school.json

Each subcommand lives in its own module with `add_arguments(parser)` and `run(args) -> int`;
they are imported only when chosen, so `groupsync inspect` never loads the Azure SDKs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

SUBCOMMANDS = {
    "inspect": ("shared.cli.inspect", "validate and summarise an MIS export"),
    "plan": ("shared.cli.plan", "preview what a run would change"),
    "sync": ("shared.cli.sync", "run a sync now"),
    "report": ("shared.cli.report", "print the last runs"),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="groupsync", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    modules = {}
    chosen = (argv if argv is not None else sys.argv[1:])[:1]
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub = commands.add_parser(name, help=help_text)
        if name in chosen:
            modules[name] = importlib.import_module(module_name)
            modules[name].add_arguments(sub)
    args = parser.parse_args(argv)
    return modules[args.command].run(args)


if __name__ == "__main__":  # pragma: no cover - exercised through the console script
    raise SystemExit(main())
