"""`python -m local.graph_emulator --port N [options]`: run the Graph emulator in the
foreground until interrupted. Every option can also be changed later through
`POST /_emulator/config`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from .app import Emulator, serve
from .config import EmulatorConfig


def parse_args(argv: list[str]) -> EmulatorConfig:
    defaults = EmulatorConfig()
    parser = argparse.ArgumentParser(prog="python -m local.graph_emulator", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default=defaults.host)
    parser.add_argument("--latency-ms", type=float, default=defaults.latency_ms)
    parser.add_argument("--fail-429", type=float, default=defaults.fail_429, metavar="RATE")
    parser.add_argument("--fail-503", type=float, default=defaults.fail_503, metavar="RATE")
    parser.add_argument("--fail-504", type=float, default=defaults.fail_504, metavar="RATE")
    parser.add_argument("--drop", type=float, default=defaults.drop, metavar="RATE")
    parser.add_argument(
        "--replication-lag", type=float, default=defaults.replication_lag, metavar="SECONDS"
    )
    parser.add_argument(
        "--education", action=argparse.BooleanOptionalAction, default=defaults.education
    )
    parser.add_argument(
        "--throttle", action=argparse.BooleanOptionalAction, default=defaults.throttle
    )
    parser.add_argument("--write-quota", type=int, default=defaults.write_quota)
    parser.add_argument(
        "--write-window", type=float, default=defaults.write_window, metavar="SECONDS"
    )
    parser.add_argument("--ru-quota", type=int, default=defaults.ru_quota)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    args = parser.parse_args(argv)
    return EmulatorConfig(**vars(args))


async def run_until_stopped(config: EmulatorConfig) -> None:
    """Serve until SIGTERM or SIGINT, then close the listener cleanly."""
    task = asyncio.create_task(serve(Emulator(config)))
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(stop_signal, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = parse_args(sys.argv[1:] if argv is None else argv)
    asyncio.run(run_until_stopped(config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
