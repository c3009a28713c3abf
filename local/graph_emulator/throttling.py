"""Graph's identity-and-access throttling: token buckets per (app, tenant) for resource units
and for writes, plus the Education rostering bucket, priced as Graph prices requests.

Costs: `GET /users` 2, `GET /groups/{id}/members` 3, any other GET 1; `$select` -1,
`$expand` +1, `$top` under 20 -1, never below 1. A write is 1 unit plus its write units.

Limitation: only the (app, tenant) scope is modelled; the per-app limit across tenants and
the tenant-wide write limit shared with other apps never throttle here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from . import errors
from .config import EmulatorConfig

# Above this share of a bucket used, Graph starts reporting x-ms-throttle-limit-percentage.
REPORT_USE_ABOVE = 0.8
SMALL_PAGE = 20


@dataclass(slots=True)
class Cost:
    resource_units: int = 1
    write_units: int = 0
    education: bool = False


def read_cost(base: int, query: dict[str, str]) -> int:
    cost = base
    if "$select" in query:
        cost -= 1
    if "$expand" in query:
        cost += 1
    top = query.get("$top", "")
    if top.isdigit() and int(top) < SMALL_PAGE:
        cost -= 1
    return max(1, cost)


@dataclass(slots=True)
class TokenBucket:
    capacity: float
    refill_per_second: float
    tokens: float = 0.0
    updated: float = 0.0

    def refill(self, now: float) -> None:
        self.tokens = min(
            self.capacity, self.tokens + (now - self.updated) * self.refill_per_second
        )
        self.updated = now

    def wait_for(self, amount: float) -> float:
        """Seconds until `amount` is available (0 when it is now); refill first."""
        amount = min(amount, self.capacity)  # a request bigger than the bucket waits for a full one
        if self.tokens >= amount:
            return 0.0
        return (amount - self.tokens) / self.refill_per_second

    def used_share(self) -> float:
        return 1.0 - self.tokens / self.capacity


@dataclass(slots=True)
class _Principal:
    resource_units: TokenBucket
    writes: TokenBucket
    education: TokenBucket


@dataclass
class Throttler:
    config: EmulatorConfig
    principals: dict[tuple[str, str], _Principal] = field(default_factory=dict)

    def reset(self) -> None:
        self.principals.clear()

    def _principal(self, key: tuple[str, str], now: float) -> _Principal:
        principal = self.principals.get(key)
        if principal is None:
            c = self.config
            principal = _Principal(
                TokenBucket(c.ru_quota, c.ru_quota / c.ru_window, c.ru_quota, now),
                TokenBucket(c.write_quota, c.write_quota / c.write_window, c.write_quota, now),
                TokenBucket(
                    c.education_quota,
                    c.education_quota / c.education_window,
                    c.education_quota,
                    now,
                ),
            )
            self.principals[key] = principal
        return principal

    def charge(self, key: tuple[str, str], cost: Cost, now: float) -> dict[str, str]:
        """Take the cost from the buckets, or raise Graph's 429 naming the exhausted one.

        A throttled request is not charged, so Retry-After is an honest promise.
        Returns the response headers to add.
        """
        if not self.config.throttle:
            return {"x-ms-resource-unit": str(cost.resource_units)}
        principal = self._principal(key, now)
        app, tenant = key
        needs: list[tuple[TokenBucket, float, str, str]] = []
        if cost.education:
            needs.append((principal.education, 1, "ReadWrite", "ResourceUnitLimitExceeded"))
        else:
            needs.append(
                (
                    principal.resource_units,
                    cost.resource_units,
                    "ReadWrite",
                    "ResourceUnitLimitExceeded",
                )
            )
        if cost.write_units:
            needs.append((principal.writes, cost.write_units, "Write", "WriteLimitExceeded"))
        worst: tuple[float, str, str] | None = None
        for bucket, amount, scope, information in needs:
            bucket.refill(now)
            wait = bucket.wait_for(amount)
            if wait > 0 and (worst is None or wait > worst[0]):
                worst = (wait, scope, information)
        if worst is not None:
            wait, scope, information = worst
            raise errors.throttled(
                max(1, math.ceil(wait)),
                {
                    "x-ms-throttle-scope": f"Tenant_Application/{scope}/{app}/{tenant}",
                    "x-ms-throttle-information": information,
                    "x-ms-resource-unit": str(cost.resource_units),
                },
            )
        headers = {"x-ms-resource-unit": str(cost.resource_units)}
        used = 0.0
        for bucket, amount, _, _ in needs:
            bucket.tokens -= min(amount, bucket.capacity)
            used = max(used, bucket.used_share())
        if used > REPORT_USE_ABOVE:
            headers["x-ms-throttle-limit-percentage"] = f"{used:.1f}"
        return headers
