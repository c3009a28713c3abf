"""Entity layout without a server: long lists split over properties, size guards."""

from __future__ import annotations

import pytest

from shared.state import Mapping, MappingState, RunGroupResult, StateTooLarge
from shared.state.entities import (
    GROUP_ERRORS_KEPT,
    PROPERTY_MAX_CHARS,
    get_json,
    group_result_entity,
    mapping_entity,
    put_json,
)


def _user_id(number: int) -> str:
    return f"{number:08d}-0000-4000-8000-000000000000"


def test_long_held_removals_are_split_over_properties_and_read_back_whole():
    held = {_user_id(n) for n in range(2_000)}
    mapping = Mapping("4001", "10X/Ma1", 2025, held_removals=held)

    entity = mapping_entity(mapping)

    assert entity["HeldRemovalsParts"] > 1
    assert all(len(v) <= PROPERTY_MAX_CHARS for v in entity.values() if isinstance(v, str))
    assert set(get_json(entity, "HeldRemovals", [])) == held


def test_a_shorter_value_written_over_a_longer_one_ignores_the_stale_parts():
    entity: dict = {}
    put_json(entity, "Settings", {"x": "y" * (PROPERTY_MAX_CHARS * 2)})

    put_json(entity, "Settings", {"x": "short"})

    assert get_json(entity, "Settings", {}) == {"x": "short"}


def test_a_list_too_long_for_one_entity_is_refused_before_writing():
    owners = {_user_id(n) for n in range(30_000)}

    with pytest.raises(StateTooLarge, match="too long to keep"):
        mapping_entity(Mapping("4001", "Year 7", 2025, sync_owners=owners))


def test_a_hundred_sync_owners_fit_in_one_property():
    owners = {_user_id(n) for n in range(100)}

    entity = mapping_entity(Mapping("4001", "Year 7", 2025, sync_owners=owners))

    assert entity["SyncOwnersParts"] == 1


def test_a_group_result_keeps_only_the_first_errors_and_says_how_many_were_dropped():
    result = RunGroupResult("4001", "r1", "10X/Ma1", errors=[f"e{n}" for n in range(80)])

    errors = get_json(group_result_entity(result, "k"), "Errors", [])

    assert len(errors) == GROUP_ERRORS_KEPT + 1
    assert errors[-1] == "... and 30 more errors not kept"


def test_unknown_mapping_state_is_refused_with_the_allowed_ones():
    with pytest.raises(ValueError, match="expected one of creating, active"):
        Mapping("4001", "7A", 2025, state="archived")


def test_mapping_state_given_as_text_becomes_the_enum():
    mapping = Mapping("4001", "7A", 2025, state="deleted-on-demand")

    assert mapping.state is MappingState.DELETED_ON_DEMAND
