"""Lock expiry and the maximum delivery count, on a stand-in of its own with a two-second
lock and two deliveries at most, so the rules show in seconds rather than minutes."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from azure.servicebus import ServiceBusClient, ServiceBusMessage, ServiceBusSubQueue

from local.services import start_servicebus
from tests.servicebus.conftest import NO_KEEP_ALIVE

LOCK_SECONDS = 2
MAX_DELIVERIES = 2


@pytest.fixture(scope="module")
def short_lock_client() -> Iterator[ServiceBusClient]:
    options = ("--lock-duration", str(LOCK_SECONDS), "--max-delivery-count", str(MAX_DELIVERIES))
    with (
        start_servicebus(*options) as service,
        ServiceBusClient.from_connection_string(service.connection_string) as client,
    ):
        yield client


def test_message_whose_lock_expires_is_delivered_again(
    short_lock_client: ServiceBusClient, queue: str
) -> None:
    with short_lock_client.get_queue_sender(queue, **NO_KEEP_ALIVE) as sender:
        sender.send_messages(ServiceBusMessage(b"x", message_id="m"))

    with short_lock_client.get_queue_receiver(queue) as receiver:
        [first] = receiver.receive_messages(max_wait_time=1)
        locked_at = time.monotonic()
        [second] = receiver.receive_messages(max_wait_time=LOCK_SECONDS + 3)
        waited = time.monotonic() - locked_at
        receiver.complete_message(second)

    assert second.message_id == "m"
    assert (first.delivery_count, second.delivery_count) == (0, 1)
    assert waited >= LOCK_SECONDS - 0.1


def test_message_abandoned_past_the_max_delivery_count_is_dead_lettered(
    short_lock_client: ServiceBusClient, queue: str
) -> None:
    with short_lock_client.get_queue_sender(queue, **NO_KEEP_ALIVE) as sender:
        sender.send_messages(ServiceBusMessage(b"x", message_id="m"))

    with short_lock_client.get_queue_receiver(queue) as receiver:
        for _ in range(MAX_DELIVERIES):
            [message] = receiver.receive_messages(max_wait_time=1)
            receiver.abandon_message(message)
        left = receiver.peek_messages(max_message_count=5)
    with short_lock_client.get_queue_receiver(
        queue, sub_queue=ServiceBusSubQueue.DEAD_LETTER
    ) as receiver:
        [dead] = receiver.receive_messages(max_wait_time=1)
        receiver.complete_message(dead)

    assert left == []
    assert dead.message_id == "m"
    assert dead.dead_letter_reason == "MaxDeliveryCountExceeded"
