"""`/groups`: create (POST, and the `uniqueName` upsert with `Prefer: create-if-missing`),
list with `$filter`, get, update (properties and link binds), and delete (soft for
Microsoft 365 groups, which keep holding their mailNickname)."""

from __future__ import annotations

import time
from typing import Any

from . import errors, links, odata
from .messages import NO_CONTENT, Reply, Request
from .state import EmulatorState
from .store import Group, new_object_id
from .urls import AltKey

GROUP_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#groups"
TENANT_DOMAIN = "contoso.onmicrosoft.com"
MAX_DISPLAY_NAME = 256
MAX_NICKNAME = 64
MAX_DESCRIPTION = 1024
# Graph's documented exclusions, plus "." which some revisions of the rule list.
NICKNAME_FORBIDDEN = set('@()\\[]";:<>,. ')
VISIBILITIES = {"private": "Private", "public": "Public", "hiddenmembership": "HiddenMembership"}
GROUP_TYPES = {"unified": "Unified", "dynamicmembership": "DynamicMembership"}
BEHAVIOR_OPTIONS = {
    "AllowOnlyMembersToPost",
    "CalendarMemberReadOnly",
    "ConnectorsDisabled",
    "HideGroupInOutlook",
    "SubscribeMembersToCalendarEventsDisabled",
    "SubscribeNewGroupMembers",
    "WelcomeEmailDisabled",
}
# Settable only by a PATCH once the group exists.
UPDATE_ONLY = {
    "allowExternalSenders",
    "autoSubscribeNewMembers",
    "hideFromAddressLists",
    "hideFromOutlookClients",
    "isSubscribedByMail",
    "unseenCount",
}
CREATE_PROPERTIES = {
    "displayName",
    "mailEnabled",
    "mailNickname",
    "securityEnabled",
    "groupTypes",
    "description",
    "visibility",
    "uniqueName",
    "resourceBehaviorOptions",
    "resourceProvisioningOptions",
    "isAssignableToRole",
    "classification",
    "preferredLanguage",
    "theme",
    "membershipRule",
    "membershipRuleProcessingState",
    "@odata.type",
    *links.BIND_KEYS,
}
UPDATE_PROPERTIES = {
    "displayName",
    "description",
    "visibility",
    "mailNickname",
    "uniqueName",
    "resourceProvisioningOptions",
    "classification",
    "preferredLanguage",
    "theme",
    "@odata.type",
    *UPDATE_ONLY,
    *links.BIND_KEYS,
}
CREATE_ONLY = {
    "resourceBehaviorOptions",
    "mailEnabled",
    "securityEnabled",
    "groupTypes",
    "isAssignableToRole",
}

FILTER_GETTERS: dict[str, odata.Getter] = {
    "id": lambda g: g.id,
    "displayname": lambda g: g.display_name,
    "mailnickname": lambda g: g.mail_nickname,
    "uniquename": lambda g: g.unique_name,
    "description": lambda g: g.description,
    "visibility": lambda g: g.visibility,
    "grouptypes": lambda g: g.group_types,
    "mailenabled": lambda g: g.mail_enabled,
    "securityenabled": lambda g: g.security_enabled,
    "mail": lambda g: mail_address(g),
    "createddatetime": lambda g: g.created,
    "resourceprovisioningoptions": lambda g: g.resource_provisioning_options,
}


def mail_address(group: Group) -> str | None:
    return f"{group.mail_nickname}@{TENANT_DOMAIN}" if group.mail_enabled else None


def render_group(group: Group, select: list[str] | None = None) -> dict[str, Any]:
    mail = mail_address(group)
    body = {
        "id": group.id,
        "deletedDateTime": group.deleted_at,
        "classification": None,
        "createdDateTime": group.created,
        "creationOptions": ["classAssignments"] if group.education is not None else [],
        "description": group.description,
        "displayName": group.display_name,
        "expirationDateTime": None,
        "groupTypes": group.group_types,
        "isAssignableToRole": None,
        "mail": mail,
        "mailEnabled": group.mail_enabled,
        "mailNickname": group.mail_nickname,
        "membershipRule": None,
        "membershipRuleProcessingState": None,
        "preferredDataLocation": None,
        "preferredLanguage": None,
        "proxyAddresses": [f"SMTP:{mail}"] if mail else [],
        "renewedDateTime": group.created,
        "resourceBehaviorOptions": group.resource_behavior_options,
        "resourceProvisioningOptions": group.resource_provisioning_options,
        "securityEnabled": group.security_enabled,
        "theme": None,
        "uniqueName": group.unique_name,
        "visibility": group.visibility,
        **group.extensions,
    }
    return odata.project(body, select)


