"""The plan for one group: creation, direct owners and members, sync owners, X2 holds."""

from __future__ import annotations

import json

import pytest

from shared.domain.settings import SafetyLimits
from shared.planner import STEP_ORDER, CurrentGroup, GroupPlan, plan_group


def current(owners=(), members=()) -> CurrentGroup:
    return CurrentGroup(owners=frozenset(owners), members=frozenset(members))


def plan(
    owners,
    members,
    now,
    sync_owners=(),
    *,
    max_member_loss=1.0,
    min_held_removals=1,
    **options,
) -> GroupPlan:
    safety = SafetyLimits(max_member_loss=max_member_loss, min_held_removals=min_held_removals)
    return plan_group(owners, members, now, sync_owners, safety, **options)


def test_a_group_not_in_microsoft_365_is_created_with_its_owners_and_members():
    result = plan(["t1", "admin"], ["t1", "s2", "s1"], None)

    assert result.create
    assert result.add_owners == ("admin", "t1")
    assert result.add_members == ("s1", "s2", "t1")
    assert result.sync_owners == ("admin", "t1")
    assert not result.remove_members and not result.remove_owners


def test_a_group_already_in_line_has_an_empty_plan():
    result = plan(["t1"], ["t1", "s1"], current(["t1"], ["t1", "s1"]), ["t1"])

    assert result.is_empty
    assert not result.has_changes


def test_new_pupils_are_added_and_pupils_who_left_removed():
    result = plan(["t1"], ["t1", "s1", "s3"], current(["t1"], ["t1", "s1", "s2"]), ["t1"])

    assert result.add_members == ("s3",)
    assert result.remove_members == ("s2",)
    assert not result.create


def test_directly_added_owner_is_kept():
    result = plan(["t1"], ["t1", "s1"], current(["t1", "head"], ["t1", "s1"]), ["t1"])

    assert result.remove_owners == ()
    assert result.is_empty


def test_directly_added_member_is_removed():
    result = plan(["t1"], ["t1", "s1"], current(["t1"], ["t1", "s1", "visitor"]), ["t1"])

    assert result.remove_members == ("visitor",)


def test_a_directly_added_owner_keeps_their_membership():
    result = plan(["t1"], ["t1", "s1"], current(["t1", "head"], ["t1", "s1", "head"]), ["t1"])

    assert result.remove_members == ()


def test_an_owner_the_sync_added_and_the_mis_no_longer_names_is_removed():
    result = plan(["t2"], ["t2", "s1"], current(["t1"], ["t1", "s1"]), ["t1"])

    assert result.add_owners == ("t2",)
    assert result.remove_owners == ("t1",)
    assert result.remove_members == ("t1",)
    assert result.sync_owners == ("t2",)


def test_new_owners_are_added_before_old_ones_are_removed():
    result = plan(["t2"], ["t2", "s1"], current(["t1"], ["t1", "s1"]), ["t1"])

    names = [name for name, ids in result.steps() if ids]

    assert names == ["add_owners", "add_members", "remove_members", "remove_owners"]
    assert [name for name, _ in result.steps()] == list(STEP_ORDER)


def test_the_last_owner_is_never_removed_and_the_same_one_is_kept_each_night():
    now = current(["t9", "t1"], ["t9", "t1", "s1"])

    first = plan([], ["s1"], now, ["t1", "t9"])
    again = plan([], ["s1"], now, ["t9", "t1"])

    assert first.kept_last_owner == "t1"
    assert first.remove_owners == ("t9",)
    assert "t1" not in first.remove_members
    assert first.sync_owners == ("t1",)
    assert again == first


def test_an_owner_the_mis_names_again_after_being_added_directly_is_not_claimed():
    result = plan(["head"], ["head", "s1"], current(["head"], ["head", "s1"]), [])

    assert result.sync_owners == ()
    assert result.is_empty


def test_sync_owners_someone_removed_by_hand_are_forgotten():
    result = plan(["t1"], ["t1", "s1"], current(["t1"], ["t1", "s1"]), ["t1", "gone"])

    assert result.sync_owners == ("t1",)


def test_removals_past_the_member_loss_limit_are_held_while_adds_go_ahead():
    now = current(["t1"], ["t1", "s1", "s2", "s3", "s4"])

    result = plan(["t1"], ["t1", "s1", "s5"], now, ["t1"], max_member_loss=0.5)

    assert result.member_loss == pytest.approx(0.6)
    assert result.held_members == ("s2", "s3", "s4")
    assert result.remove_members == ()
    assert result.add_members == ("s5",)
    assert result.removals_held
    assert not result.is_empty


