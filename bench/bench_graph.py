"""Benchmark of the Graph gateway on the local emulator: raw JSON against msgraph-sdk models,
the gateway's transport against plain httpx, a cold process's first request, and a school's
first sync under a write quota against its plan's lower bound and against the same sync done
with msgraph-sdk typed calls.

    python -m bench.bench_graph            # prints the figures; main() returns them as a dict
"""

from __future__ import annotations

import asyncio
import json
import math
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from local.sample_school.generate import generate_school
from local.services import start_graph_emulator
from shared.graph import GraphConfig, GraphGateway, GroupSpec, MembershipChange, StaticToken
from shared.graph.models import MAX_LINKS_PER_REQUEST
from shared.graph.pacing import WriteBudget

STUDENTS = 300
SEED = 1
# Graph's 3,000 writes per 150 s, with the window scaled down tenfold: the same 20 writes/s,
# a tenth of the burst, so a first sync of a few thousand links takes under a minute.
WRITE_QUOTA = 300
WRITE_WINDOW_SECONDS = 15.0
# The gateway's share of the emulator's quota: close to all of it, to show the pacing holds.
BUDGET_SHARE = 0.95
LINKS_PER_WRITE_UNIT = 3  # how Graph (and the emulator) prices a links PATCH
BASELINE_SHARE = 0.2  # the SDK baseline syncs this share of the school's links, then scales
BASELINE_CONCURRENCY = 4
PAGE_OBJECTS = 999
TRANSPORT_ROUNDS = 100
TRANSPORT_SAMPLES = 5  # medians of this many interleaved rounds
COLD_START_RUNS = 3
REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class PlannedGroup:
    key: str
    owners: list[str]
    members: list[str]

    @property
    def links(self) -> list[tuple[str, str]]:
        return [("owners", u) for u in self.owners] + [("members", u) for u in self.members]


def main() -> dict[str, Any]:
    figures: dict[str, Any] = {"parse": measure_parse()}
    options = ("--write-quota", str(WRITE_QUOTA), "--write-window", str(WRITE_WINDOW_SECONDS))
    with start_graph_emulator(*options) as emulator:
        figures["transport"] = asyncio.run(measure_transport(emulator.url))
        figures["cold_start"] = measure_cold_start(emulator.url)
        groups = seed_school(emulator.url)
        figures["first_sync"] = asyncio.run(gateway_first_sync(emulator.url, groups))
        figures["baseline"] = asyncio.run(sdk_first_sync(emulator.url, groups))
    report(figures)
    return figures


# -- parsing one page ----------------------------------------------------------------------


def members_page() -> bytes:
    objects = [
        {"@odata.type": "#microsoft.graph.user", "id": str(uuid.UUID(int=n))}
        for n in range(PAGE_OBJECTS)
    ]
    return json.dumps({"@odata.context": "x", "value": objects}).encode()


def measure_parse() -> dict[str, float]:
    """One 999-member page: json.loads against msgraph-sdk's DirectoryObjectCollectionResponse
    (after a one-object warm-up, so the SDK's import cost is not counted)."""
    from kiota_serialization_json.json_parse_node_factory import JsonParseNodeFactory
    from msgraph.generated.models.directory_object_collection_response import (
        DirectoryObjectCollectionResponse,
    )

    page = members_page()
    raw_seconds = []
    for _ in range(20):
        started = time.process_time()
        ids = [o["id"] for o in json.loads(page)["value"]]
        raw_seconds.append(time.process_time() - started)
    assert len(ids) == PAGE_OBJECTS

    def sdk_parse(content: bytes) -> Any:
        node = JsonParseNodeFactory().get_root_parse_node("application/json", content)
        return node.get_object_value(DirectoryObjectCollectionResponse)

    warm = {"value": [{"@odata.type": "#microsoft.graph.user", "id": "x"}]}
    sdk_parse(json.dumps(warm).encode())
    started = time.process_time()
    parsed = sdk_parse(page)
    sdk_seconds = time.process_time() - started
    assert len(parsed.value) == PAGE_OBJECTS
    raw = statistics.median(raw_seconds)
    return {
        "raw_json_ms": raw * 1e3,
        "sdk_models_ms": sdk_seconds * 1e3,
        "ratio": sdk_seconds / raw,
    }