# --- validation -----------------------------------------------------------------------------


def check_display_name(value: Any, resource: str = "Group") -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_DISPLAY_NAME:
        raise errors.invalid_value("displayName", resource)
    return value


def check_nickname(value: Any, resource: str = "Group") -> str:
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= MAX_NICKNAME
        or any(ord(ch) > 127 or ord(ch) < 32 or ch in NICKNAME_FORBIDDEN for ch in value)
    ):
        raise errors.invalid_value("mailNickname", resource)
    return value


def check_description(value: Any, resource: str = "Group") -> str | None:
    if value is not None and (not isinstance(value, str) or len(value) > MAX_DESCRIPTION):
        raise errors.invalid_value("description", resource)
    return value


def _check_names(body: dict[str, Any], allowed: set[str], resource: str) -> None:
    for name in body:
        if name in allowed or name.startswith("extension_"):
            continue
        if resource == "create" and name in UPDATE_ONLY:
            # unobserved: Graph refuses these on create; they belong in a later PATCH.
            raise errors.read_only_property(name)
        raise errors.unknown_property(name)


def _check_create_only_unchanged(group: Group, body: dict[str, Any]) -> None:
    """An upsert repeats the create body: creation-only properties may come again unchanged."""
    current = {
        "resourceBehaviorOptions": sorted(group.resource_behavior_options),
        "mailEnabled": group.mail_enabled,
        "securityEnabled": group.security_enabled,
        "groupTypes": sorted(kind.lower() for kind in group.group_types),
        "isAssignableToRole": None,
    }
    for name in CREATE_ONLY & set(body):
        given = body[name]
        if name == "groupTypes" and isinstance(given, list):
            given = sorted(str(kind).lower() for kind in given)
        elif isinstance(given, list):
            given = sorted(given)
        if given != current[name]:
            raise errors.read_only_property(name)


def new_group(
    state: EmulatorState,
    body: dict[str, Any],
    *,
    unique_name: str | None = None,
    education: dict[str, Any] | None = None,
) -> tuple[Group, dict[str, list[str]]]:
    """A validated group built from a create body (not stored yet) and the links it binds."""
    _check_names(body, CREATE_PROPERTIES, "create")
    display_name = check_display_name(body.get("displayName"))
    nickname = check_nickname(body.get("mailNickname"))
    group_types = body.get("groupTypes", [])
    if not isinstance(group_types, list) or any(
        not isinstance(kind, str) or kind.lower() not in GROUP_TYPES for kind in group_types
    ):
        raise errors.invalid_value("groupTypes", "Group")
    group_types = [GROUP_TYPES[kind.lower()] for kind in group_types]
    unified = "Unified" in group_types
    mail_enabled = body.get("mailEnabled")
    security_enabled = body.get("securityEnabled")
    # Graph creates Microsoft 365 groups (mail-enabled) and security groups (not mail-enabled).
    if not isinstance(mail_enabled, bool) or mail_enabled != unified:
        raise errors.invalid_value("mailEnabled", "Group")
    if not isinstance(security_enabled, bool):
        raise errors.invalid_value("securityEnabled", "Group")
    visibility = body.get("visibility") or ("Public" if unified else "Private")
    visibility = VISIBILITIES.get(str(visibility).lower())
    if visibility is None or (visibility == "HiddenMembership" and not unified):
        raise errors.invalid_value("visibility", "Group")
    behaviors = body.get("resourceBehaviorOptions", [])
    if not isinstance(behaviors, list) or not set(behaviors) <= BEHAVIOR_OPTIONS:
        raise errors.invalid_value("resourceBehaviorOptions", "Group")
    unique_name = unique_name if unique_name is not None else body.get("uniqueName")
    if unique_name is not None and (not isinstance(unique_name, str) or not unique_name):
        raise errors.invalid_value("uniqueName", "Group")

    store = state.store
    if unified and store.nickname_taken(nickname):
        raise errors.conflict("mailNickname")
    if unique_name and unique_name.lower() in store.groups_by_unique_name:
        raise errors.conflict("uniqueName")
    wanted = links.resolve_binds(state, body)
    links.check_binds(None, wanted)

    group = Group(
        id=new_object_id(),
        display_name=display_name,
        mail_nickname=nickname,
        group_types=group_types,
        mail_enabled=mail_enabled,
        security_enabled=security_enabled,
        visibility=visibility,
        description=check_description(body.get("description")),
        unique_name=unique_name,
        resource_behavior_options=list(behaviors),
        resource_provisioning_options=list(body.get("resourceProvisioningOptions", [])),
        extensions={k: v for k, v in body.items() if k.startswith("extension_")},
        visible_at=time.monotonic() + state.config.replication_lag,
        education=education,
    )
    return group, wanted


