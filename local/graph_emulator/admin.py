"""`/_emulator/...`: the test and benchmark side door. Reset, bulk-seed users, read the whole
state or one group's link changes in order, read and reset the request counters, read and
change the options. JSON in and out; none of it is counted, priced or throttled."""

from __future__ import annotations

import json
from typing import Any

from .state import Counters, EmulatorState
from .store import Group, User, new_object_id


class AdminError(Exception):
    """A bad admin call: answered 400 (or 404 for an unknown path) with {"error": reason}."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.status = status


def handle(state: EmulatorState, method: str, path: list[str], raw_body: bytes) -> tuple[int, Any]:
    """(status, JSON body) for one admin call."""
    try:
        body = json.loads(raw_body) if raw_body.strip() else {}
        route = (method, "/".join(path))
        if route == ("POST", "reset"):
            state.reset()
            return 200, {"reset": True}
        if route == ("POST", "users"):
            return 200, {"ids": seed_users(state, body)}
        if route == ("GET", "state"):
            return 200, snapshot(state)
        if route == ("GET", "counters"):
            return 200, state.counters.as_dict()
        if method == "GET" and len(path) == 2 and path[0] == "link-changes":
            return 200, {"changes": link_changes(state, path[1])}
        if route == ("POST", "counters/reset"):
            state.counters = Counters()
            return 200, state.counters.as_dict()
        if route == ("GET", "config"):
            return 200, state.config.as_dict()
        if route == ("POST", "config"):
            if not isinstance(body, dict):
                raise AdminError("the body must be a JSON object of options to change")
            state.reconfigure(body)
            return 200, state.config.as_dict()
        raise AdminError(f"no admin route {method} /_emulator/{'/'.join(path)}", 404)
    except AdminError as error:
        return error.status, {"error": str(error)}
    except ValueError as error:  # also json.JSONDecodeError
        return 400, {"error": str(error)}


def seed_users(state: EmulatorState, body: Any) -> list[str]:
    """Add existing directory users at once: visible immediately, as if created long ago."""
    if not isinstance(body, dict) or not isinstance(body.get("users"), list):
        raise AdminError('the body must be {"users": [{"userPrincipalName", "displayName"}, ...]}')
    store = state.store
    batch_upns: set[str] = set()
    for position, spec in enumerate(body["users"]):
        if not isinstance(spec, dict) or not spec.get("userPrincipalName"):
            raise AdminError(f"users[{position}] has no userPrincipalName")
        upn = str(spec["userPrincipalName"]).lower()
        if upn in store.users_by_upn or upn in batch_upns:
            raise AdminError(f"users[{position}]: userPrincipalName {upn!r} already exists")
        if spec.get("id") and spec["id"] in store.users:
            raise AdminError(f"users[{position}]: id {spec['id']!r} already exists")
        batch_upns.add(upn)

    ids = []
    for spec in body["users"]:
        upn = str(spec["userPrincipalName"])
        user = User(
            id=str(spec.get("id") or new_object_id()),
            user_principal_name=upn,
            display_name=str(spec.get("displayName") or upn),
            mail=spec.get("mail"),
            mail_nickname=spec.get("mailNickname") or upn.split("@", 1)[0],
            employee_id=spec.get("employeeId"),
            account_enabled=bool(spec.get("accountEnabled", True)),
            given_name=spec.get("givenName"),
            surname=spec.get("surname"),
        )
        store.add_user(user)
        ids.append(user.id)
    return ids


def snapshot(state: EmulatorState) -> dict[str, Any]:
    store = state.store
    return {
        "users": [_user_state(user) for user in store.users.values()],
        "groups": [_group_state(group) for group in store.groups.values()],
    }


def link_changes(state: EmulatorState, group_id: str) -> list[dict[str, Any]]:
    """Every member and owner added to or removed from one group, oldest first, so a test can
    check the order of changes that the final state no longer shows."""
    return [
        {"sequence": number, "relation": change.relation, "user": change.member_id,
         "added": change.added}
        for number, change in enumerate(state.store.changes)
        if change.object_id == group_id and change.member_id is not None
    ]  # fmt: skip


def _user_state(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "userPrincipalName": user.user_principal_name,
        "displayName": user.display_name,
        "mail": user.mail,
        "employeeId": user.employee_id,
        "accountEnabled": user.account_enabled,
        "deleted": user.deleted,
    }


def _group_state(group: Group) -> dict[str, Any]:
    education = group.education or {}
    return {
        "id": group.id,
        "displayName": group.display_name,
        "mailNickname": group.mail_nickname,
        "uniqueName": group.unique_name,
        "visibility": group.visibility,
        "description": group.description,
        "groupTypes": group.group_types,
        "members": list(group.members),
        "owners": list(group.owners),
        "deleted": group.deleted,
        "isEducationClass": group.education is not None,
        "externalId": education.get("externalId"),
        "createdDateTime": group.created,
    }