def test_removals_at_the_limit_are_not_held():
    now = current(["t1"], ["t1", "s1", "s2", "s3"])

    result = plan(["t1"], ["t1", "s1"], now, ["t1"], max_member_loss=0.5)

    assert result.member_loss == pytest.approx(0.5)
    assert result.remove_members == ("s2", "s3")
    assert not result.removals_held


def test_a_small_set_losing_fewer_pupils_than_the_floor_is_not_held():
    now = current(["t1"], ["t1", "s1", "s2"])

    result = plan(["t1"], ["t1"], now, ["t1"], max_member_loss=0.5, min_held_removals=3)

    assert result.member_loss == pytest.approx(2 / 3, abs=1e-3)
    assert result.remove_members == ("s1", "s2")
    assert not result.removals_held


def test_a_small_set_emptied_at_the_floor_is_held():
    now = current(["t1"], ["t1", "s1", "s2", "s3"])

    result = plan(["t1"], ["t1"], now, ["t1"], max_member_loss=0.5, min_held_removals=3)

    assert result.held_members == ("s1", "s2", "s3")
    assert result.remove_members == ()


def test_an_admin_release_lets_held_removals_through():
    now = current(["t1"], ["t1", "s1", "s2", "s3", "s4"])

    result = plan(["t1"], ["t1"], now, ["t1"], max_member_loss=0.5, release_held_removals=True)

    assert result.remove_members == ("s1", "s2", "s3", "s4")
    assert result.held_members == ()


def test_a_plan_survives_a_round_trip_through_json():
    original = plan(["t2"], ["t2", "s5"], current(["t1"], ["t1", "s1", "s2"]), ["t1"])

    restored = GroupPlan.from_dict(json.loads(json.dumps(original.to_dict())))

    assert restored == original
    assert original.to_dict()["remove_members"] == ["s1", "s2", "t1"]


def test_a_plan_from_another_version_is_refused_with_a_remedy():
    data = {**GroupPlan(create=True).to_dict(), "version": 99}

    with pytest.raises(ValueError, match="plan the group again"):
        GroupPlan.from_dict(data)


def test_the_schools_floor_on_held_removals_applies_without_the_caller_naming_it():
    safety = SafetyLimits(max_member_loss=0.5, min_held_removals=3)
    now = current(["t1"], ["t1", "s1", "s2"])

    result = plan_group(["t1"], ["t1"], now, ["t1"], safety)

    assert result.remove_members == ("s1", "s2")
    assert not result.removals_held


def test_owner_removals_are_held_while_member_removals_are_held():
    now = current(["t1", "t2"], ["t1", "t2", "s1", "s2", "s3", "s4"])

    result = plan(["t2"], ["t2"], now, ["t1", "t2"], max_member_loss=0.5)

    assert result.held_members == ("s1", "s2", "s3", "s4", "t1")
    assert result.held_owners == ("t1",)
    assert result.remove_owners == ()
    assert result.remove_members == ()
    assert result.sync_owners == ("t1", "t2")
    assert result.removals_held


def test_an_admin_release_lets_held_owner_removals_through_too():
    now = current(["t1", "t2"], ["t1", "t2", "s1", "s2", "s3", "s4"])

    result = plan(
        ["t2"], ["t2"], now, ["t1", "t2"], max_member_loss=0.5, release_held_removals=True
    )

    assert result.remove_owners == ("t1",)
    assert result.held_owners == ()
    assert result.held_members == ()
    assert result.sync_owners == ("t2",)


def test_an_owner_removal_alone_is_not_held():
    now = current(["t1", "t2"], ["t1", "t2", "s1", "s2", "s3", "s4"])

    result = plan(["t2"], ["t2", "s1", "s2", "s3", "s4"], now, ["t1", "t2"], max_member_loss=0.5)

    assert result.remove_owners == ("t1",)
    assert result.held_owners == ()


def test_held_owner_removals_survive_a_round_trip_through_json():
    now = current(["t1", "t2"], ["t1", "t2", "s1", "s2", "s3", "s4"])
    original = plan(["t2"], ["t2"], now, ["t1", "t2"], max_member_loss=0.5)

    restored = GroupPlan.from_dict(json.loads(json.dumps(original.to_dict())))

    assert restored.held_owners == ("t1",)
    assert restored == original
