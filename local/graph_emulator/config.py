"""The emulator's options: one dataclass shared by the command line and `/_emulator/config`.

Defaults are Graph's real limits for one app in one large tenant: 8,000 resource units per
10 s, 3,000 writes per 150 s, 35,000 Education requests per 10 s; no faults and no lag.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

DELTA_TOKEN_LIFETIME_SECONDS = 7 * 24 * 3600

# Options fixed at start-up: changing them on a running server would mean nothing.
STARTUP_ONLY = frozenset({"host", "port"})


@dataclass
class EmulatorConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    latency_ms: float = 0.0
    fail_429: float = 0.0
    fail_503: float = 0.0
    fail_504: float = 0.0
    drop: float = 0.0
    fault_retry_after: int = 1
    replication_lag: float = 0.0
    education: bool = True
    throttle: bool = True
    write_quota: int = 3000
    write_window: float = 150.0
    ru_quota: int = 8000
    ru_window: float = 10.0
    education_quota: int = 35000
    education_window: float = 10.0
    delta_token_lifetime: float = float(DELTA_TOKEN_LIFETIME_SECONDS)
    deleted_users_keep_memberships: bool = True
    seed: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a partial update; raises ValueError naming the bad option and the fix."""
        fields = {f.name: f for f in dataclasses.fields(self)}
        coerced: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in fields:
                raise ValueError(
                    f"unknown option {name!r}; known options: {', '.join(sorted(fields))}"
                )
            if name in STARTUP_ONLY:
                if value == getattr(self, name):
                    continue  # a config read back and posted whole is fine
                raise ValueError(f"option {name!r} is fixed at start-up; restart the emulator")
            coerced[name] = _coerce(name, fields[name].type, value)
        for name, value in coerced.items():
            setattr(self, name, value)


def _coerce(name: str, type_name: Any, value: Any) -> Any:
    kind = str(type_name)
    try:
        if value is None and "None" in kind:
            return None
        if kind.startswith("bool"):
            if not isinstance(value, bool):
                raise TypeError
            return value
        if kind.startswith("int"):
            return int(value)
        if kind.startswith("float"):
            return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"option {name!r} must be of type {kind}, got {value!r}") from None
    return value
