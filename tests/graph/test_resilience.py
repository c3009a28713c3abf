"""Under injected faults and a tight write quota the gateway still converges, and its pacing
keeps it clear of 429s."""

from __future__ import annotations

import asyncio
import time

from shared.graph import GroupSpec, MembershipChange
from shared.graph.pacing import WriteBudget

GROUPS = 8


async def test_a_sync_under_throttling_and_outages_reaches_the_right_state(emulator, gateway_for):
    ids = emulator.seed_users(60)
    emulator.configure(fail_429=0.1, fail_503=0.05, drop=0.02, seed=11)
    gateway = gateway_for(max_attempts=12, max_retry_wait_seconds=2.0)
    keys = [f"sync-f{n}" for n in range(GROUPS)]
    owners = {key: ids[n : n + 2] for n, key in enumerate(keys)}
    members = {key: ids[10 + n : 50 + n] for n, key in enumerate(keys)}
    leaver = {key: ids[10 + n] for n, key in enumerate(keys)}

    ensured = await asyncio.gather(
        *(gateway.ensure_group(GroupSpec(k, k, k, owners=(owners[k][0],))) for k in keys)
    )
    group_ids = {key: e.id for key, e in zip(keys, ensured, strict=True)}
    failures = await gateway.apply_changes(
        [
            MembershipChange(
                group_ids[k], add_owners=tuple(owners[k]), add_members=tuple(members[k])
            )
            for k in keys
        ]
    )
    failures += await gateway.apply_changes(
        [MembershipChange(group_ids[k], remove_members=(leaver[k],)) for k in keys]
    )
    read = await gateway.read_memberships(list(group_ids.values()))

    emulator.configure(fail_429=0, fail_503=0, drop=0)
    state = emulator.groups()
    assert failures == []
    assert len(state) == GROUPS
    for key in keys:
        group = state[group_ids[key]]
        assert set(group["owners"]) == set(owners[key])
        assert set(group["members"]) == set(members[key]) - {leaver[key]}
        assert read[group_ids[key]].members == set(group["members"])
    assert emulator.counters()["faults"] > 0 and gateway.stats.retries > 0


async def test_pacing_keeps_a_burst_of_writes_inside_the_quota_without_429s(emulator, gateway_for):
    emulator.configure(write_quota=20, write_window=2.0)
    gateway = gateway_for(budget=WriteBudget(19, 2.0))
    started = time.monotonic()

    await asyncio.gather(
        *(gateway.ensure_group(GroupSpec(f"sync-p{n}", "P", f"p{n}")) for n in range(45))
    )

    elapsed = time.monotonic() - started
    assert emulator.counters()["throttled"] == 0
    assert len(emulator.groups()) == 45
    assert elapsed >= 2 * 2.0  # 19 now, 19 after one window, 7 after two
    assert gateway.stats.paced_seconds > 0
