"""The route table: which handler serves a method and path, what Graph charges for it, and
the one place a request is counted, priced, run and turned into a reply (or an error body).

Top-level requests and `$batch` items both pass through `execute`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from . import delta, education, errors, groups, links, users
from .messages import Reply, Request
from .state import EmulatorState
from .throttling import Cost, read_cost
from .urls import AltKey

Handler = Callable[..., Reply]
ID = "{id}"  # any id
KEY = "{key}"  # an id or an alternate key such as uniqueName
GROUP_RELATION = "{relation}"  # members | owners
CLASS_RELATION = "{class-relation}"  # members | teachers
PLACEHOLDERS = {
    GROUP_RELATION: ("members", "owners"),
    CLASS_RELATION: ("members", "teachers"),
}
WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE"}
# Reads Graph prices above one resource unit.
MEMBERS_READ_COST = 3
USERS_READ_COST = 2


@dataclass(frozen=True)
class Route:
    pattern: tuple[str, ...]
    methods: dict[str, Handler]
    education: bool = False
    read_cost: Callable[[list[object]], int] = field(default=lambda params: 1)


def _links_read_cost(params: list[object]) -> int:
    return MEMBERS_READ_COST if params[-1] == "members" else 1


ROUTES: tuple[Route, ...] = (
    Route(("groups",), {"GET": groups.list_groups, "POST": groups.create_group}),
    Route(("groups", "delta"), {"GET": delta.groups_delta}),
    Route(
        ("groups", KEY),
        {"GET": groups.get_group, "PATCH": groups.update_group, "DELETE": groups.delete_group},
    ),
    Route(("groups", ID, GROUP_RELATION), {"GET": groups.get_links}, read_cost=_links_read_cost),
    Route(("groups", ID, GROUP_RELATION, "$count"), {"GET": groups.count_links}),
    Route(("groups", ID, GROUP_RELATION, "$ref"), {"POST": groups.add_link}),
    Route(("groups", ID, GROUP_RELATION, ID, "$ref"), {"DELETE": groups.remove_link}),
    Route(("groups", ID, GROUP_RELATION, ID), {"DELETE": groups.delete_linked_object}),
    Route(
        ("users",),
        {"GET": users.list_users, "POST": users.create_user},
        read_cost=lambda params: USERS_READ_COST,
    ),
    Route(("users", "delta"), {"GET": delta.users_delta}, read_cost=lambda p: USERS_READ_COST),
    Route(
        ("users", ID),
        {"GET": users.get_user, "PATCH": users.update_user, "DELETE": users.delete_user},
    ),
    Route(
        ("education", "classes"),
        {"GET": education.list_classes, "POST": education.create_class},
        education=True,
    ),
    Route(
        ("education", "classes", ID),
        {
            "GET": education.get_class,
            "PATCH": education.update_class,
            "DELETE": education.delete_class,
        },
        education=True,
    ),
    Route(
        ("education", "classes", ID, CLASS_RELATION),
        {"GET": education.list_people},
        education=True,
    ),
    Route(
        ("education", "classes", ID, CLASS_RELATION, "$ref"),
        {"POST": education.add_person},
        education=True,
    ),
    Route(
        ("education", "classes", ID, CLASS_RELATION, ID, "$ref"),
        {"DELETE": education.remove_person},
        education=True,
    ),
)


def match(segments: list[str | AltKey]) -> tuple[Route, list[object], str]:
    """The route for a path (after /v1.0), its parameters, and its template for counters."""
    for route in ROUTES:
        if len(route.pattern) != len(segments):
            continue
        params: list[object] = []
        template: list[str] = []
        for expected, actual in zip(route.pattern, segments, strict=True):
            if expected == KEY:
                if isinstance(actual, AltKey):
                    template[-1] += f"({actual.prop}='{{id}}')"
                else:
                    template.append(ID)
                params.append(actual)
            elif isinstance(actual, AltKey):
                break
            elif expected == ID:
                params.append(actual)
                template.append(ID)
            elif expected in PLACEHOLDERS:
                relation = actual.lower()
                if relation not in PLACEHOLDERS[expected]:
                    break
                params.append(relation)
                template.append(relation)
            elif actual.lower() == expected.lower():
                template.append(expected)
            else:
                break
        else:
            return route, params, "/" + "/".join(template)
    raise errors.segment_not_found(_first_unknown(segments))


def _first_unknown(segments: list[str | AltKey]) -> str:
    known = {"groups", "users", "education", "classes", "delta", "members", "owners"}
    for segment in segments:
        if isinstance(segment, str) and segment.lower() not in known:
            return segment
    return str(segments[-1]) if segments else ""


def cost_of(route: Route, request: Request, params: list[object]) -> Cost:
    if request.method not in WRITE_METHODS:
        return Cost(read_cost(route.read_cost(params), request.query), 0, route.education)
    write_units = 1
    if request.method == "PATCH" and route.pattern == ("groups", KEY):
        write_units = links.bind_write_units(request.body) if links.bind_count(request.body) else 1
    return Cost(1, write_units, route.education)


def execute(state: EmulatorState, request: Request) -> Reply:
    """Route, price, run; any GraphError becomes its reply here, counted if it is a 429."""
    try:
        route, params, template = match(request.segments)
        state.counters.by_route[f"{request.method} {template}"] += 1
        handler = route.methods.get(request.method)
        if handler is None:
            raise errors.method_not_allowed()
        cost = cost_of(route, request, params)
        headers = state.throttler.charge(request.principal.key, cost, time.monotonic())
        state.counters.resource_units += cost.resource_units
        state.counters.writes += cost.write_units
        reply = handler(state, request, *params)
        reply.headers.update(headers)
        return reply
    except errors.GraphError as error:
        return error_reply(state, error)


def error_reply(state: EmulatorState, error: errors.GraphError) -> Reply:
    if error.status == 429:
        state.counters.throttled += 1
    return Reply(error.status, error.body(errors.new_request_id()), dict(error.headers))
