"""The ports every use case works through, built from the app settings in this one place.

    async with Services.from_env(os.environ) as services:
        await run_school(services, "4001", run_id, "cli", reconcile_inline(services))

The SDK-heavy modules (Graph, storage, Service Bus) are imported here, lazily, so that importing
the function app stays fast and a command that needs none of them never pays for them.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shared.graph import GraphGateway
    from shared.messages.bus import MessageBus
    from shared.state import ExportStore, StateStore

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Services:
    """State, MIS exports, the Graph gateway, the bus and the clock.

    Each port is built from the settings on first use, so a caller that never touches Graph
    (the admin API reading reports) never imports or configures it. Tests pass ports in.
    """

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        state: StateStore | None = None,
        exports: ExportStore | None = None,
        graph: GraphGateway | None = None,
        bus: MessageBus | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.env: dict[str, str] = dict(os.environ if env is None else env)
        self.clock = clock
        self._state = state
        self._exports = exports
        self._graph = graph
        self._bus = bus

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, clock: Clock = utc_now) -> Services:
        return cls(env, clock=clock)

    @property
    def state(self) -> StateStore:
        if self._state is None:
            from shared.state import StateStore

            self._state = StateStore.from_env(self.env)
        return self._state

    @property
    def exports(self) -> ExportStore:
        if self._exports is None:
            from shared.state import ExportStore

            self._exports = ExportStore.from_env(self.env)
        return self._exports

    @property
    def graph(self) -> GraphGateway:
        if self._graph is None:
            from shared.graph import GraphConfig, GraphGateway

            self._graph = GraphGateway(GraphConfig.from_env(self.env))
        return self._graph

    @property
    def bus(self) -> MessageBus:
        if self._bus is None:
            from shared.messages.bus import MessageBus

            self._bus = MessageBus.from_env(self.env)
        return self._bus

    async def send(self, queue: str, outgoing: list) -> int:
        """Send `OutgoingMessage`s to `queue` without blocking the event loop."""
        if not outgoing:
            return 0
        return await asyncio.to_thread(self.bus.send, queue, outgoing)

    async def close(self) -> None:
        built = (self._graph, self._bus, self._state, self._exports)
        self._graph = self._bus = self._state = self._exports = None
        for port in built:
            if port is not None:
                await _close(port)

    async def __aenter__(self) -> Services:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def _close(port: Any) -> None:
    # Ports differ in how they release connections; each is closed the way it offers.
    for name in ("aclose", "close"):
        method = getattr(port, name, None)
        if method is None:
            continue
        result = method()
        if hasattr(result, "__await__"):
            await result
        return
