"""What every trigger shares: the app's settings names, one `Services` per event loop, and
turning a Service Bus message into a checked message (or a dead-letter reason).

Imports nothing heavy at module level: the function app must load fast on a cold start.
"""

from __future__ import annotations

import asyncio
import logging
import os
import weakref
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from shared.messages.bus import CONNECTION_SETTING

if TYPE_CHECKING:
    from shared.messages.schemas import Message
    from shared.usecases.services import Services

log = logging.getLogger(__name__)

# The triggers listen on the connection the handlers send with: one setting for both.
SERVICE_BUS_CONNECTION = CONNECTION_SETTING
NIGHTLY_SCHEDULE_SETTING = "NIGHTLY_SCHEDULE"
DEFAULT_NIGHTLY_SCHEDULE = "0 30 1 * * *"

# One set of clients per event loop: the Python worker runs every async invocation on one
# loop, so connections, tokens and the Graph pacing are shared by concurrent invocations.
_services: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Services] = (
    weakref.WeakKeyDictionary()
)
# Only the local host sets a clock (to play a given night); in Azure it is the real one.
_clock: Callable[[], datetime] | None = None


async def services() -> Services:
    from shared.usecases.services import Services, utc_now

    key = asyncio.get_running_loop()
    if key not in _services:
        _services[key] = Services.from_env(os.environ, clock=_clock or utc_now)
    return _services[key]


def set_clock(clock: Callable[[], datetime] | None) -> None:
    """Make the handlers see `clock` as the time (None: the real clock again)."""
    global _clock
    _clock = clock
    for built in _services.values():
        built.clock = clock or _real_clock()


def _real_clock() -> Callable[[], datetime]:
    from shared.usecases.services import utc_now

    return utc_now


async def close_services() -> None:
    """Release the clients of the running loop (the local host calls this when it stops)."""
    built = _services.pop(asyncio.get_running_loop(), None)
    if built is not None:
        await built.close()


def decode_message(body: bytes, queue: str, message_id: str | None) -> Message:
    """The checked message, or `InvalidMessage` with the reason the message is dead-lettered for.

    Limitation: the Python worker cannot dead-letter with a reason of its own under the
    Functions host in Azure; an invalid message is abandoned on every delivery until Service
    Bus dead-letters it as MaxDeliveryCountExceeded. The reason is logged at ERROR on each
    delivery with the message id. The local host dead-letters it at once with the reason.
    """
    from shared.messages.schemas import InvalidMessage, decode

    try:
        return decode(body, queue)
    except InvalidMessage as error:
        log.error("invalid message %s on %s: %s", message_id, queue, error.reason)
        raise
