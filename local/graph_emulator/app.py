"""The HTTP front: an aiohttp low-level server that normalises every URL itself (double
slashes, `%24`, key segments), authenticates, adds latency, injects faults, hands `/v1.0`
requests to the routes or to `$batch`, and `/_emulator` ones to the admin API.

    state = EmulatorState(EmulatorConfig(port=8080))
    await serve(state)   # runs until cancelled
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import json
import logging
from typing import Any

from aiohttp import web

from . import admin, batch, errors, routes
from .config import EmulatorConfig
from .messages import Principal, Reply, Request
from .state import EmulatorState
from .urls import VERSION, expand_keys, split_target

logger = logging.getLogger(__name__)

JSON_CONTENT_TYPE = batch.JSON_CONTENT_TYPE
ADMIN_PREFIX = "_emulator"
BEARER = "bearer "


class Emulator:
    """One emulator: its state and the aiohttp request handler that serves it."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.state = EmulatorState(config)

    async def handle(self, http: web.BaseRequest) -> web.StreamResponse:
        segments, query = split_target(http.raw_path)
        raw_body = await http.read()
        if segments and segments[0] == ADMIN_PREFIX:
            status, body = admin.handle(self.state, http.method, segments[1:], raw_body)
            return web.Response(
                status=status, body=json.dumps(body).encode(), content_type="application/json"
            )

        counters = self.state.counters
        counters.requests += 1
        counters.bytes_in += len(raw_body)
        request_id = http.headers.get("client-request-id") or errors.new_request_id()
        reply = await self._serve(http, segments, query, raw_body)
        if reply is None:
            return self._drop(http)
        payload = _encode(reply.body)
        counters.bytes_out += len(payload)
        headers = {"request-id": request_id, "client-request-id": request_id, **reply.headers}
        if reply.body is not None:
            headers.setdefault("Content-Type", JSON_CONTENT_TYPE)
        return web.Response(status=reply.status, body=payload or None, headers=headers)

    async def _serve(
        self, http: web.BaseRequest, segments: list[str], query: dict[str, str], raw_body: bytes
    ) -> Reply | None:
        """The reply for a /v1.0 request, or None when the connection is to be dropped."""
        state = self.state
        config = state.config
        if not segments or segments[0].lower() != VERSION:
            version = segments[0] if segments else ""
            return routes.error_reply(
                state, errors.GraphError(400, "BadRequest", f"Invalid version: {version}")
            )
        principal = _principal(http.headers.get("Authorization", ""))
        if principal is None:
            return routes.error_reply(state, errors.missing_token())
        if config.latency_ms > 0:
            await asyncio.sleep(config.latency_ms / 1000)

        fault = self._pick_fault()
        if fault is not None:
            state.counters.faults += 1
            return routes.error_reply(state, fault)
        try:
            body = json.loads(raw_body) if raw_body.strip() else None
        except ValueError:
            return routes.error_reply(state, errors.unreadable_body())
        path_segments = segments[1:]
        request = Request(
            method=http.method.upper(),
            path="/" + "/".join(path_segments),
            segments=expand_keys(path_segments),
            query=query,
            headers={k.lower(): v for k, v in http.headers.items()},
            body=body,
            base_url=f"http://{http.host}/{VERSION}",
            principal=principal,
        )
        if [s.lower() for s in path_segments] == ["$batch"]:
            state.counters.by_route["POST /$batch"] += 1
            if request.method != "POST":
                return routes.error_reply(state, errors.method_not_allowed())
            try:
                reply = batch.run_batch(state, request, self._pick_fault)
            except errors.GraphError as error:
                reply = routes.error_reply(state, error)
        else:
            reply = routes.execute(state, request)

        # A dropped connection after the work is done: the client cannot tell it happened.
        # Limitation: connections are never dropped before the work, nor half-way through a
        # response, though real networks do both.
        if config.drop > 0 and state.random.random() < config.drop:
            state.counters.faults += 1
            return None
        return reply

    def _pick_fault(self) -> errors.GraphError | None:
        """One roll of the seeded dice, for a request or for one `$batch` item."""
        config = self.state.config
        if not (config.fail_429 or config.fail_503 or config.fail_504):
            return None
        roll = self.state.random.random()
        if roll < config.fail_429:
            return errors.throttled(
                config.fault_retry_after,
                {
                    "x-ms-throttle-scope": "Tenant_Application/ReadWrite/emulator/emulator",
                    "x-ms-throttle-information": "CPULimitExceeded",
                    "x-ms-resource-unit": "1",
                },
            )
        roll -= config.fail_429
        if roll < config.fail_503:
            return errors.service_unavailable(config.fault_retry_after)
        roll -= config.fail_503
        if roll < config.fail_504:
            return errors.gateway_timeout()
        return None

    @staticmethod
    def _drop(http: web.BaseRequest) -> web.StreamResponse:
        if http.transport is not None:
            http.transport.abort()
        return web.Response(status=500)


def _encode(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body, separators=(",", ":")).encode()


@functools.lru_cache(maxsize=256)
def _principal(authorization: str) -> Principal | None:
    """Any bearer token is accepted; a JWT's appid/tid/scp claims pick the throttle bucket
    and tell app-only tokens from delegated ones."""
    if not authorization.lower().startswith(BEARER):
        return None
    token = authorization[len(BEARER) :].strip()
    if not token:
        return None
    parts = token.split(".")
    if len(parts) != 3:
        return Principal()
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return Principal()
    if not isinstance(claims, dict):
        return Principal()
    default = Principal()
    return Principal(
        app_id=str(claims.get("appid") or claims.get("azp") or default.app_id),
        tenant_id=str(claims.get("tid") or default.tenant_id),
        delegated="scp" in claims,
    )


async def serve(emulator: Emulator, ready: asyncio.Event | None = None) -> None:
    """Listen on the configured host and port until cancelled."""
    config = emulator.state.config
    server = web.Server(emulator.handle, access_log=None)
    loop = asyncio.get_running_loop()
    listener = await loop.create_server(server, config.host, config.port)
    logger.info("Graph emulator listening on http://%s:%s/v1.0", config.host, config.port)
    if ready is not None:
        ready.set()
    try:
        await asyncio.Event().wait()
    finally:
        listener.close()
        await server.shutdown()
