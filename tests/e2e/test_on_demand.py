"""A group created on demand (C1, O4), end to end: the command goes through the admin API's
queue to the commands function, and the nights after it keep the group and its requester."""

from __future__ import annotations

from datetime import date

from local.stack import nights_from_today
from shared.messages.schemas import CreateGroupCommand
from tests.e2e.conftest import groups_by_mis_id, seed, set_ids, small_school, teachers_of

LIFETIME = date(2026, 7, 31).isoformat()


async def test_a_group_created_on_demand_has_its_privacy_lifetime_and_requester_as_owner(stack):
    school = small_school()
    requester = f"requesting.teacher@{school.domain}"
    seeded = seed(stack, school, extra_users=(requester,), enabled_kinds=["year", "registration"])
    first, second = nights_from_today(2)
    await stack.run_night(first)
    teaching_set = set_ids(school)[0]
    command = CreateGroupCommand(
        school_id=seeded.school_id,
        mis_group_id=teaching_set,
        lifetime=LIFETIME,
        requested_by=requester,
        description="Revision group for the mock exams",
        visibility="Public",
    )

    drained = await stack.run_command(command)
    night = await stack.run_night(second)

    group = groups_by_mis_id(stack, seeded)[teaching_set]
    mapping = next(
        m for m in stack.state.list_mappings(seeded.school_id) if m.mis_group_id == teaching_set
    )
    teacher = seeded.person_user_id(teachers_of(school, teaching_set)[0])
    admin = seeded.user_id(seeded.admin_upns[0])
    assert drained.dead_lettered == {}
    assert group["visibility"] == "Public"
    assert group["description"] == "Revision group for the mock exams"
    assert set(group["owners"]) == {seeded.user_id(requester), teacher, admin}
    assert (mapping.on_demand, mapping.lifetime, mapping.requested_by) == (
        True,
        LIFETIME,
        requester,
    )
    assert night.group_results()[teaching_set].outcome == "in line"
    assert night.counters["writes"] == 0
