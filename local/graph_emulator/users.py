"""`/users`: list with paging, `$select` and `$filter` on the indexed keys (userPrincipalName,
mail, employeeId, id), get by id or UPN, create with Graph's required fields, update, delete."""

from __future__ import annotations

import time
from typing import Any

from . import errors, odata
from .messages import NO_CONTENT, Reply, Request
from .state import EmulatorState
from .store import User, new_object_id

USER_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#users"
# Graph returns these without `$select`; employeeId, accountEnabled and the rest need asking.
DEFAULT_PROPERTIES = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)
REQUIRED_ON_CREATE = (
    "accountEnabled",
    "displayName",
    "mailNickname",
    "passwordProfile",
    "userPrincipalName",
)
WRITABLE = {
    "accountEnabled": "account_enabled",
    "displayName": "display_name",
    "mail": "mail",
    "mailNickname": "mail_nickname",
    "employeeId": "employee_id",
    "givenName": "given_name",
    "surname": "surname",
    "userPrincipalName": "user_principal_name",
}
ACCEPTED_ON_WRITE = {
    *WRITABLE,
    "passwordProfile",
    "usageLocation",
    "jobTitle",
    "department",
    "companyName",
    "preferredLanguage",
    "passwordPolicies",
    "@odata.type",
}
MAX_DISPLAY_NAME = 256

FILTER_GETTERS: dict[str, odata.Getter] = {
    "id": lambda u: u.id,
    "userprincipalname": lambda u: u.user_principal_name,
    "mail": lambda u: u.mail,
    "employeeid": lambda u: u.employee_id,
    "displayname": lambda u: u.display_name,
    "mailnickname": lambda u: u.mail_nickname,
    "accountenabled": lambda u: u.account_enabled,
    "givenname": lambda u: u.given_name,
    "surname": lambda u: u.surname,
}


def all_properties(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "businessPhones": [],
        "displayName": user.display_name,
        "givenName": user.given_name,
        "jobTitle": None,
        "mail": user.mail,
        "mobilePhone": None,
        "officeLocation": None,
        "preferredLanguage": None,
        "surname": user.surname,
        "userPrincipalName": user.user_principal_name,
        "accountEnabled": user.account_enabled,
        "employeeId": user.employee_id,
        "mailNickname": user.mail_nickname,
        "createdDateTime": user.created,
    }


# Property name (lower case) -> (name as Graph spells it, reader), for cheap `$select`s.
_PROPERTY_READERS: dict[str, tuple[str, odata.Getter]] = {
    "id": ("id", lambda u: u.id),
    "displayname": ("displayName", lambda u: u.display_name),
    "userprincipalname": ("userPrincipalName", lambda u: u.user_principal_name),
    "mail": ("mail", lambda u: u.mail),
    "employeeid": ("employeeId", lambda u: u.employee_id),
    "accountenabled": ("accountEnabled", lambda u: u.account_enabled),
    "mailnickname": ("mailNickname", lambda u: u.mail_nickname),
    "givenname": ("givenName", lambda u: u.given_name),
    "surname": ("surname", lambda u: u.surname),
}


def render_user(user: User, select: list[str] | None) -> dict[str, Any]:
    if select is None:
        props = all_properties(user)
        return {name: props[name] for name in DEFAULT_PROPERTIES}
    readers = [_PROPERTY_READERS.get(name.lower()) for name in select]
    if None not in readers:
        return {reader[0]: reader[1](user) for reader in readers if reader}
    wanted = {name.lower() for name in select}
    return {k: v for k, v in all_properties(user).items() if k.lower() in wanted}


def user_indexes(state: EmulatorState) -> dict[str, odata.Index]:
    store = state.store
    return {
        "id": lambda value: [value] if value in store.users else [],
        "userprincipalname": lambda value: (
            [store.users_by_upn[value]] if value in store.users_by_upn else []
        ),
        "mail": lambda value: store.users_by_mail.get(value, ()),
        "employeeid": lambda value: store.users_by_employee_id.get(value, ()),
    }


