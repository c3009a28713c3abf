"""Creating, reading, updating, listing and deleting groups, with Graph's validation rules
and the uniqueName upsert."""

from __future__ import annotations

import pytest

from .helpers import V1, binds, create_group, error_of, group_body, seed_users, state_group

INVALID_NICKNAME = "Invalid value specified for property 'mailNickname' of resource 'Group'."
NICKNAME_TAKEN = "Another object with the same value for property mailNickname already exists."


def test_created_unified_group_has_the_default_property_set_and_public_visibility(graph):
    response = graph.post(f"{V1}/groups", json=group_body("year7"))

    assert response.status_code == 201
    body = response.json()
    assert body["visibility"] == "Public"
    assert body["mail"].startswith("year7@")
    for name in ("id", "createdDateTime", "renewedDateTime", "proxyAddresses", "groupTypes"):
        assert name in body


def test_security_group_defaults_to_private_visibility(graph):
    body = group_body("staff", mailEnabled=False, securityEnabled=True, groupTypes=[])

    response = graph.post(f"{V1}/groups", json=body)

    assert response.status_code == 201
    assert response.json()["visibility"] == "Private"


@pytest.mark.parametrize("nickname", ["has space", "a@b", "x" * 65, "dot.ted", "brack[et]", ""])
def test_invalid_nickname_is_refused_with_invalid_value(graph, nickname):
    response = graph.post(f"{V1}/groups", json=group_body(nickname))

    assert error_of(response) == (400, "Request_BadRequest", INVALID_NICKNAME)
    assert response.json()["error"]["details"] == [
        {"target": "mailNickname", "code": "InvalidValue"}
    ]


def test_nickname_of_64_characters_is_accepted(graph):
    response = graph.post(f"{V1}/groups", json=group_body("n" * 64))

    assert response.status_code == 201


@pytest.mark.parametrize("missing", ["displayName", "mailNickname", "mailEnabled"])
def test_missing_required_property_is_refused(graph, missing):
    body = group_body("required")
    del body[missing]

    response = graph.post(f"{V1}/groups", json=body)

    assert response.status_code == 400
    assert missing in response.json()["error"]["message"]


def test_display_name_over_256_characters_is_refused(graph):
    response = graph.post(f"{V1}/groups", json=group_body("long", displayName="d" * 257))

    assert error_of(response)[0:2] == (400, "Request_BadRequest")
    assert "displayName" in response.json()["error"]["message"]


def test_taken_nickname_is_a_conflict_even_in_other_case(graph):
    create_group(graph, "maths-7a")

    response = graph.post(f"{V1}/groups", json=group_body("MATHS-7A"))

    assert error_of(response) == (400, "Request_BadRequest", NICKNAME_TAKEN)
    assert response.json()["error"]["details"] == [
        {"target": "mailNickname", "code": "ObjectConflict"}
    ]


def test_soft_deleted_group_keeps_its_nickname(graph):
    group_id = create_group(graph, "retired")
    assert graph.delete(f"{V1}/groups/{group_id}").status_code == 204

    response = graph.post(f"{V1}/groups", json=group_body("retired"))

    assert error_of(response) == (400, "Request_BadRequest", NICKNAME_TAKEN)
    assert graph.get(f"{V1}/groups/{group_id}").status_code == 404
    assert state_group(graph, group_id)["deleted"] is True


def test_security_groups_may_share_a_nickname(graph):
    security = dict(mailEnabled=False, securityEnabled=True, groupTypes=[])
    graph.post(f"{V1}/groups", json=group_body("shared", **security))

    response = graph.post(f"{V1}/groups", json=group_body("shared", **security))

    assert response.status_code == 201


def test_security_group_delete_is_permanent(graph):
    body = group_body("gone", mailEnabled=False, securityEnabled=True, groupTypes=[])
    group_id = graph.post(f"{V1}/groups", json=body).json()["id"]

    graph.delete(f"{V1}/groups/{group_id}")

    ids = [group["id"] for group in graph.get("/_emulator/state").json()["groups"]]
    assert group_id not in ids


def test_create_with_more_than_20_links_is_refused(graph):
    users = seed_users(graph, 21)
    body = group_body("big", **{"owners@odata.bind": binds(users[:1])})
    body["members@odata.bind"] = binds(users[1:])

    response = graph.post(f"{V1}/groups", json=body)

    assert error_of(response) == (
        400,
        "Request_BadRequest",
        "A resource cannot contain more than 20 link changes",
    )
    assert graph.get("/_emulator/state").json()["groups"] == []


def test_create_binds_owners_and_members(graph):
    users = seed_users(graph, 3)
    body = group_body("bound", **{"owners@odata.bind": binds(users[:1])})
    body["members@odata.bind"] = binds(users[1:])

    group_id = graph.post(f"{V1}/groups", json=body).json()["id"]

    group = state_group(graph, group_id)
    assert group["owners"] == users[:1]
    assert group["members"] == users[1:]


