"""The renumbering of incoming transfers, on frames built by hand: the SDK's concurrent sends
repeat delivery-ids only when its tasks happen to interleave, so this is where the rules are
pinned down deterministically."""

from __future__ import annotations

from proton import Data, ulong

from local.servicebus.delivery_ids import DeliveryIdRenumberer

BEGIN, TRANSFER = 0x11, 0x14
PROTOCOL_HEADER = b"AMQP\x00\x01\x00\x00"
PAYLOAD = b"\x00\x53\x75\xa0\x05hello"


def performative(code: int, *fields: object) -> bytes:
    data = Data()
    data.put_described()
    data.enter()
    data.put_ulong(ulong(code))
    data.put_list()
    data.enter()
    for value in fields:
        if value is None:
            data.put_null()
        elif isinstance(value, bool):
            data.put_bool(value)
        elif isinstance(value, bytes):
            data.put_binary(value)
        else:
            data.put_uint(value)
    data.exit()
    data.exit()
    return data.encode()


def frame(body: bytes, channel: int = 0) -> bytes:
    size = 8 + len(body)
    return size.to_bytes(4, "big") + bytes([2, 0]) + channel.to_bytes(2, "big") + body


def transfer(delivery_id: int | None, *, handle: int = 1, more: bool = False, channel: int = 0):
    fields = (handle, delivery_id, b"\x00\x00\x00\x01", 0, False, more)
    return frame(performative(TRANSFER, *fields) + PAYLOAD, channel)


def begin(channel: int = 0) -> bytes:
    return frame(performative(BEGIN, None, 0, 100, 100), channel)


def transfers_out(raw: bytes) -> list[tuple[int, int, bytes]]:
    """(channel, delivery-id, payload) of each transfer in a byte stream, decoded by proton."""
    found = []
    pos = 0
    while pos < len(raw):
        if raw[pos : pos + 4] == b"AMQP":
            pos += 8
            continue
        size = int.from_bytes(raw[pos : pos + 4], "big")
        body = raw[pos + 8 : pos + size]
        data = Data()
        used = data.decode(body)
        value = data.get_object()
        channel = int.from_bytes(raw[pos + 6 : pos + 8], "big")
        if value.descriptor == TRANSFER:
            found.append((channel, value.value[1], body[used:]))
        pos += size
    return found


def test_repeated_delivery_ids_are_renumbered_in_sequence_with_payloads_intact() -> None:
    renumberer = DeliveryIdRenumberer()
    stream = PROTOCOL_HEADER + begin() + transfer(1) + transfer(1) + transfer(1) + transfer(4)

    out = renumberer.feed(stream)

    assert [d for _, d, _ in transfers_out(out)] == [1, 2, 3, 4]
    assert {p for _, _, p in transfers_out(out)} == {PAYLOAD}
    assert renumberer.renumbered == 2


def test_ids_already_in_sequence_pass_through_byte_for_byte() -> None:
    stream = PROTOCOL_HEADER + begin() + transfer(0) + transfer(1) + transfer(2)

    out = DeliveryIdRenumberer().feed(stream)

    assert out == stream


def test_renumbering_into_a_wider_encoding_yields_a_well_formed_frame() -> None:
    # uint 0 takes one byte and 255 two; their successors take two and five.
    stream = begin() + transfer(0) + transfer(0) + begin(1)
    stream += b"".join(transfer(255 if i else 254, channel=1) for i in range(3))

    out = DeliveryIdRenumberer().feed(stream)

    expected = [(0, 0), (0, 1), (1, 254), (1, 255), (1, 256)]
    assert [(c, d) for c, d, _ in transfers_out(out)] == expected


def test_frames_of_one_multi_frame_delivery_share_its_id() -> None:
    stream = begin() + transfer(0) + transfer(0, more=True) + transfer(0) + transfer(0)

    out = DeliveryIdRenumberer().feed(stream)

    assert [d for _, d, _ in transfers_out(out)] == [0, 1, 1, 2]


def test_each_session_counts_on_its_own_and_a_new_begin_starts_afresh() -> None:
    renumberer = DeliveryIdRenumberer()
    first = begin(0) + transfer(5, channel=0) + begin(1) + transfer(0, channel=1)
    again = transfer(5, channel=0) + transfer(0, channel=1) + begin(0) + transfer(9, channel=0)

    out = renumberer.feed(first + again)

    assert [(c, d) for c, d, _ in transfers_out(out)] == [(0, 5), (1, 0), (0, 6), (1, 1), (0, 9)]


def test_a_frame_split_across_reads_comes_out_whole_once_complete() -> None:
    renumberer = DeliveryIdRenumberer()
    stream = begin() + transfer(3) + transfer(3)
    cut = len(stream) - 7

    head = renumberer.feed(stream[:cut])
    tail = renumberer.feed(stream[cut:])

    assert [d for _, d, _ in transfers_out(head)] == [3]
    assert [d for _, d, _ in transfers_out(tail)] == [4]


def test_bytes_that_are_not_amqp_frames_are_handed_on_unchanged() -> None:
    garbage = b"\x00\x00\x00\x03nonsense"

    out = DeliveryIdRenumberer().feed(garbage)

    assert out == garbage
