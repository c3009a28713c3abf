"""The stand-in's queues: what Service Bus would hold and decide, with no AMQP in sight.

Times are wall-clock seconds passed in by the caller, so every rule here (locks, scheduled
messages, delivery counts, duplicate detection) can be tested without a clock or a socket.
"""

from __future__ import annotations

import heapq
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from enum import Enum

DEAD_LETTER_SUFFIX = "/$deadletterqueue"
MAX_DELIVERY_COUNT_REASON = "MaxDeliveryCountExceeded"
MAX_DELIVERY_COUNT_DESCRIPTION = "Message could not be consumed after {count} delivery attempts."


class LockLost(Exception):
    """The lock token is unknown or its lock expired: the message may be with another receiver."""


class Outcome(Enum):
    """How a receiver settles a locked message."""

    COMPLETE = "complete"
    ABANDON = "abandon"
    DEAD_LETTER = "dead-letter"
    RELEASE = "release"  # handed back unseen: no delivery is counted


@dataclass
class StoredMessage:
    """One message in a queue: the sender's encoded AMQP message plus the broker's bookkeeping."""

    sequence_number: int
    message_id: str | None
    payload: bytes
    enqueued_at: float
    scheduled_at: float | None = None
    # AMQP's header delivery-count: deliveries that did not end in a settlement.
    failed_deliveries: int = 0
    lock_token: uuid.UUID | None = None
    locked_until: float | None = None
    dead_letter_reason: str | None = None
    dead_letter_description: str | None = None
    dead_letter_source: str | None = None


@dataclass
class BrokerSettings:
    lock_duration: float = 30.0
    max_delivery_count: int = 10
    # Zero turns duplicate detection off.
    duplicate_window: float = 600.0


@dataclass
class Queue:
    """A queue or a dead-letter sub-queue. `available` holds sequence numbers, lowest first."""

    name: str
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    available: list[int] = field(default_factory=list)
    locks: dict[uuid.UUID, int] = field(default_factory=dict)
    scheduled: dict[int, float] = field(default_factory=dict)
    seen_ids: OrderedDict[str, float] = field(default_factory=OrderedDict)

    @property
    def is_dead_letter(self) -> bool:
        return self.name.endswith(DEAD_LETTER_SUFFIX)

    def depth(self) -> int:
        """Messages a receiver could get now or later: available and locked, not scheduled."""
        return len(self.messages) - len(self.scheduled)


