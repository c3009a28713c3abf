"""Delta queries: a first round with everything, later rounds with changes only, member
chunks over several pages, `$deltatoken=latest`, and the expired-token error."""

from __future__ import annotations

import time

from .helpers import V1, binds, create_group, error_of, seed_users, user_ref


def read_round(graph, url: str, **headers) -> tuple[list[dict], str]:
    entries: list[dict] = []
    while True:
        page = graph.get(url, headers=headers).json()
        entries.extend(page["value"])
        if "@odata.deltaLink" in page:
            assert "@odata.nextLink" not in page
            return entries, page["@odata.deltaLink"]
        url = page["@odata.nextLink"]


def members_of(entries: list[dict], group_id: str) -> dict[str, bool]:
    """member id -> still a member, merged over every entry for the group."""
    merged: dict[str, bool] = {}
    for entry in entries:
        if entry["id"] == group_id:
            for item in entry.get("members@delta", []):
                merged[item["id"]] = "@removed" not in item
    return merged


def test_first_round_returns_groups_with_members(graph):
    users = seed_users(graph, 3)
    group_id = create_group(graph, "delta1", **{"members@odata.bind": binds(users)})

    entries, delta_link = read_round(graph, f"{V1}/groups/delta?$select=displayName,members")

    assert members_of(entries, group_id) == dict.fromkeys(users, True)
    assert "$deltatoken=" in delta_link


def test_next_round_reports_only_the_changes(graph):
    users = seed_users(graph, 3)
    group_id = create_group(graph, "delta2", **{"members@odata.bind": binds(users[:2])})
    untouched = create_group(graph, "delta2b")
    _, delta_link = read_round(graph, f"{V1}/groups/delta?$select=displayName,members")
    graph.post(f"{V1}/groups/{group_id}/members/$ref", json=user_ref(users[2]))
    graph.delete(f"{V1}/groups/{group_id}/members/{users[0]}/$ref")

    entries, _ = read_round(graph, delta_link)

    assert members_of(entries, group_id) == {users[2]: True, users[0]: False}
    assert untouched not in {entry["id"] for entry in entries}


def test_large_membership_is_split_over_several_pages(graph):
    users = seed_users(graph, 120)
    group_id = create_group(graph, "delta3")
    for start in range(0, 120, 20):
        graph.patch(
            f"{V1}/groups/{group_id}", json={"members@odata.bind": binds(users[start : start + 20])}
        )

    first_page = graph.get(
        f"{V1}/groups/delta?$select=members", headers={"Prefer": "odata.maxpagesize=1"}
    ).json()
    entries, _ = read_round(
        graph, f"{V1}/groups/delta?$select=members", Prefer="odata.maxpagesize=1"
    )

    assert "@odata.nextLink" in first_page and "@odata.deltaLink" not in first_page
    assert [entry["id"] for entry in entries].count(group_id) >= 3
    assert members_of(entries, group_id) == dict.fromkeys(users, True)


def test_deleted_group_is_reported_removed(graph):
    group_id = create_group(graph, "delta4")
    _, delta_link = read_round(graph, f"{V1}/groups/delta")
    graph.delete(f"{V1}/groups/{group_id}")

    entries, _ = read_round(graph, delta_link)

    assert {"id": group_id, "@removed": {"reason": "changed"}} in entries


def test_latest_token_returns_no_objects_and_a_delta_link(graph):
    create_group(graph, "delta5")

    page = graph.get(f"{V1}/groups/delta?$deltatoken=latest").json()
    later, _ = read_round(graph, page["@odata.deltaLink"])

    assert page["value"] == []
    assert later == []


def test_expired_token_is_sync_state_not_found(graph):
    _, delta_link = read_round(graph, f"{V1}/users/delta")
    graph.post("/_emulator/config", json={"delta_token_lifetime": 0.01})
    time.sleep(0.05)

    response = graph.get(delta_link)

    assert error_of(response) == (
        400,
        "syncStateNotFound",
        "The sync state generation is not found. The delta token is expired and data must be "
        "synchronized again.",
    )


def test_user_delta_reports_new_and_deleted_users(graph):
    first, second = seed_users(graph, 2)
    _, delta_link = read_round(graph, f"{V1}/users/delta?$select=id,employeeId")
    graph.delete(f"{V1}/users/{first}")
    [third] = seed_users(graph, 1, prefix="teacher")

    entries, _ = read_round(graph, delta_link)

    by_id = {entry["id"]: entry for entry in entries}
    assert by_id[first]["@removed"] == {"reason": "changed"}
    assert by_id[third]["employeeId"] == "TEACHER00000"
    assert second not in by_id
