"""The two shapes every route handler deals in: a normalised Graph request (top level or a
`$batch` item) and the reply it produces, rendered to bytes once by the app."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from . import errors

MAX_PAGE_SIZE = 999
DEFAULT_PAGE_SIZE = 100
SKIPTOKEN_PREFIX = "RFNwdAIA"


@dataclass
class Principal:
    """Who is calling, from the bearer token when it is a JWT; one default app otherwise."""

    app_id: str = "emulator-app"
    tenant_id: str = "emulator-tenant"
    delegated: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.app_id, self.tenant_id)


@dataclass
class Request:
    """One Graph request, top level or a `$batch` item, after URL normalisation."""

    method: str
    path: str  # normalised, relative to /v1.0, e.g. "/groups/abc/members"
    segments: list[Any]
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: Any
    base_url: str  # "http://host:port/v1.0", for absolute next links
    principal: Principal = field(default_factory=Principal)

    @property
    def eventual(self) -> bool:
        return self.headers.get("consistencylevel", "").lower() == "eventual"

    @property
    def count_requested(self) -> bool:
        return self.query.get("$count", "").lower() == "true"

    def select(self) -> list[str] | None:
        raw = self.query.get("$select")
        if not raw:
            return None
        return [name.strip() for name in raw.split(",") if name.strip()]

    def top(self, default: int = DEFAULT_PAGE_SIZE) -> int:
        raw = self.query.get("$top")
        if raw is None:
            return default
        try:
            top = int(raw)
        except ValueError:
            raise errors.invalid_page_size(raw) from None
        if not 1 <= top <= MAX_PAGE_SIZE:
            raise errors.invalid_page_size(raw)
        return top

    def offset(self) -> int:
        token = self.query.get("$skiptoken")
        if not token:
            return 0
        if not token.startswith(SKIPTOKEN_PREFIX) or not token[len(SKIPTOKEN_PREFIX) :].isdigit():
            raise errors.GraphError(400, "Request_BadRequest", "Invalid paging token.")
        return int(token[len(SKIPTOKEN_PREFIX) :])

    def next_link(self, offset: int) -> str:
        query = {k: v for k, v in self.query.items() if k != "$skiptoken"}
        query["$skiptoken"] = f"{SKIPTOKEN_PREFIX}{offset}"
        return f"{self.base_url}{self.path}?{urlencode(query, safe='$,()')}"


@dataclass
class Reply:
    status: int
    body: Any = None  # a dict for JSON, a str for text/plain, None for no content
    headers: dict[str, str] = field(default_factory=dict)


NO_CONTENT = 204