def store_group(state: EmulatorState, group: Group, wanted: dict[str, list[str]]) -> None:
    state.store.add_group(group)
    links.apply_binds(state, group, wanted)


# --- routes ---------------------------------------------------------------------------------


def create_group(state: EmulatorState, request: Request) -> Reply:
    body = _object_body(request)

    group, wanted = new_group(state, body)
    store_group(state, group, wanted)

    return Reply(201, {"@odata.context": f"{GROUP_CONTEXT}/$entity", **render_group(group)})


def list_groups(state: EmulatorState, request: Request) -> Reply:
    store = state.store
    now = time.monotonic()
    text = request.query.get("$filter")
    if text:
        node = odata.parse_filter(text, request)
        keep = odata.matcher(node, FILTER_GETTERS)
        ids = odata.candidates(node, _group_indexes(state))
        pool = store.groups.values() if ids is None else (store.groups[i] for i in ids)
        found = [g for g in pool if store.visible(g, now) and keep(g)]
        if ids is not None:
            found.sort(key=lambda g: g.number)
    else:
        found = [g for g in store.groups.values() if store.visible(g, now)]
    select = request.select()
    return Reply(200, odata.page(request, found, lambda g: render_group(g, select), GROUP_CONTEXT))


def _group_indexes(state: EmulatorState) -> dict[str, odata.Index]:
    store = state.store
    return {
        "id": lambda value: [value] if value in store.groups else [],
        "uniquename": lambda value: (
            [store.groups_by_unique_name[value]] if value in store.groups_by_unique_name else []
        ),
        "displayname": lambda value: store.groups_by_display_name.get(value, ()),
        "mailnickname": lambda value: store.groups_by_any_nickname.get(value, ()),
    }


def find_group(state: EmulatorState, key: str | AltKey) -> Group:
    """The visible group a path names by id or by `uniqueName`, or Graph's 404."""
    now = time.monotonic()
    if isinstance(key, AltKey):
        if key.prop.lower() != "uniquename":
            raise errors.segment_not_found(f"groups({key.prop}='{key.value}')")
        group_id = state.store.groups_by_unique_name.get(key.value.lower())
        group = state.store.visible_group(group_id, now) if group_id else None
        if group is None:
            raise errors.not_found(key.value)
        return group
    return links.visible_group_or_404(state, key, now)


def get_group(state: EmulatorState, request: Request, key: str | AltKey) -> Reply:
    group = find_group(state, key)
    body = {"@odata.context": f"{GROUP_CONTEXT}/$entity", **render_group(group, request.select())}
    return Reply(200, body)


def update_group(state: EmulatorState, request: Request, key: str | AltKey) -> Reply:
    body = _object_body(request)
    if isinstance(key, AltKey) and _creates_if_missing(request):
        return _upsert(state, key, body)
    group = _group_for_update(state, key, body)
    _update(state, group, body)
    return Reply(NO_CONTENT)


def _group_for_update(state: EmulatorState, key: str | AltKey, body: dict[str, Any]) -> Group:
    """A PATCH on a group inside the replication window is a 404, and a bind-PATCH a 400."""
    try:
        return find_group(state, key)
    except errors.GraphError:
        group_id = key if isinstance(key, str) else None
        if group_id and group_id in state.store.groups and links.bind_count(body):
            group = state.store.groups[group_id]
            if not group.deleted:
                raise errors.referenced_object_missing() from None
        raise


def _creates_if_missing(request: Request) -> bool:
    prefer = request.headers.get("prefer", "")
    return "create-if-missing" in {part.strip().lower() for part in prefer.split(",")}


