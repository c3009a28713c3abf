"""Renumbering the delivery-ids of incoming transfers. When tasks or threads send on one AMQP
session at once, azure-servicebus can stamp two transfers with the same delivery-id; Service
Bus lets that pass, proton closes the connection with a sequencing error.

    renumber_incoming(event.transport)   # in on_connection_init, before the first byte
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from proton import Transport

log = logging.getLogger(__name__)

PROTOCOL_HEADER_PREFIX = b"AMQP"
PROTOCOL_HEADER_SIZE = 8
FRAME_HEADER_SIZE = 8
MIN_DATA_OFFSET = 2
AMQP_FRAME_TYPE = 0
BEGIN, TRANSFER, DETACH, END = 0x11, 0x14, 0x16, 0x17
# Transfer fields, by position in the performative's list.
HANDLE, DELIVERY_ID, MORE, ABORTED = 0, 1, 5, 9
SERIAL_MODULUS = 2**32

# Type codes of the AMQP encoding (the spec's types section, 1.6).
DESCRIBED = 0x00
NULL, TRUE, FALSE, BOOLEAN = 0x40, 0x41, 0x42, 0x56
UINT_0, SMALL_UINT, UINT = 0x43, 0x52, 0x70
ULONG_0, SMALL_ULONG, ULONG = 0x44, 0x53, 0x80
LIST_0, LIST_8, LIST_32 = 0x45, 0xC0, 0xD0
# Fixed widths by the high nibble of a type code; the other nibbles are sized values.
FIXED_WIDTHS = {0x4: 0, 0x5: 1, 0x6: 2, 0x7: 4, 0x8: 8, 0x9: 16}
ONE_BYTE_SIZED, FOUR_BYTE_SIZED = (0xA, 0xC, 0xE), (0xB, 0xD, 0xF)


@dataclass
class _Session:
    next_id: int | None = None
    # Deliveries still arriving in several frames: the id each got, by link handle.
    unfinished: dict[int, int] = field(default_factory=dict)


@dataclass
class _Performative:
    code: int | None
    items_at: int
    fields: list[tuple[int, int]]
    end: int


class DeliveryIdRenumberer:
    """Passes a connection's incoming bytes through unchanged, except that each new delivery
    on a session gets the next delivery-id in sequence, as proton insists. The frames of one
    multi-frame delivery share its id.

    Limitation: proton's dispositions name the renumbered ids, which the SDK did not use for
    those transfers, so it may match a disposition to another of its deliveries or to none.
    Management requests are answered by response messages and do not care; two sends racing
    on one session may see one settled early (always `accepted`: the stand-in accepts every
    transfer) and the other wait until its timeout.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._sessions: dict[int, _Session] = {}
        self._passthrough = False
        self.renumbered = 0

    def feed(self, data: bytes) -> bytes:
        """The bytes proton may read now: every whole frame received so far, renumbered. A
        partial frame waits for the rest."""
        if self._passthrough:
            return data
        self._buffer += data
        out = bytearray()
        pos = 0
        while True:
            size = self._next_unit_size(pos)
            if size is None:
                break
            unit = bytes(self._buffer[pos : pos + size])
            out += unit if unit.startswith(PROTOCOL_HEADER_PREFIX) else self._frame(unit)
            pos += size
        if self._passthrough:
            out += self._buffer[pos:]
            pos = len(self._buffer)
        del self._buffer[:pos]
        return bytes(out)

    def _next_unit_size(self, pos: int) -> int | None:
        """The size of the protocol header or frame at pos, or None until it has all arrived."""
        available = len(self._buffer) - pos
        if available < FRAME_HEADER_SIZE:
            return None
        if self._buffer[pos : pos + 4] == PROTOCOL_HEADER_PREFIX:
            return PROTOCOL_HEADER_SIZE
        size = int.from_bytes(self._buffer[pos : pos + 4], "big")
        if size < FRAME_HEADER_SIZE or self._buffer[pos + 4] < MIN_DATA_OFFSET:
            # Not AMQP framing: hand everything over unread and let proton refuse it.
            self._passthrough = True
            return None
        return size if available >= size else None

    def _frame(self, frame: bytes) -> bytes:
        if frame[5] != AMQP_FRAME_TYPE or len(frame) == FRAME_HEADER_SIZE:
            return frame
        channel = int.from_bytes(frame[6:8], "big")
        try:
            performative = _parse_performative(frame, frame[4] * 4)
            if performative.code == BEGIN:
                self._sessions[channel] = _Session()
            elif performative.code == END:
                self._sessions.pop(channel, None)
            elif performative.code == DETACH:
                handle = _uint(frame, performative, HANDLE)
                self._sessions.get(channel, _Session()).unfinished.pop(handle, None)
            elif performative.code == TRANSFER:
                return self._transfer(frame, channel, performative)
        except (IndexError, ValueError):
            # A malformed frame is proton's to refuse, with its own error.
            return frame
        return frame

    def _transfer(self, frame: bytes, channel: int, performative: _Performative) -> bytes:
        session = self._sessions.setdefault(channel, _Session())
        handle = _uint(frame, performative, HANDLE)
        sent_id = _uint(frame, performative, DELIVERY_ID)
        if handle is None:
            return frame
        if handle in session.unfinished:
            wanted = session.unfinished[handle]
        else:
            if session.next_id is None:
                session.next_id = sent_id or 0
            wanted = session.next_id
            session.next_id = (wanted + 1) % SERIAL_MODULUS
        if _bool(frame, performative, MORE) and not _bool(frame, performative, ABORTED):
            session.unfinished[handle] = wanted
        else:
            session.unfinished.pop(handle, None)
        if sent_id is None or sent_id == wanted:
            return frame
        self.renumbered += 1
        log.debug("channel %d: delivery-id %d renumbered %d", channel, sent_id, wanted)
        return _with_field(frame, performative, DELIVERY_ID, _encode_uint(wanted))


