"""`/groups/delta` and `/users/delta`: a first round returns everything, later rounds what
changed since their token, with `members@delta` (and `owners@delta`) entries, `@removed`
annotations, member chunks that spread one group over several pages, `$deltatoken=latest`,
and Graph's `syncStateNotFound` once a token is older than its lifetime.

Limitation: objects inside the replication window are included at once; Graph may hold
them back for a round.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
import uuid
from typing import Any

from . import errors, groups, odata
from .messages import Reply, Request
from .state import EmulatorState
from .store import Group
from .users import render_user

MEMBERS_PER_ENTRY = 50
# Rounds a client abandons half-way are forgotten, oldest first, past this many.
MAX_OPEN_DELTA_ROUNDS = 10_000
DEFAULT_DELTA_PAGE_SIZE = 100
MAX_DELTA_ID_FILTER = 50
USER_TYPE = "#microsoft.graph.user"
_MAX_PAGE_SIZE_PREFERENCE = re.compile(r"odata\.maxpagesize\s*=\s*(\d+)", re.IGNORECASE)


def groups_delta(state: EmulatorState, request: Request) -> Reply:
    return _delta(state, request, "groups")


def users_delta(state: EmulatorState, request: Request) -> Reply:
    return _delta(state, request, "users")


def _delta(state: EmulatorState, request: Request, kind: str) -> Reply:
    context = f"https://graph.microsoft.com/v1.0/$metadata#{kind}"
    skiptoken = request.query.get("$skiptoken")
    if skiptoken:
        session = state.delta_sessions.pop(skiptoken, None)
        if session is None:
            raise errors.sync_state_not_found()
        return _page(state, request, kind, context, *session)

    deltatoken = request.query.get("$deltatoken")
    if deltatoken == "latest":
        token = _encode(kind, state.store.sequence, _options(request))
        body = {"@odata.context": context, "@odata.deltaLink": _link(request, kind, token)}
        return Reply(200, {**body, "value": []})

    if deltatoken:
        since, options = _decode(state, deltatoken, kind)
    else:
        since, options = None, _options(request)
    if kind == "groups":
        entries = _group_entries(state, since, options, request)
    else:
        entries = _user_entries(state, since, options)
    final = _encode(kind, state.store.sequence, options)
    return _page(state, request, kind, context, entries, final)


def _page(
    state: EmulatorState,
    request: Request,
    kind: str,
    context: str,
    entries: list[dict[str, Any]],
    final_token: str,
) -> Reply:
    size = _page_size(request)
    body: dict[str, Any] = {"@odata.context": context}
    if len(entries) > size:
        skiptoken = uuid.uuid4().hex
        if len(state.delta_sessions) >= MAX_OPEN_DELTA_ROUNDS:
            del state.delta_sessions[next(iter(state.delta_sessions))]
        state.delta_sessions[skiptoken] = (entries[size:], final_token)
        body["@odata.nextLink"] = f"{request.base_url}/{kind}/delta?$skiptoken={skiptoken}"
    else:
        body["@odata.deltaLink"] = _link(request, kind, final_token)
    body["value"] = entries[:size]
    return Reply(200, body)


def _page_size(request: Request) -> int:
    match = _MAX_PAGE_SIZE_PREFERENCE.search(request.headers.get("prefer", ""))
    return max(1, int(match.group(1))) if match else DEFAULT_DELTA_PAGE_SIZE


def _link(request: Request, kind: str, token: str) -> str:
    return f"{request.base_url}/{kind}/delta?$deltatoken={token}"


def _options(request: Request) -> dict[str, Any]:
    """Query options belong to the first request; later links carry them inside the token."""
    return {"select": request.select(), "filter": request.query.get("$filter")}


def _encode(kind: str, sequence: int, options: dict[str, Any]) -> str:
    payload = {"k": kind, "s": sequence, "t": time.time(), **options}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(state: EmulatorState, token: str, kind: str) -> tuple[int, dict[str, Any]]:
    try:
        padded = token + "=" * (-len(token) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError):
        raise errors.sync_state_not_found() from None
    if not isinstance(payload, dict) or payload.get("k") != kind:
        raise errors.sync_state_not_found()
    if time.time() - payload["t"] > state.config.delta_token_lifetime:
        raise errors.sync_state_not_found()
    if payload["s"] > state.store.sequence:  # a token from before an emulator reset
        raise errors.sync_state_not_found()
    return payload["s"], {"select": payload.get("select"), "filter": payload.get("filter")}


# --- groups ---------------------------------------------------------------------------------


def _group_entries(
    state: EmulatorState, since: int | None, options: dict[str, Any], request: Request
) -> list[dict[str, Any]]:
    select: list[str] | None = options["select"]
    wanted_ids = _id_filter(options["filter"], request)
    relations = _relations(select)
    properties = [name for name in select if name.lower() not in relations] if select else None
    store = state.store
    entries: list[dict[str, Any]] = []

    if since is None:
        for group in store.groups.values():
            if group.deleted or (wanted_ids and group.id not in wanted_ids):
                continue
            changes = {rel: [(uid, True) for uid in getattr(group, rel)] for rel in relations}
            entries.extend(_group_chunks(group, properties, changes))
        return entries

    touched: dict[str, dict[str, Any]] = {}
    for change in store.changes[since:]:
        if change.kind != "group" or (wanted_ids and change.object_id not in wanted_ids):
            continue
        record = touched.setdefault(change.object_id, {"properties": False, "links": {}})
        if change.member_id is None:
            record["properties"] = True
        elif change.relation in relations:
            record["links"][(change.relation, change.member_id)] = change.added
    for group_id, record in touched.items():
        group = store.groups.get(group_id)
        if group is None or group.deleted:
            reason = "changed" if group is not None else "deleted"
            entries.append({"id": group_id, "@removed": {"reason": reason}})
            continue
        changes = {rel: [] for rel in relations}
        for (relation, member_id), added in record["links"].items():
            changes[relation].append((member_id, added))
        shown = properties if record["properties"] else []
        entries.extend(_group_chunks(group, shown, changes))
    return entries


def _relations(select: list[str] | None) -> list[str]:
    if select is None:
        return ["members"]
    lowered = {name.lower() for name in select}
    return [rel for rel in ("members", "owners") if rel in lowered]


def _id_filter(text: str | None, request: Request) -> set[str] | None:
    """Group delta filters only on `id eq '...'` joined by `or`, at most 50 of them."""
    if not text:
        return None
    node = odata.parse_filter(text, request, max_or_clauses=MAX_DELTA_ID_FILTER)
    ids: set[str] = set()
    pending = [node]
    while pending:
        current = pending.pop()
        if current[0] == "or":
            pending.extend(current[1:])
        elif current[0] == "eq" and current[1].lower() == "id":
            ids.add(str(current[2]))
        else:
            raise errors.unsupported_query()
    return ids


def _group_chunks(
    group: Group,
    properties: list[str] | None,
    changes: dict[str, list[tuple[str, bool]]],
) -> list[dict[str, Any]]:
    """One entry per chunk of link changes, so a large group spans several entries."""
    head = {"id": group.id}
    if properties is None or properties:
        head = {**groups.render_group(group, properties), "id": group.id}
    chunks: list[dict[str, Any]] = []
    for relation, items in changes.items():
        for start in range(0, len(items), MEMBERS_PER_ENTRY):
            annotated = [
                _link_entry(uid, added) for uid, added in items[start : start + MEMBERS_PER_ENTRY]
            ]
            chunks.append({"id": group.id, f"{relation}@delta": annotated})
    if not chunks:
        return [head]
    chunks[0] = {**head, **chunks[0]}
    return chunks


def _link_entry(user_id: str, added: bool) -> dict[str, Any]:
    if added:
        return {"@odata.type": USER_TYPE, "id": user_id}
    return {"@odata.type": USER_TYPE, "id": user_id, "@removed": {"reason": "deleted"}}


# --- users ----------------------------------------------------------------------------------


def _user_entries(
    state: EmulatorState, since: int | None, options: dict[str, Any]
) -> list[dict[str, Any]]:
    select = options["select"]
    store = state.store
    if since is None:
        return [
            render_user(u, select) | {"id": u.id} for u in store.users.values() if not u.deleted
        ]
    changed = dict.fromkeys(c.object_id for c in store.changes[since:] if c.kind == "user")
    entries = []
    for user_id in changed:
        user = store.users[user_id]
        if user.deleted:
            entries.append({"id": user_id, "@removed": {"reason": "changed"}})
        else:
            entries.append(render_user(user, select) | {"id": user.id})
    return entries
