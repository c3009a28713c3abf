"""Several lock renewals in flight at once on one receiver, through the real SDK (threads and
tasks): the SDK then can stamp two requests with the same delivery-id, which the stand-in
must take in its stride, as Service Bus does, and leave the receiver able to settle."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from azure.servicebus import ServiceBusClient, ServiceBusMessage
from azure.servicebus.aio import ServiceBusClient as AsyncServiceBusClient

from local.services import RunningService
from tests.servicebus.conftest import NO_KEEP_ALIVE

MESSAGES = 8
# Whether two requests collide depends on how the SDK's tasks interleave: several rounds make
# a collision all but certain.
ROUNDS = 3
WAIT = 1.0


def test_concurrent_lock_renewals_from_threads_leave_the_receiver_able_to_complete(
    client: ServiceBusClient, queue: str
) -> None:
    with client.get_queue_sender(queue, **NO_KEEP_ALIVE) as sender:
        sender.send_messages([ServiceBusMessage(f"m{i}") for i in range(MESSAGES)])

    with client.get_queue_receiver(queue) as receiver:
        messages = []
        while len(messages) < MESSAGES:
            messages += receiver.receive_messages(max_message_count=MESSAGES, max_wait_time=WAIT)
        locked_until = [message.locked_until_utc for message in messages]
        with ThreadPoolExecutor(MESSAGES) as pool:
            for _ in range(ROUNDS):
                renewed = list(pool.map(receiver.renew_message_lock, messages))
        for message in messages:
            receiver.complete_message(message)
        left = receiver.peek_messages(max_message_count=MESSAGES)

    assert all(after >= before for after, before in zip(renewed, locked_until, strict=True))
    assert left == []


async def test_concurrent_lock_renewals_from_tasks_leave_the_receiver_able_to_complete(
    servicebus: RunningService, queue: str
) -> None:
    async with AsyncServiceBusClient.from_connection_string(servicebus.connection_string) as client:
        async with client.get_queue_sender(queue, **NO_KEEP_ALIVE) as sender:
            await sender.send_messages([ServiceBusMessage(f"m{i}") for i in range(MESSAGES)])

        async with client.get_queue_receiver(queue) as receiver:
            messages = []
            while len(messages) < MESSAGES:
                messages += await receiver.receive_messages(
                    max_message_count=MESSAGES, max_wait_time=WAIT
                )
            locked_until = [message.locked_until_utc for message in messages]
            for _ in range(ROUNDS):
                renewed = await asyncio.gather(
                    *(receiver.renew_message_lock(message) for message in messages)
                )
            await asyncio.gather(*(receiver.complete_message(message) for message in messages))
            left = await receiver.peek_messages(max_message_count=MESSAGES)

    assert all(after >= before for after, before in zip(renewed, locked_until, strict=True))
    assert left == []
