"""Creating groups and classes idempotently, reading and deleting them."""

from __future__ import annotations

import asyncio

import pytest

from shared.graph import GroupSpec, NicknameTaken, UniqueNameTaken


def spec(key: str = "sync-4001-10x-ma1", **fields) -> GroupSpec:
    values = {"display_name": "10X/Ma1", "mail_nickname": key.replace("sync-", "")}
    return GroupSpec(key, **(values | fields))


async def test_a_new_group_is_created_with_its_first_owners_and_members(emulator, gateway):
    ids = emulator.seed_users(20)

    ensured = await gateway.ensure_group(
        spec(owners=(ids[0],), members=tuple(ids[1:20]), description="Maths set 1")
    )

    group = emulator.groups()[ensured.id]
    assert ensured.created
    assert group["uniqueName"] == "sync-4001-10x-ma1" and group["visibility"] == "Private"
    assert set(group["owners"]) == {ids[0]} and set(group["members"]) == set(ids[1:20])
    assert emulator.counters()["requests"] == 1


async def test_ensuring_an_existing_group_again_changes_nothing(emulator, gateway):
    ids = emulator.seed_users(3)
    first = await gateway.ensure_group(spec(owners=(ids[0],), members=(ids[1],)))
    emulator.client.post("/_emulator/counters/reset")

    again = await gateway.ensure_group(
        spec(owners=(ids[0],), members=(ids[1], ids[2]), display_name="Renamed")
    )

    assert (again.id, again.created) == (first.id, False)
    assert len(emulator.groups()) == 1
    assert emulator.groups()[first.id]["displayName"] == "10X/Ma1"


async def test_concurrent_ensures_of_one_group_create_it_once(emulator, gateway_for):
    gateways = [gateway_for() for _ in range(3)]

    results = await asyncio.gather(*(g.ensure_group(spec()) for g in gateways))

    assert len({r.id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert len(emulator.groups()) == 1


async def test_concurrent_ensures_agree_while_the_new_group_replicates(emulator, gateway_for):
    emulator.configure(replication_lag=1.0)
    gateways = [gateway_for() for _ in range(3)]

    results = await asyncio.gather(*(g.ensure_group(spec()) for g in gateways))

    assert len({r.id for r in results}) == 1
    assert len(emulator.groups()) == 1


async def test_a_taken_nickname_is_reported_as_such(emulator, gateway):
    await gateway.ensure_group(spec("sync-a", mail_nickname="maths"))

    with pytest.raises(NicknameTaken) as raised:
        await gateway.ensure_group(spec("sync-b", mail_nickname="maths"))

    assert raised.value.nickname == "maths"
    assert len(emulator.groups()) == 1


async def test_a_unique_name_held_by_a_deleted_group_is_reported(emulator, gateway):
    first = await gateway.ensure_group(spec("sync-a", mail_nickname="a1"))
    await gateway.delete_group(first.id)

    with pytest.raises(UniqueNameTaken):
        await gateway.ensure_group(spec("sync-a", mail_nickname="a2"))


async def test_more_than_twenty_first_links_are_refused_before_any_request(emulator, gateway):
    ids = emulator.seed_users(21)

    with pytest.raises(ValueError, match="apply_changes"):
        await gateway.ensure_group(spec(members=tuple(ids)))

    assert emulator.counters()["requests"] == 0


async def test_a_first_link_to_an_unknown_user_does_not_stop_the_group(emulator, gateway):
    ids = emulator.seed_users(2)

    ensured = await gateway.ensure_group(spec(owners=(ids[0],), members=(ids[1], "no-such-user")))

    assert ensured.created
    assert set(emulator.groups()[ensured.id]["members"]) == {ids[1]}
    assert [(f.operation, f.user_id, f.status) for f in ensured.failures] == [
        ("add_member", "no-such-user", 404)
    ]


async def test_an_education_class_is_created_once_by_external_id(emulator, gateway):
    ids = emulator.seed_users(4)
    class_spec = spec("sync-4001-9y-sc2", education=True, owners=(ids[0],), members=tuple(ids))

    created = await gateway.ensure_group(class_spec)
    again = await gateway.ensure_group(class_spec)

    group = emulator.groups()[created.id]
    assert created.created and not again.created and again.id == created.id
    assert group["isEducationClass"] and group["externalId"] == "sync-4001-9y-sc2"
    assert set(group["owners"]) == {ids[0]} and set(group["members"]) == set(ids)


async def test_concurrent_class_creation_makes_one_class(emulator, gateway_for):
    gateways = [gateway_for() for _ in range(2)]
    class_spec = spec("sync-4001-8z-fr1", education=True)

    results = await asyncio.gather(*(g.ensure_group(class_spec) for g in gateways))

    assert len({r.id for r in results}) == 1
    assert [g["externalId"] for g in emulator.groups().values()] == ["sync-4001-8z-fr1"]


async def test_get_group_returns_none_for_an_unknown_group(gateway):
    created = await gateway.ensure_group(spec())

    found = await gateway.get_group(created.id)
    missing = await gateway.get_group("00000000-0000-0000-0000-000000000000")

    assert found["id"] == created.id and found["displayName"] == "10X/Ma1"
    assert missing is None


async def test_delete_group_says_whether_there_was_a_group_to_delete(emulator, gateway):
    created = await gateway.ensure_group(spec())

    first = await gateway.delete_group(created.id)
    second = await gateway.delete_group(created.id)

    assert (first, second) == (True, False)
    assert emulator.groups() == {}


async def test_a_new_group_still_replicating_is_waited_for(emulator, gateway):
    ids = emulator.seed_users(2)
    emulator.configure(replication_lag=1.5)

    created = await gateway.ensure_group(spec(owners=(ids[0],)))
    found = await gateway.get_group(created.id)
    memberships = await gateway.read_memberships([created.id])

    assert found is not None and found["id"] == created.id
    assert memberships[created.id].owners == {ids[0]}
    assert gateway.stats.retries >= 1
