"""The write budget: at most `budget` writes in any window, a hold after throttling."""

from __future__ import annotations

from shared.graph.pacing import WriteBudget


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_full_window_is_spent_at_once_then_writes_wait_for_the_oldest_to_expire():
    clock = FakeClock()
    budget = WriteBudget(20, 10.0, clock)
    budget.try_spend(15)
    clock.now += 4
    budget.try_spend(5)

    wait = budget.try_spend(10)

    assert wait == 6.0
    assert budget.available() == 0


def test_writes_fit_again_once_the_window_has_moved_on():
    clock = FakeClock()
    budget = WriteBudget(20, 10.0, clock)
    budget.try_spend(20)
    clock.now += 10

    wait = budget.try_spend(20)

    assert wait == 0.0
    assert budget.available() == 0


def test_no_window_ever_holds_more_than_the_budget():
    clock = FakeClock()
    budget = WriteBudget(7, 3.0, clock)
    spent_at: list[float] = []
    for _ in range(200):
        if budget.try_spend(2) == 0.0:
            spent_at += [clock.now, clock.now]
        clock.now += 0.25

    busiest = max(sum(1 for t in spent_at if start <= t < start + 3.0) for start in spent_at)

    assert busiest <= 7
    assert len(spent_at) > 100


def test_a_hold_stops_all_writes_until_it_ends():
    clock = FakeClock()
    budget = WriteBudget(100, 10.0, clock)

    budget.hold(5.0)

    assert budget.try_spend(1) == 5.0
    clock.now += 5.0
    assert budget.try_spend(1) == 0.0


def test_gateways_in_one_process_share_one_budget():
    WriteBudget.forget_process_budgets()

    first = WriteBudget.for_process("https://graph.example/v1.0", 50, 150.0)
    second = WriteBudget.for_process("https://graph.example/v1.0", 50, 150.0)

    assert first is second
    assert WriteBudget.for_process("https://other.example/v1.0", 50, 150.0) is not first
