"""Members and owners of a group: `$ref` add and remove, the all-or-nothing
`members@odata.bind` / `owners@odata.bind` PATCH, and reading the two collections.

Graph's rules live here: 400 for a duplicate, 404 for a missing object or group (the same
message), 400 for removing the last owner, 403 past 100 owners, at most 20 links a request.

Limitation: only users can be linked; a group or service principal reference is a 404, and
the 25,000-member cap of classes and teams is not enforced.
"""

from __future__ import annotations

import math
import time
from typing import Any

from . import errors, odata
from .messages import NO_CONTENT, Reply, Request
from .state import EmulatorState
from .store import Group
from .urls import referenced_id
from .users import FILTER_GETTERS, render_user

MAX_OWNERS = 100
MAX_LINKS_PER_REQUEST = 20
BIND_KEYS = {"members@odata.bind": "members", "owners@odata.bind": "owners"}
# Graph's own estimate for a bind PATCH: "write quota is about one per three users".
USERS_PER_BIND_WRITE_UNIT = 3
DIRECTORY_OBJECTS_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#directoryObjects"


def visible_group_or_404(state: EmulatorState, group_id: str, now: float) -> Group:
    group = state.store.visible_group(group_id, now)
    if group is None:
        raise errors.not_found(group_id)
    return group


def add_link(state: EmulatorState, group: Group, relation: str, request: Request) -> Reply:
    """`POST /groups/{id}/{members|owners}/$ref`, after the group has been found."""
    if not isinstance(request.body, dict) or "@odata.id" not in request.body:
        raise errors.unreadable_body()
    user_id = referenced_id(request.body["@odata.id"])
    if state.store.visible_user(user_id, time.monotonic()) is None:
        raise errors.not_found(user_id)
    links = getattr(group, relation)
    if user_id in links:
        raise errors.duplicate_link(relation)
    if relation == "owners" and len(links) + 1 > MAX_OWNERS:
        raise errors.link_quota(len(links) + 1, MAX_OWNERS, "owners")

    state.store.link(group, relation, user_id)

    return Reply(NO_CONTENT)


def remove_link(state: EmulatorState, group: Group, relation: str, user_id: str) -> Reply:
    """`DELETE /groups/{id}/{members|owners}/{userId}/$ref`: a non-member is a plain 404."""
    links = getattr(group, relation)
    if user_id not in links:
        raise errors.not_found(user_id)
    if relation == "owners" and len(links) == 1:
        raise errors.last_owner()

    state.store.unlink(group, relation, user_id)

    return Reply(NO_CONTENT)


def bind_count(body: Any) -> int:
    if not isinstance(body, dict):
        return 0
    return sum(len(v) for k, v in body.items() if k in BIND_KEYS and isinstance(v, list))


def bind_write_units(body: Any) -> int:
    return max(1, math.ceil(bind_count(body) / USERS_PER_BIND_WRITE_UNIT))


def resolve_binds(state: EmulatorState, body: dict[str, Any]) -> dict[str, list[str]]:
    """The user ids a create or PATCH body binds, per relation, checked to exist.

    A user still inside the replication window makes the whole request fail with Graph's
    "source resource object ... do not exist" 400, as a freshly created object does.
    """
    wanted: dict[str, list[str]] = {"members": [], "owners": []}
    total = 0
    for key, relation in BIND_KEYS.items():
        if key not in body:
            continue
        references = body[key]
        if not isinstance(references, list):
            raise errors.invalid_value(key, "Group")
        total += len(references)
        wanted[relation] = [referenced_id(reference) for reference in references]
    if total > MAX_LINKS_PER_REQUEST:
        raise errors.too_many_links()
    now = time.monotonic()
    for user_ids in wanted.values():
        for user_id in user_ids:
            user = state.store.users.get(user_id)
            if user is None or user.deleted:
                raise errors.not_found(user_id)
            if not state.store.visible(user, now):
                raise errors.referenced_object_missing()
    return wanted


def check_binds(group: Group | None, wanted: dict[str, list[str]]) -> None:
    """All-or-nothing: the owner quota first (Graph reports it even when there are also
    duplicates), then duplicates, against the group's current links."""
    current_owners = len(group.owners) if group else 0
    if current_owners + len(wanted["owners"]) > MAX_OWNERS:
        raise errors.link_quota(current_owners + len(wanted["owners"]), MAX_OWNERS, "owners")
    for relation, user_ids in wanted.items():
        existing = getattr(group, relation) if group else {}
        if len(set(user_ids)) != len(user_ids) or any(uid in existing for uid in user_ids):
            raise errors.duplicate_link(relation)


def apply_binds(state: EmulatorState, group: Group, wanted: dict[str, list[str]]) -> None:
    for relation, user_ids in wanted.items():
        for user_id in user_ids:
            state.store.link(group, relation, user_id)


def list_links(
    state: EmulatorState,
    group: Group,
    relation: str,
    request: Request,
    odata_type: str = "#microsoft.graph.user",
) -> Reply:
    """`GET /groups/{id}/{members|owners}`: directoryObjects, 100 a page by default."""
    store = state.store
    users = [store.users[uid] for uid in getattr(group, relation) if not store.users[uid].deleted]
    text = request.query.get("$filter")
    if text:
        # Filtering a membership list is an advanced query in Graph.
        if not (request.eventual and request.count_requested):
            raise errors.unsupported_query()
        keep = odata.matcher(odata.parse_filter(text, request), FILTER_GETTERS)
        users = [user for user in users if keep(user)]
    select = request.select()

    def render(user: Any) -> dict[str, Any]:
        body = render_user(user, select)
        return {"@odata.type": odata_type, **body}

    return Reply(200, odata.page(request, users, render, DIRECTORY_OBJECTS_CONTEXT))


def count_links(state: EmulatorState, group: Group, relation: str, request: Request) -> Reply:
    """`GET /groups/{id}/{members|owners}/$count`: plain text, only with eventual consistency."""
    if not request.eventual:
        raise errors.count_needs_eventual()
    store = state.store
    count = sum(1 for uid in getattr(group, relation) if not store.users[uid].deleted)
    return Reply(200, str(count), {"Content-Type": "text/plain"})
