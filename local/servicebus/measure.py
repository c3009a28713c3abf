"""Throughput of the stand-in driven by the real SDK: single sends, batch sends, peek-lock
receive with complete, and many clients at once. Prints one line per figure.

    python -m local.servicebus.measure [--messages 2000] [--clients 20]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from azure.servicebus import ServiceBusClient, ServiceBusMessage

from local.services import start_servicebus

BODY = b'{"school_id": "4001", "run_id": "2025-09-14", "trigger": "nightly"}'
RECEIVE_BATCH = 100


def timed(label: str, count: int, work: Callable[[], object]) -> None:
    started = time.perf_counter()
    work()
    elapsed = time.perf_counter() - started
    print(f"{label:<44} {count:>6} msgs {elapsed:7.2f} s {count / elapsed:9.0f} msg/s")


def send_singly(client: ServiceBusClient, queue: str, count: int) -> None:
    with client.get_queue_sender(queue) as sender:
        sender.send_messages(ServiceBusMessage(BODY))  # connect and authorise outside the count
        timed(
            "send, one message per call",
            count,
            lambda: [sender.send_messages(ServiceBusMessage(BODY)) for _ in range(count)],
        )


def send_batched(client: ServiceBusClient, queue: str, count: int) -> None:
    def work() -> None:
        batch = sender.create_message_batch()
        for _ in range(count):
            message = ServiceBusMessage(BODY)
            try:
                batch.add_message(message)
            except ValueError:
                sender.send_messages(batch)
                batch = sender.create_message_batch()
                batch.add_message(message)
        sender.send_messages(batch)

    with client.get_queue_sender(queue) as sender:
        sender.send_messages(ServiceBusMessage(BODY))
        timed("send, ServiceBusMessageBatch", count, work)


def receive_and_complete(client: ServiceBusClient, queue: str, count: int) -> None:
    def work() -> None:
        done = 0
        while done < count:
            batch = receiver.receive_messages(max_message_count=RECEIVE_BATCH, max_wait_time=5)
            if not batch:
                raise RuntimeError(f"only {done} of {count} messages came back from {queue}")
            for message in batch:
                receiver.complete_message(message)
            done += len(batch)

    with client.get_queue_receiver(queue) as receiver:
        timed(f"peek-lock receive ({RECEIVE_BATCH}) + complete", count, work)


def many_clients(connection_string: str, clients: int, per_client: int) -> None:
    def one(n: int) -> None:
        queue = f"measure-many-{n % 4}"
        with ServiceBusClient.from_connection_string(connection_string) as client:
            with client.get_queue_sender(queue) as sender:
                sender.send_messages([ServiceBusMessage(BODY) for _ in range(per_client)])
            with client.get_queue_receiver(queue) as receiver:
                taken = 0
                while taken < per_client:
                    batch = receiver.receive_messages(max_message_count=per_client, max_wait_time=5)
                    if not batch:
                        break
                    for message in batch:
                        receiver.complete_message(message)
                    taken += len(batch)

    def work() -> None:
        with ThreadPoolExecutor(max_workers=clients) as pool:
            list(pool.map(one, range(clients)))

    timed(f"{clients} clients at once, send + receive + complete", clients * per_client, work)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m local.servicebus.measure")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()

    with (
        start_servicebus() as service,
        ServiceBusClient.from_connection_string(service.connection_string) as client,
    ):
        send_singly(client, "measure-single", args.messages)
        send_batched(client, "measure-batch", args.messages)
        receive_and_complete(client, "measure-batch", args.messages)
        many_clients(service.connection_string, args.clients, per_client=50)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
