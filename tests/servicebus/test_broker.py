"""The stand-in's queue rules on their own: no socket, no clock, times passed in."""

from __future__ import annotations

import pytest

from local.servicebus.broker import (
    DEAD_LETTER_SUFFIX,
    MAX_DELIVERY_COUNT_REASON,
    Broker,
    BrokerSettings,
    LockLost,
    Outcome,
)

QUEUE = "school-sync"
DEAD_LETTERS = QUEUE + DEAD_LETTER_SUFFIX


def make_broker(**settings: float) -> Broker:
    return Broker(BrokerSettings(**settings))


def test_messages_are_locked_in_the_order_they_were_sent() -> None:
    broker = make_broker()
    for n in range(3):
        broker.enqueue(QUEUE, b"body", f"m{n}", now=100.0)

    taken = [broker.lock_next(QUEUE, now=101.0) for _ in range(4)]

    assert [m.message_id if m else None for m in taken] == ["m0", "m1", "m2", None]


def test_abandoned_message_returns_with_one_more_failed_delivery() -> None:
    broker = make_broker()
    broker.enqueue(QUEUE, b"body", "m", now=0.0)
    first_token = broker.lock_next(QUEUE, now=1.0).lock_token

    broker.settle(QUEUE, first_token, Outcome.ABANDON, now=2.0)
    second = broker.lock_next(QUEUE, now=3.0)

    assert second.message_id == "m"
    assert second.failed_deliveries == 1
    assert second.lock_token != first_token


def test_released_message_returns_without_counting_a_delivery() -> None:
    broker = make_broker()
    broker.enqueue(QUEUE, b"body", "m", now=0.0)
    first = broker.lock_next(QUEUE, now=1.0)

    broker.settle(QUEUE, first.lock_token, Outcome.RELEASE, now=2.0)

    assert broker.lock_next(QUEUE, now=3.0).failed_deliveries == 0


def test_message_past_max_delivery_count_is_dead_lettered() -> None:
    broker = make_broker(max_delivery_count=2)
    broker.enqueue(QUEUE, b"body", "m", now=0.0)

    for attempt in range(2):
        message = broker.lock_next(QUEUE, now=float(attempt))
        broker.settle(QUEUE, message.lock_token, Outcome.ABANDON, now=float(attempt))

    assert broker.lock_next(QUEUE, now=5.0) is None
    dead = broker.lock_next(DEAD_LETTERS, now=5.0)
    assert dead.dead_letter_reason == MAX_DELIVERY_COUNT_REASON
    assert dead.dead_letter_source == QUEUE


def test_expired_lock_makes_the_message_available_again() -> None:
    broker = make_broker(lock_duration=10.0)
    broker.enqueue(QUEUE, b"body", "m", now=0.0)
    first_token = broker.lock_next(QUEUE, now=0.0).lock_token

    before = broker.advance(now=9.0)
    after = broker.advance(now=10.0)

    assert before == set()
    assert after == {QUEUE}
    assert broker.lock_next(QUEUE, now=10.0).failed_deliveries == 1
    with pytest.raises(LockLost):
        broker.settle(QUEUE, first_token, Outcome.COMPLETE, now=10.0)


def test_renewed_lock_outlives_the_original_expiry() -> None:
    broker = make_broker(lock_duration=10.0)
    broker.enqueue(QUEUE, b"body", "m", now=0.0)
    message = broker.lock_next(QUEUE, now=0.0)

    locked_until = broker.renew_lock(QUEUE, message.lock_token, now=8.0)
    changed = broker.advance(now=12.0)

    assert locked_until == 18.0
    assert changed == set()
    broker.settle(QUEUE, message.lock_token, Outcome.COMPLETE, now=12.0)
    assert broker.queue(QUEUE).depth() == 0


def test_scheduled_message_is_invisible_until_due() -> None:
    broker = make_broker()
    broker.enqueue(QUEUE, b"body", "m", now=0.0, scheduled_at=60.0)

    early = broker.lock_next(QUEUE, now=59.0)
    changed = broker.advance(now=60.0)

    assert early is None
    assert changed == {QUEUE}
    assert broker.lock_next(QUEUE, now=60.0).message_id == "m"


def test_cancelled_scheduled_message_never_arrives() -> None:
    broker = make_broker()
    sequence_number = broker.enqueue(QUEUE, b"body", "m", now=0.0, scheduled_at=60.0)

    broker.cancel_scheduled(QUEUE, [sequence_number])
    broker.advance(now=61.0)

    assert broker.lock_next(QUEUE, now=61.0) is None


def test_duplicate_message_id_is_dropped_only_within_the_window() -> None:
    broker = make_broker(duplicate_window=600.0)

    first = broker.enqueue(QUEUE, b"body", "run-1:4001", now=0.0)
    repeat = broker.enqueue(QUEUE, b"body", "run-1:4001", now=599.0)
    later = broker.enqueue(QUEUE, b"body", "run-1:4001", now=601.0)

    assert first is not None
    assert repeat is None
    assert later is not None


def test_dead_lettered_message_keeps_reason_and_description() -> None:
    broker = make_broker()
    broker.enqueue(QUEUE, b"body", "m", now=0.0)
    message = broker.lock_next(QUEUE, now=0.0)

    broker.settle(
        QUEUE, message.lock_token, Outcome.DEAD_LETTER, 1.0, "BadSchool", "no such school"
    )

    dead = broker.lock_next(DEAD_LETTERS, now=2.0)
    assert (dead.dead_letter_reason, dead.dead_letter_description) == (
        "BadSchool",
        "no such school",
    )
