"""`/education/classes`: an Education class is a Microsoft 365 group with the same id;
students are its members and teachers its owners. Creating needs an app-only token, and a
tenant without Education answers every call with Graph's missing-property error."""

from __future__ import annotations

import time
from typing import Any

from . import errors, groups, links, odata
from .messages import NO_CONTENT, Reply, Request
from .state import EmulatorState
from .store import Group
from .users import render_user

CLASS_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#education/classes"
EDUCATION_USER_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#education/users"
EXTERNAL_SOURCES = {"sis", "manual"}
CLASS_FIELDS = (
    "externalId",
    "externalName",
    "externalSource",
    "externalSourceDetail",
    "classCode",
    "grade",
    "term",
)
CREATE_PROPERTIES = {"displayName", "mailNickname", "description", "@odata.type", *CLASS_FIELDS}
UPDATE_PROPERTIES = {"displayName", "description", "@odata.type", *CLASS_FIELDS}
# Relation names on a class and the group relations that hold them.
RELATIONS = {"members": "members", "teachers": "owners"}

FILTER_GETTERS: dict[str, odata.Getter] = {
    "id": lambda g: g.id,
    "displayname": lambda g: g.display_name,
    "mailnickname": lambda g: g.mail_nickname,
    **{name.lower(): (lambda g, name=name: g.education.get(name)) for name in CLASS_FIELDS},
}


def require_education(state: EmulatorState) -> None:
    if not state.config.education:
        raise errors.not_an_education_tenant()


def render_class(group: Group, select: list[str] | None = None) -> dict[str, Any]:
    details = group.education or {}
    body = {
        "id": group.id,
        "displayName": group.display_name,
        "mailNickname": group.mail_nickname,
        "description": group.description,
        "createdBy": {"application": {"id": None, "displayName": "emulator"}},
        **{name: details.get(name) for name in CLASS_FIELDS},
    }
    if body["externalSource"] is None:
        body["externalSource"] = "manual"
    return odata.project(body, select)


def find_class(state: EmulatorState, class_id: str) -> Group:
    require_education(state)
    group = state.store.visible_group(class_id, time.monotonic())
    if group is None or group.education is None:
        raise errors.not_found(class_id)
    return group


def _check_class_fields(body: dict[str, Any]) -> None:
    source = body.get("externalSource")
    if source is not None and source not in EXTERNAL_SOURCES:
        raise errors.invalid_value("externalSource", "EducationClass")
    if source is not None and body.get("externalSourceDetail") is not None:
        # unobserved: Graph takes one or the other; the detail implies the source.
        raise errors.invalid_value("externalSourceDetail", "EducationClass")
    term = body.get("term")
    dated = isinstance(term, dict) and term.get("startDate") and term.get("endDate")
    if dated and str(term["startDate"]) > str(term["endDate"]):
        raise errors.GraphError(
            400, "Request_BadRequest", "StartDate must be before or equal to EndDate."
        )


def create_class(state: EmulatorState, request: Request) -> Reply:
    require_education(state)
    if request.principal.delegated:
        raise errors.delegated_token_refused()
    body = request.body
    if not isinstance(body, dict):
        raise errors.unreadable_body()
    for name in body:
        if name not in CREATE_PROPERTIES:
            raise errors.unknown_property(name)
    _check_class_fields(body)
    group_body = {
        "displayName": body.get("displayName"),
        "mailNickname": body.get("mailNickname"),
        "description": body.get("description"),
        "mailEnabled": True,
        "securityEnabled": False,
        "groupTypes": ["Unified"],
        "visibility": "HiddenMembership",
    }
    details = {name: body.get(name) for name in CLASS_FIELDS}

    group, wanted = groups.new_group(state, group_body, education=details)
    groups.store_group(state, group, wanted)

    return Reply(201, {"@odata.context": f"{CLASS_CONTEXT}/$entity", **render_class(group)})


def list_classes(state: EmulatorState, request: Request) -> Reply:
    require_education(state)
    store = state.store
    now = time.monotonic()
    text = request.query.get("$filter")
    if text:
        node = odata.parse_filter(text, request)
        keep = odata.matcher(node, FILTER_GETTERS)
        ids = odata.candidates(
            node, {"externalid": lambda value: store.classes_by_external_id.get(value, ())}
        )
        pool = store.groups.values() if ids is None else (store.groups[i] for i in ids)
        found = [g for g in pool if g.education is not None and store.visible(g, now) and keep(g)]
        if ids is not None:
            found.sort(key=lambda g: g.number)
    else:
        found = [g for g in store.groups.values() if g.education and store.visible(g, now)]
    select = request.select()
    return Reply(200, odata.page(request, found, lambda g: render_class(g, select), CLASS_CONTEXT))


def get_class(state: EmulatorState, request: Request, class_id: str) -> Reply:
    group = find_class(state, class_id)
    body = {"@odata.context": f"{CLASS_CONTEXT}/$entity", **render_class(group, request.select())}
    return Reply(200, body)


def update_class(state: EmulatorState, request: Request, class_id: str) -> Reply:
    group = find_class(state, class_id)
    body = request.body
    if not isinstance(body, dict):
        raise errors.unreadable_body()
    for name in body:
        if name not in UPDATE_PROPERTIES:
            raise errors.read_only_property(name)
    _check_class_fields({**(group.education or {}), **body})
    if "displayName" in body:
        groups.check_display_name(body["displayName"], "EducationClass")
    if "description" in body:
        groups.check_description(body["description"], "EducationClass")

    if "displayName" in body:
        state.store.rename_group(group, body["displayName"])
    if "description" in body:
        group.description = body["description"]
    external_id = (group.education or {}).get("externalId")
    group.education = {**(group.education or {}), **{k: body[k] for k in CLASS_FIELDS if k in body}}
    if group.education.get("externalId") != external_id:
        index = state.store.classes_by_external_id
        if external_id:
            index.get(str(external_id).lower(), set()).discard(group.id)
        if group.education.get("externalId"):
            index.setdefault(str(group.education["externalId"]).lower(), set()).add(group.id)
    state.store.touch_group(group)

    return Reply(NO_CONTENT)


def delete_class(state: EmulatorState, request: Request, class_id: str) -> Reply:
    group = find_class(state, class_id)
    state.store.delete_group(group)
    return Reply(NO_CONTENT)


def list_people(state: EmulatorState, request: Request, class_id: str, relation: str) -> Reply:
    group = find_class(state, class_id)
    store = state.store
    users = [store.users[uid] for uid in getattr(group, RELATIONS[relation])]
    users = [user for user in users if not user.deleted]
    select = request.select()
    role = "teacher" if relation == "teachers" else "student"

    def render(user: Any) -> dict[str, Any]:
        body = render_user(user, select)
        if select is None:
            body = {**body, "primaryRole": role, "accountEnabled": user.account_enabled}
        return body

    return Reply(200, odata.page(request, users, render, EDUCATION_USER_CONTEXT))


def add_person(state: EmulatorState, request: Request, class_id: str, relation: str) -> Reply:
    group = find_class(state, class_id)
    return links.add_link(state, group, RELATIONS[relation], request)


def remove_person(
    state: EmulatorState, request: Request, class_id: str, relation: str, user_id: str
) -> Reply:
    group = find_class(state, class_id)
    return links.remove_link(state, group, RELATIONS[relation], user_id)