# -- transport: plain httpx, the gateway's transport, the adapter's send_primitive_async --


async def measure_transport(url: str) -> dict[str, float]:
    """Client CPU per 20-item $batch round trip: plain httpx; the gateway's Transport (the SDK's
    request adapter with Graph's middleware minus its RetryHandler, raw JSON); and the
    adapter's own send_primitive_async with the full default middleware."""
    from kiota_abstractions.method import Method
    from kiota_abstractions.request_information import RequestInformation

    from shared.graph.transport import Transport

    base = f"{url}/v1.0"
    items = [{"id": str(n), "method": "GET", "url": "/users?$top=1"} for n in range(20)]
    payload = {"requests": items}
    body = json.dumps(payload)
    headers = {"Authorization": "Bearer bench", "Content-Type": "application/json"}
    client = httpx.AsyncClient()
    transport = Transport(GraphConfig(base_url=base, credential=StaticToken("bench")))
    adapter = _sdk_adapter(base)

    async def plain() -> None:
        response = await client.post(f"{base}/$batch", content=body, headers=headers)
        json.loads(response.content)

    async def gateway() -> None:
        await transport.request("POST", "/$batch", json_body=payload)

    async def kiota() -> None:
        info = RequestInformation(Method.POST, "{+baseurl}/$batch", {"baseurl": base})
        info.set_stream_content(body.encode(), "application/json")
        json.loads(await adapter.send_primitive_async(info, "bytes", None))

    calls = {"httpx": plain, "gateway": gateway, "adapter": kiota}
    for call in calls.values():  # warm connections and lazy imports
        for _ in range(20):
            await call()
    # Interleaved rounds, so that load from other processes weighs on all three alike.
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(TRANSPORT_SAMPLES):
        for name, call in calls.items():
            samples[name].append(await _cpu_per_call(call))
    await client.aclose()
    await transport.aclose()
    cpu = {name: statistics.median(values) for name, values in samples.items()}
    return {
        "httpx_cpu_ms": cpu["httpx"] * 1e3,
        "gateway_cpu_ms": cpu["gateway"] * 1e3,
        "gateway_extra_ms": (cpu["gateway"] - cpu["httpx"]) * 1e3,
        "adapter_cpu_ms": cpu["adapter"] * 1e3,
        "adapter_extra_ms": (cpu["adapter"] - cpu["httpx"]) * 1e3,
    }


COLD_START_PROBE = """
import json, sys, time, asyncio
started = time.perf_counter()
import shared.graph as graph
imported = time.perf_counter()
modules_at_import = len(sys.modules)

async def first_request(url):
    config = graph.GraphConfig(base_url=url, credential=graph.StaticToken("bench"))
    built_at = time.perf_counter()
    async with graph.GraphGateway(config) as gateway:
        built = time.perf_counter()
        await gateway.get_group("00000000-0000-0000-0000-000000000000")
        return built - built_at, time.perf_counter() - built

build, request = asyncio.run(first_request(sys.argv[1]))
print(json.dumps({"import_ms": (imported - started) * 1e3, "modules_at_import":
    modules_at_import, "build_ms": build * 1e3, "first_request_ms": request * 1e3,
    "modules_after": len(sys.modules)}))
"""


def measure_cold_start(url: str) -> dict[str, float]:
    """A fresh process: `import shared.graph`, build a gateway, send its first request (the
    median of COLD_START_RUNS processes)."""
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", COLD_START_PROBE, f"{url}/v1.0"],
                capture_output=True,
                text=True,
                check=True,
                cwd=REPO_ROOT,
            ).stdout
        )
        for _ in range(COLD_START_RUNS)
    ]
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


