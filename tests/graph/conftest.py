"""Each test gets the session's Graph emulator emptied (options restored afterwards), an admin
client for seeding and inspecting it, and a factory for gateways pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from local.services import RunningService
from shared.graph import GraphConfig, GraphGateway, StaticToken
from shared.graph.pacing import WriteBudget

STARTUP_ONLY_OPTIONS = ("host", "port")


class Emulator:
    def __init__(self, client: httpx.Client, url: str) -> None:
        self.client = client
        self.url = url

    def configure(self, **options: Any) -> None:
        self.client.post("/_emulator/config", json=options).raise_for_status()

    def seed_users(self, count: int, prefix: str = "pupil") -> list[str]:
        users = [
            {"userPrincipalName": f"{prefix}{n}@school.example", "displayName": f"P {n}"}
            for n in range(count)
        ]
        response = self.client.post("/_emulator/users", json={"users": users})
        response.raise_for_status()
        return response.json()["ids"]

    def groups(self) -> dict[str, dict[str, Any]]:
        state = self.client.get("/_emulator/state").json()
        return {g["id"]: g for g in state["groups"] if not g["deleted"]}

    def counters(self) -> dict[str, Any]:
        return self.client.get("/_emulator/counters").json()


@pytest.fixture
def emulator(graph_emulator: RunningService) -> Iterator[Emulator]:
    with httpx.Client(base_url=graph_emulator.url, timeout=30) as client:
        original = client.get("/_emulator/config").json()
        client.post("/_emulator/reset").raise_for_status()
        yield Emulator(client, graph_emulator.url)
        for name in STARTUP_ONLY_OPTIONS:
            original.pop(name, None)
        client.post("/_emulator/config", json=original).raise_for_status()


@pytest.fixture
async def gateway_for(emulator: Emulator) -> AsyncIterator[Any]:
    """Build gateways on the emulator; each has its own write budget and is closed after."""
    made: list[GraphGateway] = []

    def make(**overrides: Any) -> GraphGateway:
        budget = overrides.pop("budget", None)
        settings: dict[str, Any] = {
            "base_url": f"{emulator.url}/v1.0",
            "credential": StaticToken("test-token"),
            "replication_wait_seconds": 20.0,
        }
        config = GraphConfig(**(settings | overrides))
        budget = budget or WriteBudget(config.write_budget, config.write_window_seconds)
        gateway = GraphGateway(config, budget=budget)
        made.append(gateway)
        return gateway

    yield make
    for gateway in made:
        await gateway.aclose()


@pytest.fixture
async def gateway(gateway_for: Any) -> GraphGateway:
    return gateway_for()
