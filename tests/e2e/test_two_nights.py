"""Rules that only show over two nights, end to end: the timer, the school-sync and
group-reconcile functions on the local Service Bus stand-in, Graph as the emulator, state in
Azurite. Night one sets the school up; something changes; night two must react just so."""

from __future__ import annotations

import math

from local.mis_changes import add_set, move_pupils, plain_people, swap_teacher
from local.stack import nights_from_today
from shared.messages.schemas import DeleteGroupCommand
from tests.e2e.conftest import groups_by_mis_id, seed, set_ids, small_school, teachers_of

GROUPS_PER_BATCH = 20
USERS_PER_PAGE = 999
READ_ALLOWANCE = 3


def _forms(school) -> list[str]:
    return [c.sourced_id for c in school.classes if c.class_type == "homeroom"]


def _pupils_of(school, class_id: str) -> list[str]:
    plain = {p.sourced_id for p in plain_people(school) if p.role == "student"}
    return [
        e.user_id
        for e in school.enrollments
        if e.class_id == class_id and e.role == "student" and e.user_id in plain
    ]


async def test_a_member_added_directly_in_microsoft_365_is_removed_the_next_night(stack):
    school = small_school()
    seeded = seed(stack, school)
    first, second = nights_from_today(2)
    await stack.run_night(first)
    form, other_form = _forms(school)[:2]
    outsider = seeded.person_user_id(_pupils_of(school, other_form)[0])
    group = groups_by_mis_id(stack, seeded)[form]
    stack.emulator.add_member(group["id"], outsider)

    night = await stack.run_night(second)

    assert outsider not in stack.emulator.group(group["id"])["members"]
    assert night.group_results()[form].members_removed == 1
    assert set(night.changed()) == {form}


async def test_an_owner_added_directly_in_microsoft_365_is_kept(stack):
    school = small_school()
    deputy = f"deputy.head@{school.domain}"
    seeded = seed(stack, school, extra_users=(deputy,))
    first, second = nights_from_today(2)
    await stack.run_night(first)
    teaching_set = set_ids(school)[0]
    group = groups_by_mis_id(stack, seeded)[teaching_set]
    stack.emulator.add_owner(group["id"], seeded.user_id(deputy))

    night = await stack.run_night(second)

    assert seeded.user_id(deputy) in stack.emulator.group(group["id"])["owners"]
    assert night.changed() == {}
    assert night.counters["writes"] == 0


async def test_a_teacher_swap_adds_the_new_owner_before_removing_the_old_one(stack):
    school = small_school()
    seeded = seed(stack, school)
    first, second = nights_from_today(2)
    await stack.run_night(first)
    teaching_set = set_ids(school)[0]
    old_teacher = teachers_of(school, teaching_set)[0]
    new_teacher = next(
        p.sourced_id
        for p in plain_people(school)
        if p.role == "teacher" and p.sourced_id not in teachers_of(school, teaching_set)
    )
    stack.upload(swap_teacher(school, teaching_set, new_teacher), school_id=seeded.school_id)

    night = await stack.run_night(second)

    group = groups_by_mis_id(stack, seeded)[teaching_set]
    old_id, new_id = seeded.person_user_id(old_teacher), seeded.person_user_id(new_teacher)
    admin = seeded.user_id(seeded.admin_upns[0])
    assert set(group["owners"]) == {admin, new_id}
    order = [
        (change["relation"], change["user"], change["added"])
        for change in stack.emulator.link_changes(group["id"])
    ]
    assert order.index(("owners", new_id, True)) < order.index(("owners", old_id, False))
    result = night.group_results()[teaching_set]
    assert (result.owners_added, result.owners_removed) == (1, 1)


