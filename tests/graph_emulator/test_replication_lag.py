"""Replication lag: a new object stays invisible for the configured window, as Graph's
replicas make it."""

from __future__ import annotations

import time

from .helpers import V1, binds, error_of, group_body, seed_users, user_ref

LAG_SECONDS = 0.6


def lagging(graph) -> None:
    graph.post("/_emulator/config", json={"replication_lag": LAG_SECONDS}).raise_for_status()


def test_new_group_is_404_until_the_lag_has_passed(graph):
    lagging(graph)
    group_id = graph.post(f"{V1}/groups", json=group_body("lagged")).json()["id"]

    early = graph.get(f"{V1}/groups/{group_id}")
    time.sleep(LAG_SECONDS + 0.1)
    late = graph.get(f"{V1}/groups/{group_id}")

    assert error_of(early)[0:2] == (404, "Request_ResourceNotFound")
    assert late.status_code == 200


def test_ref_add_to_a_new_group_is_404_and_bind_patch_is_400(graph):
    [user] = seed_users(graph, 1)
    lagging(graph)
    group_id = graph.post(f"{V1}/groups", json=group_body("lagged2")).json()["id"]

    ref = graph.post(f"{V1}/groups/{group_id}/members/$ref", json=user_ref(user))
    bind = graph.patch(f"{V1}/groups/{group_id}", json={"members@odata.bind": binds([user])})
    plain = graph.patch(f"{V1}/groups/{group_id}", json={"description": "x"})

    assert error_of(ref)[0:2] == (404, "Request_ResourceNotFound")
    assert error_of(bind) == (
        400,
        "Request_BadRequest",
        "The source resource object or one of the objects being referenced do not exist.",
    )
    assert plain.status_code == 404


def test_new_group_is_missing_from_lists_but_upsert_still_finds_it(graph):
    lagging(graph)
    url = f"{V1}/groups(uniqueName='lag-key')"
    prefer = {"Prefer": "create-if-missing"}
    graph.patch(url, json=group_body("lagged3"), headers=prefer)

    listed = graph.get(f"{V1}/groups", params={"$filter": "uniqueName eq 'lag-key'"}).json()
    again = graph.patch(url, json=group_body("lagged3"), headers=prefer)

    assert listed["value"] == []
    assert again.status_code == 204


def test_bind_referencing_a_new_user_is_400(graph):
    group_id = graph.post(f"{V1}/groups", json=group_body("ready")).json()["id"]
    lagging(graph)
    user_id = graph.post(
        f"{V1}/users",
        json={
            "accountEnabled": True,
            "displayName": "Fresh",
            "mailNickname": "fresh",
            "passwordProfile": {"password": "Secret-123!"},
            "userPrincipalName": "fresh@school.example",
        },
    ).json()["id"]

    response = graph.patch(f"{V1}/groups/{group_id}", json={"members@odata.bind": binds([user_id])})

    assert error_of(response)[2].startswith("The source resource object")
