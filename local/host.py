"""Plays the Azure Functions host on one machine: loads `function_app`, fires the nightly
timer, and feeds the Service Bus triggers from a real namespace or the local stand-in.

    python -m local.host --night --until-idle       # one night, then drain every queue
    async with LocalHost(env) as host:              # the same from Python (demo, tests)
        await host.run_night()
        report = await host.drain()

Messages are received with the real azure-servicebus SDK (peek-lock) and handed to the
registered functions as real `azure.functions` trigger objects. Settlement follows the host:
complete after success, abandon after an error, dead-letter once the delivery count reaches
its maximum, and dead-letter at once, with the reason, a message that can never succeed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import logging
import os
import sys
import time
import weakref
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import azure.functions as func
from azure.functions.servicebus import ServiceBusMessage as TriggerMessage
from azure.functions.timer import TimerRequest
from azure.servicebus import ServiceBusReceivedMessage, ServiceBusReceiveMode
from azure.servicebus.aio import AutoLockRenewer, ServiceBusClient

from functions import runtime
from shared.messages.bus import CONNECTION_SETTING as BUS_SETTING
from shared.messages.schemas import InvalidMessage
from shared.usecases.errors import CommandRejected

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
HOST_JSON = REPO_ROOT / "host.json"
SETTINGS_FILE = REPO_ROOT / "local.settings.json"
# Service Bus's default for a queue; the deployment keeps it.
MAX_DELIVERY_COUNT = 10
DEFAULT_MAX_CONCURRENT_CALLS = 16
DEFAULT_LOCK_RENEWAL_SECONDS = 300.0
# How long a receive waits for a message before the queue counts as idle for this pass.
RECEIVE_WAIT_SECONDS = 0.2
# A drain that is still busy after this long stops, so a looping message cannot hang a demo.
DEFAULT_DRAIN_TIMEOUT_SECONDS = 600.0
PERMANENT_ERRORS = (InvalidMessage, CommandRejected)
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@dataclass
class DrainReport:
    """What a drain did, per queue: messages completed, abandoned, dead-lettered."""

    completed: Counter = field(default_factory=Counter)
    abandoned: Counter = field(default_factory=Counter)
    dead_lettered: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def handled(self) -> int:
        return sum(self.completed.values()) + sum(self.dead_lettered.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "completed": dict(self.completed),
            "abandoned": dict(self.abandoned),
            "dead_lettered": dict(self.dead_lettered),
            "errors": list(self.errors),
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class HostSettings:
    """The parts of host.json the local host honours."""

    max_concurrent_calls: int = DEFAULT_MAX_CONCURRENT_CALLS
    lock_renewal_seconds: float = DEFAULT_LOCK_RENEWAL_SECONDS

    @classmethod
    def load(cls, path: Path = HOST_JSON) -> HostSettings:
        service_bus = json.loads(path.read_text()).get("extensions", {}).get("serviceBus", {})
        renewal = service_bus.get("maxAutoLockRenewalDuration")
        return cls(
            max_concurrent_calls=int(
                service_bus.get("maxConcurrentCalls", DEFAULT_MAX_CONCURRENT_CALLS)
            ),
            lock_renewal_seconds=_timespan_seconds(renewal) if renewal else 300.0,
        )


class LocalHost:
    """The Functions host's trigger loop, in-process.

    `env` becomes the process environment while the host is open, as app settings do under
    the real host. `app` defaults to the project's `function_app.app`.
    """

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        app: func.FunctionApp | None = None,
        max_delivery_count: int = MAX_DELIVERY_COUNT,
        settings: HostSettings | None = None,
    ) -> None:
        self.env = dict(env)
        # The trigger's connection serves the senders too unless they are given their own.
        if self.env.get(runtime.SERVICE_BUS_CONNECTION) and not self.env.get(BUS_SETTING):
            self.env[BUS_SETTING] = self.env[runtime.SERVICE_BUS_CONNECTION]
        self.max_delivery_count = max_delivery_count
        self.settings = settings or HostSettings.load()
        self._saved_env: dict[str, str | None] = {}
        self._apply_env()
        if app is None:
            app = importlib.import_module("function_app").app
        self._timers: dict[str, Callable] = {}
        self._queues: dict[str, tuple[str, Callable]] = {}
        for function in functions_of(app):
            trigger = function.get_trigger()
            handler = function.get_user_function()
            if trigger.type == "timerTrigger":
                self._timers[function.get_function_name()] = handler
            elif trigger.type == "serviceBusTrigger":
                self._queues[trigger.queue_name] = (function.get_function_name(), handler)
        self._client: ServiceBusClient | None = None
        self._receivers: dict[str, Any] = {}
        self._lock_renewer: AutoLockRenewer | None = None

    @property
    def queues(self) -> list[str]:
        return sorted(self._queues)

    async def __aenter__(self) -> LocalHost:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._lock_renewer is not None:
            await self._lock_renewer.close()
            self._lock_renewer = None
        await asyncio.gather(*(receiver.close() for receiver in self._receivers.values()))
        self._receivers.clear()
        if self._client is not None:
            await self._client.close()
            self._client = None
        await runtime.close_services()
        runtime.set_clock(None)
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()

    def set_time(self, now: datetime | None) -> None:
        """Let the handlers see `now` as the current time, moving on from there (None: real)."""
        if now is None:
            runtime.set_clock(None)
            return
        offset = now - datetime.now(UTC)
        runtime.set_clock(lambda: datetime.now(UTC) + offset)

    async def run_night(self, now: datetime | None = None) -> None:
        """Fire every timer function once, as the schedule would at `now` (default: now)."""
        if now is not None:
            self.set_time(now)
        for name, handler in self._timers.items():
            log.info("firing timer %s", name)
            await _call(handler, TimerRequest(past_due=False))

    async def drain(self, *, timeout: float = DEFAULT_DRAIN_TIMEOUT_SECONDS) -> DrainReport:
        """Feed every queue to its function until all of them are empty."""
        report = DrainReport()
        started = time.monotonic()
        await asyncio.gather(*(self._receiver(queue) for queue in self.queues))
        while True:
            handled = 0
            for queue in self.queues:
                handled += await self._pass(queue, report)
            if handled == 0:
                break
            if time.monotonic() - started > timeout:
                report.errors.append(f"drain stopped after {timeout:.0f}s with work left")
                break
        report.seconds = time.monotonic() - started
        log.info("drained: %s", report.to_dict())
        return report

    async def serve(self, poll_seconds: float = 1.0) -> None:
        """Keep feeding the queues until cancelled (Ctrl-C)."""
        while True:
            await self.drain()
            await asyncio.sleep(poll_seconds)

    async def _pass(self, queue: str, report: DrainReport) -> int:
        """Receive up to maxConcurrentCalls messages from `queue` and run them concurrently."""
        name, handler = self._queues[queue]
        receiver = await self._receiver(queue)
        received = await receiver.receive_messages(
            max_message_count=self.settings.max_concurrent_calls,
            max_wait_time=RECEIVE_WAIT_SECONDS,
        )
        if not received:
            return 0
        for message in received:
            self._renewer().register(receiver, message)
        await asyncio.gather(
            *(
                self._deliver(receiver, queue, name, handler, message, report)
                for message in received
            )
        )
        return len(received)

    async def _deliver(
        self,
        receiver: Any,
        queue: str,
        name: str,
        handler: Callable,
        message: ServiceBusReceivedMessage,
        report: DrainReport,
    ) -> None:
        delivery = (message.delivery_count or 0) + 1
        trigger = _trigger_message(message, delivery)
        try:
            await _call(handler, trigger)
        except PERMANENT_ERRORS as error:
            reason = getattr(error, "reason", None) or str(error)
            log.error("%s: message %s dead-lettered: %s", name, message.message_id, reason)
            await receiver.dead_letter_message(
                message, reason=type(error).__name__, error_description=reason[:1024]
            )
            report.dead_lettered[queue] += 1
            report.errors.append(f"{queue} {message.message_id}: {reason}")
            return
        except Exception as error:
            detail = f"{type(error).__name__}: {error}"
            if delivery >= self.max_delivery_count:
                log.error("%s: message %s dead-lettered after %d deliveries: %s",
                          name, message.message_id, delivery, detail)  # fmt: skip
                await receiver.dead_letter_message(
                    message,
                    reason="MaxDeliveryCountExceeded",
                    error_description=f"{delivery} deliveries; last error {detail}"[:1024],
                )
                report.dead_lettered[queue] += 1
                report.errors.append(f"{queue} {message.message_id}: {detail}")
            else:
                log.warning("%s: message %s abandoned (delivery %d): %s",
                            name, message.message_id, delivery, detail, exc_info=True)  # fmt: skip
                await receiver.abandon_message(message)
                report.abandoned[queue] += 1
            return
        await receiver.complete_message(message)
        report.completed[queue] += 1

    def _renewer(self) -> AutoLockRenewer:
        # Renews each message's lock while its function runs, as maxAutoLockRenewalDuration
        # makes the real host do; a settled message drops out of it by itself.
        if self._lock_renewer is None:
            self._lock_renewer = AutoLockRenewer(
                max_lock_renewal_duration=self.settings.lock_renewal_seconds
            )
        return self._lock_renewer

    async def _receiver(self, queue: str) -> Any:
        # One open receiver per queue for the host's life, as the real host keeps its links:
        # opening a link per poll costs about a second each against the stand-in.
        receiver = self._receivers.get(queue)
        if receiver is None:
            receiver = self._service_bus().get_queue_receiver(
                queue, receive_mode=ServiceBusReceiveMode.PEEK_LOCK, prefetch_count=0
            )
            await receiver.__aenter__()
            self._receivers[queue] = receiver
        return receiver

    def _service_bus(self) -> ServiceBusClient:
        if self._client is None:
            connection = self.env.get(runtime.SERVICE_BUS_CONNECTION)
            if not connection:
                raise RuntimeError(
                    f"the local host needs {runtime.SERVICE_BUS_CONNECTION} set to a Service Bus "
                    "connection string (the stand-in's, from local.services.start_servicebus)"
                )
            self._client = ServiceBusClient.from_connection_string(connection)
        return self._client

    def _apply_env(self) -> None:
        for name, value in self.env.items():
            self._saved_env.setdefault(name, os.environ.get(name))
            os.environ[name] = value


def functions_of(app: func.FunctionApp) -> list:
    """The app's functions. Indexed once per app, as the real host does: azure.functions
    refuses to index an app twice (it sees every name as a duplicate the second time)."""
    if app not in _INDEXED:
        _INDEXED[app] = app.get_functions()
    return _INDEXED[app]


_INDEXED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _trigger_message(message: ServiceBusReceivedMessage, delivery: int) -> TriggerMessage:
    """The object the Functions host passes a Service Bus trigger, from an SDK message."""
    properties = {
        _text(key): _text(value) for key, value in (message.application_properties or {}).items()
    }
    return TriggerMessage(
        body=b"".join(message.body) if not isinstance(message.body, bytes) else message.body,
        message_id=message.message_id or "",
        application_properties=properties,
        user_properties=properties,
        content_type=message.content_type,
        correlation_id=message.correlation_id,
        delivery_count=delivery,
        enqueued_time_utc=message.enqueued_time_utc,
        locked_until=message.locked_until_utc,
        lock_token=str(message.lock_token) if message.lock_token else None,
        sequence_number=message.sequence_number,
        subject=message.subject,
        label=message.subject,
        scheduled_enqueue_time_utc=message.scheduled_enqueue_time_utc,
    )


async def _call(handler: Callable, argument: Any) -> Any:
    result = handler(argument)
    if asyncio.iscoroutine(result):
        result = await result
    return result


def _text(value: Any) -> Any:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _timespan_seconds(value: str) -> float:
    """host.json's `hh:mm:ss[.fff]` as seconds."""
    hours, minutes, seconds = value.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def settings_from_file(path: Path = SETTINGS_FILE) -> dict[str, str]:
    """The `Values` of a local.settings.json, as the Functions host would load them."""
    if not path.exists():
        return {}
    return {key: str(value) for key, value in json.loads(path.read_text())["Values"].items()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local.host", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--night", action="store_true", help="fire the nightly timer once")
    parser.add_argument("--until-idle", action="store_true", help="drain all queues, then exit")
    parser.add_argument("--settings", type=Path, default=SETTINGS_FILE,
                        help="local.settings.json whose Values are the app settings")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the drain report as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    env = {**settings_from_file(args.settings), **os.environ}
    return asyncio.run(_main(env, args))


async def _main(env: dict[str, str], args: argparse.Namespace) -> int:
    async with LocalHost(env) as host:
        if args.night:
            await host.run_night()
        if not args.until_idle:
            await host.serve()
            return 0  # pragma: no cover - serve() runs until cancelled
        report = await host.drain()
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(
            f"completed {sum(report.completed.values())}, abandoned "
            f"{sum(report.abandoned.values())}, dead-lettered {sum(report.dead_lettered.values())}"
            f" in {report.seconds:.1f}s"
        )
    return 1 if report.dead_lettered else 0


if __name__ == "__main__":
    sys.exit(main())
