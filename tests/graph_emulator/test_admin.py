"""The admin API other tests and the benchmarks rely on: seeding, state, counters, config."""

from __future__ import annotations

import time

from .helpers import V1, create_group, seed_users, user_ref


def test_seeding_5000_users_is_fast_and_uncounted(graph):
    started = time.perf_counter()
    ids = seed_users(graph, 5000)
    elapsed = time.perf_counter() - started

    assert len(set(ids)) == 5000
    assert elapsed < 2.0
    assert graph.get("/_emulator/counters").json()["requests"] == 0


def test_seeding_keeps_given_ids_and_refuses_duplicate_upns(graph):
    given = {"id": "fixed-id", "userPrincipalName": "a@school.example", "displayName": "A"}

    first = graph.post("/_emulator/users", json={"users": [given]})
    again = graph.post("/_emulator/users", json={"users": [{**given, "id": "other"}]})

    assert first.json() == {"ids": ["fixed-id"]}
    assert again.status_code == 400
    assert "a@school.example" in again.json()["error"]


def test_counters_count_requests_by_route_with_ids_replaced(graph):
    [user] = seed_users(graph, 1)
    group_id = create_group(graph, "counted")
    graph.post(f"{V1}/groups/{group_id}/members/$ref", json=user_ref(user))
    graph.get(f"{V1}/groups/{group_id}/members")
    graph.patch(f"{V1}/groups(uniqueName='k')", json={}, headers={"Prefer": "x"})

    counters = graph.get("/_emulator/counters").json()

    assert counters["requests"] == 4
    assert counters["by_route"] == {
        "POST /groups": 1,
        "POST /groups/{id}/members/$ref": 1,
        "GET /groups/{id}/members": 1,
        "PATCH /groups(uniqueName='{id}')": 1,
    }
    assert counters["writes"] == 3
    assert counters["bytes_in"] > 0 and counters["bytes_out"] > 0


def test_counter_reset_keeps_the_state(graph):
    group_id = create_group(graph, "kept")

    graph.post("/_emulator/counters/reset")

    assert graph.get("/_emulator/counters").json()["requests"] == 0
    assert graph.get(f"{V1}/groups/{group_id}").status_code == 200


def test_reset_empties_state_but_keeps_config(graph):
    create_group(graph, "wiped")
    graph.post("/_emulator/config", json={"latency_ms": 1})

    graph.post("/_emulator/reset")

    assert graph.get("/_emulator/state").json() == {"users": [], "groups": []}
    assert graph.get("/_emulator/config").json()["latency_ms"] == 1


def test_config_update_returns_the_full_config_and_refuses_unknown_options(graph):
    updated = graph.post("/_emulator/config", json={"write_quota": 100, "write_window": 10})
    refused = graph.post("/_emulator/config", json={"write_quoat": 1})

    assert updated.json()["write_quota"] == 100
    assert updated.json()["ru_quota"] == 8000
    assert refused.status_code == 400
    assert "write_quoat" in refused.json()["error"]


def test_state_shows_groups_with_their_links(graph):
    owner, member = seed_users(graph, 2)
    group_id = create_group(graph, "shown", description="d", uniqueName="u-shown")
    graph.post(f"{V1}/groups/{group_id}/owners/$ref", json=user_ref(owner))
    graph.post(f"{V1}/groups/{group_id}/members/$ref", json=user_ref(member))

    [group] = graph.get("/_emulator/state").json()["groups"]

    assert group["owners"] == [owner] and group["members"] == [member]
    assert (group["uniqueName"], group["description"], group["deleted"]) == ("u-shown", "d", False)
    assert set(group) >= {"visibility", "groupTypes", "isEducationClass", "externalId"}


def test_config_read_back_whole_can_be_posted_again(graph):
    config = graph.get("/_emulator/config").json()

    response = graph.post("/_emulator/config", json={**config, "latency_ms": 0})
    moved = graph.post("/_emulator/config", json={"port": config["port"] + 1})

    assert response.status_code == 200
    assert moved.status_code == 400