def list_users(state: EmulatorState, request: Request) -> Reply:
    now = time.monotonic()
    users = filtered_users(state, request, now)
    select = request.select()
    return Reply(200, odata.page(request, users, lambda u: render_user(u, select), USER_CONTEXT))


def filtered_users(state: EmulatorState, request: Request, now: float) -> list[User]:
    store = state.store
    text = request.query.get("$filter")
    if not text:
        return [u for u in store.users.values() if store.visible(u, now)]
    node = odata.parse_filter(text, request)
    keep = odata.matcher(node, FILTER_GETTERS)
    ids = odata.candidates(node, user_indexes(state))
    pool = store.users.values() if ids is None else (store.users[i] for i in ids)
    found = [u for u in pool if store.visible(u, now) and keep(u)]
    if ids is not None:
        found.sort(key=lambda u: u.number)
    return found


def visible_user_or_404(state: EmulatorState, key: str) -> User:
    user = state.store.find_user(key)
    if user is None or not state.store.visible(user, time.monotonic()):
        raise errors.not_found(key)
    return user


def get_user(state: EmulatorState, request: Request, key: str) -> Reply:
    user = visible_user_or_404(state, key)
    body = {"@odata.context": f"{USER_CONTEXT}/$entity", **render_user(user, request.select())}
    return Reply(200, body)


def create_user(state: EmulatorState, request: Request) -> Reply:
    body = _object_body(request)
    _check_known(body)
    for prop in REQUIRED_ON_CREATE:
        if body.get(prop) in (None, ""):
            raise errors.required_property(prop)
    password = body["passwordProfile"]
    if not isinstance(password, dict) or not password.get("password"):
        raise errors.required_property("passwordProfile.password")
    _check_values(body)
    upn = body["userPrincipalName"]
    if upn.lower() in state.store.users_by_upn:
        raise errors.conflict("userPrincipalName")

    user = User(
        id=new_object_id(),
        user_principal_name=upn,
        display_name=body["displayName"],
        mail=body.get("mail"),
        mail_nickname=body["mailNickname"],
        employee_id=body.get("employeeId"),
        account_enabled=body["accountEnabled"],
        given_name=body.get("givenName"),
        surname=body.get("surname"),
        visible_at=time.monotonic() + state.config.replication_lag,
    )
    state.store.add_user(user)

    return Reply(201, {"@odata.context": f"{USER_CONTEXT}/$entity", **render_user(user, None)})


def update_user(state: EmulatorState, request: Request, key: str) -> Reply:
    user = visible_user_or_404(state, key)
    body = _object_body(request)
    _check_known(body)
    _check_values(body)
    upn = body.get("userPrincipalName")
    if upn and state.store.users_by_upn.get(upn.lower(), user.id) != user.id:
        raise errors.conflict("userPrincipalName")

    changes = {WRITABLE[name]: value for name, value in body.items() if name in WRITABLE}
    state.store.update_user(user, changes)

    return Reply(NO_CONTENT)


def delete_user(state: EmulatorState, request: Request, key: str) -> Reply:
    user = visible_user_or_404(state, key)
    state.store.delete_user(user, state.config.deleted_users_keep_memberships)
    return Reply(NO_CONTENT)


def _object_body(request: Request) -> dict[str, Any]:
    if not isinstance(request.body, dict):
        raise errors.unreadable_body()
    return request.body


def _check_known(body: dict[str, Any]) -> None:
    for name in body:
        if name not in ACCEPTED_ON_WRITE and not name.startswith("extension_"):
            raise errors.unknown_property(name)


def _check_values(body: dict[str, Any]) -> None:
    if "accountEnabled" in body and not isinstance(body["accountEnabled"], bool):
        raise errors.invalid_value("accountEnabled", "User")
    name = body.get("displayName")
    if name is not None and (not isinstance(name, str) or len(name) > MAX_DISPLAY_NAME):
        raise errors.invalid_value("displayName", "User")
    upn = body.get("userPrincipalName")
    if upn is not None and (not isinstance(upn, str) or upn.count("@") != 1 or " " in upn):
        raise errors.invalid_value("userPrincipalName", "User")
