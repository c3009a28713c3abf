"""A school's plan: desired groups resolved to directory users and planned together."""

from __future__ import annotations

import json

from local.sample_school import generate_school, next_night, write_oneroster
from shared.domain.policy import desired_groups
from shared.domain.settings import SchoolSettings
from shared.mis import read_mis_export
from shared.planner import (
    CurrentGroup,
    SnapshotFigures,
    preview_empty_tenant,
    preview_school,
    resolve_desired,
)
from tests.domain.snapshots import small_school

UPN = "@oakfield.example.org"


def settings_for(**overrides) -> SchoolSettings:
    data = {"school_id": "org-1", "dfe_number": "4001", "admin_owners": ["it@x.org"]}
    return SchoolSettings.from_dict({**data, **overrides})


def test_unmatched_people_are_reported_and_the_rest_of_the_group_still_syncs():
    group = next(
        g for g in desired_groups(small_school(), settings_for()) if g.mis_name == "10X/Ma1"
    )

    wanted = resolve_desired(group, {"s1": "u-s1", "t1": "u-t1"}, {"it@x.org": "u-it"})

    assert wanted.unmatched_people == ("s2",)
    assert wanted.members == {"u-s1", "u-t1"}
    assert wanted.owners == {"u-t1", "u-it"}


def test_admin_owners_become_members_of_classes_only():
    settings = settings_for(target="classes")
    group = next(g for g in desired_groups(small_school(), settings) if g.mis_name == "10A")

    wanted = resolve_desired(group, {}, {"it@x.org": "u-it"})

    assert wanted.owners == {"u-it"}
    assert wanted.members == {"u-it"}


def test_an_admin_owner_missing_from_the_directory_is_reported():
    group = desired_groups(small_school(), settings_for())[0]

    wanted = resolve_desired(group, {}, {})

    assert wanted.unmatched_admins == ("it@x.org",)
    assert wanted.owners == frozenset()


def test_on_an_empty_tenant_every_desired_group_is_a_creation():
    preview = preview_empty_tenant(small_school(), settings_for())

    totals = preview.totals()
    assert all(group.plan.create for group in preview.groups)
    assert totals["groups_to_create"] == 4
    assert totals["groups_to_create_by_kind"] == {"year": 1, "registration": 1, "teaching": 2}
    assert totals["members_to_add"] == 3 + 3 + 3 + 3
    assert totals["inactive_people"] == 1


def test_on_an_empty_tenant_people_stand_for_themselves_by_their_match_value():
    preview = preview_empty_tenant(small_school(), settings_for())

    maths = next(g for g in preview.groups if g.desired.mis_name == "10X/Ma1")
    assert maths.plan.add_owners == ("it@x.org", f"t1{UPN}")
    assert maths.plan.add_members == (f"s1{UPN}", f"s2{UPN}", f"t1{UPN}")


def test_on_an_empty_tenant_people_without_a_match_value_are_not_matched():
    settings = settings_for(matching={"mis_field": "email", "directory_property": "mail"})
    school = small_school()
    school.people["s2"] = type(school.people["s2"])(mis_id="s2", role=school.people["s2"].role)

    preview = preview_empty_tenant(school, settings)

    assert preview.unmatched_people == ("s2",)
    assert preview.totals()["people_not_matched"] == 1


def test_a_school_in_line_plans_nothing():
    school = small_school()
    settings = settings_for()
    first = preview_empty_tenant(school, settings)
    current = {
        g.desired.mis_group_id: CurrentGroup(
            frozenset(g.plan.add_owners), frozenset(g.plan.add_members)
        )
        for g in first.groups
    }
    links = {pid: f"{pid}{UPN}" for pid in school.people}

    again = preview_school(
        school,
        settings,
        links=links,
        admin_ids={"it@x.org": "it@x.org"},
        current=current,
        sync_owners={g.desired.mis_group_id: g.plan.sync_owners for g in first.groups},
    )

    assert again.changed_groups == []
    assert again.totals()["groups_in_line"] == 4


def test_the_preview_carries_the_school_check_and_is_json_safe():
    preview = preview_school(
        small_school(),
        settings_for(),
        links={},
        admin_ids={},
        last_good=SnapshotFigures(students=30, groups=4),
    )

    data = json.loads(json.dumps(preview.to_dict()))

    assert data["check"]["blocked"]
    assert data["groups"][0]["plan"]["create"]
    assert data["totals"]["groups"] == 4


def test_a_second_night_plans_only_the_churn_of_the_mis(tmp_path):
    school = generate_school(300, seed=5)
    tomorrow, changes = next_night(school, seed=1)
    settings = SchoolSettings.from_dict({"school_id": school.org_id, "admin_owners": ["it@x.org"]})
    upns = {p.sourced_id: p.username for p in tomorrow.people}
    night_one = preview_empty_tenant(
        read_mis_export(write_oneroster(school, tmp_path / "1")), settings
    )
    current = {
        g.desired.mis_group_id: CurrentGroup(
            frozenset(g.plan.add_owners), frozenset(g.plan.add_members)
        )
        for g in night_one.groups
    }

    night_two = preview_school(
        read_mis_export(write_oneroster(tomorrow, tmp_path / "2")),
        settings,
        links=upns,
        admin_ids={"it@x.org": "it@x.org"},
        current=current,
        sync_owners={g.desired.mis_group_id: g.plan.sync_owners for g in night_one.groups},
    )

    plans = {g.desired.mis_group_id: g.plan for g in night_two.changed_groups}
    klass, old, new = changes.new_teacher[0]
    assert plans[klass].add_owners == (upns[new],)
    assert plans[klass].remove_owners == (upns[old],)
    for pupil, src, dst in changes.moved:
        assert upns[pupil] in plans[src].remove_members
        assert upns[pupil] in plans[dst].add_members
    for leaver in changes.left:
        assert any(upns[leaver] in plan.remove_members for plan in plans.values())
    assert not any(plan.create for plan in plans.values())
    touched = {pupil for pupil, _, _ in changes.moved} | {old, new}
    touched |= set(changes.joined) | set(changes.left)
    for plan in plans.values():
        for _, user_ids in plan.steps():
            assert set(user_ids) <= {upns[person] for person in touched}