class RenumberingTransport(Transport):
    """A proton transport whose input passes through a `DeliveryIdRenumberer` first."""

    renumberer: DeliveryIdRenumberer | None = None

    def push(self, binary: bytes) -> None:
        data = self.renumberer.feed(binary) if self.renumberer else binary
        start = 0
        while start < len(data):
            # Renumbering can lengthen a frame by a few bytes; proton widens its input buffer
            # when asked for capacity while full, so this ends once every byte is in.
            room = super().capacity()
            if room <= 0:
                log.debug("transport closed for input; %d bytes dropped", len(data) - start)
                return
            super().push(data[start : start + room])
            start += room


def renumber_incoming(transport: Transport) -> None:
    """Route an accepted connection's input through a renumberer. Call it from
    `on_connection_init`, before the reactor reads the socket."""
    # proton's reactor reads the socket through the selectable and pushes into the transport
    # object the selectable holds; swapping that object is the one hook it leaves.
    selectable = getattr(transport, "_selectable", None)
    if selectable is None:
        log.warning("connection has no socket of the reactor's yet; delivery-ids left as sent")
        return
    renumbering = RenumberingTransport(impl=transport._impl)
    renumbering.renumberer = DeliveryIdRenumberer()
    selectable._transport = renumbering


def _parse_performative(frame: bytes, pos: int) -> _Performative:
    if frame[pos] != DESCRIBED:
        raise ValueError("a frame body must open with a described performative")
    code = _descriptor_code(frame, pos + 1)
    at = _value_end(frame, pos + 1)
    constructor = frame[at]
    if constructor == LIST_0:
        return _Performative(code, at + 1, [], at + 1)
    if constructor == LIST_8:
        size, count, items_at = frame[at + 1], frame[at + 2], at + 3
        end = at + 2 + size
    elif constructor == LIST_32:
        size = int.from_bytes(frame[at + 1 : at + 5], "big")
        count, items_at = int.from_bytes(frame[at + 5 : at + 9], "big"), at + 9
        end = at + 5 + size
    else:
        raise ValueError(f"a performative is a list, not type 0x{constructor:02x}")
    fields = []
    start = items_at
    for _ in range(count):
        stop = _value_end(frame, start)
        fields.append((start, stop))
        start = stop
    if start != end:
        raise ValueError("the performative's list size disagrees with its fields")
    return _Performative(code, items_at, fields, end)


def _descriptor_code(frame: bytes, pos: int) -> int | None:
    """A numeric descriptor's code; None for a symbolic one, which names no transfer here."""
    kind = frame[pos]
    if kind == SMALL_ULONG:
        return frame[pos + 1]
    if kind == ULONG:
        return int.from_bytes(frame[pos + 1 : pos + 9], "big")
    return 0 if kind == ULONG_0 else None


def _value_end(data: bytes, pos: int) -> int:
    """Where the encoded value starting at pos ends."""
    code = data[pos]
    if code == DESCRIBED:
        return _value_end(data, _value_end(data, pos + 1))
    width = FIXED_WIDTHS.get(code >> 4)
    if width is not None:
        return pos + 1 + width
    if code >> 4 in ONE_BYTE_SIZED:
        return pos + 2 + data[pos + 1]
    if code >> 4 in FOUR_BYTE_SIZED:
        return pos + 5 + int.from_bytes(data[pos + 1 : pos + 5], "big")
    raise ValueError(f"unknown AMQP type code 0x{code:02x}")


def _uint(frame: bytes, performative: _Performative, index: int) -> int | None:
    if index >= len(performative.fields):
        return None
    start, stop = performative.fields[index]
    code = frame[start]
    if code == NULL:
        return None
    if code == UINT_0:
        return 0
    if code in (SMALL_UINT, UINT):
        return int.from_bytes(frame[start + 1 : stop], "big")
    raise ValueError(f"expected a uint, found type 0x{code:02x}")


def _bool(frame: bytes, performative: _Performative, index: int) -> bool:
    """A boolean field; absent or null reads as false, every such field's default."""
    if index >= len(performative.fields):
        return False
    start, _ = performative.fields[index]
    code = frame[start]
    if code == BOOLEAN:
        return frame[start + 1] != 0
    return code == TRUE


def _encode_uint(value: int) -> bytes:
    if value == 0:
        return bytes([UINT_0])
    if value <= 0xFF:
        return bytes([SMALL_UINT, value])
    return bytes([UINT]) + value.to_bytes(4, "big")


def _with_field(frame: bytes, performative: _Performative, index: int, encoded: bytes) -> bytes:
    """The frame with one field of its performative replaced, sizes adjusted to match."""
    start, stop = performative.fields[index]
    items = frame[performative.items_at : start] + encoded + frame[stop : performative.end]
    count = len(performative.fields)
    if len(items) + 1 <= 0xFF and count <= 0xFF:
        items_header = bytes([LIST_8, len(items) + 1, count])
    else:
        items_header = bytes([LIST_32]) + (len(items) + 4).to_bytes(4, "big")
        items_header += count.to_bytes(4, "big")
    body_at = frame[4] * 4
    descriptor_end = _value_end(frame, body_at + 1)
    rest = frame[body_at:descriptor_end] + items_header + items + frame[performative.end :]
    size = body_at + len(rest)
    return size.to_bytes(4, "big") + frame[4:body_at] + rest
