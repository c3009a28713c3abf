"""HTTP to Graph through msgraph-sdk's request adapter: the SDK authenticates and runs Graph's
middleware, the gateway sends and reads raw JSON and sees every answer as data. No retries here:
the batch runner owns them.

    transport = Transport(config)
    response = await transport.request("POST", "/$batch", json_body={"requests": [...]})

How it uses the SDK (msgraph-core's `BaseGraphRequestAdapter`, a kiota `HttpxRequestAdapter`):
- Authentication is kiota's `AzureIdentityAuthenticationProvider` over the configured
  azure-identity credential (a `StaticToken` for the emulator). It sends the token to the base
  URL's host only, refuses plain http except on loopback, and answers a continuous access
  evaluation challenge (a 401 with claims) by fetching a new token and sending again.
- Graph's default middleware runs on every request (redirects, query-name decoding, user
  agent and Graph's telemetry headers, tracing spans), minus its RetryHandler. That handler
  retries 429/503/504 on its own clock (Retry-After uncapped and without jitter, fractional
  values ignored), out of sight of the write pacing, and would send a whole `$batch` again
  while the runner retries its items one by one. The batch runner paces and retries instead.
- Requests go out through the adapter's `get_http_response_message`, which returns the httpx
  response whatever its status. Its `send_*` methods raise on every 4xx/5xx, where the gateway
  needs status, headers and Graph's error body as data. Bodies are JSON built and parsed here,
  never SDK models (those cost seconds of CPU per 999-object page).
- The SDK's modules are imported when the first Transport is built, never at
  `import shared.graph`, so the function app's cold start pays for them only in the handlers
  that talk to Graph. msgraph-core's adapter is enough: msgraph-sdk's subclass only adds a
  `/me` url rewrite and its own version in the telemetry header.

The cost, measured against the httpx-only transport this replaced: about 0.6 ms more client CPU
per 20-item `$batch` round trip, and about 0.1 s and 150 modules more when the first gateway of
a process is built (`python -m bench.bench_graph` prints both).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from shared.graph.config import GraphConfig, StaticToken
from shared.graph.errors import GraphConfigError

if TYPE_CHECKING:
    from kiota_http.httpx_request_adapter import HttpxRequestAdapter

log = logging.getLogger(__name__)

TOKEN_REFRESH_MARGIN_SECONDS = 300  # renew five minutes before expiry
CONNECT_TIMEOUT_SECONDS = 10.0
# The hosts kiota's token provider lets a bearer token travel to over plain http.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


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
        """`http`, when given, is the client to send through (tests pass a mock transport);
        its transport is wrapped in Graph's middleware here."""
        _check_base_url(config.base_url)
        self._config = config
        self._http = http or httpx.AsyncClient(
            http2=config.base_url.startswith("https://"),
            timeout=httpx.Timeout(config.request_timeout_seconds, connect=CONNECT_TIMEOUT_SECONDS),
            limits=httpx.Limits(max_connections=config.max_concurrency * 2),
        )
        self._adapter = _graph_adapter(config, self._http)

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
        from kiota_abstractions.method import Method
        from kiota_abstractions.request_information import RequestInformation

        info = RequestInformation(Method(method.upper()))
        info.url = self.absolute(url)
        # Only names the tracing span: the url above is sent as it is.
        info.url_template = "{+baseurl}" + url.split("?")[0] if "://" not in url else None
        info.headers.add("Accept", "application/json")
        if json_body is not None:
            info.content = json.dumps(json_body, separators=(",", ":")).encode()
            info.headers.add("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            info.headers.remove(name)
            info.headers.add(name, value)
        span = self._adapter.start_tracing_span(info, "request")
        try:
            response = await self._adapter.get_http_response_message(info, span)
        except httpx.TransportError as error:
            path = urlsplit(url).path
            raise TransportFailure(f"{method} {path}: {type(error).__name__}: {error}") from error
        finally:
            span.end()
        # The path only: a query (a user lookup's filter) can hold addresses, and logs hold ids.
        log.debug("%s %s -> %s", method, urlsplit(url).path, response.status_code)
        return RawResponse(
            status=response.status_code,
            headers={k.lower(): v for k, v in response.headers.items()},
            body=_json_or_none(response.content),
        )

    async def aclose(self) -> None:
        await self._http.aclose()


def _check_base_url(base_url: str) -> None:
    parts = urlsplit(base_url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return
    raise GraphConfigError(
        f"GRAPH_BASE_URL={base_url!r}: Graph is reached over https (a bearer token never "
        "travels over plain http); only a local emulator on localhost or 127.0.0.1 may use http"
    )


def _graph_adapter(config: GraphConfig, http: httpx.AsyncClient) -> HttpxRequestAdapter:
    """msgraph-core's request adapter on `http`, with Graph's default middleware minus the
    RetryHandler, and kiota's azure-identity authentication for the base URL's host only."""
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from kiota_http.kiota_client_factory import KiotaClientFactory
    from kiota_http.middleware import RetryHandler
    from msgraph_core.base_graph_request_adapter import BaseGraphRequestAdapter
    from msgraph_core.graph_client_factory import GraphClientFactory
    from msgraph_core.middleware import GraphTelemetryHandler

    middleware = [
        handler
        for handler in KiotaClientFactory.get_default_middleware(None)
        if not isinstance(handler, RetryHandler)
    ]
    middleware.append(GraphTelemetryHandler())
    client = GraphClientFactory.create_with_custom_middleware(middleware, client=http)
    auth = AzureIdentityAuthenticationProvider(
        _CachedCredential(config.credential),
        scopes=list(config.scopes),
        allowed_hosts=[urlsplit(config.base_url).hostname or ""],
    )
    adapter = BaseGraphRequestAdapter(auth, http_client=client)
    adapter.base_url = config.base_url
    return adapter


def _json_or_none(content: bytes) -> Any:
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return {"error": {"code": "", "message": content[:200].decode(errors="replace")}}


class _CachedCredential:
    """The configured credential as the async credential kiota's provider awaits. The provider
    asks for a token on every request and would call a sync credential on the event loop, so
    this keeps one token until shortly before it expires and fetches with a sync credential in
    a worker thread, leaving the loop free for other requests meanwhile. A claims challenge
    always fetches anew."""

    def __init__(self, credential: Any) -> None:
        self._credential = credential
        self._token: Any = None
        self._lock: asyncio.Lock | None = None

    async def get_token(self, *scopes: str, claims: str | None = None, **kwargs: Any) -> Any:
        if claims:
            self._token = await self._fetch(scopes, claims=claims, **kwargs)
        elif not self._fresh():
            self._lock = self._lock or asyncio.Lock()
            async with self._lock:
                if not self._fresh():
                    self._token = await self._fetch(scopes, **kwargs)
        return self._token

    def _fresh(self) -> bool:
        return (
            self._token is not None
            and self._token.expires_on - TOKEN_REFRESH_MARGIN_SECONDS > time.time()
        )

    async def _fetch(self, scopes: tuple[str, ...], **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        get_token = self._credential.get_token
        if isinstance(self._credential, StaticToken):
            token = get_token(*scopes, **kwargs)
        elif inspect.iscoroutinefunction(get_token):
            token = await get_token(*scopes, **kwargs)
        else:
            token = await asyncio.to_thread(get_token, *scopes, **kwargs)
        # kiota's provider sends only azure-core's AccessToken, not a look-alike.
        return AccessToken(token.token, int(token.expires_on))