def test_resource_behavior_options_are_accepted_only_on_create(graph):
    options = ["WelcomeEmailDisabled", "HideGroupInOutlook"]
    group_id = create_group(graph, "quiet", resourceBehaviorOptions=options)

    response = graph.patch(
        f"{V1}/groups/{group_id}", json={"resourceBehaviorOptions": ["SubscribeNewGroupMembers"]}
    )

    assert error_of(response)[0:2] == (400, "Request_BadRequest")
    got = graph.get(f"{V1}/groups/{group_id}").json()["resourceBehaviorOptions"]
    assert got == options


def test_update_only_property_is_refused_on_create(graph):
    response = graph.post(f"{V1}/groups", json=group_body("early", hideFromOutlookClients=True))

    assert response.status_code == 400


def test_upsert_creates_with_201_then_updates_with_204(graph):
    url = f"{V1}/groups(uniqueName='school1-2025-7A')"
    prefer = {"Prefer": "create-if-missing"}

    created = graph.patch(url, json=group_body("class7a"), headers=prefer)
    updated = graph.patch(url, json={"displayName": "7A renamed"}, headers=prefer)

    assert created.status_code == 201
    assert created.json()["uniqueName"] == "school1-2025-7A"
    assert updated.status_code == 204
    assert graph.get(url).json()["displayName"] == "7A renamed"
    assert len(graph.get("/_emulator/state").json()["groups"]) == 1


def test_upsert_without_prefer_header_is_a_plain_update_of_nothing(graph):
    response = graph.patch(f"{V1}/groups(uniqueName='missing')", json=group_body("missing"))

    assert error_of(response)[0:2] == (404, "Request_ResourceNotFound")


def test_unique_name_of_a_deleted_group_cannot_be_reused(graph):
    url = f"{V1}/groups(uniqueName='once')"
    prefer = {"Prefer": "create-if-missing"}
    group_id = graph.patch(url, json=group_body("once"), headers=prefer).json()["id"]
    graph.delete(f"{V1}/groups/{group_id}")

    response = graph.patch(url, json=group_body("once-again"), headers=prefer)

    assert error_of(response)[0:2] == (400, "Request_BadRequest")
    assert "uniqueName" in response.json()["error"]["message"]


def test_patch_changes_properties_and_get_reflects_them(graph):
    group_id = create_group(graph, "before")

    response = graph.patch(
        f"{V1}/groups/{group_id}", json={"displayName": "After", "description": "d"}
    )

    assert response.status_code == 204
    body = graph.get(f"{V1}/groups/{group_id}?$select=displayName,description").json()
    assert (body["displayName"], body["description"]) == ("After", "d")
    assert "mailNickname" not in body


def test_hidden_membership_cannot_be_set_after_creation(graph):
    group_id = create_group(graph, "visible")

    response = graph.patch(f"{V1}/groups/{group_id}", json={"visibility": "HiddenMembership"})

    assert error_of(response)[0:2] == (400, "Request_BadRequest")


def test_unknown_group_is_404_with_its_id_in_the_message(graph):
    response = graph.get(f"{V1}/groups/00000000-0000-0000-0000-000000000000")

    status, code, message = error_of(response)
    assert (status, code) == (404, "Request_ResourceNotFound")
    assert "'00000000-0000-0000-0000-000000000000'" in message


def test_list_filters_by_unique_name_id_in_display_name_and_prefix(graph):
    prefer = {"Prefer": "create-if-missing"}
    graph.patch(f"{V1}/groups(uniqueName='u-7a')", json=group_body("g7a"), headers=prefer)
    second = create_group(graph, "g7b", displayName="Year 7 B")
    third = create_group(graph, "g8a", displayName="Year 8 A")

    def names(filter_text: str) -> list[str]:
        response = graph.get(f"{V1}/groups", params={"$filter": filter_text})
        assert response.status_code == 200, response.text
        return sorted(group["mailNickname"] for group in response.json()["value"])

    assert names("uniqueName eq 'U-7A'") == ["g7a"]
    assert names(f"id in ('{second}', '{third}')") == ["g7b", "g8a"]
    assert names("displayName eq 'year 7 b'") == ["g7b"]
    assert names("startswith(displayName, 'Year 8')") == ["g8a"]
    assert names("groupTypes/any(c:c eq 'Unified') and mailNickname eq 'g7b'") == ["g7b"]


def test_list_leaves_out_soft_deleted_groups(graph):
    kept = create_group(graph, "kept")
    gone = create_group(graph, "gone")
    graph.delete(f"{V1}/groups/{gone}")

    listed = [group["id"] for group in graph.get(f"{V1}/groups").json()["value"]]

    assert listed == [kept]