async def test_a_group_renamed_in_microsoft_365_keeps_its_new_name(stack):
    school = small_school()
    seeded = seed(stack, school)
    first, second = nights_from_today(2)
    await stack.run_night(first)
    form, other_form = _forms(school)[:2]
    group = groups_by_mis_id(stack, seeded)[form]
    stack.emulator.rename_group(group["id"], "Form 7A - Mrs Khan")
    mover = _pupils_of(school, other_form)[0]
    stack.upload(move_pupils(school, [mover], other_form, form), school_id=seeded.school_id)

    night = await stack.run_night(second)

    renamed = stack.emulator.group(group["id"])
    assert renamed["displayName"] == "Form 7A - Mrs Khan"
    assert seeded.person_user_id(mover) in renamed["members"]
    assert night.group_results()[form].members_added == 1
    assert len([g for g in stack.emulator.groups() if g["uniqueName"] == group["uniqueName"]]) == 1


async def test_a_changed_name_identifier_names_only_groups_created_afterwards(stack):
    school = small_school()
    seeded = seed(stack, school)
    first, second = nights_from_today(2)
    await stack.run_night(first)
    names_before = {g["id"]: g["displayName"] for g in stack.emulator.groups()}
    stack.save_settings(seeded, name_identifier="OAK")
    model = set_ids(school)[0]
    pupils = _pupils_of(school, model)[:3]
    changed, new_set = add_set(school, model, pupils, teachers_of(school, model)[0])
    stack.upload(changed, school_id=seeded.school_id)

    await stack.run_night(second)

    groups = groups_by_mis_id(stack, seeded)
    assert groups[new_set]["displayName"].endswith(f" OAK {school.academic_year_start}")
    names_now = {g["id"]: g["displayName"] for g in stack.emulator.groups()}
    assert {group_id: names_now[group_id] for group_id in names_before} == names_before
    assert all(f" {school.dfe_number} " in name for name in names_before.values())


async def test_a_group_deleted_on_demand_is_not_recreated_by_the_next_night(stack):
    school = small_school()
    seeded = seed(stack, school)
    first, second = nights_from_today(2)
    await stack.run_night(first)
    form = _forms(school)[0]
    group = groups_by_mis_id(stack, seeded)[form]
    drained = await stack.run_command(
        DeleteGroupCommand(seeded.school_id, form, requested_by=seeded.admin_upns[0])
    )

    night = await stack.run_night(second)

    assert drained.dead_lettered == {}
    assert stack.emulator.group(group["id"])["deleted"] is True
    assert not [g for g in stack.emulator.groups() if g["uniqueName"] == group["uniqueName"]]
    assert night.group_results()[form].outcome == "deleted on demand"
    assert night.counters["writes"] == 0


async def test_a_group_deleted_by_someone_else_is_reported_and_not_recreated(stack):
    school = small_school()
    seeded = seed(stack, school)
    first, second = nights_from_today(2)
    await stack.run_night(first)
    form = _forms(school)[0]
    group = groups_by_mis_id(stack, seeded)[form]
    stack.emulator.delete_group(group["id"])

    night = await stack.run_night(second)

    result = night.group_results()[form]
    assert result.outcome == "missing"
    assert group["id"] in result.errors[0]
    assert not [g for g in stack.emulator.groups() if g["uniqueName"] == group["uniqueName"]]
    assert night.counters["writes"] == 0


async def test_a_second_night_with_no_mis_change_writes_nothing_and_reads_little(stack):
    school = small_school()
    seed(stack, school)
    first, second = nights_from_today(2)
    await stack.run_night(first)

    night = await stack.run_night(second)

    groups = len(night.group_results())
    users = night.run().summary["directory_users"]
    bound = math.ceil(2 * groups / GROUPS_PER_BATCH) + math.ceil(users / USERS_PER_PAGE)
    assert night.counters["writes"] == 0
    assert night.drain.completed.get("group-reconcile", 0) == 0
    assert night.counters["requests"] <= bound + READ_ALLOWANCE
    assert {row.outcome for row in night.group_results().values()} == {"in line"}
