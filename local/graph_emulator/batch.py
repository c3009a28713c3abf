"""`POST /$batch`: up to 20 requests with unique ids and relative urls, run in order, each
priced and throttled on its own; `dependsOn` (or the SDK's `depends_on`) turns a failed
prerequisite into 424; answers come back shuffled, and the batch itself is a 200."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from . import errors
from .messages import Reply, Request
from .routes import error_reply, execute
from .state import EmulatorState
from .urls import VERSION, expand_keys, split_target

MAX_BATCH_REQUESTS = 20
BODY_METHODS = {"POST", "PATCH", "PUT"}
JSON_CONTENT_TYPE = (
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;"
    "charset=utf-8"
)

# Chooses an injected fault for one item, or None: the app owns the dice.
FaultPicker = Callable[[], errors.GraphError | None]


def run_batch(state: EmulatorState, request: Request, pick_fault: FaultPicker) -> Reply:
    items = _validated_items(request.body)
    statuses: dict[str, int] = {}
    responses: list[dict[str, Any]] = []

    for item in items:
        item_id = str(item["id"])
        state.counters.batch_subrequests += 1
        dependencies = [str(d).lower() for d in _dependencies(item)]
        if any(statuses.get(d, 200) >= 400 for d in dependencies):
            reply = error_reply(state, errors.failed_dependency())
        else:
            reply = _run_item(state, request, item, pick_fault)
        statuses[item_id.lower()] = reply.status
        responses.append(_render(item_id, reply))

    # Graph answers in any order; clients must correlate by id.
    state.random.shuffle(responses)
    return Reply(200, {"responses": responses})


def _validated_items(body: Any) -> list[dict[str, Any]]:
    """Whole-batch checks: any failure here is a 400 for the batch, and nothing runs."""
    if not isinstance(body, dict) or not isinstance(body.get("requests"), list):
        raise errors.batch_malformed("the body must be an object with a 'requests' array.")
    items = body["requests"]
    if len(items) > MAX_BATCH_REQUESTS:
        raise errors.batch_too_large()
    if not items:
        raise errors.batch_malformed("'requests' is empty.")
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, dict) or not all(item.get(k) for k in ("id", "method", "url")):
            raise errors.batch_malformed("every request needs an id, a method and a url.")
        item_id = str(item["id"]).lower()
        if item_id in seen:
            raise errors.batch_duplicate_id(str(item["id"]))
        for dependency in _dependencies(item):
            if str(dependency).lower() not in seen:
                raise errors.batch_invalid_dependency(str(item["id"]))
        seen.add(item_id)
        headers = _lowered(item.get("headers"))
        if str(item["method"]).upper() in BODY_METHODS and (
            "body" not in item or "content-type" not in headers
        ):
            raise errors.batch_missing_content_type(str(item["id"]))
    return items


def _dependencies(item: dict[str, Any]) -> list[Any]:
    # msgraph-core serialises the field as `depends_on`; Graph itself reads `dependsOn`.
    dependencies = item.get("dependsOn", item.get("depends_on")) or []
    return dependencies if isinstance(dependencies, list) else [dependencies]


def _lowered(headers: Any) -> dict[str, str]:
    if not isinstance(headers, dict):
        return {}
    return {str(k).lower(): str(v) for k, v in headers.items()}


def _run_item(
    state: EmulatorState, outer: Request, item: dict[str, Any], pick_fault: FaultPicker
) -> Reply:
    url = str(item["url"])
    absolute = "://" in url
    if absolute:
        # msgraph-core copies the request's absolute URL into the item; Graph takes those too
        # as long as they point at the same version root.
        url = "/" + url.split("://", 1)[1].partition("/")[2]
    segments, query = split_target(url if url.startswith("/") else f"/{url}")
    if segments and segments[0].lower() == VERSION:
        segments = segments[1:]
    elif absolute:
        return error_reply(state, errors.batch_absolute_url())
    try:
        body = _item_body(item.get("body"))
    except errors.GraphError as error:
        return error_reply(state, error)
    request = Request(
        method=str(item["method"]).upper(),
        path="/" + "/".join(segments),
        segments=expand_keys(segments),
        query=query,
        headers=_lowered(item.get("headers")),
        body=body,
        base_url=outer.base_url,
        principal=outer.principal,
    )
    fault = pick_fault()
    if fault is not None:
        state.counters.faults += 1
        return error_reply(state, fault)
    return execute(state, request)


def _item_body(body: Any) -> Any:
    """A JSON value, or a base64 string holding JSON, as Graph accepts both."""
    if not isinstance(body, str):
        return body
    try:
        return json.loads(base64.b64decode(body, validate=True))
    except (binascii.Error, ValueError):
        raise errors.unreadable_body() from None


def _render(item_id: str, reply: Reply) -> dict[str, Any]:
    headers = dict(reply.headers)
    rendered: dict[str, Any] = {"id": item_id, "status": reply.status}
    if reply.body is not None:
        headers.setdefault("Content-Type", JSON_CONTENT_TYPE)
        rendered["body"] = reply.body
    rendered["headers"] = headers
    return rendered
