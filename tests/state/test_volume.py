"""School-sized volumes against Azurite: 2,000 user links, 300 mappings and 300 group results,
with the timings printed (`pytest tests/state/test_volume.py -m slow -s`) and the request counts
asserted."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from shared.state import Mapping, MappingState, RunGroupResult, UserLink

pytestmark = pytest.mark.slow

NOW = datetime(2026, 12, 3, 1, 30, tzinfo=UTC)


def test_2000_user_links_take_20_transactions_and_read_back(store, monkeypatch):
    links = [
        UserLink(f"P{n}", f"{n:08d}-0000-4000-8000-{n:012d}", f"p{n}@x", NOW) for n in range(2000)
    ]
    calls: list[int] = []
    client = store._table("UserLinks")
    submit = client.submit_transaction
    monkeypatch.setattr(client, "submit_transaction", lambda ops: calls.append(1) or submit(ops))

    started = time.perf_counter()
    store.save_user_links("4001", links)
    saved = time.perf_counter() - started
    started = time.perf_counter()
    read = store.get_user_links("4001")
    listed = time.perf_counter() - started

    print(f"\nsave 2,000 user links: {saved * 1000:.0f} ms; read them: {listed * 1000:.0f} ms")
    assert len(calls) == 20
    assert len(read) == 2000


def test_300_mappings_are_listed_whole(store):
    store.save_mappings(
        Mapping("4001", f"{n:03d}/Ma", 2025, graph_id=f"g{n}", state=MappingState.ACTIVE,
                sync_owners={f"owner-{n % 7}"})
        for n in range(300)
    )  # fmt: skip

    started = time.perf_counter()
    mappings = store.list_mappings("4001")
    listed = time.perf_counter() - started

    print(f"\nlist 300 mappings: {listed * 1000:.0f} ms")
    assert len(mappings) == 300


def test_300_group_results_take_3_transactions_instead_of_300_requests(store, monkeypatch):
    rows = [
        RunGroupResult("4001", run_id, f"{n:03d}/Ma", display_name=f"{n:03d}/Ma 4001 2025",
                       outcome="in line", not_matched=n % 3)
        for run_id in ("one-by-one", "batched")
        for n in range(300)
    ]  # fmt: skip
    client = store._table("RunGroups")
    requests: list[str] = []
    upsert, submit = client.upsert_entity, client.submit_transaction
    monkeypatch.setattr(
        client, "upsert_entity", lambda *a, **k: requests.append("row") or upsert(*a, **k)
    )
    monkeypatch.setattr(
        client, "submit_transaction", lambda ops: requests.append("tx") or submit(ops)
    )

    started = time.perf_counter()
    for row in rows[:300]:
        store.record_group_result(row)
    one_by_one = time.perf_counter() - started
    started = time.perf_counter()
    store.record_group_results(rows[300:])
    batched = time.perf_counter() - started

    print(f"\n300 group results: one by one {one_by_one * 1000:.0f} ms in 300 requests; "
          f"batched {batched * 1000:.0f} ms in 3 transactions")  # fmt: skip
    assert requests.count("row") == 300
    assert requests.count("tx") == 3
    assert len(store.list_group_results("4001", "batched")) == 300