class Broker:
    """Every queue of one namespace, created on first use."""

    def __init__(self, settings: BrokerSettings | None = None) -> None:
        self.settings = settings or BrokerSettings()
        self.queues: dict[str, Queue] = {}
        self._next_sequence_number = 1
        # (when, queue, sequence number, lock token or None): lock expiries and scheduled
        # messages coming due. Stale entries are skipped when popped, not removed eagerly.
        self._deadlines: list[tuple[float, str, int, uuid.UUID | None]] = []

    def queue(self, name: str) -> Queue:
        queue = self.queues.get(name)
        if queue is None:
            queue = self.queues[name] = Queue(name)
        return queue

    def enqueue(
        self,
        queue_name: str,
        payload: bytes,
        message_id: str | None,
        now: float,
        scheduled_at: float | None = None,
    ) -> int | None:
        """Store a sent message; return its sequence number, or None for a dropped duplicate."""
        queue = self.queue(queue_name)
        if self._is_duplicate(queue, message_id, now):
            return None

        sequence_number = self.reserve_sequence_number()
        message = StoredMessage(sequence_number, message_id, payload, enqueued_at=now)
        self._add(queue, message, now, scheduled_at)
        return sequence_number

    def cancel_scheduled(self, queue_name: str, sequence_numbers: list[int]) -> None:
        queue = self.queue(queue_name)
        for sequence_number in sequence_numbers:
            if queue.scheduled.pop(sequence_number, None) is not None:
                del queue.messages[sequence_number]

    def lock_next(self, queue_name: str, now: float) -> StoredMessage | None:
        """Peek-lock: the lowest available message, locked for the lock duration."""
        message = self._pop_available(self.queue(queue_name))
        if message is None:
            return None

        message.lock_token = uuid.uuid4()
        message.locked_until = now + self.settings.lock_duration
        self.queues[queue_name].locks[message.lock_token] = message.sequence_number
        heapq.heappush(
            self._deadlines,
            (message.locked_until, queue_name, message.sequence_number, message.lock_token),
        )
        return message

    def take_next(self, queue_name: str) -> StoredMessage | None:
        """Receive-and-delete: the lowest available message, gone from the queue at once."""
        queue = self.queue(queue_name)
        message = self._pop_available(queue)
        if message is not None:
            del queue.messages[message.sequence_number]
        return message

    def renew_lock(self, queue_name: str, lock_token: uuid.UUID, now: float) -> float:
        message = self._locked(queue_name, lock_token, now)
        message.locked_until = now + self.settings.lock_duration
        heapq.heappush(
            self._deadlines,
            (message.locked_until, queue_name, message.sequence_number, lock_token),
        )
        return message.locked_until

    def settle(
        self,
        queue_name: str,
        lock_token: uuid.UUID,
        outcome: Outcome,
        now: float,
        reason: str | None = None,
        description: str | None = None,
    ) -> None:
        """Apply a receiver's outcome to a message it holds the lock on (raises LockLost)."""
        queue = self.queue(queue_name)
        message = self._locked(queue_name, lock_token, now)
        del queue.locks[lock_token]
        message.lock_token = None
        message.locked_until = None

        if outcome is Outcome.COMPLETE:
            del queue.messages[message.sequence_number]
        elif outcome is Outcome.DEAD_LETTER:
            self._dead_letter(queue, message, now, reason or "", description or "")
        elif outcome is Outcome.ABANDON:
            self._count_failed_delivery(queue, message, now)
        else:
            heapq.heappush(queue.available, message.sequence_number)

    def advance(self, now: float) -> set[str]:
        """Expire locks and release scheduled messages that are due; return the queues that
        gained available messages."""
        changed: set[str] = set()
        while self._deadlines and self._deadlines[0][0] <= now:
            _, queue_name, sequence_number, lock_token = heapq.heappop(self._deadlines)
            queue = self.queues[queue_name]
            message = queue.messages.get(sequence_number)
            if message is None:
                continue
            if lock_token is None:
                if queue.scheduled.pop(sequence_number, None) is not None:
                    message.enqueued_at = now
                    heapq.heappush(queue.available, sequence_number)
                    changed.add(queue_name)
                continue
            expired = message.lock_token == lock_token and (message.locked_until or 0) <= now
            if expired:
                del queue.locks[lock_token]
                message.lock_token = None
                message.locked_until = None
                self._count_failed_delivery(queue, message, now)
                changed.add(queue_name)
        return changed

    def next_deadline(self) -> float | None:
        return self._deadlines[0][0] if self._deadlines else None

    def peek(self, queue_name: str, from_sequence_number: int, count: int) -> list[StoredMessage]:
        """Messages in sequence order, scheduled and locked ones included, none of them locked."""
        queue = self.queue(queue_name)
        numbers = sorted(n for n in queue.messages if n >= from_sequence_number)
        return [queue.messages[n] for n in numbers[:count]]

    def _is_duplicate(self, queue: Queue, message_id: str | None, now: float) -> bool:
        window = self.settings.duplicate_window
        if window <= 0 or message_id is None:
            return False
        while queue.seen_ids:
            oldest_id, first_seen = next(iter(queue.seen_ids.items()))
            if first_seen > now - window:
                break
            del queue.seen_ids[oldest_id]
        if message_id in queue.seen_ids:
            return True
        queue.seen_ids[message_id] = now
        return False

    def reserve_sequence_number(self) -> int:
        sequence_number = self._next_sequence_number
        self._next_sequence_number += 1
        return sequence_number

    def _add(
        self, queue: Queue, message: StoredMessage, now: float, scheduled_at: float | None
    ) -> None:
        queue.messages[message.sequence_number] = message
        if scheduled_at is not None and scheduled_at > now:
            message.scheduled_at = scheduled_at
            queue.scheduled[message.sequence_number] = scheduled_at
            heapq.heappush(
                self._deadlines, (scheduled_at, queue.name, message.sequence_number, None)
            )
        else:
            heapq.heappush(queue.available, message.sequence_number)

    def _pop_available(self, queue: Queue) -> StoredMessage | None:
        while queue.available:
            message = queue.messages.get(heapq.heappop(queue.available))
            if message is not None:
                return message
        return None

    def _locked(self, queue_name: str, lock_token: uuid.UUID, now: float) -> StoredMessage:
        queue = self.queue(queue_name)
        sequence_number = queue.locks.get(lock_token)
        message = queue.messages.get(sequence_number) if sequence_number is not None else None
        if message is None or message.locked_until is None or message.locked_until <= now:
            raise LockLost(
                f"the lock {lock_token} on {queue_name} is unknown or expired; "
                "receive the message again"
            )
        return message

    def _count_failed_delivery(self, queue: Queue, message: StoredMessage, now: float) -> None:
        message.failed_deliveries += 1
        if (
            not queue.is_dead_letter
            and message.failed_deliveries >= self.settings.max_delivery_count
        ):
            description = MAX_DELIVERY_COUNT_DESCRIPTION.format(count=message.failed_deliveries)
            self._dead_letter(queue, message, now, MAX_DELIVERY_COUNT_REASON, description)
        else:
            heapq.heappush(queue.available, message.sequence_number)

    def _dead_letter(
        self, queue: Queue, message: StoredMessage, now: float, reason: str, description: str
    ) -> None:
        if queue.is_dead_letter:
            # A dead-letter queue has no dead-letter queue of its own: the message stays put.
            heapq.heappush(queue.available, message.sequence_number)
            return
        del queue.messages[message.sequence_number]
        message.dead_letter_reason = reason
        message.dead_letter_description = description
        message.dead_letter_source = queue.name
        dead_letters = self.queue(queue.name + DEAD_LETTER_SUFFIX)
        dead_letters.messages[message.sequence_number] = message
        heapq.heappush(dead_letters.available, message.sequence_number)
