"""Command line for the Service Bus stand-in: parse options, run the proton container until
SIGTERM or SIGINT, then close every connection and exit 0."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence

from proton.reactor import ApplicationEvent, Container, EventInjector

from local.servicebus.amqp import AmqpHandler
from local.servicebus.broker import Broker, BrokerSettings

log = logging.getLogger("local.servicebus")

STOP_EVENT = "stop"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m local.servicebus",
        description="Local Service Bus stand-in for tests and the demo (not for production).",
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--queues", default="", help="comma-separated queues to create now")
    parser.add_argument("--max-delivery-count", type=int, default=10)
    parser.add_argument("--lock-duration", type=float, default=30.0, help="seconds")
    parser.add_argument("--duplicate-window", type=float, default=600.0, help="seconds; 0 = off")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


class _Stopper(AmqpHandler):
    """The broker's handler plus the shutdown event a signal injects."""

    def on_stop(self, event) -> None:
        log.info("stopping: closing every connection")
        if self.container is not None:
            self.container.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # proton logs every reactor event at DEBUG, and at ERROR each client that drops its socket
    # without closing the connection (the SDK does so on exit): neither helps a reader.
    logging.getLogger("proton").setLevel(logging.CRITICAL)
    settings = BrokerSettings(
        lock_duration=args.lock_duration,
        max_delivery_count=args.max_delivery_count,
        duplicate_window=args.duplicate_window,
    )
    broker = Broker(settings)
    for name in filter(None, (q.strip() for q in args.queues.split(","))):
        broker.queue(name)

    handler = _Stopper(broker, args.host, args.port)
    container = Container(handler)
    injector = EventInjector()
    container.selectable(injector)

    def request_stop(signum, frame) -> None:
        # Only the container's own thread may touch proton: hand it an event.
        injector.trigger(ApplicationEvent(STOP_EVENT))

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    container.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
