"""A stale MIS export (an ended academic year, or taken too long ago) is synced with a warning."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from local.sample_school import generate_school
from shared.cli import main
from shared.state import RunStatus
from shared.usecases.dispatch import reconcile_inline
from shared.usecases.freshness import STALE_EXPORT_AGE, stale_export_warnings
from shared.usecases.school_run import run_school
from tests.usecases.conftest import EXPORTS_START, SCHOOL_STUDENTS

TAKEN = datetime(2025, 9, 20, 22, 0, tzinfo=UTC)


def test_an_export_of_the_current_year_taken_last_night_is_fresh():
    warnings = stale_export_warnings("e1", TAKEN, 2025, TAKEN + timedelta(hours=4))

    assert warnings == []


def test_an_export_whose_academic_year_ended_before_the_run_is_stale():
    warnings = stale_export_warnings("e1", TAKEN, 2024, TAKEN + timedelta(hours=4))

    assert len(warnings) == 1
    assert "2024/25, which ended on 2025-08-31" in warnings[0]


def test_an_academic_year_lasts_until_the_end_of_august():
    last_day = datetime(2026, 8, 31, 23, 0, tzinfo=UTC)

    assert stale_export_warnings("e1", last_day, 2025, last_day) == []
    assert stale_export_warnings("e1", last_day, 2025, last_day + timedelta(hours=2))


def test_an_export_older_than_the_allowed_age_is_stale():
    now = TAKEN + STALE_EXPORT_AGE + timedelta(days=3)

    warnings = stale_export_warnings("e1", TAKEN, 2025, now)

    assert len(warnings) == 1
    assert f"10 days before this run (more than {STALE_EXPORT_AGE.days})" in warnings[0]


async def test_an_old_export_is_synced_with_a_warning_in_the_report_and_one_log_line(
    stack, caplog, monkeypatch, capsys
):
    ten_days_on = EXPORTS_START + timedelta(days=10)
    caplog.set_level(logging.WARNING, logger="shared.usecases.school_run")
    for name, value in stack.env.items():
        monkeypatch.setenv(name, value)

    run = await night_at(stack, ten_days_on)
    main(["report", "--school", stack.school_id])

    assert run.status is RunStatus.DONE
    assert run.summary["dispatched"] > 0
    (warning,) = run.summary["warnings"]
    assert "days before this run" in warning
    assert f"warning: {warning}" in capsys.readouterr().out
    stale_lines = [r for r in caplog.records if "stale" in r.getMessage()]
    assert len(stale_lines) == 1
    assert stale_lines[0].levelno == logging.WARNING
    assert stack.school_id in stale_lines[0].getMessage()


async def test_an_export_of_an_ended_academic_year_is_synced_with_a_warning(stack):
    stack.upload(generate_school(SCHOOL_STUDENTS, seed=1, academic_year_start=2024))

    run = await night_at(stack, EXPORTS_START + timedelta(days=1))

    assert run.status is RunStatus.DONE
    (warning,) = run.summary["warnings"]
    assert "academic year 2024/25" in warning


async def test_a_fresh_export_of_the_current_year_carries_no_warning(stack):
    run = await night_at(stack, EXPORTS_START + timedelta(days=1))

    assert run.status is RunStatus.DONE
    assert "warnings" not in run.summary


async def night_at(stack, now: datetime):
    """A nightly run of the stack's school with the clock at `now`, reconciling inline."""
    services = stack.services(clock=lambda: now)
    try:
        return await run_school(
            services, stack.school_id, "night-1", "nightly", reconcile_inline(services)
        )
    finally:
        await services.graph.aclose()
