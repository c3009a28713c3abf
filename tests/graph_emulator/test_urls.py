"""URL tolerance: what msgraph-sdk actually sends must reach the right route."""

from __future__ import annotations

from .helpers import V1, create_group, error_of, seed_users, state_group


def test_double_slashes_and_encoded_dollar_are_understood(graph):
    [user] = seed_users(graph, 1)
    group_id = create_group(graph, "slashes")
    graph.post(
        f"/v1.0//groups/{group_id}/members/%24ref",
        json={"@odata.id": f"https://graph.microsoft.com/v1.0/users/{user}"},
    )

    response = graph.get(f"/v1.0//groups/{group_id}/members?%24select=id&%24top=5")

    assert response.status_code == 200
    assert response.json()["value"] == [{"@odata.type": "#microsoft.graph.user", "id": user}]


def test_references_on_any_host_and_form_are_accepted(graph):
    users = seed_users(graph, 3)
    group_id = create_group(graph, "anyhost")
    references = [
        f"https://graph.microsoft.com/v1.0/directoryObjects/{users[0]}",
        f"http://127.0.0.1:1/v1.0/users/{users[1]}",
        f"https://graph.microsoft.com/v1.0/education/users/{users[2]}",
    ]

    statuses = [
        graph.post(f"{V1}/groups/{group_id}/members/$ref", json={"@odata.id": ref}).status_code
        for ref in references
    ]

    assert statuses == [204, 204, 204]
    assert state_group(graph, group_id)["members"] == users


def test_missing_bearer_token_is_401(graph):
    response = graph.get(f"{V1}/users", headers={"Authorization": ""})

    assert error_of(response) == (401, "InvalidAuthenticationToken", "Access token is empty.")


def test_unknown_segment_is_graphs_400(graph):
    response = graph.get(f"{V1}/gruops")

    assert error_of(response) == (400, "BadRequest", "Resource not found for the segment 'gruops'.")


def test_group_key_in_parentheses_is_accepted(graph):
    group_id = create_group(graph, "parens")

    response = graph.get(f"{V1}/groups('{group_id}')")

    assert response.json()["id"] == group_id