def _upsert(state: EmulatorState, key: AltKey, body: dict[str, Any]) -> Reply:
    """`PATCH /groups(uniqueName='x')` with `Prefer: create-if-missing`: 201 new, 204 updated.

    The lookup reads the primary copy: a group inside the replication window is updated.
    A soft-deleted group still holds its uniqueName, so re-creating it is a conflict.
    """
    if key.prop.lower() != "uniquename":
        raise errors.segment_not_found(f"groups({key.prop}='{key.value}')")
    given = body.get("uniqueName")
    if given is not None and given != key.value:
        raise errors.invalid_value("uniqueName", "Group")
    group_id = state.store.groups_by_unique_name.get(key.value.lower())
    if group_id is not None:
        group = state.store.groups[group_id]
        if group.deleted:
            raise errors.conflict("uniqueName")
        _update(state, group, {k: v for k, v in body.items() if k != "uniqueName"})
        return Reply(NO_CONTENT)

    group, wanted = new_group(state, body, unique_name=key.value)
    store_group(state, group, wanted)

    body = {"@odata.context": f"{GROUP_CONTEXT}/$entity", **render_group(group)}
    return Reply(201, body, {"Preference-Applied": "create-if-missing"})


def _update(state: EmulatorState, group: Group, body: dict[str, Any]) -> None:
    """Validate everything first, so that a refused PATCH changes nothing."""
    _check_names(body, UPDATE_PROPERTIES | CREATE_ONLY, "update")
    _check_create_only_unchanged(group, body)
    store = state.store
    display_name = body.get("displayName")
    if "displayName" in body:
        check_display_name(display_name)
    nickname = body.get("mailNickname")
    if "mailNickname" in body:
        check_nickname(nickname)
        if group.is_unified and store.nickname_taken(nickname, except_id=group.id):
            raise errors.conflict("mailNickname")
    if "description" in body:
        check_description(body["description"])
    visibility = group.visibility
    if "visibility" in body:
        visibility = VISIBILITIES.get(str(body["visibility"]).lower())
        # HiddenMembership is chosen at creation and can be neither added nor removed later.
        if visibility is None or (visibility == "HiddenMembership") != (
            group.visibility == "HiddenMembership"
        ):
            raise errors.invalid_value("visibility", "Group")
    if "uniqueName" in body and body["uniqueName"] != group.unique_name:
        if group.unique_name is not None:
            raise errors.read_only_property("uniqueName")
        if store.groups_by_unique_name.get(str(body["uniqueName"]).lower()):
            raise errors.conflict("uniqueName")
    wanted = links.resolve_binds(state, body)
    links.check_binds(group, wanted)

    if display_name is not None:
        store.rename_group(group, display_name)
    if nickname is not None:
        store.renick_group(group, nickname)
    if "description" in body:
        group.description = body["description"]
    group.visibility = visibility
    if body.get("uniqueName") and group.unique_name is None:
        group.unique_name = body["uniqueName"]
        store.groups_by_unique_name[group.unique_name.lower()] = group.id
    if "resourceProvisioningOptions" in body:
        group.resource_provisioning_options = list(body["resourceProvisioningOptions"])
    group.extensions.update({k: v for k, v in body.items() if k.startswith("extension_")})
    if set(body) - set(links.BIND_KEYS):
        store.touch_group(group)
    links.apply_binds(state, group, wanted)


def delete_group(state: EmulatorState, request: Request, key: str | AltKey) -> Reply:
    group = find_group(state, key)
    state.store.delete_group(group)
    return Reply(NO_CONTENT)


# --- members and owners ---------------------------------------------------------------------


def get_links(state: EmulatorState, request: Request, key: str, relation: str) -> Reply:
    return links.list_links(state, find_group(state, key), relation, request)


def count_links(state: EmulatorState, request: Request, key: str, relation: str) -> Reply:
    return links.count_links(state, find_group(state, key), relation, request)


def add_link(state: EmulatorState, request: Request, key: str, relation: str) -> Reply:
    return links.add_link(state, find_group(state, key), relation, request)


def remove_link(
    state: EmulatorState, request: Request, key: str, relation: str, user_id: str
) -> Reply:
    return links.remove_link(state, find_group(state, key), relation, user_id)


def delete_linked_object(
    state: EmulatorState, request: Request, key: str, relation: str, user_id: str
) -> Reply:
    """Without `/$ref`, Graph deletes the member object itself, not the link."""
    group = find_group(state, key)
    if user_id not in getattr(group, relation):
        raise errors.not_found(user_id)
    user = state.store.users[user_id]
    state.store.delete_user(user, state.config.deleted_users_keep_memberships)
    return Reply(NO_CONTENT)


def _object_body(request: Request) -> dict[str, Any]:
    if not isinstance(request.body, dict):
        raise errors.unreadable_body()
    return request.body
