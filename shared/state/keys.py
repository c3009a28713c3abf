"""Table Storage keys: a reversible escape for ids Table Storage forbids in keys, and the
RowKey layouts of each table (mapping keys, newest-first run keys, per-run group keys).

    encode_key("10X/Ma1")    # '10X%2FMa1'
    decode_key("10X%2FMa1")  # '10X/Ma1'
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# PartitionKey and RowKey may not hold these (plus control characters). `%` is the escape
# itself; `|` separates the parts of a composite key and `~` starts index rows, so both are
# escaped too and an encoded id can never be mistaken for a separator.
_RESERVED = frozenset("/\\#?%|~")
KEY_MAX_CHARS = 1024
KEY_SEPARATOR = "|"
# The character after `|`: the exclusive upper bound of a prefix range query.
KEY_SEPARATOR_END = "}"
INDEX_ROW_PREFIX = "~"
# Inverted timestamps count down from here so that newer rows sort first (milliseconds).
_INVERSION_BASE_MS = 10**15
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _needs_escape(char: str) -> bool:
    code = ord(char)
    return char in _RESERVED or code < 0x20 or 0x7F <= code <= 0x9F


def encode_key(value: str) -> str:
    """Escape `value` for use in a PartitionKey or RowKey; `decode_key` reverses it."""
    if not value:
        raise ValueError(
            "an empty id cannot be a Table Storage key: give the school, group or "
            "person a non-empty id in the MIS export"
        )
    encoded = "".join(
        "".join(f"%{byte:02X}" for byte in char.encode("utf-8")) if _needs_escape(char) else char
        for char in value
    )
    if len(encoded) > KEY_MAX_CHARS:
        raise ValueError(
            f"id of {len(value)} characters is too long for a Table Storage key "
            f"(at most {KEY_MAX_CHARS} once escaped): shorten it in the MIS export"
        )
    return encoded


def decode_key(key: str) -> str:
    """The id that `encode_key` turned into `key`."""
    raw = bytearray()
    index = 0
    while index < len(key):
        char = key[index]
        if char == "%":
            raw.append(int(key[index + 1 : index + 3], 16))
            index += 3
        else:
            raw.extend(char.encode("utf-8"))
            index += 1
    return raw.decode("utf-8")


def composite_key(*parts: str) -> str:
    return KEY_SEPARATOR.join(encode_key(part) for part in parts)


def split_composite_key(key: str) -> list[str]:
    return [decode_key(part) for part in key.split(KEY_SEPARATOR)]


def prefix_range(*parts: str) -> tuple[str, str]:
    """The RowKey range [low, high) holding every composite key that starts with `parts`."""
    stem = composite_key(*parts)
    return stem + KEY_SEPARATOR, stem + KEY_SEPARATOR_END


def mapping_key(mis_group_id: str, academic_year: int) -> str:
    return composite_key(f"{academic_year:04d}", mis_group_id)


def newest_first_key(started_at: datetime, run_id: str) -> str:
    """A run's RowKey: an inverted timestamp, so a plain query returns the newest run first."""
    # Integer arithmetic: a float timestamp could round the same moment two ways.
    inverted = _INVERSION_BASE_MS - (started_at - _EPOCH) // timedelta(milliseconds=1)
    return f"{inverted:015d}{KEY_SEPARATOR}{encode_key(run_id)}"


def index_key(kind: str, value: str) -> str:
    """A lookup row's RowKey; index rows sort after every data row of the partition."""
    return f"{INDEX_ROW_PREFIX}{kind}{KEY_SEPARATOR}{encode_key(value)}"
