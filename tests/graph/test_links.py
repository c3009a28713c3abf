"""Reading and changing owners and members: 20 links to a PATCH, the fallbacks, the order."""

from __future__ import annotations

import math

from shared.graph import GroupSpec, MembershipChange


async def new_group(gateway, owner: str, key: str = "sync-g") -> str:
    ensured = await gateway.ensure_group(GroupSpec(key, key, key, owners=(owner,)))
    return ensured.id


async def test_links_are_added_twenty_to_a_patch(emulator, gateway):
    ids = emulator.seed_users(60)
    group_id = await new_group(gateway, ids[0])
    emulator.client.post("/_emulator/counters/reset")

    failures = await gateway.apply_changes(
        [MembershipChange(group_id, add_owners=(ids[1],), add_members=tuple(ids[2:60]))]
    )

    group = emulator.groups()[group_id]
    assert failures == []
    assert set(group["owners"]) == {ids[0], ids[1]} and set(group["members"]) == set(ids[2:60])
    assert emulator.counters()["by_route"]["PATCH /groups/{id}"] == math.ceil(59 / 20)


async def test_a_link_that_already_exists_counts_as_done(emulator, gateway):
    ids = emulator.seed_users(25)
    group_id = await new_group(gateway, ids[0])
    await gateway.apply_changes([MembershipChange(group_id, add_members=tuple(ids[1:5]))])

    failures = await gateway.apply_changes(
        [MembershipChange(group_id, add_members=tuple(ids[1:25]))]
    )

    assert failures == []
    assert set(emulator.groups()[group_id]["members"]) == set(ids[1:25])


async def test_an_unknown_user_fails_alone(emulator, gateway):
    ids = emulator.seed_users(10)
    group_id = await new_group(gateway, ids[0])

    failures = await gateway.apply_changes(
        [MembershipChange(group_id, add_members=(*ids[1:10], "no-such-user"))]
    )

    assert [(f.operation, f.user_id, f.status) for f in failures] == [
        ("add_member", "no-such-user", 404)
    ]
    assert set(emulator.groups()[group_id]["members"]) == set(ids[1:10])


async def test_the_hundred_owner_cap_refuses_only_the_owners_over_it(emulator, gateway):
    ids = emulator.seed_users(103)
    group_id = await new_group(gateway, ids[0])
    await gateway.apply_changes([MembershipChange(group_id, add_owners=tuple(ids[1:99]))])

    failures = await gateway.apply_changes(
        [MembershipChange(group_id, add_owners=tuple(ids[99:103]), add_members=(ids[0],))]
    )

    group = emulator.groups()[group_id]
    assert len(group["owners"]) == 100 and ids[0] in group["members"]
    assert len(failures) == 3 and all(f.over_quota for f in failures)


async def test_removing_a_link_that_is_not_there_counts_as_done(emulator, gateway):
    ids = emulator.seed_users(3)
    group_id = await new_group(gateway, ids[0])
    await gateway.apply_changes([MembershipChange(group_id, add_members=(ids[1],))])

    failures = await gateway.apply_changes(
        [MembershipChange(group_id, remove_members=(ids[1], ids[2]), remove_owners=(ids[2],))]
    )

    assert failures == []
    assert emulator.groups()[group_id]["members"] == []


async def test_the_last_owner_is_never_removed_and_the_refusal_is_reported(emulator, gateway):
    ids = emulator.seed_users(1)
    group_id = await new_group(gateway, ids[0])

    failures = await gateway.apply_changes([MembershipChange(group_id, remove_owners=(ids[0],))])

    assert len(failures) == 1 and failures[0].last_owner
    assert emulator.groups()[group_id]["owners"] == [ids[0]]


async def test_an_owner_is_replaced_in_one_change_because_adds_come_first(emulator, gateway):
    ids = emulator.seed_users(2)
    group_id = await new_group(gateway, ids[0])

    failures = await gateway.apply_changes(
        [MembershipChange(group_id, add_owners=(ids[1],), remove_owners=(ids[0],))]
    )

    assert failures == []
    assert emulator.groups()[group_id]["owners"] == [ids[1]]


async def test_changes_to_many_groups_share_batches(emulator, gateway):
    ids = emulator.seed_users(11)
    group_ids = [await new_group(gateway, ids[0], f"sync-g{n}") for n in range(30)]
    emulator.client.post("/_emulator/counters/reset")

    await gateway.apply_changes(
        [MembershipChange(g, add_members=tuple(ids[1:11])) for g in group_ids]
    )

    assert emulator.counters()["requests"] == math.ceil(30 / 20)
    assert all(len(g["members"]) == 10 for g in emulator.groups().values())


async def test_memberships_of_many_groups_are_read_in_batches(emulator, gateway):
    ids = emulator.seed_users(1_100)
    big = await new_group(gateway, ids[0], "sync-big")
    await gateway.apply_changes([MembershipChange(big, add_members=tuple(ids))])
    small = [await new_group(gateway, ids[n], f"sync-s{n}") for n in range(1, 20)]
    gone = await new_group(gateway, ids[0], "sync-gone")
    await gateway.delete_group(gone)
    emulator.client.post("/_emulator/counters/reset")

    memberships = await gateway.read_memberships([big, *small, gone])

    assert memberships[big].members == set(ids) and memberships[big].owners == {ids[0]}
    assert all(memberships[s].owners == {ids[n]} for n, s in enumerate(small, start=1))
    assert memberships[gone] is None
    # 42 first pages in 3 batches, then the big group's second members page.
    assert emulator.counters()["requests"] == 4


async def test_old_owners_stay_when_the_new_owner_cannot_be_added(emulator, gateway):
    ids = emulator.seed_users(3)
    group_id = await new_group(gateway, ids[0])
    await gateway.apply_changes([MembershipChange(group_id, add_owners=(ids[1],))])

    failures = await gateway.apply_changes(
        [MembershipChange(group_id, add_owners=("no-such-user",), remove_owners=(ids[1],))]
    )

    assert set(emulator.groups()[group_id]["owners"]) == {ids[0], ids[1]}
    put_off = [f for f in failures if f.operation == "remove_owner"]
    # The new owner does not exist: retrying soon cannot help, the next run tries again.
    assert [(f.user_id, f.transient) for f in put_off] == [(ids[1], False)]


async def test_member_changes_go_ahead_when_the_new_owner_cannot_be_added(emulator, gateway):
    ids = emulator.seed_users(4)
    group_id = await new_group(gateway, ids[0])
    await gateway.apply_changes([MembershipChange(group_id, add_members=(ids[2],))])

    await gateway.apply_changes(
        [
            MembershipChange(
                group_id,
                add_owners=("no-such-user",),
                add_members=(ids[3],),
                remove_members=(ids[2],),
            )
        ]
    )

    assert set(emulator.groups()[group_id]["members"]) == {ids[3]}
