"""`$batch`: limits checked for the whole batch, items run and priced one by one, answers
correlated by id in any order, and dependencies turning into 424."""

from __future__ import annotations

from .helpers import GRAPH, V1, create_group, error_of, seed_users, state_group

JSON = {"Content-Type": "application/json"}


def add_item(item_id: str, group_id: str, user_id: str, **extra) -> dict:
    return {
        "id": item_id,
        "method": "POST",
        "url": f"/groups/{group_id}/members/$ref",
        "headers": {"content-type": "application/json"},
        "body": {"@odata.id": f"{GRAPH}/directoryObjects/{user_id}"},
        **extra,
    }


def by_id(response) -> dict[str, dict]:
    assert response.status_code == 200, response.text
    return {item["id"]: item for item in response.json()["responses"]}


def test_batch_of_20_adds_runs_every_item(graph):
    users = seed_users(graph, 20)
    group_id = create_group(graph, "batch20")
    items = [add_item(str(n), group_id, user) for n, user in enumerate(users)]

    response = graph.post(f"{V1}/$batch", json={"requests": items})

    answers = by_id(response)
    assert {answer["status"] for answer in answers.values()} == {204}
    assert set(state_group(graph, group_id)["members"]) == set(users)
    assert graph.get("/_emulator/counters").json()["batch_subrequests"] == 20


def test_batch_of_21_is_refused_whole(graph):
    users = seed_users(graph, 21)
    group_id = create_group(graph, "batch21")
    items = [add_item(str(n), group_id, user) for n, user in enumerate(users)]

    response = graph.post(f"{V1}/$batch", json={"requests": items})

    assert error_of(response) == (
        400,
        "BadRequest",
        "Number of requests inside batch exceeds the limit.",
    )
    assert state_group(graph, group_id)["members"] == []


def test_duplicate_ids_ignoring_case_refuse_the_batch(graph):
    first, second = seed_users(graph, 2)
    group_id = create_group(graph, "dupids")
    items = [add_item("a", group_id, first), add_item("A", group_id, second)]

    response = graph.post(f"{V1}/$batch", json={"requests": items})

    assert error_of(response)[0:2] == (400, "BadRequest")
    assert state_group(graph, group_id)["members"] == []


def test_write_without_content_type_refuses_the_batch(graph):
    [user] = seed_users(graph, 1)
    group_id = create_group(graph, "noheader")
    item = add_item("1", group_id, user)
    del item["headers"]

    response = graph.post(f"{V1}/$batch", json={"requests": [item]})

    assert error_of(response) == (
        400,
        "BadRequest",
        "Write request id : 1 does not contain Content-Type header or body.",
    )


def test_item_errors_are_reported_per_item_with_outer_200(graph):
    [user] = seed_users(graph, 1)
    group_id = create_group(graph, "mixed")
    items = [
        add_item("ok", group_id, user),
        add_item("dup", group_id, user, dependsOn=["ok"]),
        {"id": "read", "method": "GET", "url": f"/groups/{group_id}?$select=id"},
        {"id": "missing", "method": "GET", "url": "/groups/nope"},
    ]

    answers = by_id(graph.post(f"{V1}/$batch", json={"requests": items}))

    assert answers["ok"]["status"] == 204 and "body" not in answers["ok"]
    assert answers["dup"]["status"] == 400
    assert "already exist" in answers["dup"]["body"]["error"]["message"]
    assert answers["read"]["body"]["id"] == group_id
    assert answers["missing"]["status"] == 404


def test_failed_dependency_gives_424_and_does_not_run(graph):
    [user] = seed_users(graph, 1)
    group_id = create_group(graph, "depends")
    items = [
        {"id": "1", "method": "GET", "url": "/groups/not-there"},
        add_item("2", group_id, user, depends_on=["1"]),
    ]

    answers = by_id(graph.post(f"{V1}/$batch", json={"requests": items}))

    assert answers["2"]["status"] == 424
    assert state_group(graph, group_id)["members"] == []


def test_dependency_on_a_later_item_refuses_the_batch(graph):
    items = [
        {"id": "1", "method": "GET", "url": "/users", "dependsOn": ["2"]},
        {"id": "2", "method": "GET", "url": "/users"},
    ]

    response = graph.post(f"{V1}/$batch", json={"requests": items})

    assert error_of(response)[0:2] == (400, "BadRequest")


def test_answers_come_back_in_a_different_order(graph):
    items = [{"id": str(n), "method": "GET", "url": "/users?$top=1"} for n in range(20)]

    orders = [
        [a["id"] for a in graph.post(f"{V1}/$batch", json={"requests": items}).json()["responses"]]
        for _ in range(3)
    ]

    assert any(order != [str(n) for n in range(20)] for order in orders)


def test_absolute_item_url_is_read_from_its_version_root_and_other_versions_refused(graph):
    items = [
        {"id": "same", "method": "GET", "url": f"{GRAPH}/users"},
        {"id": "beta", "method": "GET", "url": "https://graph.microsoft.com/beta/users"},
    ]

    answers = by_id(graph.post(f"{V1}/$batch", json={"requests": items}))

    assert answers["same"]["status"] == 200
    assert answers["beta"]["status"] == 400


def test_item_header_names_are_case_insensitive_and_next_links_absolute(graph, graph_emulator):
    seed_users(graph, 3)
    items = [
        {
            "id": "1",
            "method": "GET",
            "url": "/users?$top=2",
            "headers": {"ConsistencyLevel": "eventual"},
        },
        add_item("2", "g", "u", headers={"CONTENT-TYPE": "application/json"}),
    ]

    answers = by_id(graph.post(f"{V1}/$batch", json={"requests": items}))

    assert answers["1"]["body"]["@odata.nextLink"].startswith(f"{graph_emulator.url}/v1.0/users")
    assert answers["2"]["status"] == 404
