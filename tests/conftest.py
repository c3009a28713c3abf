"""Session-wide stand-ins: Azurite, the Graph emulator and the Service Bus stand-in, each
started once on free loopback ports and stopped at the end of the run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from local.services import (
    RunningService,
    start_azurite,
    start_graph_emulator,
    start_servicebus,
)

LOG_DIR = Path(__file__).resolve().parent.parent / ".pytest_cache" / "service-logs"


@pytest.fixture(scope="session")
def azurite() -> Iterator[RunningService]:
    with start_azurite(log_dir=LOG_DIR) as service:
        yield service


@pytest.fixture(scope="session")
def graph_emulator() -> Iterator[RunningService]:
    with start_graph_emulator(log_dir=LOG_DIR) as service:
        yield service


@pytest.fixture(scope="session")
def servicebus() -> Iterator[RunningService]:
    with start_servicebus(log_dir=LOG_DIR) as service:
        yield service
