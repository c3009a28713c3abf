"""The two transports of a school run's reconciles, and the later retry of a group not ready."""

from __future__ import annotations

from datetime import timedelta

import pytest
from azure.servicebus import ServiceBusClient

from shared.messages.bus import MessageBus
from shared.messages.schemas import GROUP_RECONCILE_QUEUE, GroupReconcile, decode, message_id
from shared.usecases.dispatch import RETRY_DELAYS, retry_later, send_to_queue
from shared.usecases.errors import TransientError
from shared.usecases.services import Services


def reconcile(**overrides) -> GroupReconcile:
    values = dict(
        school_id="dispatch-school",
        run_id="2025-09-14",
        mis_group_id="g1",
        academic_year=2025,
        kind="year",
        display_name="Year 7 4001 2025",
        mail_nickname="Year-7-4001-2025",
        unique_key="gs-4001-2025-abc",
        plan={"version": 1, "create": True},
        desired_owners=[],
    )
    values.update(overrides)
    return GroupReconcile(**values)


@pytest.fixture
def bus_services(servicebus):
    bus = MessageBus(servicebus.connection_string)
    yield Services({}, bus=bus)
    bus.close()


def peek_all(servicebus) -> list:
    client = ServiceBusClient.from_connection_string(servicebus.connection_string)
    with client, client.get_queue_receiver(GROUP_RECONCILE_QUEUE) as receiver:
        return receiver.peek_messages(max_message_count=200)


def cancel(servicebus, sequence_number: int) -> None:
    """Take a scheduled copy back, so it never reaches a later test's queue."""
    client = ServiceBusClient.from_connection_string(servicebus.connection_string)
    with client, client.get_queue_sender(GROUP_RECONCILE_QUEUE) as sender:
        sender.cancel_scheduled_messages(sequence_number)


async def test_the_queue_transport_sends_one_message_per_group(servicebus, bus_services):
    messages = [reconcile(mis_group_id=f"send-{n}", run_id="send-test") for n in range(3)]

    sent = await send_to_queue(bus_services)(messages)

    peeked = {m.message_id for m in peek_all(servicebus)}
    bus_services.bus.receive(GROUP_RECONCILE_QUEUE, max_messages=100, max_wait_time=0.5)
    assert sent == 3
    assert {message_id(m) for m in messages} <= peeked


async def test_a_group_not_ready_is_retried_later_with_its_attempt_counted(
    servicebus, bus_services
):
    message = reconcile(mis_group_id="not-ready", run_id="retry-test")
    before = bus_services.clock()

    await retry_later(bus_services, message)

    (copy,) = [m for m in peek_all(servicebus) if m.message_id == f"{message_id(message)}:retry1"]
    cancel(servicebus, copy.sequence_number)
    assert decode(b"".join(copy.body), GROUP_RECONCILE_QUEUE).attempt == 1
    assert copy.scheduled_enqueue_time_utc >= before + RETRY_DELAYS[0] - timedelta(seconds=1)


async def test_a_group_still_not_ready_after_every_retry_fails_for_good(bus_services):
    message = reconcile(attempt=len(RETRY_DELAYS))

    with pytest.raises(TransientError):
        await retry_later(bus_services, message)
