"""Client-side pacing of Graph writes, so a large first sync runs at the write quota's pace
instead of into 429s.

    budget = WriteBudget.for_process("https://graph.microsoft.com/v1.0", 2_400, 150.0)
    await budget.acquire(20)           # returns once 20 more writes fit in the window

A sliding window rather than a refilling token bucket: it guarantees at most `budget` writes in
ANY window of `window` seconds, which stays inside Graph's quota whether Graph counts in fixed
windows or with a bucket, and a first sync still starts with a full window's burst (the price:
the last writes of a long run can wait up to a window longer than a bucket would). One budget
per process and Graph endpoint (`for_process`), so gateways built per invocation share it;
across instances the budget is divided (see shared/graph/config.py).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import ClassVar

Clock = Callable[[], float]


class WriteBudget:
    """At most `budget` writes in any `window` seconds, plus a hold after Graph throttles."""

    _registry: ClassVar[dict[tuple[str, int, float], WriteBudget]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, budget: int, window: float, clock: Clock = time.monotonic) -> None:
        if budget < 1 or window <= 0:
            raise ValueError("a write budget needs budget >= 1 and window > 0")
        self.budget = budget
        self.window = window
        self._clock = clock
        self._spent: deque[float] = deque()  # one timestamp per write, oldest first
        self._held_until = 0.0
        # asyncio work is single-threaded per loop, but one process may run several loops
        # (Functions' sync threads, tests); the lock keeps check-and-spend atomic across them.
        self._lock = threading.Lock()

    @classmethod
    def for_process(cls, endpoint: str, budget: int, window: float) -> WriteBudget:
        """The one budget this process uses for `endpoint` with these limits."""
        key = (endpoint, budget, window)
        with cls._registry_lock:
            if key not in cls._registry:
                cls._registry[key] = cls(budget, window)
            return cls._registry[key]

    @classmethod
    def forget_process_budgets(cls) -> None:
        """Drop the shared budgets (tests that need a fresh window)."""
        with cls._registry_lock:
            cls._registry.clear()

    def available(self) -> int:
        """Writes that could be spent right now without waiting."""
        with self._lock:
            now = self._clock()
            if now < self._held_until:
                return 0
            self._expire(now)
            return self.budget - len(self._spent)

    def try_spend(self, writes: int) -> float:
        """Spend `writes` now and return 0, or spend nothing and return the seconds to wait."""
        writes = min(writes, self.budget)
        with self._lock:
            now = self._clock()
            if now < self._held_until:
                return self._held_until - now
            self._expire(now)
            overflow = len(self._spent) + writes - self.budget
            if overflow > 0:
                # The window frees up once the overflow-th oldest write leaves it.
                return max(self._spent[overflow - 1] + self.window - now, 0.001)
            self._spent.extend([now] * writes)
            return 0.0

    async def acquire(self, writes: int) -> float:
        """Wait until `writes` fit, spend them, and return the seconds waited."""
        waited = 0.0
        while writes > 0:
            delay = self.try_spend(writes)
            if delay == 0.0:
                break
            await asyncio.sleep(delay)
            waited += delay
        return waited

    def hold(self, seconds: float) -> None:
        """Stop spending for `seconds`: Graph throttled a write, so the tenant's quota is used
        by someone else too, and every throttled request still counts against it."""
        with self._lock:
            self._held_until = max(self._held_until, self._clock() + seconds)

    def _expire(self, now: float) -> None:
        horizon = now - self.window
        while self._spent and self._spent[0] <= horizon:
            self._spent.popleft()
