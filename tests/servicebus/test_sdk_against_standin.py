"""The real azure-servicebus SDK against the local stand-in: what the product and its tests
rely on when they send, receive and settle through it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from azure.servicebus import (
    ServiceBusClient,
    ServiceBusMessage,
    ServiceBusReceiveMode,
    ServiceBusSubQueue,
)
from azure.servicebus.aio import ServiceBusClient as AsyncServiceBusClient

from local.services import RunningService
from tests.servicebus.conftest import NO_KEEP_ALIVE

WAIT = 1.0


def send(client: ServiceBusClient, queue: str, *messages: ServiceBusMessage) -> None:
    with client.get_queue_sender(queue, **NO_KEEP_ALIVE) as sender:
        sender.send_messages(list(messages) if len(messages) > 1 else messages[0])


def test_sent_message_is_received_with_its_properties_and_completed(
    client: ServiceBusClient, queue: str
) -> None:
    send(
        client,
        queue,
        ServiceBusMessage(
            b'{"school_id": "4001"}',
            message_id="run-1:4001",
            correlation_id="run-1",
            subject="school-sync",
            content_type="application/json",
            application_properties={"schema": 1, "trigger": "nightly"},
        ),
    )

    with client.get_queue_receiver(queue) as receiver:
        [message] = receiver.receive_messages(max_wait_time=WAIT)
        locked_until = message.locked_until_utc
        receiver.complete_message(message)
        left = receiver.peek_messages(max_message_count=5)

    assert b"".join(message.body) == b'{"school_id": "4001"}'
    assert (message.message_id, message.correlation_id) == ("run-1:4001", "run-1")
    assert (message.subject, message.content_type) == ("school-sync", "application/json")
    assert message.application_properties == {b"schema": 1, b"trigger": b"nightly"}
    assert message.delivery_count == 0
    assert message.sequence_number > 0
    assert locked_until > datetime.now(UTC)
    assert left == []


def test_batch_arrives_as_separate_messages_in_order(client: ServiceBusClient, queue: str) -> None:
    with client.get_queue_sender(queue, **NO_KEEP_ALIVE) as sender:
        batch = sender.create_message_batch()
        for n in range(20):
            batch.add_message(ServiceBusMessage(f"body-{n}", message_id=f"m{n}"))
        sender.send_messages(batch)

    with client.get_queue_receiver(
        queue, receive_mode=ServiceBusReceiveMode.RECEIVE_AND_DELETE
    ) as receiver:
        received = receiver.receive_messages(max_message_count=50, max_wait_time=WAIT)

    assert [m.message_id for m in received] == [f"m{n}" for n in range(20)]
    assert [b"".join(m.body) for m in received] == [f"body-{n}".encode() for n in range(20)]


def test_abandoned_message_is_redelivered_with_a_higher_delivery_count(
    client: ServiceBusClient, queue: str
) -> None:
    send(client, queue, ServiceBusMessage(b"x", message_id="m"))

    with client.get_queue_receiver(queue) as receiver:
        [first] = receiver.receive_messages(max_wait_time=WAIT)
        receiver.abandon_message(first)
        [second] = receiver.receive_messages(max_wait_time=WAIT)
        receiver.complete_message(second)

    assert second.message_id == "m"
    assert (first.delivery_count, second.delivery_count) == (0, 1)


def test_dead_lettered_message_is_readable_from_the_dead_letter_queue_with_its_reason(
    client: ServiceBusClient, queue: str
) -> None:
    send(client, queue, ServiceBusMessage(b"x", message_id="m"))

    with client.get_queue_receiver(queue) as receiver:
        [message] = receiver.receive_messages(max_wait_time=WAIT)
        receiver.dead_letter_message(
            message, reason="InvalidMessage", error_description="schema 9 is unknown"
        )
        left = receiver.peek_messages(max_message_count=5)
    with client.get_queue_receiver(queue, sub_queue=ServiceBusSubQueue.DEAD_LETTER) as receiver:
        [dead] = receiver.receive_messages(max_wait_time=WAIT)
        receiver.complete_message(dead)

    assert left == []
    assert dead.message_id == "m"
    assert dead.dead_letter_reason == "InvalidMessage"
    assert dead.dead_letter_error_description == "schema 9 is unknown"
    assert dead.dead_letter_source == queue


def test_renewed_lock_moves_locked_until_forward(client: ServiceBusClient, queue: str) -> None:
    send(client, queue, ServiceBusMessage(b"x", message_id="m"))

    with client.get_queue_receiver(queue) as receiver:
        [message] = receiver.receive_messages(max_wait_time=WAIT)
        before = message.locked_until_utc
        renewed = receiver.renew_message_lock(message)
        locked_until = message.locked_until_utc
        receiver.complete_message(message)

    assert renewed > before
    assert locked_until == renewed


def test_scheduled_message_stays_invisible_until_its_time(
    client: ServiceBusClient, queue: str
) -> None:
    due = datetime.now(UTC) + timedelta(seconds=2.5)
    send(client, queue, ServiceBusMessage(b"x", message_id="m", scheduled_enqueue_time_utc=due))

    with client.get_queue_receiver(
        queue, receive_mode=ServiceBusReceiveMode.RECEIVE_AND_DELETE
    ) as receiver:
        early = receiver.receive_messages(max_wait_time=0.3)
        late = receiver.receive_messages(max_wait_time=5)

    assert early == []
    assert [m.message_id for m in late] == ["m"]
    # Service Bus stamps a scheduled message as enqueued when it becomes visible.
    assert late[0].enqueued_time_utc >= due - timedelta(milliseconds=1)


def test_cancelled_scheduled_message_never_arrives(client: ServiceBusClient, queue: str) -> None:
    due = datetime.now(UTC) + timedelta(seconds=0.5)
    with client.get_queue_sender(queue, **NO_KEEP_ALIVE) as sender:
        [sequence_number] = sender.schedule_messages(ServiceBusMessage(b"x", message_id="m"), due)
        sender.cancel_scheduled_messages(sequence_number)

    with client.get_queue_receiver(
        queue, receive_mode=ServiceBusReceiveMode.RECEIVE_AND_DELETE
    ) as receiver:
        received = receiver.receive_messages(max_wait_time=1.0)

    assert received == []


def test_peek_shows_queued_and_scheduled_messages_without_locking_them(
    client: ServiceBusClient, queue: str
) -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    with client.get_queue_sender(queue, **NO_KEEP_ALIVE) as sender:
        sender.send_messages(ServiceBusMessage(b"a", message_id="now"))
        sender.send_messages(
            ServiceBusMessage(b"b", message_id="later", scheduled_enqueue_time_utc=later)
        )

    with client.get_queue_receiver(queue) as receiver:
        peeked = receiver.peek_messages(max_message_count=10)
        [received] = receiver.receive_messages(max_wait_time=WAIT)
        receiver.complete_message(received)

    assert [m.message_id for m in peeked] == ["now", "later"]
    assert [m.state.name for m in peeked] == ["ACTIVE", "SCHEDULED"]
    assert received.message_id == "now"


def test_duplicate_message_id_is_dropped(client: ServiceBusClient, queue: str) -> None:
    with client.get_queue_sender(queue, **NO_KEEP_ALIVE) as sender:
        sender.send_messages(ServiceBusMessage(b"first", message_id="run-1:4001"))
        sender.send_messages(ServiceBusMessage(b"second", message_id="run-1:4001"))
        sender.send_messages(ServiceBusMessage(b"other", message_id="run-1:4002"))

    with client.get_queue_receiver(
        queue, receive_mode=ServiceBusReceiveMode.RECEIVE_AND_DELETE
    ) as receiver:
        received = receiver.receive_messages(max_message_count=10, max_wait_time=WAIT)

    assert [b"".join(m.body) for m in received] == [b"first", b"other"]


def test_competing_receivers_each_get_distinct_messages(
    servicebus: RunningService, client: ServiceBusClient, queue: str
) -> None:
    count = 60
    with client.get_queue_sender(queue, **NO_KEEP_ALIVE) as sender:
        sender.send_messages([ServiceBusMessage(b"x", message_id=f"m{n}") for n in range(count)])

    def drain(_: int) -> list[str]:
        # One client per receiver: the SDK's sync client is not meant to be shared by threads.
        seen: list[str] = []
        with (
            ServiceBusClient.from_connection_string(servicebus.connection_string) as own,
            own.get_queue_receiver(queue) as receiver,
        ):
            while batch := receiver.receive_messages(max_message_count=5, max_wait_time=0.5):
                for message in batch:
                    receiver.complete_message(message)
                    seen.append(message.message_id)
        return seen

    with ThreadPoolExecutor(max_workers=3) as pool:
        per_receiver = list(pool.map(drain, range(3)))

    everything = [message_id for seen in per_receiver for message_id in seen]
    assert sorted(everything) == sorted(f"m{n}" for n in range(count))
    assert sum(1 for seen in per_receiver if seen) >= 2


async def test_async_client_sends_receives_and_completes(
    servicebus: RunningService, queue: str
) -> None:
    async with AsyncServiceBusClient.from_connection_string(servicebus.connection_string) as aio:
        async with aio.get_queue_sender(queue, **NO_KEEP_ALIVE) as sender:
            await sender.send_messages(
                [ServiceBusMessage(f"{n}", message_id=f"m{n}") for n in range(5)]
            )
        async with aio.get_queue_receiver(queue) as receiver:
            received = await receiver.receive_messages(max_message_count=10, max_wait_time=WAIT)
            for message in received:
                await receiver.complete_message(message)
            left = await receiver.peek_messages(max_message_count=5)

    assert [m.message_id for m in received] == [f"m{n}" for n in range(5)]
    assert left == []


def test_receive_and_delete_removes_the_message_at_once(
    client: ServiceBusClient, queue: str
) -> None:
    send(client, queue, ServiceBusMessage(b"x", message_id="m"))

    with client.get_queue_receiver(
        queue, receive_mode=ServiceBusReceiveMode.RECEIVE_AND_DELETE
    ) as receiver:
        [message] = receiver.receive_messages(max_wait_time=WAIT)
    with client.get_queue_receiver(queue) as receiver:
        peeked = receiver.peek_messages(max_message_count=5)

    assert message.message_id == "m"
    assert peeked == []
