"""An admin's approval of a blocked export (X1): "this export's loss is real, sync it".

    approval = LossApproval(requested_by="it.admin@school.org")    # or with export_id="..."
    decision = await decide_approval(services, run, export_id, approval)

An approval names one export: the one given, or else the one the school's newest blocked run
recorded. It lifts the block only for a run reading that very export, so a later, different
export that loses too much is still blocked. It is not stored anywhere but in the run that
used it (who approved what is in the run's summary); the run then saves the export's figures
as the new last good ones, so the next nights compare with them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from shared.state import Run, RunStatus
from shared.usecases.services import Services

# How far back, in the school's runs, the blocked run an approval refers to is looked for.
BLOCKED_RUN_LOOKBACK = 50


@dataclass(frozen=True, slots=True)
class LossApproval:
    """Who approves, and the export approved (blank: the newest blocked run's export)."""

    # Limitation: `requested_by` is who the sender says approves; the admin API (behind its
    # function key) does not check it against a signed-in user, so the record is as honest as
    # the people who hold the key.

    requested_by: str
    export_id: str = ""


@dataclass(frozen=True, slots=True)
class ApprovalDecision:
    """Whether an approval lifts this run's block, and the record of it for the run summary."""

    applied: bool
    record: dict[str, Any]
    # Why it does not apply, with what to do instead; empty when it applies.
    reason: str = ""


def newest_blocked_run(services: Services, school_id: str, *, excluding: str = "") -> Run | None:
    """The school's newest run that the safety limits blocked and that recorded its export."""
    for run in services.state.list_runs(school_id, BLOCKED_RUN_LOOKBACK):
        blocked = run.status is RunStatus.BLOCKED and run.summary.get("export_id")
        if blocked and run.run_id != excluding:
            return run
    return None


async def decide_approval(
    services: Services, run: Run, export_id: str, approval: LossApproval
) -> ApprovalDecision:
    """Does `approval` cover `export_id`, the export this blocked run read?"""
    blocked_run = ""
    approved = approval.export_id
    if not approved:
        found = await asyncio.to_thread(
            newest_blocked_run, services, run.school_id, excluding=run.run_id
        )
        if found is not None:
            approved, blocked_run = found.summary["export_id"], found.run_id
    record = {
        "requested_by": approval.requested_by,
        "export_id": approved,
        "blocked_run": blocked_run,
        "applied": False,
    }
    if not approved:
        reason = (
            f"the loss approval by {approval.requested_by} names no export and school "
            f"{run.school_id} has no earlier blocked run to take it from; this run's export is "
            f"{export_id}: check it and approve it by its id"
        )
        return ApprovalDecision(False, record, reason)
    if approved != export_id:
        reason = (
            f"the loss approval by {approval.requested_by} is for export {approved}, but the "
            f"newest export is {export_id}: check export {export_id} and approve it if its loss "
            "is real"
        )
        return ApprovalDecision(False, record, reason)
    record["applied"] = True
    return ApprovalDecision(True, record)


def approval_not_needed(approval: LossApproval) -> dict[str, Any]:
    """The record of an approval sent for a run the safety limits did not block."""
    return {
        "requested_by": approval.requested_by,
        "export_id": approval.export_id,
        "blocked_run": "",
        "applied": False,
        "note": "not needed: the export is within the safety limits",
    }
