"""Clients of the session's Service Bus stand-in, and a fresh queue name per test so tests
never see each other's messages."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from azure.servicebus import ServiceBusClient

from local.services import RunningService

# The SDK's keep-alive thread makes every sender's close() wait up to a second; tests open
# dozens of short-lived senders, so they turn it off (receivers keep theirs: the SDK insists).
NO_KEEP_ALIVE = {"keep_alive": 0}


@pytest.fixture(scope="module")
def client(servicebus: RunningService) -> Iterator[ServiceBusClient]:
    with ServiceBusClient.from_connection_string(servicebus.connection_string) as sdk_client:
        yield sdk_client


@pytest.fixture
def queue() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"
