"""Graph's error bodies, read in one place: what a status and an error code mean for a sync,
and the exceptions the gateway raises. Matching is on status, code and a stable fragment of the
message, never the full text, because Graph has reworded these messages before."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Statuses worth another try after a pause. 500 and 502 are not retried by msgraph-sdk, but a
# production sync sees them as often as 503 and every write the gateway sends is safe to repeat.
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
THROTTLED = 429
FAILED_DEPENDENCY = 424
CONFLICT_CODES = frozenset({"ObjectConflict", "ConflictingObjects", "PropertyConflict"})


@dataclass(frozen=True)
class GraphErrorBody:
    """The `error` object of a Graph response, with safe defaults for a missing body."""

    code: str
    message: str
    details: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def parse(cls, body: Any) -> GraphErrorBody:
        error = body.get("error") if isinstance(body, Mapping) else None
        if not isinstance(error, Mapping):
            return cls(code="", message="" if body is None else str(body)[:200])
        details = error.get("details") or ()
        return cls(
            code=str(error.get("code") or ""),
            message=str(error.get("message") or ""),
            details=tuple(d for d in details if isinstance(d, Mapping)),
        )


class GraphError(Exception):
    """A Graph request failed for good (or kept failing): status, Graph's code and message."""

    def __init__(self, status: int, code: str, message: str, *, request: str = "") -> None:
        self.status = status
        self.code = code
        self.message = message
        self.request = request
        where = f" on {request}" if request else ""
        super().__init__(f"Graph answered {status} {code or '(no code)'}{where}: {message}")

    @classmethod
    def from_response(cls, status: int, body: Any, *, request: str = "") -> GraphError:
        error = GraphErrorBody.parse(body)
        return cls(status, error.code, error.message, request=request)


class NicknameTaken(GraphError):
    """Another group already holds this mailNickname: choose another one and create again."""

    def __init__(self, nickname: str, status: int, code: str, message: str) -> None:
        super().__init__(status, code, message, request=f"create group {nickname!r}")
        self.nickname = nickname


class UniqueNameTaken(GraphError):
    """A deleted Microsoft 365 group still holds this uniqueName (for up to 30 days after its
    deletion): restore that group, or create this one under another unique name."""

    def __init__(self, unique_name: str, status: int, code: str, message: str) -> None:
        super().__init__(status, code, message, request=f"create group {unique_name!r}")
        self.unique_name = unique_name


class GraphUnavailable(GraphError):
    """Graph kept answering 429/5xx (or the connection kept failing) past every retry; the work
    is safe to run again later."""


class GraphConfigError(ValueError):
    """A Graph setting is missing or malformed; the message names the setting to fix."""


def is_transient(status: int) -> bool:
    return status in TRANSIENT_STATUSES or status == FAILED_DEPENDENCY or status == 0


def is_duplicate_link(status: int, error: GraphErrorBody) -> bool:
    """'One or more added object references already exist': the link is already there (and
    not 'Another object with the same value for property ... already exists')."""
    message = error.message.lower()
    return (
        status == 400
        and "already exist" in message
        and "same value for property" not in message
        and _conflict_target(error) is None
    )


def is_missing_reference(status: int, error: GraphErrorBody) -> bool:
    """A bind PATCH naming an object Graph cannot see (yet): 'do not exist'."""
    return status == 400 and "do not exist" in error.message.lower()


def is_absent_link(status: int, error: GraphErrorBody) -> bool:
    """A link removal that found nothing to remove: the goal of the removal is already met."""
    return status == 404 or is_missing_reference(status, error)


def is_last_owner(status: int, error: GraphErrorBody) -> bool:
    return status == 400 and "at least one owner" in error.message.lower()


def is_link_quota(status: int, error: GraphErrorBody) -> bool:
    """'would exceed the maximum quota count ... for forward-link owners|members'."""
    return status == 403 and (
        error.code == "Directory_QuotaExceeded" or "maximum quota count" in error.message.lower()
    )


def is_conflict(status: int, error: GraphErrorBody, property: str) -> bool:
    """Another object already holds this value of a unique property (mailNickname,
    uniqueName)."""
    if status != 400:
        return False
    target = _conflict_target(error)
    if target is not None:
        return target.lower() == property.lower()
    return f"property {property.lower()} already exists" in error.message.lower()


def _conflict_target(error: GraphErrorBody) -> str | None:
    for detail in error.details:
        if detail.get("code") in CONFLICT_CODES:
            return str(detail.get("target") or "")
    return None
