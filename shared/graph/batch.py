"""The concurrent JSON `$batch` runner every gateway call goes through: it packs waiting
sub-requests into batches of 20, keeps a bounded number in flight, paces writes under the
write budget, and retries what Graph asks to retry.

    runner = BatchRunner(transport, budget, stats, max_concurrency=4)
    answers = await runner.run([SubRequest("GET", f"/groups/{gid}") for gid in group_ids])

Per item: 429/5xx are sent again after the largest Retry-After of that batch (capped, with
jitter), 424 (a failed dependency) again at once, a 404 on an object still replicating again
with backoff until its deadline; anything else is the caller's answer. Batching saves round
trips, not quota: Graph counts every sub-request against its limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import itertools
import logging
import math
import random
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.graph.errors import (
    FAILED_DEPENDENCY,
    THROTTLED,
    TRANSIENT_STATUSES,
    GraphErrorBody,
)
from shared.graph.models import GatewayStats
from shared.graph.pacing import WriteBudget
from shared.graph.transport import RawResponse, Transport, TransportFailure

log = logging.getLogger(__name__)

BATCH_LIMIT = 20  # Graph rejects a $batch of more than 20 requests
# A moment for concurrent callers to add to a batch that is not yet full.
BATCH_LINGER_SECONDS = 0.002
BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 30.0
JITTER_FRACTION = 0.1
NO_ANSWER = 0  # status given to an item that got no HTTP answer at all
LINKS_PER_WRITE_UNIT = 3


@dataclass
class SubRequest:
    """One request inside a batch. `url` is relative to the version root (`/groups/x`).

    `lag_id` with `lag_until` (a time.monotonic deadline): a 404 naming `lag_id` before the
    deadline means the object is new and not replicated yet, so the request is tried again.
    """

    method: str
    url: str
    body: Any = None
    headers: Mapping[str, str] | None = None
    lag_id: str | None = None
    lag_until: float = 0.0

    @property
    def is_write(self) -> bool:
        return self.method.upper() != "GET"

    @property
    def write_units(self) -> int:
        """What this costs against the write quota. Graph publishes one write per request,
        but a production sync was told a links PATCH costs about one per three links, so
        the budget counts the larger figure."""
        if not self.is_write:
            return 0
        links = 0
        if isinstance(self.body, dict):
            links = sum(len(v) for k, v in self.body.items() if k.endswith("@odata.bind"))
        return max(1, math.ceil(links / LINKS_PER_WRITE_UNIT))

    def describe(self) -> str:
        return f"{self.method} {self.url.split('?')[0]}"


@dataclass(frozen=True)
class SubResponse:
    status: int
    headers: Mapping[str, str]
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def error(self) -> GraphErrorBody:
        return GraphErrorBody.parse(self.body)


@dataclass
class _Pending:
    request: SubRequest
    future: asyncio.Future[SubResponse]
    attempt: int = 1


class BatchRunner:
    def __init__(
        self,
        transport: Transport,
        budget: WriteBudget,
        stats: GatewayStats,
        *,
        max_concurrency: int = 4,
        max_attempts: int = 6,
        max_retry_wait_seconds: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._transport = transport
        self._budget = budget
        self._stats = stats
        self._max_concurrency = max_concurrency
        self._max_attempts = max_attempts
        self._max_retry_wait = max_retry_wait_seconds
        self._clock = clock
        self._reads: deque[_Pending] = deque()
        self._writes: deque[_Pending] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._dispatcher: asyncio.Task[None] | None = None
        self._arrived: asyncio.Event | None = None
        self._slots: asyncio.Semaphore | None = None

    async def run(self, requests: Sequence[SubRequest]) -> list[SubResponse]:
        """Answers in the order of `requests`, each after its retries."""
        loop = asyncio.get_running_loop()
        pending = [_Pending(request, loop.create_future()) for request in requests]
        for item in pending:
            self._enqueue(item)
        return list(await asyncio.gather(*(item.future for item in pending)))

    async def run_one(self, request: SubRequest) -> SubResponse:
        return (await self.run([request]))[0]

    async def aclose(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        tasks = [*self._tasks, *([self._dispatcher] if self._dispatcher else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for item in [*self._reads, *self._writes]:
            item.future.cancel()
        self._reads.clear()
        self._writes.clear()
        self._dispatcher = None

    # -- queueing -----------------------------------------------------------------------

    def _enqueue(self, item: _Pending) -> None:
        if self._dispatcher is None or self._dispatcher.done():
            self._arrived = asyncio.Event()
            self._slots = asyncio.Semaphore(self._max_concurrency)
            self._dispatcher = asyncio.get_running_loop().create_task(self._dispatch())
        (self._writes if item.request.is_write else self._reads).append(item)
        assert self._arrived is not None
        self._arrived.set()

    async def _dispatch(self) -> None:
        assert self._slots is not None
        while True:
            await self._slots.acquire()
            try:
                batch = await self._next_batch()
            except BaseException:
                self._slots.release()
                raise
            task = asyncio.get_running_loop().create_task(self._send(batch))
            self._tasks.add(task)
            task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        assert self._slots is not None
        self._slots.release()

    async def _next_batch(self) -> list[_Pending]:
        """Reads first, then writes once a full batch of them fits the write budget, so that
        pacing never fragments write batches and never holds reads back."""
        assert self._arrived is not None
        while True:
            while not (self._reads or self._writes):
                self._arrived.clear()
                await self._arrived.wait()
            if len(self._reads) + len(self._writes) < BATCH_LIMIT:
                await asyncio.sleep(BATCH_LINGER_SECONDS)
            batch = [self._reads.popleft() for _ in range(min(BATCH_LIMIT, len(self._reads)))]
            wanted, units = self._writes_that_fit(BATCH_LIMIT - len(batch))
            if wanted:
                delay = self._budget.try_spend(units)
                if delay == 0.0:
                    batch += [self._writes.popleft() for _ in range(wanted)]
                elif not batch:
                    await self._wait_for_budget(delay)
                    continue
            if batch:
                return batch

    def _writes_that_fit(self, room: int) -> tuple[int, int]:
        """How many queued writes (and their units) the next batch takes: as many as there is
        room for, but never more units than a whole window's budget."""
        count = units = 0
        for item in itertools.islice(self._writes, room):
            cost = item.request.write_units
            if count and units + cost > self._budget.budget:
                break
            count, units = count + 1, units + cost
        return count, units

    async def _wait_for_budget(self, delay: float) -> None:
        """Sleep until the budget frees up, waking early if a read arrives meanwhile."""
        assert self._arrived is not None
        started = self._clock()
        self._arrived.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._arrived.wait(), delay)
        self._stats.paced_seconds += self._clock() - started

    # -- sending ------------------------------------------------------------------------

    async def _send(self, batch: list[_Pending]) -> None:
        payload = {"requests": [_encode(str(n), item.request) for n, item in enumerate(batch)]}
        self._stats.requests += 1
        self._stats.batch_subrequests += len(batch)
        self._stats.writes += sum(item.request.write_units for item in batch)
        try:
            response = await self._transport.request("POST", "/$batch", json_body=payload)
        except TransportFailure as failure:
            log.debug("batch of %d got no answer: %s", len(batch), failure)
            body = {"error": {"code": "NoResponse", "message": str(failure)}}
            self._retry_or_settle([(item, SubResponse(NO_ANSWER, {}, body)) for item in batch])
            return
        except BaseException as error:
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(error)
            raise
        self._settle_batch(batch, response)

    def _settle_batch(self, batch: list[_Pending], response: RawResponse) -> None:
        answers = response.body.get("responses") if isinstance(response.body, dict) else None
        if response.status != 200 or not isinstance(answers, list):
            # The batch as a whole failed: every item shares the outer answer.
            if response.status == THROTTLED:
                self._stats.throttled_seen += len(batch)
            outer = SubResponse(response.status, response.headers, response.body)
            self._retry_or_settle([(item, outer) for item in batch])
            return
        by_id = {str(answer.get("id")): answer for answer in answers if isinstance(answer, dict)}
        outcomes = []
        for n, item in enumerate(batch):
            answer = by_id.get(str(n))
            if answer is None:
                missing = {"error": {"code": "NoResponse", "message": "item missing from batch"}}
                outcomes.append((item, SubResponse(NO_ANSWER, {}, missing)))
                continue
            headers = {str(k).lower(): str(v) for k, v in (answer.get("headers") or {}).items()}
            sub = SubResponse(int(answer.get("status", NO_ANSWER)), headers, answer.get("body"))
            if sub.status == THROTTLED:
                self._stats.throttled_seen += 1
            outcomes.append((item, sub))
        self._retry_or_settle(outcomes)

    def _retry_or_settle(self, outcomes: list[tuple[_Pending, SubResponse]]) -> None:
        now = self._clock()
        waits = [_retry_after(sub) for _, sub in outcomes if sub.status == THROTTLED]
        throttled_wait = max((w for w in waits if w is not None), default=None)
        if throttled_wait and any(
            sub.status == THROTTLED and item.request.is_write for item, sub in outcomes
        ):
            self._budget.hold(min(throttled_wait, self._max_retry_wait))
        # One jitter for the whole batch, so its retried items travel together again.
        spread = random.uniform(0, JITTER_FRACTION)
        for item, sub in outcomes:
            delay = self._retry_delay(item, sub, now, throttled_wait)
            if delay is None:
                if not item.future.done():
                    item.future.set_result(sub)
                continue
            item.attempt += 1
            self._stats.retries += 1
            delay += delay * spread + spread
            loop = asyncio.get_running_loop()
            self._timers[id(item)] = loop.call_later(delay, self._requeue, item)

    def _retry_delay(
        self, item: _Pending, sub: SubResponse, now: float, throttled_wait: float | None
    ) -> float | None:
        """Seconds before trying `item` again, or None when `sub` is its final answer."""
        if item.future.done():
            return None
        request = item.request
        if self._lagging(request, sub, now):
            backoff = _backoff(item.attempt)
            return min(backoff, max(request.lag_until - now, 0.0))
        if item.attempt >= self._max_attempts:
            return None
        if sub.status == FAILED_DEPENDENCY:
            return 0.0
        if sub.status == THROTTLED:
            wait = throttled_wait if throttled_wait is not None else _backoff(item.attempt)
            return min(wait, self._max_retry_wait)
        if sub.status in TRANSIENT_STATUSES or sub.status == NO_ANSWER:
            wait = _retry_after(sub)
            return min(wait if wait is not None else _backoff(item.attempt), self._max_retry_wait)
        return None

    def _lagging(self, request: SubRequest, sub: SubResponse, now: float) -> bool:
        if sub.status != 404 or request.lag_id is None or now >= request.lag_until:
            return False
        message = sub.error.message
        return not message or request.lag_id in message

    def _requeue(self, item: _Pending) -> None:
        self._timers.pop(id(item), None)
        if not item.future.done():
            self._enqueue(item)


def _encode(item_id: str, request: SubRequest) -> dict[str, Any]:
    encoded: dict[str, Any] = {"id": item_id, "method": request.method, "url": request.url}
    headers = dict(request.headers or {})
    if request.body is not None:
        headers.setdefault("Content-Type", "application/json")
        encoded["body"] = request.body
    if headers:
        encoded["headers"] = headers
    return encoded


def _backoff(attempt: int) -> float:
    return min(BACKOFF_FIRST_SECONDS * 2 ** (attempt - 1), BACKOFF_CAP_SECONDS)


def _retry_after(sub: SubResponse) -> float | None:
    """Retry-After as seconds: an integer, a fraction (Graph has sent `2.128`) or a date."""
    raw = sub.headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)
