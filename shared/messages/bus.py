"""Sending to Service Bus queues: a thin wrapper over the azure-servicebus SDK that batches,
schedules and keeps one sender per queue. It knows bytes and ids, not what the messages mean.

    with MessageBus.from_env(os.environ) as bus:
        bus.send("school-sync", [OutgoingMessage(body=b"{...}", message_id="2025-09-14:4001")])
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from azure.servicebus import ServiceBusMessage, ServiceBusReceivedMessage, ServiceBusSender

log = logging.getLogger(__name__)

# The one connection the queue triggers and the senders share. The SDK is imported only when a
# bus is built, so a trigger module can name the setting without a cold start paying for it.
CONNECTION_SETTING = "ServiceBusConnection"
# The same connection by managed identity, as the Functions host reads it in Azure.
NAMESPACE_SETTING = f"{CONNECTION_SETTING}__fullyQualifiedNamespace"
CLIENT_ID_SETTING = "AZURE_CLIENT_ID"

PropertyValue = str | int | float | bool


class BusConfigurationError(Exception):
    """Neither a connection string nor a namespace tells the bus where Service Bus is."""


class MessageTooLargeForBus(Exception):
    """One message is larger than the queue accepts even on its own."""


@dataclass(frozen=True)
class OutgoingMessage:
    """A message to send: the body is sent as is, `message_id` drives duplicate detection."""

    body: bytes
    message_id: str
    subject: str = ""
    # Must be timezone-aware; the message stays invisible to receivers until then.
    scheduled_at: datetime | None = None
    application_properties: Mapping[str, PropertyValue] = field(default_factory=dict)


class MessageBus:
    """Sends to any queue of one namespace through one client and one sender per queue."""

    def __init__(
        self,
        connection_string: str | None = None,
        *,
        namespace: str | None = None,
        credential: Any = None,
    ) -> None:
        from azure.servicebus import ServiceBusClient

        if connection_string:
            self._client = ServiceBusClient.from_connection_string(connection_string)
        elif namespace:
            if credential is None:
                # Imported here: azure.identity costs a fifth of a second nobody local needs.
                from azure.identity import DefaultAzureCredential

                credential = DefaultAzureCredential()
            self._client = ServiceBusClient(namespace, credential)
        else:
            raise BusConfigurationError(
                f"no Service Bus to send to: set {CONNECTION_SETTING} to a connection string, "
                f"or {NAMESPACE_SETTING} to the namespace host name to use a managed identity"
            )
        self._senders: dict[str, ServiceBusSender] = {}

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> MessageBus:
        """From the triggers' connection: `ServiceBusConnection` (a connection string, used
        locally) or `ServiceBusConnection__fullyQualifiedNamespace` (a host name, with the
        managed identity named by `AZURE_CLIENT_ID` if set)."""
        connection_string = env.get(CONNECTION_SETTING)
        if connection_string:
            return cls(connection_string)
        namespace = env.get(NAMESPACE_SETTING)
        if not namespace:
            return cls()  # raises BusConfigurationError naming the settings
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential(managed_identity_client_id=env.get(CLIENT_ID_SETTING))
        return cls(namespace=namespace, credential=credential)

    def send(self, queue: str, messages: Sequence[OutgoingMessage]) -> int:
        """Send in as few batches as fit; return how many messages were handed to Service Bus.

        Each batch is sent whole or not at all; if one fails, the batches before it have been
        sent, so callers rely on MessageId duplicate detection to resend everything safely.
        """
        from azure.servicebus.exceptions import MessageSizeExceededError

        if not messages:
            return 0
        # Converted first, so a malformed message fails the call before anything is sent.
        sdk_messages = [_to_sdk(message) for message in messages]
        sender = self._sender(queue)

        batches = 0
        batch = sender.create_message_batch()
        for message, sdk_message in zip(messages, sdk_messages, strict=True):
            try:
                batch.add_message(sdk_message)
            except MessageSizeExceededError:
                if len(batch) == 0:
                    raise MessageTooLargeForBus(
                        f"message {message.message_id} for {queue} is {len(message.body)} bytes "
                        f"and alone exceeds the queue's {batch.max_size_in_bytes}-byte limit; "
                        "split its content over several messages"
                    ) from None
                sender.send_messages(batch)
                batches += 1
                batch = sender.create_message_batch()
                batch.add_message(sdk_message)
        sender.send_messages(batch)
        batches += 1

        log.debug("sent %d messages to %s in %d batches", len(messages), queue, batches)
        return len(messages)

    def receive(
        self,
        queue: str,
        max_messages: int = 1,
        max_wait_time: float = 5.0,
        *,
        dead_letter: bool = False,
    ) -> list[ServiceBusReceivedMessage]:
        """Take up to `max_messages` off a queue (or its dead-letter queue) for good: a tool's
        way to drain or inspect a queue, not the way handlers consume it."""
        from azure.servicebus import ServiceBusReceiveMode, ServiceBusSubQueue

        receiver = self._client.get_queue_receiver(
            queue,
            receive_mode=ServiceBusReceiveMode.RECEIVE_AND_DELETE,
            sub_queue=ServiceBusSubQueue.DEAD_LETTER if dead_letter else None,
        )
        with receiver:
            return receiver.receive_messages(
                max_message_count=max_messages, max_wait_time=max_wait_time
            )

    def close(self) -> None:
        for sender in self._senders.values():
            sender.close()
        self._senders.clear()
        self._client.close()

    def __enter__(self) -> MessageBus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _sender(self, queue: str) -> ServiceBusSender:
        sender = self._senders.get(queue)
        if sender is None:
            sender = self._senders[queue] = self._client.get_queue_sender(queue)
        return sender


def _to_sdk(message: OutgoingMessage) -> ServiceBusMessage:
    from azure.servicebus import ServiceBusMessage

    if message.scheduled_at is not None and message.scheduled_at.utcoffset() is None:
        raise ValueError(
            f"message {message.message_id}: scheduled_at {message.scheduled_at.isoformat()} has "
            "no timezone; pass an aware datetime such as datetime.now(UTC) + delay"
        )
    return ServiceBusMessage(
        message.body,
        message_id=message.message_id,
        subject=message.subject or None,
        scheduled_enqueue_time_utc=message.scheduled_at,
        application_properties=dict(message.application_properties) or None,
    )
