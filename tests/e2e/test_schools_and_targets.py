"""Schools whose MIS or target changes the rules, end to end over two nights: ScholarPack (no
teaching groups), SEEMiS (every staff member of a set owns it) and Education classes."""

from __future__ import annotations

import dataclasses

from local.mis_changes import plain_people, swap_teacher
from local.stack import nights_from_today
from tests.e2e.conftest import groups_by_mis_id, seed, set_ids, small_school, teachers_of


async def test_a_scholarpack_school_never_gets_teaching_groups(stack):
    school = small_school()
    seeded = seed(stack, school, mis_vendor="ScholarPack")
    first, second = nights_from_today(2)

    one = await stack.run_night(first)
    two = await stack.run_night(second)

    kinds = {m.kind for m in stack.state.list_mappings(seeded.school_id)}
    assert kinds == {"year", "registration"}
    assert not set(set_ids(school)) & set(groups_by_mis_id(stack, seeded))
    assert one.run().summary["groups_to_create"] == len(groups_by_mis_id(stack, seeded))
    assert two.counters["writes"] == 0


async def test_a_seemis_school_makes_every_staff_member_of_a_set_an_owner(stack):
    school = small_school()
    seeded = seed(stack, school, mis_vendor="SEEMiS")
    first, second = nights_from_today(2)
    co_taught = next(c for c in set_ids(school) if len(teachers_of(school, c)) > 1)
    staff = teachers_of(school, co_taught)
    await stack.run_night(first)
    owners_after_first = set(groups_by_mis_id(stack, seeded)[co_taught]["owners"])
    # The second teacher stops teaching the set: the sync added them, so it removes them.
    leaving = staff[1]
    without = [
        e for e in school.enrollments if not (e.class_id == co_taught and e.user_id == leaving)
    ]
    stack.upload(dataclasses.replace(school, enrollments=without), school_id=seeded.school_id)

    night = await stack.run_night(second)

    admin = seeded.user_id(seeded.admin_upns[0])
    assert owners_after_first == {admin, *map(seeded.person_user_id, staff)}
    owners_now = set(groups_by_mis_id(stack, seeded)[co_taught]["owners"])
    assert owners_now == owners_after_first - {seeded.person_user_id(leaving)}
    assert night.group_results()[co_taught].owners_removed == 1


async def test_an_education_class_school_gets_classes_with_teachers_in_both_lists(stack):
    school = small_school()
    seeded = seed(stack, school, target="classes")
    first, second = nights_from_today(2)
    teaching_set = set_ids(school)[0]
    old_teacher = teachers_of(school, teaching_set)[0]
    new_teacher = next(
        p.sourced_id
        for p in plain_people(school)
        if p.role == "teacher" and p.sourced_id not in teachers_of(school, teaching_set)
    )
    await stack.run_night(first)
    stack.upload(swap_teacher(school, teaching_set, new_teacher), school_id=seeded.school_id)

    await stack.run_night(second)

    group = groups_by_mis_id(stack, seeded)[teaching_set]
    new_id, old_id = seeded.person_user_id(new_teacher), seeded.person_user_id(old_teacher)
    admin = seeded.user_id(seeded.admin_upns[0])
    assert group["isEducationClass"] is True
    assert group["externalId"]
    assert {new_id, admin} <= set(group["owners"]) & set(group["members"])
    assert old_id not in set(group["owners"]) | set(group["members"])
    assert all(g["isEducationClass"] for g in groups_by_mis_id(stack, seeded).values())