async def _cpu_per_call(call: Any) -> float:
    started = time.process_time()
    for _ in range(TRANSPORT_ROUNDS):
        await call()
    return (time.process_time() - started) / TRANSPORT_ROUNDS


def _sdk_adapter(base: str, max_retries: int = 3) -> Any:
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from kiota_http.middleware.options import RetryHandlerOption
    from msgraph import GraphRequestAdapter
    from msgraph_core import GraphClientFactory

    auth = AzureIdentityAuthenticationProvider(
        StaticToken("bench"), scopes=["https://graph.microsoft.com/.default"]
    )
    options = {RetryHandlerOption.get_key(): RetryHandlerOption(max_retries=max_retries)}
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(timeout=60), options=options
    )
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = base
    return adapter


# -- the school ----------------------------------------------------------------------------


def seed_school(url: str) -> list[PlannedGroup]:
    """Directory users for the generated school's people, and one planned group per class:
    teachers as owners, pupils as members."""
    school = generate_school(STUDENTS, SEED)
    people = [p for p in school.people if p.has_account]
    with httpx.Client(base_url=url, timeout=60) as admin:
        admin.post("/_emulator/reset").raise_for_status()
        users = [p.directory_user() for p in people]
        ids = admin.post("/_emulator/users", json={"users": users}).json()["ids"]
    user_ids = {p.sourced_id: uid for p, uid in zip(people, ids, strict=True)}
    groups: dict[str, PlannedGroup] = {}
    for klass in school.classes:
        groups[klass.sourced_id] = PlannedGroup(f"bench-{klass.sourced_id}", [], [])
    for enrolment in school.enrollments:
        user_id = user_ids.get(enrolment.user_id)
        if user_id is None:
            continue
        group = groups[enrolment.class_id]
        (group.owners if enrolment.role == "teacher" else group.members).append(user_id)
    return [g for g in groups.values() if g.links]


def lower_bound(groups: list[PlannedGroup]) -> dict[str, float]:
    """The least a first sync can send: each group created with its first 20 links, the rest
    20 to a PATCH, 20 sub-requests to a batch; write units priced as Graph prices them."""
    subrequests = units = 0
    for group in groups:
        count = len(group.links)
        for chunk in [min(MAX_LINKS_PER_REQUEST, count), *_chunks_after_first(count)]:
            subrequests += 1
            units += max(1, math.ceil(chunk / LINKS_PER_WRITE_UNIT))
    rate = WRITE_QUOTA / WRITE_WINDOW_SECONDS
    return {
        "subrequests": subrequests,
        "requests": math.ceil(subrequests / 20),
        "write_units": units,
        "quota_seconds": units / rate,
        "quota_seconds_after_burst": max(0.0, units - WRITE_QUOTA) / rate,
    }


def _chunks_after_first(count: int) -> list[int]:
    rest = max(0, count - MAX_LINKS_PER_REQUEST)
    return [min(MAX_LINKS_PER_REQUEST, rest - s) for s in range(0, rest, MAX_LINKS_PER_REQUEST)]


# -- the gateway's first sync --------------------------------------------------------------


async def gateway_first_sync(url: str, groups: list[PlannedGroup]) -> dict[str, Any]:
    _reset_counters(url)
    config = GraphConfig(
        base_url=f"{url}/v1.0",
        credential=StaticToken("bench-gateway"),
        write_budget=int(WRITE_QUOTA * BUDGET_SHARE),
        write_window_seconds=WRITE_WINDOW_SECONDS,
    )
    budget = WriteBudget(config.write_budget, config.write_window_seconds)
    started = time.monotonic()
    async with GraphGateway(config, budget=budget) as graph:
        specs = [_spec(group) for group in groups]
        ensured = await asyncio.gather(*(graph.ensure_group(spec) for spec in specs))
        changes = [
            MembershipChange(
                e.id,
                add_owners=tuple(g.owners[len(s.owners) :]),
                add_members=tuple(g.members[len(s.members) :]),
            )
            for g, s, e in zip(groups, specs, ensured, strict=True)
        ]
        failures = await graph.apply_changes(changes)
        stats = graph.stats
    wall = time.monotonic() - started
    counters = _counters(url)
    _check_state(url, groups)
    bound = lower_bound(groups)
    return {
        "groups": len(groups),
        "links": sum(len(g.links) for g in groups),
        "lower_bound": bound,
        "requests": counters["requests"],
        "subrequests": counters["batch_subrequests"],
        "write_units": counters["writes"],
        "throttled": counters["throttled"],
        "failures": len(failures) + sum(len(e.failures) for e in ensured),
        "wall_seconds": wall,
        "paced_seconds": stats.paced_seconds,
        "requests_ratio": counters["requests"] / bound["requests"],
        "write_units_ratio": counters["writes"] / bound["write_units"],
        "wall_ratio": wall / bound["quota_seconds"],
    }


