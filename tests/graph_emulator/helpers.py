"""Small builders the emulator tests share: seeding users, group bodies, references."""

from __future__ import annotations

from typing import Any

import httpx

GRAPH = "https://graph.microsoft.com/v1.0"
V1 = "/v1.0"


def seed_users(graph: httpx.Client, count: int, prefix: str = "pupil") -> list[str]:
    users = [
        {
            "userPrincipalName": f"{prefix}{n}@school.example",
            "displayName": f"{prefix.title()} {n}",
            "mail": f"{prefix}{n}@school.example",
            "employeeId": f"{prefix.upper()}{n:05d}",
        }
        for n in range(count)
    ]
    response = graph.post("/_emulator/users", json={"users": users})
    response.raise_for_status()
    return response.json()["ids"]


def group_body(nickname: str, **extra: Any) -> dict[str, Any]:
    return {
        "displayName": f"Group {nickname}",
        "mailNickname": nickname,
        "mailEnabled": True,
        "securityEnabled": False,
        "groupTypes": ["Unified"],
        **extra,
    }


def create_group(graph: httpx.Client, nickname: str, **extra: Any) -> str:
    response = graph.post(f"{V1}/groups", json=group_body(nickname, **extra))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def user_ref(user_id: str) -> dict[str, str]:
    return {"@odata.id": f"{GRAPH}/directoryObjects/{user_id}"}


def binds(user_ids: list[str]) -> list[str]:
    return [f"{GRAPH}/users/{user_id}" for user_id in user_ids]


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


def state_group(graph: httpx.Client, group_id: str) -> dict[str, Any]:
    groups = graph.get("/_emulator/state").json()["groups"]
    return next(group for group in groups if group["id"] == group_id)
