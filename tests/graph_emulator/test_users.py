"""`/users`: paging, `$select`, `$filter` by the keys a sync resolves people with, and
creation with Graph's required fields."""

from __future__ import annotations

from .helpers import V1, error_of, seed_users


def upns(response) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(user["userPrincipalName"] for user in response.json()["value"])


def test_users_are_paged_100_at_a_time_by_default(graph):
    seed_users(graph, 150)

    first = graph.get(f"{V1}/users").json()
    second = graph.get(first["@odata.nextLink"]).json()

    assert (len(first["value"]), len(second["value"])) == (100, 50)
    assert "@odata.nextLink" not in second


def test_default_properties_leave_out_employee_id(graph):
    seed_users(graph, 1)

    [user] = graph.get(f"{V1}/users").json()["value"]
    [selected] = graph.get(f"{V1}/users?$select=id,employeeId").json()["value"]

    assert "employeeId" not in user and "userPrincipalName" in user
    assert set(selected) == {"id", "employeeId"}


def test_filter_by_upn_mail_and_employee_id_ignores_case(graph):
    seed_users(graph, 3)

    by_upn = graph.get(
        f"{V1}/users", params={"$filter": "userPrincipalName eq 'PUPIL1@school.example'"}
    )
    by_mail = graph.get(f"{V1}/users", params={"$filter": "mail eq 'pupil2@SCHOOL.example'"})
    by_employee = graph.get(f"{V1}/users", params={"$filter": "employeeId eq 'pupil00000'"})

    assert upns(by_upn) == ["pupil1@school.example"]
    assert upns(by_mail) == ["pupil2@school.example"]
    assert upns(by_employee) == ["pupil0@school.example"]


def test_filter_in_accepts_15_values_and_refuses_16(graph):
    seed_users(graph, 16)
    values = [f"'pupil{n}@school.example'" for n in range(16)]

    fifteen = graph.get(
        f"{V1}/users", params={"$filter": f"userPrincipalName in ({','.join(values[:15])})"}
    )
    sixteen = graph.get(
        f"{V1}/users", params={"$filter": f"userPrincipalName in ({','.join(values)})"}
    )

    assert len(upns(fifteen)) == 15
    assert error_of(sixteen) == (
        400,
        "Request_UnsupportedQuery",
        "Too many child clauses specified in search filter expression containing 'OR' "
        "operators: 16. Max allowed: 15.",
    )


def test_eq_value_longer_than_120_characters_is_refused(graph):
    response = graph.get(f"{V1}/users", params={"$filter": f"mail eq '{'m' * 121}'"})

    assert error_of(response)[0] == 400


def test_doubled_quote_matches_an_apostrophe(graph):
    graph.post(
        "/_emulator/users",
        json={"users": [{"userPrincipalName": "o'neill@school.example", "displayName": "O"}]},
    )

    response = graph.get(
        f"{V1}/users", params={"$filter": "userPrincipalName eq 'o''neill@school.example'"}
    )

    assert upns(response) == ["o'neill@school.example"]


def test_ne_needs_advanced_query_headers(graph):
    seed_users(graph, 2)
    query = {"$filter": "employeeId ne 'PUPIL00000'"}

    plain = graph.get(f"{V1}/users", params=query)
    advanced = graph.get(
        f"{V1}/users",
        params={**query, "$count": "true"},
        headers={"ConsistencyLevel": "eventual"},
    )

    assert error_of(plain) == (400, "Request_UnsupportedQuery", "Unsupported Query.")
    assert advanced.json()["@odata.count"] == 1


def test_get_user_by_id_or_upn(graph):
    [user_id] = seed_users(graph, 1)

    by_id = graph.get(f"{V1}/users/{user_id}").json()
    by_upn = graph.get(f"{V1}/users/pupil0@school.example").json()

    assert by_id["id"] == by_upn["id"] == user_id


def test_create_user_with_required_fields(graph):
    body = {
        "accountEnabled": True,
        "displayName": "New Teacher",
        "mailNickname": "newteacher",
        "passwordProfile": {"password": "Secret-123!", "forceChangePasswordNextSignIn": True},
        "userPrincipalName": "newteacher@school.example",
    }

    response = graph.post(f"{V1}/users", json=body)

    assert response.status_code == 201
    assert response.json()["userPrincipalName"] == "newteacher@school.example"


def test_create_user_without_password_profile_is_refused(graph):
    body = {
        "accountEnabled": True,
        "displayName": "No Password",
        "mailNickname": "nopassword",
        "userPrincipalName": "nopassword@school.example",
    }

    response = graph.post(f"{V1}/users", json=body)

    status, code, message = error_of(response)
    assert (status, code) == (400, "Request_BadRequest")
    assert "passwordProfile" in message


def test_create_user_with_taken_upn_is_a_conflict(graph):
    seed_users(graph, 1)
    body = {
        "accountEnabled": True,
        "displayName": "Twin",
        "mailNickname": "twin",
        "passwordProfile": {"password": "Secret-123!"},
        "userPrincipalName": "PUPIL0@school.example",
    }

    response = graph.post(f"{V1}/users", json=body)

    assert error_of(response) == (
        400,
        "Request_BadRequest",
        "Another object with the same value for property userPrincipalName already exists.",
    )