def _spec(group: PlannedGroup) -> GroupSpec:
    owners = group.owners[:MAX_LINKS_PER_REQUEST]
    members = group.members[: MAX_LINKS_PER_REQUEST - len(owners)]
    nickname = group.key.replace("_", "-")[:64]
    return GroupSpec(group.key, group.key, nickname, owners=tuple(owners), members=tuple(members))


def _check_state(url: str, groups: list[PlannedGroup]) -> None:
    with httpx.Client(base_url=url, timeout=60) as admin:
        state = admin.get("/_emulator/state").json()["groups"]
    by_key = {g["uniqueName"]: g for g in state}
    for group in groups:
        actual = by_key[group.key]
        if set(actual["owners"]) != set(group.owners) or set(actual["members"]) != set(
            group.members
        ):
            raise AssertionError(f"group {group.key} does not hold the planned links")


# -- the straightforward way: msgraph-sdk typed calls, one request per operation -----------


async def sdk_first_sync(url: str, groups: list[PlannedGroup]) -> dict[str, Any]:
    """Create each group with POST /groups, then add every owner and member with its own
    `$ref` POST, through msgraph-sdk with its default retry handler (up to 10 retries),
    four groups at a time. Run on a share of the school, then scaled by links: requests and
    write units in proportion, wall time as the measured part plus the rest at the quota's
    pace."""
    from msgraph import GraphServiceClient
    from msgraph.generated.models.group import Group
    from msgraph.generated.models.reference_create import ReferenceCreate

    with httpx.Client(base_url=url, timeout=60) as admin:
        admin.post("/_emulator/config", json={"write_quota": WRITE_QUOTA}).raise_for_status()
    _reset_counters(url)
    subset, links = [], 0
    total_links = sum(len(g.links) for g in groups)
    for group in groups:
        if links >= total_links * BASELINE_SHARE:
            break
        subset.append(group)
        links += len(group.links)
    base = f"{url}/v1.0"
    client = GraphServiceClient(request_adapter=_sdk_adapter(base, max_retries=10))
    gate = asyncio.Semaphore(BASELINE_CONCURRENCY)
    failures = 0

    async def sync(group: PlannedGroup) -> None:
        nonlocal failures
        async with gate:
            body = Group(
                display_name=group.key,
                mail_nickname="sdk-" + group.key.replace("_", "-")[:60],
                mail_enabled=True,
                security_enabled=False,
                group_types=["Unified"],
                visibility="Private",
            )
            created = await client.groups.post(body)
            target = client.groups.by_group_id(created.id)
            for kind, user_id in group.links:
                reference = ReferenceCreate(odata_id=f"{base}/directoryObjects/{user_id}")
                relation = target.owners if kind == "owners" else target.members
                try:
                    await relation.ref.post(reference)
                except Exception:
                    failures += 1

    started = time.monotonic()
    await asyncio.gather(*(sync(group) for group in subset))
    wall = time.monotonic() - started
    counters = _counters(url)
    scale = total_links / links
    # The rest of the school would run at the quota's pace: the first window's burst is spent.
    rest_seconds = counters["writes"] * (scale - 1) / (WRITE_QUOTA / WRITE_WINDOW_SECONDS)
    return {
        "groups": len(subset),
        "links": links,
        "scale": scale,
        "requests": counters["requests"],
        "write_units": counters["writes"],
        "throttled": counters["throttled"],
        "failures": failures,
        "wall_seconds": wall,
        "scaled_requests": counters["requests"] * scale,
        "scaled_write_units": counters["writes"] * scale,
        "scaled_wall_seconds": wall + rest_seconds,
    }


