"""The product's bus adapter against the stand-in: batching, scheduling, properties."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from azure.servicebus import ServiceBusClient, ServiceBusReceiveMode

from local.services import RunningService
from shared.messages.bus import (
    BusConfigurationError,
    MessageBus,
    MessageTooLargeForBus,
    OutgoingMessage,
)


@pytest.fixture(scope="module")
def bus(servicebus: RunningService) -> Iterator[MessageBus]:
    with MessageBus.from_env({"ServiceBusConnection": servicebus.connection_string}) as bus:
        yield bus


def take_all(client: ServiceBusClient, queue: str, wait: float = 1.0) -> list:
    with client.get_queue_receiver(
        queue, receive_mode=ServiceBusReceiveMode.RECEIVE_AND_DELETE
    ) as receiver:
        received = []
        while batch := receiver.receive_messages(max_message_count=500, max_wait_time=wait):
            received.extend(batch)
        return received


def test_messages_too_many_for_one_batch_are_all_sent_in_order(
    bus: MessageBus, client: ServiceBusClient, queue: str
) -> None:
    # 40 KB each: the stand-in's 256 KB limit fits six to a batch, so this takes five batches.
    messages = [OutgoingMessage(bytes(40_000), message_id=f"m{n}") for n in range(30)]

    sent = bus.send(queue, messages)

    received = take_all(client, queue, wait=0.5)
    assert sent == 30
    assert [m.message_id for m in received] == [f"m{n}" for n in range(30)]


def test_subject_and_application_properties_reach_the_receiver(
    bus: MessageBus, client: ServiceBusClient, queue: str
) -> None:
    message = OutgoingMessage(
        b"{}", message_id="run-1:4001", subject="school-sync", application_properties={"v": 1}
    )

    bus.send(queue, [message])

    [received] = bus.receive(queue, max_messages=5, max_wait_time=1)
    assert (received.message_id, received.subject) == ("run-1:4001", "school-sync")
    assert received.application_properties == {b"v": 1}


def test_scheduled_message_is_held_back_until_its_time(
    bus: MessageBus, client: ServiceBusClient, queue: str
) -> None:
    due = datetime.now(UTC) + timedelta(hours=1)

    bus.send(queue, [OutgoingMessage(b"later", message_id="m", scheduled_at=due)])

    with client.get_queue_receiver(queue) as receiver:
        [peeked] = receiver.peek_messages(max_message_count=5)
    assert peeked.state.name == "SCHEDULED"
    assert peeked.scheduled_enqueue_time_utc == due.replace(
        microsecond=due.microsecond // 1000 * 1000
    )


def test_resending_the_same_message_ids_delivers_each_once(
    bus: MessageBus, client: ServiceBusClient, queue: str
) -> None:
    messages = [OutgoingMessage(b"x", message_id=f"run-1:{school}") for school in ("4001", "4002")]

    bus.send(queue, messages)
    bus.send(queue, messages)

    assert sorted(m.message_id for m in take_all(client, queue, wait=0.5)) == [
        "run-1:4001",
        "run-1:4002",
    ]


def test_naive_scheduled_time_is_refused_before_anything_is_sent(
    bus: MessageBus, queue: str
) -> None:
    naive = datetime(2030, 1, 1, 1, 30)

    with pytest.raises(ValueError, match="no timezone"):
        bus.send(queue, [OutgoingMessage(b"x", message_id="m", scheduled_at=naive)])


def test_bus_without_settings_names_the_settings_to_set() -> None:
    with pytest.raises(BusConfigurationError, match="ServiceBusConnection"):
        MessageBus.from_env({})


def test_message_larger_than_the_queue_allows_is_refused_with_its_id(
    bus: MessageBus, queue: str
) -> None:
    huge = OutgoingMessage(bytes(300_000), message_id="run-1:4001:g7")

    with pytest.raises(MessageTooLargeForBus, match=r"run-1:4001:g7"):
        bus.send(queue, [huge])
