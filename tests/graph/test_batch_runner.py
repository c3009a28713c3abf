"""The $batch runner against a scripted Graph: packing, correlation, per-item retries."""

from __future__ import annotations

import time

import httpx

from shared.graph.batch import BatchRunner, SubRequest
from shared.graph.models import GatewayStats
from shared.graph.pacing import WriteBudget
from shared.graph.transport import Transport
from tests.graph.fakes import ScriptedGraph, config, error


def runner_for(graph: ScriptedGraph, **options) -> tuple[BatchRunner, GatewayStats]:
    stats = GatewayStats()
    budget = options.pop("budget", WriteBudget(10_000, 10.0))
    transport = Transport(config(), http=graph.client())
    return BatchRunner(transport, budget, stats, **options), stats


def ok(item):
    return 200, {}, {"url": item["url"]}


async def test_requests_are_packed_twenty_to_a_batch_and_answered_in_order():
    graph = ScriptedGraph(ok)
    runner, stats = runner_for(graph, max_concurrency=1)
    requests = [SubRequest("GET", f"/groups/g{n}") for n in range(45)]

    answers = await runner.run(requests)

    assert [a.body["url"] for a in answers] == [f"/groups/g{n}" for n in range(45)]
    assert sorted(len(b) for b in graph.batches) == [5, 20, 20]
    assert stats.requests == 3 and stats.batch_subrequests == 45
    await runner.aclose()


async def test_concurrent_single_calls_share_a_batch():
    graph = ScriptedGraph(ok)
    runner, stats = runner_for(graph, max_concurrency=1)

    import asyncio

    await asyncio.gather(*(runner.run_one(SubRequest("GET", f"/users/u{n}")) for n in range(20)))

    assert stats.requests == 1
    await runner.aclose()


async def test_throttled_item_is_sent_again_after_retry_after_and_others_are_not():
    seen: dict[str, int] = {}

    def throttle_first_try(item):
        seen[item["url"]] = seen.get(item["url"], 0) + 1
        if item["url"] == "/groups/hot" and seen[item["url"]] == 1:
            return (
                429,
                {"Retry-After": "0.2"},
                error("TooManyRequests", "Please retry again later."),
            )
        return ok(item)

    graph = ScriptedGraph(throttle_first_try)
    runner, stats = runner_for(graph)
    started = time.monotonic()

    answers = await runner.run([SubRequest("GET", "/groups/hot"), SubRequest("GET", "/groups/x")])

    assert [a.status for a in answers] == [200, 200]
    assert seen == {"/groups/hot": 2, "/groups/x": 1}
    assert time.monotonic() - started >= 0.2
    assert stats.throttled_seen == 1 and stats.retries == 1
    await runner.aclose()


async def test_unavailable_and_failed_dependency_items_are_retried():
    tries: dict[str, int] = {}

    def flaky(item):
        tries[item["url"]] = tries.get(item["url"], 0) + 1
        if tries[item["url"]] == 1:
            status = 503 if item["url"] == "/a" else 424
            return status, {"Retry-After": "0"}, error("serviceUnavailable", "try later")
        return ok(item)

    graph = ScriptedGraph(flaky)
    runner, _ = runner_for(graph)

    answers = await runner.run([SubRequest("GET", "/a"), SubRequest("GET", "/b")])

    assert [a.status for a in answers] == [200, 200]
    assert tries == {"/a": 2, "/b": 2}
    await runner.aclose()


async def test_permanent_error_is_returned_with_its_item():
    def refuse_one(item):
        if item["url"] == "/groups/bad":
            return 400, {}, error("Request_BadRequest", "Invalid value")
        return ok(item)

    graph = ScriptedGraph(refuse_one)
    runner, stats = runner_for(graph)

    bad, good = await runner.run([SubRequest("GET", "/groups/bad"), SubRequest("GET", "/g")])

    assert (bad.status, bad.error.code, good.status) == (400, "Request_BadRequest", 200)
    assert stats.retries == 0
    await runner.aclose()


async def test_throttling_that_never_ends_gives_up_after_max_attempts():
    graph = ScriptedGraph(lambda item: (429, {"Retry-After": "0"}, error("TooManyRequests", "")))
    runner, stats = runner_for(graph, max_attempts=3)

    answer = await runner.run_one(SubRequest("GET", "/groups/g"))

    assert answer.status == 429
    assert stats.batch_subrequests == 3
    await runner.aclose()


async def test_batch_without_an_answer_is_sent_again():
    graph = ScriptedGraph(ok, outer=[httpx.ReadTimeout("slow")])
    runner, stats = runner_for(graph)

    answer = await runner.run_one(SubRequest("DELETE", "/groups/g/members/u/$ref"))

    assert answer.status == 200
    assert stats.requests == 2
    await runner.aclose()


async def test_whole_batch_throttled_is_retried_item_by_item():
    throttled = httpx.Response(429, headers={"Retry-After": "0"}, json=error("TooManyRequests", ""))
    graph = ScriptedGraph(ok, outer=[throttled])
    runner, stats = runner_for(graph)

    answers = await runner.run([SubRequest("GET", "/a"), SubRequest("GET", "/b")])

    assert [a.status for a in answers] == [200, 200]
    assert stats.throttled_seen == 2 and stats.requests == 2
    await runner.aclose()


async def test_not_found_on_a_replicating_group_is_retried_until_it_appears():
    visible_at = time.monotonic() + 0.5

    def lagging(item):
        if time.monotonic() < visible_at:
            return 404, {}, error("Request_ResourceNotFound", "Resource 'g1' does not exist")
        return ok(item)

    graph = ScriptedGraph(lagging)
    runner, _ = runner_for(graph)
    request = SubRequest("GET", "/groups/g1", lag_id="g1", lag_until=time.monotonic() + 10)

    answer = await runner.run_one(request)

    assert answer.status == 200
    await runner.aclose()


async def test_not_found_naming_another_object_is_not_waited_for():
    graph = ScriptedGraph(
        lambda item: (404, {}, error("Request_ResourceNotFound", "Resource 'u9' does not exist"))
    )
    runner, stats = runner_for(graph)
    request = SubRequest("POST", "/groups/g1/members/$ref", {}, lag_id="g1", lag_until=1e12)

    answer = await runner.run_one(request)

    assert answer.status == 404 and stats.retries == 0
    await runner.aclose()


async def test_writes_wait_for_the_budget_but_reads_do_not():
    graph = ScriptedGraph(ok)
    budget = WriteBudget(2, 0.5)
    runner, stats = runner_for(graph, budget=budget, max_concurrency=1)
    writes = [SubRequest("DELETE", f"/groups/g/members/u{n}/$ref") for n in range(4)]
    started = time.monotonic()

    import asyncio

    write_task = asyncio.ensure_future(runner.run(writes))
    await asyncio.sleep(0.05)
    read = await runner.run_one(SubRequest("GET", "/groups/g"))
    read_done = time.monotonic() - started
    await write_task

    assert read.status == 200 and read_done < 0.4
    assert time.monotonic() - started >= 0.5
    assert stats.writes == 4 and stats.paced_seconds > 0
    await runner.aclose()


def test_a_links_patch_is_budgeted_at_one_write_unit_per_three_links():
    links = [f"https://graph.microsoft.com/v1.0/directoryObjects/u{n}" for n in range(20)]
    patch = SubRequest("PATCH", "/groups/g", {"members@odata.bind": links})

    units = [patch.write_units, SubRequest("DELETE", "/x").write_units, SubRequest("GET", "/x")]

    assert [units[0], units[1], units[2].write_units] == [7, 1, 0]
