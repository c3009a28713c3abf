"""One school's run: read and check its MIS export, plan every group, hand on the drifted ones.

    run = await run_school(services, "4001", "2025-09-14", "nightly", send_to_queue(services))
    run = await run_school(..., accept_loss=LossApproval("it.admin@school.org"))  # past X1

The steps are ordered so that nothing in Microsoft 365 changes before the export has been read
and checked (I4, X1): this module writes only to the state store and hands each group that must
change to `dispatch`, which reconciles it (see `reconcile.py`). Reading and planning live in
`planning.py`, shared with the on-demand commands.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace
from typing import Any

from shared.domain.settings import SchoolSettings
from shared.mis import MisExportError
from shared.planner import SnapshotFigures, check_school
from shared.state import ConcurrencyError, Run, RunStatus, SchoolRecord
from shared.usecases.approval import LossApproval, approval_not_needed, decide_approval
from shared.usecases.dispatch import Dispatch
from shared.usecases.errors import CommandRejected
from shared.usecases.freshness import stale_export_warnings
from shared.usecases.planning import (
    ExportRead,
    GroupWork,
    NoExport,
    SchoolPlan,
    load_school,
    plan_school,
    read_export,
    school_settings,
)
from shared.usecases.services import Services

log = logging.getLogger(__name__)

# A run in one of these states has done its work; a redelivered message for it does nothing.
FINISHED = frozenset({RunStatus.DONE, RunStatus.BLOCKED, RunStatus.FAILED, RunStatus.PLANNED})


async def run_school(
    services: Services,
    school_id: str,
    run_id: str,
    trigger: str,
    dispatch: Dispatch,
    *,
    only_group: str | None = None,
    release_held: bool = False,
    accept_loss: LossApproval | None = None,
) -> Run:
    """Run one school, or one of its groups (`only_group`, an MIS group id), and return the run.

    `accept_loss` lets the run past the school's safety limits (X1) if it reads the export the
    approval names (see `approval.py`). Idempotent per run id: a run that already finished is
    returned as it is.
    """
    school = await asyncio.to_thread(load_school, services, school_id)
    now = services.clock()
    run = await asyncio.to_thread(
        services.state.start_run, school_id, run_id, trigger, started_at=now
    )
    if run.status in FINISHED:
        log.info("school %s: run %s already %s; nothing to do", school_id, run_id, run.status)
        return run
    try:
        settings = school_settings(school)
    except CommandRejected as error:
        return await finish_run(services, run, RunStatus.FAILED, {}, error=str(error))
    if not (school.enabled and settings.enabled) and trigger == "nightly":
        return await finish_run(services, run, RunStatus.DONE, {"skipped": "school disabled"})

    timings: dict[str, float] = {}
    started = time.monotonic()

    # 1. The export, read and validated: a located error stops the run before any change.
    try:
        export = await read_export(services, school_id, settings)
    except NoExport as error:
        return await finish_run(services, run, RunStatus.FAILED, {}, error=str(error))
    except MisExportError as error:
        summary = {"problems": [problem.to_dict() for problem in error.problems]}
        log.warning("school %s: MIS export rejected (%d problems)", school_id, len(error.problems))
        return await finish_run(services, run, RunStatus.FAILED, summary, error=str(error))
    timings["read_export"] = _since(started)
    snapshot, export_id = export.snapshot, export.export_id
    summary: dict[str, Any] = {"export_id": export_id}
    if only_group is not None and only_group not in snapshot.groups:
        # Checked before any directory or Graph read: a retry could never find it either.
        error = (
            f"MIS group {only_group!r} is not in school {school_id}'s newest export "
            f"({export_id}); choose a group from the current export"
        )
        return await finish_run(services, run, RunStatus.FAILED, summary, error=error)

    # A stale export is synced all the same, but the admin is told (in the report and the log).
    _warn_if_stale(services, school_id, export, summary)

    # 2. X1: a snapshot that lost too much against the last good one changes nothing, unless
    # an admin approved this very export.
    figures = SnapshotFigures.of(snapshot)
    block = await _safety_block(services, run, school, export_id, figures, settings, accept_loss)
    summary.update(block.summary)
    if block.reason:
        return await finish_run(services, run, RunStatus.BLOCKED, summary, error=block.reason)

    # 3. People, desired groups and the groups' current state, planned group by group.
    plan = await plan_school(
        services,
        school_id,
        run_id,
        snapshot,
        settings,
        only_group=only_group,
        release_held=release_held,
    )
    if only_group is not None and not plan.work and not plan.skipped:
        error = (
            f"MIS group {only_group!r} of school {school_id} is of a kind that is neither "
            "enabled nor already synced; create it on demand instead"
        )
        return await finish_run(services, run, RunStatus.FAILED, summary, error=error)
    timings.update(plan.timings)
    summary.update(plan.summary())

    # 4. Preview only (X3): record the plans, change nothing.
    if settings.preview_only:
        await _record_plans(services, run, plan, outcome="preview")
        summary["timings"] = timings
        await _save_last_good(services, school_id, figures, only_group)
        return await finish_run(services, run, RunStatus.PLANNED, summary)

    # 5. Groups already in line, missing or skipped are recorded here; the rest are handed on.
    await _record_plans(services, run, plan, outcome=None)
    dispatch_started = time.monotonic()
    drifted = [work.message for work in plan.work if work.message is not None]
    summary["dispatched"] = await dispatch(drifted)
    timings["dispatch"] = _since(dispatch_started)
    timings["total"] = _since(started)
    summary["timings"] = timings

    await _save_last_good(services, school_id, figures, only_group)
    run = await finish_run(services, run, RunStatus.DONE, summary)
    log.info(
        "school %s: run %s planned %d groups, dispatched %d, in line %d, missing %d",
        school_id,
        run_id,
        len(plan.work),
        summary["dispatched"],
        summary["groups_in_line"],
        summary["groups_missing"],
    )
    return run


@dataclass(frozen=True, slots=True)
class _SafetyBlock:
    """The X1 check's outcome: the reason the run is blocked (empty if it may go on) and what
    the run summary records of it."""

    reason: str
    summary: dict[str, Any]


async def _safety_block(
    services: Services,
    run: Run,
    school: SchoolRecord,
    export_id: str,
    figures: SnapshotFigures,
    settings: SchoolSettings,
    approval: LossApproval | None,
) -> _SafetyBlock:
    last_good = SnapshotFigures.from_dict(school.last_good) if school.last_good else None
    check = check_school(last_good, figures, settings.safety)
    summary: dict[str, Any] = {"figures": figures.to_dict(), "check": check.to_dict()}
    if not check.blocked:
        if approval is not None:
            summary["loss_approval"] = approval_not_needed(approval)
        return _SafetyBlock("", summary)
    if approval is None:
        log.warning("school %s: run %s blocked by the safety limits", run.school_id, run.run_id)
        how = (
            f" To approve export {export_id}: groupsync sync --school {run.school_id} "
            "--accept-loss, or POST a sync-school command with accept_loss and requested_by "
            "to the admin API."
        )
        return _SafetyBlock(check.reason + how, summary)

    decision = await decide_approval(services, run, export_id, approval)
    summary["loss_approval"] = decision.record
    if not decision.applied:
        log.warning(
            "school %s: run %s blocked; the loss approval does not cover export %s",
            run.school_id,
            run.run_id,
            export_id,
        )
        return _SafetyBlock(
            f"{check.reason} The approval does not apply: {decision.reason}.", summary
        )
    log.info(
        "school %s: run %s goes past the safety limits: export %s approved",
        run.school_id,
        run.run_id,
        export_id,
    )
    return _SafetyBlock("", summary)


def _warn_if_stale(
    services: Services, school_id: str, export: ExportRead, summary: dict[str, Any]
) -> None:
    warnings = stale_export_warnings(
        export.export_id,
        export.exported_at,
        export.snapshot.academic_year_start,
        services.clock(),
    )
    if warnings:
        summary["warnings"] = warnings
        log.warning(
            "school %s: MIS export %s is stale: %s",
            school_id,
            export.export_id,
            "; ".join(warnings),
        )


async def _record_plans(
    services: Services, run: Run, plan: SchoolPlan, *, outcome: str | None
) -> None:
    """Write a result row for every group this step decided about.

    With `outcome` None (a real run), a group with changes is left to its reconcile, which
    records what it did; in preview every group's plan is recorded as planned.
    """
    rows = [
        work.result(outcome or work.outcome)
        for work in plan.work
        if outcome is not None or work.message is None
    ]
    rows.extend(plan.skipped)
    # In transactions of 100: a quiet night of a large school is a few requests, not hundreds.
    await asyncio.to_thread(services.state.record_group_results, rows)


async def _save_last_good(
    services: Services, school_id: str, figures: SnapshotFigures, only_group: str | None
) -> None:
    """The run got past the safety limits: its figures are the next runs' baseline."""
    if only_group is not None:
        return
    try:
        await asyncio.to_thread(services.state.save_last_good, school_id, figures.to_dict(), None)
    except ConcurrencyError:  # pragma: no cover - written unconditionally (no ETag)
        log.warning("school %s: last good figures not saved; another writer won", school_id)


async def finish_run(
    services: Services,
    run: Run,
    status: RunStatus,
    summary: dict[str, Any],
    *,
    error: str = "",
) -> Run:
    finished = replace(
        run,
        status=status,
        summary={**run.summary, **summary},
        error=error,
        finished_at=services.clock(),
    )
    try:
        return await asyncio.to_thread(services.state.update_run, finished)
    except ConcurrencyError:
        # Another delivery of the same message finished the run first; its record stands.
        stored = await asyncio.to_thread(services.state.get_run, run.school_id, run.run_id)
        return stored or finished


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)


__all__ = ["FINISHED", "GroupWork", "finish_run", "run_school"]
