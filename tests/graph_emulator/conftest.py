"""Each test gets the session's Graph emulator emptied, an httpx client that carries a
bearer token, and the emulator's options put back as they were when it ends."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from local.services import RunningService

STARTUP_ONLY_OPTIONS = ("host", "port")


@pytest.fixture
def graph(graph_emulator: RunningService) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=graph_emulator.url, headers={"Authorization": "Bearer test-token"}, timeout=30
    ) as client:
        original = client.get("/_emulator/config").json()
        client.post("/_emulator/reset").raise_for_status()
        yield client
        for name in STARTUP_ONLY_OPTIONS:
            original.pop(name)
        client.post("/_emulator/config", json=original).raise_for_status()
