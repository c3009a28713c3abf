"""Throttling and injected faults: Graph's 429 body and headers from token buckets, per item
inside `$batch`, and seeded 429/503/504/dropped connections."""

from __future__ import annotations

import time

import httpx
import pytest

from .helpers import V1, create_group, error_of, seed_users, state_group, user_ref


def tighten(graph, **options) -> None:
    graph.post("/_emulator/config", json=options).raise_for_status()


def test_write_quota_gives_graphs_429_with_integer_retry_after(graph):
    tighten(graph, write_quota=3, write_window=30)
    group_id = create_group(graph, "quota")
    users = seed_users(graph, 3)
    for user in users[:2]:
        graph.post(f"{V1}/groups/{group_id}/members/$ref", json=user_ref(user))

    response = graph.post(f"{V1}/groups/{group_id}/members/$ref", json=user_ref(users[2]))

    assert error_of(response) == (429, "TooManyRequests", "Please retry again later.")
    inner = response.json()["error"]["innerError"]
    assert (inner["code"], inner["message"], inner["status"]) == (
        "429",
        "Please retry after",
        "429",
    )
    assert response.headers["Retry-After"] == "10"
    assert response.headers["x-ms-throttle-information"] == "WriteLimitExceeded"
    assert response.headers["x-ms-throttle-scope"].startswith("Tenant_Application/Write/")
    assert response.headers["x-ms-resource-unit"] == "1"
    assert users[2] not in state_group(graph, group_id)["members"]


def test_reads_are_priced_in_resource_units(graph):
    tighten(graph, ru_quota=4, ru_window=100)

    statuses = [graph.get(f"{V1}/users").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert graph.get("/_emulator/counters").json()["resource_units"] == 4


def test_select_lowers_the_price_of_a_member_read(graph):
    group_id = create_group(graph, "priced")

    full = graph.get(f"{V1}/groups/{group_id}/members")
    selected = graph.get(f"{V1}/groups/{group_id}/members?$select=id")
    small = graph.get(f"{V1}/groups/{group_id}/members?$select=id&$top=5")

    assert [r.headers["x-ms-resource-unit"] for r in (full, selected, small)] == ["3", "2", "1"]


def test_batch_items_are_throttled_one_by_one_inside_a_200(graph):
    tighten(graph, write_quota=5, write_window=150)
    group_id = graph.post(
        f"{V1}/groups",
        json={
            "displayName": "b",
            "mailNickname": "b",
            "mailEnabled": True,
            "securityEnabled": False,
            "groupTypes": ["Unified"],
        },
    ).json()["id"]
    users = seed_users(graph, 8)
    items = [
        {
            "id": str(n),
            "method": "POST",
            "url": f"/groups/{group_id}/members/$ref",
            "headers": {"Content-Type": "application/json"},
            "body": user_ref(user),
        }
        for n, user in enumerate(users)
    ]

    response = graph.post(f"{V1}/$batch", json={"requests": items})

    assert response.status_code == 200
    answers = response.json()["responses"]
    throttled = [a for a in answers if a["status"] == 429]
    assert len(throttled) == 4
    assert all(int(a["headers"]["Retry-After"]) >= 1 for a in throttled)
    assert throttled[0]["body"]["error"]["code"] == "TooManyRequests"
    counters = graph.get("/_emulator/counters").json()
    assert (counters["throttled"], counters["writes"]) == (4, 5)


def test_bind_patch_costs_one_write_unit_per_three_links(graph):
    users = seed_users(graph, 20)
    group_id = create_group(graph, "cheap")
    graph.post("/_emulator/counters/reset")

    graph.patch(
        f"{V1}/groups/{group_id}",
        json={"members@odata.bind": [f"https://graph.microsoft.com/v1.0/users/{u}" for u in users]},
    )

    assert graph.get("/_emulator/counters").json()["writes"] == 7


def test_throttling_can_be_switched_off(graph):
    tighten(graph, throttle=False, ru_quota=1)

    statuses = {graph.get(f"{V1}/users").status_code for _ in range(5)}

    assert statuses == {200}


def test_injected_faults_follow_the_seed(graph):
    def run() -> list[int]:
        graph.post("/_emulator/reset")
        return [graph.get(f"{V1}/users").status_code for _ in range(30)]

    tighten(graph, fail_429=0.2, fail_503=0.2, fail_504=0.2, seed=7)
    first = run()
    second = run()

    assert first == second
    assert {429, 503, 504, 200} <= set(first)
    assert graph.get("/_emulator/counters").json()["faults"] == 30 - first.count(200)


def test_injected_503_carries_retry_after(graph):
    tighten(graph, fail_503=1.0)

    response = graph.get(f"{V1}/users")

    assert error_of(response)[0:2] == (503, "serviceNotAvailable")
    assert response.headers["Retry-After"] == "1"


def test_dropped_connection_happens_after_the_write(graph):
    [user] = seed_users(graph, 1)
    group_id = create_group(graph, "dropped")
    tighten(graph, drop=1.0)

    with pytest.raises(httpx.TransportError):
        graph.post(f"{V1}/groups/{group_id}/members/$ref", json=user_ref(user))

    assert state_group(graph, group_id)["members"] == [user]


def test_latency_is_added_to_every_request(graph):
    tighten(graph, latency_ms=150)

    started = time.perf_counter()
    graph.get(f"{V1}/users")
    elapsed = time.perf_counter() - started

    assert elapsed >= 0.15


def test_nearly_spent_bucket_is_reported_before_throttling(graph):
    tighten(graph, ru_quota=10, ru_window=100)

    headers = [graph.get(f"{V1}/users").headers for _ in range(5)]

    assert "x-ms-throttle-limit-percentage" not in headers[0]
    assert headers[4]["x-ms-throttle-limit-percentage"] == "1.0"
