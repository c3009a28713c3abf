"""Reading the directory: every user page by page, and lookups 15 values to a filter."""

from __future__ import annotations

import logging
import math

from shared.graph import GraphConfig, StaticToken
from shared.graph.transport import Transport


async def test_list_users_follows_every_page_of_999(emulator, gateway):
    ids = emulator.seed_users(1_205)

    users = await gateway.list_users(["id", "userPrincipalName"])

    assert sorted(u["id"] for u in users) == sorted(ids)
    assert emulator.counters()["by_route"]["GET /users"] == 2


async def test_find_users_matches_case_insensitively_in_filters_of_fifteen(emulator, gateway):
    ids = emulator.seed_users(40)
    wanted = [f"PUPIL{n}@School.Example" for n in range(40)] + ["nobody@school.example"]

    found = await gateway.find_users("userPrincipalName", wanted)

    assert found == {f"pupil{n}@school.example": ids[n] for n in range(40)}
    counters = emulator.counters()
    assert counters["by_route"]["GET /users"] == math.ceil(41 / 15)
    assert counters["requests"] == 1  # all three filters in one $batch


async def test_find_users_escapes_quotes_in_values(emulator, gateway):
    response = emulator.client.post(
        "/_emulator/users",
        json={"users": [{"userPrincipalName": "o'brien@school.example", "displayName": "O"}]},
    )
    user_id = response.json()["ids"][0]

    found = await gateway.find_users("userPrincipalName", ["O'Brien@school.example"])

    assert found == {"o'brien@school.example": user_id}


async def test_a_value_two_users_share_is_left_out(emulator, gateway):
    users = [
        {"userPrincipalName": f"t{n}@school.example", "displayName": "T", "employeeId": "E1"}
        for n in range(2)
    ] + [{"userPrincipalName": "t3@school.example", "displayName": "T", "employeeId": "E2"}]
    ids = emulator.client.post("/_emulator/users", json={"users": users}).json()["ids"]

    found = await gateway.find_users("employeeId", ["E1", "E2"])

    assert found == {"e2": ids[2]}


async def test_a_debug_log_of_a_user_lookup_holds_no_address(emulator, gateway, caplog):
    emulator.seed_users(20)
    alone = ["pupil3@school.example"]
    many = [f"pupil{n}@school.example" for n in range(20)]
    caplog.set_level(logging.DEBUG, logger="shared.graph")

    await gateway.find_users("userPrincipalName", alone)
    await gateway.find_users("userPrincipalName", many)

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "POST /$batch" in logged
    assert "@" not in logged and "school.example" not in logged


async def test_a_debug_log_of_a_filtered_request_shows_its_path_without_the_query(emulator, caplog):
    emulator.seed_users(1)
    config = GraphConfig(base_url=f"{emulator.url}/v1.0", credential=StaticToken("test-token"))
    transport = Transport(config)
    caplog.set_level(logging.DEBUG, logger="shared.graph")
    lookup = "/users?$filter=userPrincipalName in ('pupil0@school.example')&$select=id"

    response = await transport.request("GET", lookup)
    await transport.aclose()

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert response.status == 200
    assert "GET /users -> 200" in logged
    assert "pupil0" not in logged and "filter" not in logged
