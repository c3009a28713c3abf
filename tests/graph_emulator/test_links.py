"""Members and owners: `$ref` add and remove, the bind PATCH, and reading the collections,
with Graph's exact error bodies."""

from __future__ import annotations

from .helpers import (
    V1,
    binds,
    create_group,
    error_of,
    seed_users,
    state_group,
    user_ref,
)

ALREADY_MEMBER = (
    "One or more added object references already exist for the following modified "
    "properties: 'members'."
)
LAST_OWNER = "The group must have at least one owner, hence this owner cannot be removed."


def not_found_message(object_id: str) -> str:
    return (
        f"Resource '{object_id}' does not exist or one of its queried reference-property "
        "objects are not present."
    )


def test_member_ref_add_then_remove(graph):
    [user] = seed_users(graph, 1)
    group_id = create_group(graph, "refs")

    added = graph.post(f"{V1}/groups/{group_id}/members/$ref", json=user_ref(user))
    listed = state_group(graph, group_id)["members"]
    removed = graph.delete(f"{V1}/groups/{group_id}/members/{user}/$ref")

    assert (added.status_code, removed.status_code) == (204, 204)
    assert listed == [user]
    assert state_group(graph, group_id)["members"] == []


def test_duplicate_member_add_is_400_already_exist(graph):
    [user] = seed_users(graph, 1)
    group_id = create_group(graph, "dup")
    graph.post(f"{V1}/groups/{group_id}/members/$ref", json=user_ref(user))

    response = graph.post(f"{V1}/groups/{group_id}/members/$ref", json=user_ref(user))

    assert error_of(response) == (400, "Request_BadRequest", ALREADY_MEMBER)


def test_duplicate_owner_add_names_the_owners_property(graph):
    [user] = seed_users(graph, 1)
    group_id = create_group(graph, "dupowner")
    graph.post(f"{V1}/groups/{group_id}/owners/$ref", json=user_ref(user))

    response = graph.post(f"{V1}/groups/{group_id}/owners/$ref", json=user_ref(user))

    assert error_of(response)[2].endswith("modified properties: 'owners'.")


def test_adding_a_missing_user_is_404_naming_the_user(graph):
    group_id = create_group(graph, "nouser")
    ghost = "11111111-2222-3333-4444-555555555555"

    response = graph.post(f"{V1}/groups/{group_id}/members/$ref", json=user_ref(ghost))

    assert error_of(response) == (404, "Request_ResourceNotFound", not_found_message(ghost))


def test_adding_to_a_missing_group_is_404_naming_the_group(graph):
    [user] = seed_users(graph, 1)
    ghost = "99999999-2222-3333-4444-555555555555"

    response = graph.post(f"{V1}/groups/{ghost}/members/$ref", json=user_ref(user))

    assert error_of(response) == (404, "Request_ResourceNotFound", not_found_message(ghost))


def test_removing_a_non_member_is_404_naming_the_user(graph):
    [user] = seed_users(graph, 1)
    group_id = create_group(graph, "nonmember")

    response = graph.delete(f"{V1}/groups/{group_id}/members/{user}/$ref")

    assert error_of(response) == (404, "Request_ResourceNotFound", not_found_message(user))


def test_last_owner_cannot_be_removed_but_others_can(graph):
    first, second = seed_users(graph, 2)
    group_id = create_group(graph, "owned", **{"owners@odata.bind": binds([first, second])})

    removed = graph.delete(f"{V1}/groups/{group_id}/owners/{first}/$ref")
    refused = graph.delete(f"{V1}/groups/{group_id}/owners/{second}/$ref")

    assert removed.status_code == 204
    assert error_of(refused) == (400, "Request_BadRequest", LAST_OWNER)
    assert state_group(graph, group_id)["owners"] == [second]


def test_the_101st_owner_exceeds_the_quota(graph):
    users = seed_users(graph, 101)
    group_id = create_group(graph, "crowded")
    for start in range(0, 100, 20):
        bind = {"owners@odata.bind": binds(users[start : start + 20])}
        assert graph.patch(f"{V1}/groups/{group_id}", json=bind).status_code == 204

    response = graph.post(f"{V1}/groups/{group_id}/owners/$ref", json=user_ref(users[100]))

    assert error_of(response) == (
        403,
        "Directory_QuotaExceeded",
        "Unable to perform operation as '101' would exceed the maximum quota count '100' "
        "for forward-link 'owners'.",
    )


def test_bind_patch_adds_up_to_20_links_at_once(graph):
    users = seed_users(graph, 20)
    group_id = create_group(graph, "bulk")

    response = graph.patch(
        f"{V1}/groups/{group_id}",
        json={"members@odata.bind": binds(users[:19]), "owners@odata.bind": binds(users[19:])},
    )

    assert response.status_code == 204
    group = state_group(graph, group_id)
    assert (len(group["members"]), group["owners"]) == (19, users[19:])