# -- plumbing ------------------------------------------------------------------------------


def _reset_counters(url: str) -> None:
    with httpx.Client(base_url=url, timeout=60) as admin:
        admin.post("/_emulator/counters/reset").raise_for_status()


def _counters(url: str) -> dict[str, Any]:
    with httpx.Client(base_url=url, timeout=60) as admin:
        return admin.get("/_emulator/counters").json()


def report(figures: dict[str, Any]) -> None:
    parse, transport = figures["parse"], figures["transport"]
    sync, baseline = figures["first_sync"], figures["baseline"]
    bound = sync["lower_bound"]
    print("Graph gateway benchmark")
    print(
        f"  parse one {PAGE_OBJECTS}-member page: raw JSON {parse['raw_json_ms']:.2f} ms, "
        f"msgraph-sdk models {parse['sdk_models_ms']:.0f} ms CPU ({parse['ratio']:.0f}x)"
    )
    print(
        f"  client CPU per 20-item $batch round trip: httpx {transport['httpx_cpu_ms']:.2f} ms, "
        f"gateway transport on the SDK's adapter {transport['gateway_cpu_ms']:.2f} ms "
        f"(+{transport['gateway_extra_ms']:.2f} ms), adapter send_primitive_async with its "
        f"default middleware {transport['adapter_cpu_ms']:.2f} ms "
        f"(+{transport['adapter_extra_ms']:.2f} ms)"
    )
    cold = figures["cold_start"]
    print(
        f"  cold process: import shared.graph {cold['import_ms']:.0f} ms "
        f"({cold['modules_at_import']:.0f} modules), build a gateway {cold['build_ms']:.0f} ms, "
        f"first request {cold['first_request_ms']:.0f} ms ({cold['modules_after']:.0f} modules)"
    )
    print(
        f"  first sync, {STUDENTS} pupils: {sync['groups']} groups, {sync['links']} links, "
        f"write quota {WRITE_QUOTA} per {WRITE_WINDOW_SECONDS:.0f} s, gateway budget "
        f"{BUDGET_SHARE:.0%} of it"
    )
    print(
        f"    requests {sync['requests']} vs lower bound {bound['requests']} "
        f"({sync['requests_ratio']:.2f}x, target <= 1.25x); sub-requests {sync['subrequests']} "
        f"vs {bound['subrequests']}"
    )
    print(
        f"    write units {sync['write_units']} vs lower bound {bound['write_units']} "
        f"({sync['write_units_ratio']:.2f}x)"
    )
    print(
        f"    wall {sync['wall_seconds']:.1f} s vs quota time {bound['quota_seconds']:.1f} s "
        f"({sync['wall_ratio']:.2f}x, target <= 1.2x; {bound['quota_seconds_after_burst']:.1f} s "
        f"if the first window's burst is free); paced {sync['paced_seconds']:.1f} s"
    )
    print(f"    429s {sync['throttled']} (target 0), refused links {sync['failures']}")
    print(
        f"  msgraph-sdk typed calls, one request per operation, on {baseline['groups']} groups "
        f"({baseline['links']} links), scaled x{baseline['scale']:.1f} to the whole school:"
    )
    print(
        f"    requests {baseline['scaled_requests']:.0f}, write units "
        f"{baseline['scaled_write_units']:.0f}, wall {baseline['scaled_wall_seconds']:.0f} s, "
        f"429s {baseline['throttled']} (measured), failed links {baseline['failures']}"
    )


if __name__ == "__main__":
    main()
