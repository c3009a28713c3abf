"""AMQP message bytes in and out of the stand-in: unpacking batch transfers, reading the fields
the broker needs, and stamping the annotations Service Bus adds on delivery."""

from __future__ import annotations

from datetime import datetime

from proton import Data, Message, symbol, timestamp

from local.servicebus.broker import StoredMessage

# AMQP section descriptors (the spec's message format, section 3.2).
HEADER_SECTION = 0x70
DATA_SECTION = 0x75
SECTION_PREFIX = b"\x00\x53"
FIRST_SECTION_CODE, LAST_SECTION_CODE = 0x70, 0x78

SEQUENCE_NUMBER = symbol("x-opt-sequence-number")
ENQUEUED_TIME = symbol("x-opt-enqueued-time")
LOCKED_UNTIL = symbol("x-opt-locked-until")
SCHEDULED_ENQUEUE_TIME = symbol("x-opt-scheduled-enqueue-time")
DEAD_LETTER_SOURCE = symbol("x-opt-deadletter-source")
MESSAGE_STATE = symbol("x-opt-message-state")
DEAD_LETTER_REASON = "DeadLetterReason"
DEAD_LETTER_DESCRIPTION = "DeadLetterErrorDescription"
ACTIVE_STATE, SCHEDULED_STATE = 0, 2
DEFAULT_PRIORITY = 4


def split_transfer(raw: bytes) -> list[bytes]:
    """The messages in one transfer: a `ServiceBusMessageBatch` arrives as a single transfer
    whose data sections each hold one whole encoded message (its other sections copy the
    first message's properties).

    Limitation: the batch message format (0x80013700) is not visible through proton's Python
    API, so a batch is recognised by its shape: every data section is itself an encoded AMQP
    message. A single message whose body happens to be AMQP-encoded bytes is split too.
    """
    bodies = [payload for code, payload in _sections(raw) if code == DATA_SECTION]
    if bodies and all(_looks_like_message(body) for body in bodies):
        return [body for body in bodies if body is not None]
    return [raw]


def routing_fields(raw: bytes) -> tuple[str | None, float | None]:
    """The message id (for duplicate detection) and the sender's `scheduled_enqueue_time_utc`
    in epoch seconds, each None when the sender left it out."""
    message = _decode(raw)
    identifier = None if message.id is None else str(message.id)
    value = (message.annotations or {}).get(SCHEDULED_ENQUEUE_TIME)
    if value is None:
        return identifier, None
    if isinstance(value, datetime):
        return identifier, value.timestamp()
    return identifier, int(value) / 1000


def for_delivery(stored: StoredMessage, *, peeked: bool = False, scheduled: bool = False) -> bytes:
    """The message as a receiver sees it: the sender's sections plus Service Bus annotations."""
    message = _decode(stored.payload)
    annotations = dict(message.annotations or {})
    annotations[SEQUENCE_NUMBER] = stored.sequence_number
    annotations[ENQUEUED_TIME] = _timestamp(stored.enqueued_at)
    if stored.locked_until is not None and not peeked:
        annotations[LOCKED_UNTIL] = _timestamp(stored.locked_until)
    if stored.scheduled_at is not None:
        annotations[SCHEDULED_ENQUEUE_TIME] = _timestamp(stored.scheduled_at)
    if peeked:
        annotations[MESSAGE_STATE] = SCHEDULED_STATE if scheduled else ACTIVE_STATE
    if stored.dead_letter_source is not None:
        annotations[DEAD_LETTER_SOURCE] = stored.dead_letter_source
        properties = dict(message.properties or {})
        properties[DEAD_LETTER_REASON] = stored.dead_letter_reason or ""
        properties[DEAD_LETTER_DESCRIPTION] = stored.dead_letter_description or ""
        message.properties = properties
    message.annotations = annotations
    return _with_header(message, stored.failed_deliveries)


def _with_header(message: Message, delivery_count: int) -> bytes:
    """Encode with an explicit header: proton leaves out a delivery-count of zero, and the
    SDK then reports `delivery_count` as None instead of 0 on a first delivery."""
    encoded = bytes(message.encode())
    if encoded.startswith(SECTION_PREFIX + bytes([HEADER_SECTION])):
        encoded = encoded[Data().decode(encoded) :]

    header = Data()
    header.put_described()
    header.enter()
    header.put_ulong(HEADER_SECTION)
    header.put_list()
    header.enter()
    header.put_bool(bool(message.durable))
    header.put_ubyte(message.priority if message.priority is not None else DEFAULT_PRIORITY)
    if message.ttl:
        header.put_uint(int(message.ttl * 1000))
    else:
        header.put_null()
    header.put_bool(delivery_count == 0)
    header.put_uint(delivery_count)
    header.exit()
    header.exit()
    return bytes(header.encode()) + encoded


def _sections(raw: bytes) -> list[tuple[int | None, bytes | None]]:
    sections: list[tuple[int | None, bytes | None]] = []
    offset = 0
    while offset < len(raw):
        data = Data()
        offset += data.decode(raw[offset:])
        data.rewind()
        data.next()
        if data.type() != Data.DESCRIBED:
            sections.append((None, None))
            continue
        data.enter()
        data.next()
        code = data.get_ulong() if data.type() == Data.ULONG else None
        data.next()
        payload = bytes(data.get_binary()) if data.type() == Data.BINARY else None
        sections.append((code, payload))
    return sections


def _looks_like_message(payload: bytes | None) -> bool:
    return (
        payload is not None
        and len(payload) > 2
        and payload.startswith(SECTION_PREFIX)
        and FIRST_SECTION_CODE <= payload[2] <= LAST_SECTION_CODE
    )


def _decode(raw: bytes) -> Message:
    message = Message()
    message.decode(raw)
    return message


def _timestamp(epoch_seconds: float) -> timestamp:
    return timestamp(int(epoch_seconds * 1000))
