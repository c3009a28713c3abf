"""Everything one emulator process holds: the directory, the options, the throttle buckets,
the fault dice, the request counters and the delta sessions in flight."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .config import EmulatorConfig
from .store import Store
from .throttling import Throttler


@dataclass
class Counters:
    requests: int = 0
    by_route: Counter[str] = field(default_factory=Counter)
    batch_subrequests: int = 0
    writes: int = 0
    resource_units: int = 0
    throttled: int = 0
    faults: int = 0
    bytes_in: int = 0
    bytes_out: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "by_route": dict(self.by_route),
            "batch_subrequests": self.batch_subrequests,
            "writes": self.writes,
            "resource_units": self.resource_units,
            "throttled": self.throttled,
            "faults": self.faults,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
        }


class EmulatorState:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.store = Store()
        self.throttler = Throttler(config)
        self.counters = Counters()
        self.random = random.Random(config.seed)
        # skiptoken -> the remaining pages of a delta round, computed at its first page.
        self.delta_sessions: dict[str, Any] = {}

    def reset(self) -> None:
        self.store = Store()
        self.throttler.reset()
        self.counters = Counters()
        self.random = random.Random(self.config.seed)
        self.delta_sessions.clear()

    def reconfigure(self, changes: dict[str, Any]) -> None:
        self.config.update(changes)
        # New quotas mean new buckets; a new seed means a fresh, reproducible dice sequence.
        self.throttler.reset()
        if "seed" in changes:
            self.random = random.Random(self.config.seed)
