"""Table keys: the escape is reversible and leaves no character Table Storage forbids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.state.keys import (
    decode_key,
    encode_key,
    mapping_key,
    newest_first_key,
    prefix_range,
    split_composite_key,
)

FORBIDDEN = set("/\\#?") | {chr(code) for code in range(0x20)} | {chr(c) for c in range(0x7F, 0xA0)}
AWKWARD_IDS = [
    "10X/Ma1",
    "7A\\Sc",
    "Set #3?",
    "100%",
    "a|b~c",
    "tab\there",
    "line\nbreak\x7f",
    "Ysgol Gymraeg Llŷn / Bl 9",
    "%2F",
    "plain-id_123",
]


@pytest.mark.parametrize("value", AWKWARD_IDS)
def test_encoded_key_decodes_to_the_same_id(value):
    encoded = encode_key(value)

    assert decode_key(encoded) == value


@pytest.mark.parametrize("value", AWKWARD_IDS)
def test_encoded_key_holds_no_character_table_storage_forbids(value):
    encoded = encode_key(value)

    assert not set(encoded) & FORBIDDEN


def test_plain_ids_are_stored_unchanged():
    assert encode_key("4001") == "4001"


def test_group_id_with_slash_is_escaped_readably():
    assert encode_key("10X/Ma1") == "10X%2FMa1"


def test_empty_id_is_refused_with_the_remedy():
    with pytest.raises(ValueError, match="non-empty id"):
        encode_key("")


def test_overlong_id_is_refused():
    with pytest.raises(ValueError, match="too long"):
        encode_key("/" * 400)


def test_mapping_key_splits_back_into_year_and_group():
    key = mapping_key("10X/Ma1|x", 2025)

    assert split_composite_key(key) == ["2025", "10X/Ma1|x"]


def test_newer_runs_sort_before_older_ones():
    earlier = datetime(2026, 12, 3, 1, 30, tzinfo=UTC)

    newer_key = newest_first_key(earlier + timedelta(milliseconds=1), "b")
    older_key = newest_first_key(earlier, "a")

    assert newer_key < older_key


def test_prefix_range_of_one_run_excludes_a_run_whose_id_extends_it():
    low, high = prefix_range("run-1")

    inside = "|".join([encode_key("run-1"), encode_key("10X/Ma1")])
    other_run = "|".join([encode_key("run-10"), encode_key("10X/Ma1")])

    assert low <= inside < high
    assert not low <= other_run < high
