"""How a school run hands its group reconciles on: one mechanism, two transports.

    dispatch = send_to_queue(services)       # in Azure: one group-reconcile message each
    dispatch = reconcile_inline(services)    # in `groupsync sync`: reconcile right here

A dispatch takes the run's whole list of reconciles at once, so the queue transport sends
them in one batch instead of one round trip per group.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import timedelta

from shared.messages.schemas import (
    GROUP_RECONCILE_QUEUE,
    MAX_MESSAGE_BYTES,
    GroupReconcile,
    encode,
    message_id,
)
from shared.usecases.errors import TransientError
from shared.usecases.services import Services

log = logging.getLogger(__name__)

Dispatch = Callable[[Sequence[GroupReconcile]], Awaitable[int]]

# Groups reconciled at once inline; the Graph gateway paces the writes underneath either way.
INLINE_CONCURRENCY = 4
# When a new group is not visible yet, try again after these waits; Microsoft 365 can take
# up to about half an hour to show a new group everywhere.
RETRY_DELAYS = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=5),
    timedelta(minutes=10),
    timedelta(minutes=15),
)


class MessageTooLarge(Exception):
    """A group's plan does not fit in one Service Bus message."""


def send_to_queue(services: Services) -> Dispatch:
    """Send each reconcile to the `group-reconcile` queue; returns how many were sent."""

    async def dispatch(messages: Sequence[GroupReconcile]) -> int:
        from shared.messages.bus import OutgoingMessage

        outgoing = []
        for message in messages:
            try:
                body = _fitting_body(message)
            except MessageTooLarge as error:
                await _record_unsent(services, message, str(error))
                continue
            outgoing.append(
                OutgoingMessage(body=body, message_id=message_id(message), subject=message.TYPE)
            )
        return await services.send(GROUP_RECONCILE_QUEUE, outgoing)

    return dispatch


def reconcile_inline(services: Services, *, concurrency: int = INLINE_CONCURRENCY) -> Dispatch:
    """Reconcile each group here and now; returns how many succeeded.

    A group that fails is recorded as failed by the reconcile itself and does not stop the
    others, as it would not under the queue transport either.
    """
    from shared.usecases.reconcile import reconcile_group

    async def dispatch(messages: Sequence[GroupReconcile]) -> int:
        gate = asyncio.Semaphore(concurrency)

        async def one(message: GroupReconcile) -> bool:
            async with gate:
                try:
                    await reconcile_group(services, message)
                except Exception:
                    log.exception(
                        "group %s of school %s failed", message.mis_group_id, message.school_id
                    )
                    return False
                return True

        results = await asyncio.gather(*(one(message) for message in messages))
        return sum(results)

    return dispatch


async def retry_later(services: Services, message: GroupReconcile) -> None:
    """Schedule a copy of `message` for later, or raise `TransientError` when out of attempts."""
    if message.attempt >= len(RETRY_DELAYS):
        raise TransientError(
            f"group {message.mis_group_id} of school {message.school_id} still not ready after "
            f"{message.attempt} retries; Service Bus will redeliver and then dead-letter it"
        )
    from shared.messages.bus import OutgoingMessage

    retry = replace(message, attempt=message.attempt + 1)
    when = services.clock() + RETRY_DELAYS[message.attempt]
    await services.send(
        GROUP_RECONCILE_QUEUE,
        [
            OutgoingMessage(
                body=encode(retry),
                message_id=f"{message_id(message)}:retry{retry.attempt}",
                subject=GroupReconcile.TYPE,
                scheduled_at=when,
            )
        ],
    )
    log.info(
        "group %s of school %s rescheduled for %s (attempt %d)",
        message.mis_group_id,
        message.school_id,
        when.isoformat(),
        retry.attempt,
    )


async def _record_unsent(services: Services, message: GroupReconcile, error: str) -> None:
    from shared.state import RunGroupResult

    log.warning(
        "group %s of school %s not sent: too large", message.mis_group_id, message.school_id
    )
    result = RunGroupResult(
        school_id=message.school_id,
        run_id=message.run_id,
        mis_group_id=message.mis_group_id,
        display_name=message.display_name,
        outcome="failed",
        errors=[error],
    )
    await asyncio.to_thread(services.state.record_group_result, result)


def _fitting_body(message: GroupReconcile) -> bytes:
    body = encode(message)
    if len(body) > MAX_MESSAGE_BYTES:
        # Limitation: a group whose changes name more than about 6,000 people does not fit in
        # one message and is not synced through the queue; `groupsync sync` reconciles it inline.
        raise MessageTooLarge(
            f"the plan for group {message.mis_group_id} of school {message.school_id} is "
            f"{len(body)} bytes, over the {MAX_MESSAGE_BYTES}-byte message limit; run "
            f"`groupsync sync --school {message.school_id}` to reconcile it without the queue"
        )
    return body
