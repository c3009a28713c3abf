"""HTTP to Graph: one pooled httpx client, a cached bearer token from any azure-identity
credential, JSON in and out. No retries here: the batch runner owns them.

    transport = Transport(config)
    response = await transport.request("POST", "/$batch", json_body={"requests": [...]})

Why httpx and not msgraph-sdk's request adapter (kiota): measured on the project machine
(`python -m bench.bench_graph`), the adapter's `send_primitive_async` costs about 0.6 ms more
client CPU per request than httpx (1.8 against 1.2 ms), which alone would not matter. What
decides it is control: the adapter raises on every 4xx/5xx (the gateway needs status and
headers as data), its RetryHandler retries 429s on its own clock, uncapped and invisible to the
write pacing, and it pulls about 500 msgraph modules into a cold start. The gateway reads and
writes raw JSON either way, so the adapter would add nothing but those costs. Authentication
stays azure-identity's.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from shared.graph.config import GraphConfig, StaticToken

log = logging.getLogger(__name__)

TOKEN_REFRESH_MARGIN_SECONDS = 300  # renew five minutes before expiry
CONNECT_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: Mapping[str, str]  # names lower-cased
    body: Any  # parsed JSON, or None for an empty body


class TransportFailure(Exception):
    """The request got no HTTP answer (refused, reset, timed out). It may or may not have
    reached Graph, so only requests that are safe to repeat should be sent again."""


class Transport:
    def __init__(self, config: GraphConfig, *, http: httpx.AsyncClient | None = None) -> None:
        self._config = config
        self._tokens = _TokenCache(config.credential, config.scopes)
        self._http = http or httpx.AsyncClient(
            http2=config.base_url.startswith("https://"),
            timeout=httpx.Timeout(config.request_timeout_seconds, connect=CONNECT_TIMEOUT_SECONDS),
            limits=httpx.Limits(max_connections=config.max_concurrency * 2),
        )

    def absolute(self, url: str) -> str:
        return url if "://" in url else f"{self._config.base_url}{url}"

    async def request(
        self,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> RawResponse:
        all_headers = {"Authorization": await self._tokens.bearer(), "Accept": "application/json"}
        content = None
        if json_body is not None:
            content = json.dumps(json_body, separators=(",", ":")).encode()
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        try:
            response = await self._http.request(
                method, self.absolute(url), content=content, headers=all_headers
            )
        except httpx.TransportError as error:
            raise TransportFailure(f"{method} {url}: {type(error).__name__}: {error}") from error
        log.debug("%s %s -> %s", method, url, response.status_code)
        return RawResponse(
            status=response.status_code,
            headers={k.lower(): v for k, v in response.headers.items()},
            body=_json_or_none(response.content),
        )

    async def aclose(self) -> None:
        await self._http.aclose()


def _json_or_none(content: bytes) -> Any:
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return {"error": {"code": "", "message": content[:200].decode(errors="replace")}}


class _TokenCache:
    """One token for all requests until shortly before it expires. Sync credentials fetch in a
    worker thread so the event loop keeps serving other requests meanwhile."""

    def __init__(self, credential: Any, scopes: tuple[str, ...]) -> None:
        self._credential = credential
        self._scopes = scopes
        self._token: Any = None
        self._lock: asyncio.Lock | None = None

    async def bearer(self) -> str:
        if not self._fresh():
            self._lock = self._lock or asyncio.Lock()
            async with self._lock:
                if not self._fresh():
                    self._token = await self._fetch()
        return f"Bearer {self._token.token}"

    def _fresh(self) -> bool:
        return (
            self._token is not None
            and self._token.expires_on - TOKEN_REFRESH_MARGIN_SECONDS > time.time()
        )

    async def _fetch(self) -> Any:
        get_token = self._credential.get_token
        if isinstance(self._credential, StaticToken):
            return get_token(*self._scopes)
        if inspect.iscoroutinefunction(get_token):
            return await get_token(*self._scopes)
        return await asyncio.to_thread(get_token, *self._scopes)