def test_bind_patch_with_21_links_is_refused(graph):
    users = seed_users(graph, 21)
    group_id = create_group(graph, "toomany")

    response = graph.patch(f"{V1}/groups/{group_id}", json={"members@odata.bind": binds(users)})

    assert error_of(response)[2] == "A resource cannot contain more than 20 link changes"
    assert state_group(graph, group_id)["members"] == []


def test_bind_patch_is_all_or_nothing_when_one_is_already_a_member(graph):
    users = seed_users(graph, 5)
    group_id = create_group(graph, "allornothing")
    graph.post(f"{V1}/groups/{group_id}/members/$ref", json=user_ref(users[2]))

    response = graph.patch(f"{V1}/groups/{group_id}", json={"members@odata.bind": binds(users)})

    assert error_of(response) == (400, "Request_BadRequest", ALREADY_MEMBER)
    assert state_group(graph, group_id)["members"] == [users[2]]


def test_bind_patch_with_a_missing_user_adds_nobody(graph):
    users = seed_users(graph, 2)
    group_id = create_group(graph, "missingone")
    ghost = "11111111-0000-0000-0000-000000000000"

    response = graph.patch(
        f"{V1}/groups/{group_id}", json={"members@odata.bind": binds([*users, ghost])}
    )

    assert error_of(response)[0:2] == (404, "Request_ResourceNotFound")
    assert state_group(graph, group_id)["members"] == []


def test_delete_without_ref_deletes_the_user_itself(graph):
    [user] = seed_users(graph, 1)
    group_id = create_group(graph, "dangerous")
    graph.post(f"{V1}/groups/{group_id}/members/$ref", json=user_ref(user))

    response = graph.delete(f"{V1}/groups/{group_id}/members/{user}")

    assert response.status_code == 204
    assert graph.get(f"{V1}/users/{user}").status_code == 404


def test_members_page_with_top_and_select_and_absolute_next_link(graph, graph_emulator):
    users = seed_users(graph, 25)
    group_id = create_group(graph, "paged")
    for start in range(0, 25, 20):
        graph.patch(
            f"{V1}/groups/{group_id}", json={"members@odata.bind": binds(users[start : start + 20])}
        )

    first = graph.get(f"{V1}/groups/{group_id}/members", params={"$select": "id", "$top": "10"})
    next_link = first.json()["@odata.nextLink"]
    second = graph.get(next_link).json()
    third = graph.get(second["@odata.nextLink"]).json()

    assert next_link.startswith(f"{graph_emulator.url}/v1.0/groups/{group_id}/members?")
    assert first.json()["value"][0] == {"@odata.type": "#microsoft.graph.user", "id": users[0]}
    seen = [item["id"] for page in (first.json(), second, third) for item in page["value"]]
    assert seen == users
    assert "@odata.nextLink" not in third


def test_members_default_page_is_100(graph):
    users = seed_users(graph, 120)
    group_id = create_group(graph, "hundred")
    for start in range(0, 120, 20):
        graph.patch(
            f"{V1}/groups/{group_id}", json={"members@odata.bind": binds(users[start : start + 20])}
        )

    page = graph.get(f"{V1}/groups/{group_id}/members").json()

    assert len(page["value"]) == 100
    assert "@odata.nextLink" in page


def test_page_size_of_1000_is_refused(graph):
    group_id = create_group(graph, "topcheck")

    response = graph.get(f"{V1}/groups/{group_id}/members", params={"$top": "1000"})

    assert error_of(response) == (
        400,
        "Request_BadRequest",
        "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.",
    )


def test_member_count_needs_eventual_consistency(graph):
    users = seed_users(graph, 3)
    group_id = create_group(graph, "counted", **{"members@odata.bind": binds(users)})

    refused = graph.get(f"{V1}/groups/{group_id}/members/$count")
    counted = graph.get(
        f"{V1}/groups/{group_id}/members/$count", headers={"ConsistencyLevel": "eventual"}
    )

    assert error_of(refused) == (400, "Request_BadRequest", "$count is not currently supported.")
    assert counted.text == "3"


def test_owners_list_reads_the_owners(graph):
    owner, member = seed_users(graph, 2)
    group_id = create_group(
        graph,
        "readowners",
        **{"owners@odata.bind": binds([owner]), "members@odata.bind": binds([member])},
    )

    page = graph.get(f"{V1}/groups/{group_id}/owners?$select=id,userPrincipalName").json()

    assert [item["id"] for item in page["value"]] == [owner]
    assert page["value"][0]["userPrincipalName"] == "pupil0@school.example"
