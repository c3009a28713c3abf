"""Bringing one group in line with its plan: the work of one `group-reconcile` message.

    result = await reconcile_group(services, message)

Safe to run twice, even at the same moment: the mapping is created with ETag concurrency, the
group is created by its stable key (never a duplicate), and adding a member who is already
there or removing one who is not counts as done. Planning happened in the school run
(`planning.py`); this module only applies.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import replace
from datetime import datetime

from shared.domain.naming import mail_nickname
from shared.graph import GroupSpec, ItemFailure, MembershipChange, NicknameTaken
from shared.graph.models import MAX_LINKS_PER_REQUEST
from shared.messages.schemas import GroupReconcile, InvalidMessage
from shared.planner import GroupPlan
from shared.state import ConcurrencyError, Mapping, MappingState, RunGroupResult
from shared.usecases.errors import TransientError
from shared.usecases.planning import REPLICATION_GRACE
from shared.usecases.services import Services

log = logging.getLogger(__name__)

# A nickname clash with a group outside the school gets the next suffix; this many tries.
MAX_NICKNAME_ATTEMPTS = 10
# Two deliveries racing on one mapping settle within a few re-reads.
MAX_MAPPING_WRITE_ATTEMPTS = 5


async def reconcile_group(services: Services, message: GroupReconcile) -> RunGroupResult:
    """Create the group if needed, apply the plan's changes, record what happened."""
    try:
        plan = GroupPlan.from_dict(message.plan)
    except (KeyError, ValueError) as error:
        raise InvalidMessage(f"the plan in the message cannot be read: {error}") from error
    started_at = services.clock()
    started = time.monotonic()
    result = RunGroupResult(
        school_id=message.school_id,
        run_id=message.run_id,
        mis_group_id=message.mis_group_id,
        display_name=message.display_name,
        not_matched=message.not_matched,
        started_at=started_at,
    )

    # 1. The mapping first, so that a crash after the Graph create still leaves a trace.
    mapping = await _get_or_create_mapping(services, message)
    if _left_deleted(mapping, message):
        result.outcome = "deleted on demand"
        return await _record(services, result, started)

    # 2. The group, created by its stable key if the mapping has none (or it must be recreated).
    bound: set[str] = set()
    if not mapping.graph_id or _recreating(mapping, message):
        mapping, created, bound, failures = await _ensure_group(services, message, mapping, plan)
        result.created = created
        _note_failures(result, failures)
        if _left_deleted(mapping, message):
            # Limitation: a group this delivery created just as a delete on demand marked the
            # mapping stays in Microsoft 365, unmapped, until an admin deletes it.
            result.outcome = "deleted on demand"
            return await _record(services, result, started)
    elif _recently_created(mapping, started_at):
        # Created by another delivery or process moments ago: a 404 now means "not yet".
        services.graph.expect_replication(mapping.graph_id)

    # 3. The changes, owners in first and out last (the gateway applies them in that order).
    change = MembershipChange(
        group_id=mapping.graph_id,
        add_owners=tuple(owner for owner in plan.add_owners if owner not in bound),
        add_members=plan.add_members,
        remove_members=plan.remove_members,
        remove_owners=plan.remove_owners,
        education=message.education,
    )
    failures: list[ItemFailure] = []
    if not change.empty:
        failures = list(await services.graph.apply_changes([change]))
    if any(failure.group_missing for failure in failures):
        # A new group still replicating: nothing was lost, try the whole message later.
        raise TransientError(
            f"group {mapping.graph_id} (MIS {message.mis_group_id}) is not visible to Graph yet"
        )
    _note_failures(result, failures)
    _count_done(result, plan, failures, bound)

    # 4. What the sync now owns and holds, for the next run's plan and the admin.
    await _settle_mapping(services, message, mapping, plan, failures)
    result.held_removals = len(plan.held_members)
    result.outcome = _outcome(result, plan)
    await _record(services, result, started)
    if any(failure.transient for failure in failures):
        raise TransientError(
            f"group {mapping.graph_id}: {sum(f.transient for f in failures)} changes throttled "
            "or failed transiently; the message is retried"
        )
    return result


async def _get_or_create_mapping(services: Services, message: GroupReconcile) -> Mapping:
    state = services.state
    key = (message.school_id, message.mis_group_id, message.academic_year)
    mapping = await asyncio.to_thread(state.get_mapping, *key)
    if mapping is not None:
        return mapping
    fresh = Mapping(
        school_id=message.school_id,
        mis_group_id=message.mis_group_id,
        academic_year=message.academic_year,
        unique_key=message.unique_key,
        kind=message.kind,
        name_at_creation=message.display_name,
        mail_nickname=message.mail_nickname,
        state=MappingState.CREATING,
        on_demand=message.on_demand,
        requested_by=message.requested_by,
        description=message.description,
        visibility=message.visibility,
        lifetime=message.lifetime,
    )
    try:
        return await asyncio.to_thread(state.create_mapping, fresh)
    except ConcurrencyError:
        # Another delivery created it a moment ago; carry on with theirs.
        mapping = await asyncio.to_thread(state.get_mapping, *key)
        if mapping is None:  # pragma: no cover - created and deleted within one moment
            raise TransientError("the mapping vanished while being created") from None
        return mapping


def _left_deleted(mapping: Mapping, message: GroupReconcile) -> bool:
    """Deleted on demand after the run planned it: the nightly sync leaves it deleted (G6)."""
    return (
        mapping.state is MappingState.DELETED_ON_DEMAND
        and not mapping.allow_recreate
        and not message.on_demand
    )


def _recently_created(mapping: Mapping, now: datetime) -> bool:
    return mapping.created_at is not None and now - mapping.created_at < REPLICATION_GRACE


def _recreating(mapping: Mapping, message: GroupReconcile) -> bool:
    if mapping.state not in (MappingState.DELETED_ON_DEMAND, MappingState.MISSING):
        return False
    return mapping.allow_recreate or message.on_demand


async def _ensure_group(
    services: Services,
    message: GroupReconcile,
    mapping: Mapping,
    plan: GroupPlan,
) -> tuple[Mapping, bool, set[str], tuple[ItemFailure, ...]]:
    """Create the group (or find the one an earlier delivery created) and record its id."""
    unique = mapping.unique_key or message.unique_key
    if mapping.graph_id and _recreating(mapping, message):
        # The old group is gone but may still hold its key while soft-deleted; a new key,
        # derived from the old id so that racing deliveries agree on it.
        generation = hashlib.sha256(mapping.graph_id.encode()).hexdigest()[:6]
        unique = f"{message.unique_key}-r{generation}"
    # App-only creation needs an owner bound at creation, or the group is created without any.
    owners = tuple(plan.add_owners[:MAX_LINKS_PER_REQUEST])
    nickname = mapping.mail_nickname or message.mail_nickname
    refused: set[str] = set()
    for _ in range(MAX_NICKNAME_ATTEMPTS):
        spec = GroupSpec(
            unique_name=unique,
            display_name=message.display_name,
            mail_nickname=nickname,
            description=message.description,
            visibility=message.visibility,
            education=message.education,
            owners=owners,
        )
        try:
            ensured = await services.graph.ensure_group(spec)
            break
        except NicknameTaken:
            refused.add(nickname.lower())
            nickname = mail_nickname(message.display_name, refused)
    else:
        raise TransientError(
            f"no free mail nickname for {message.display_name!r} after {MAX_NICKNAME_ATTEMPTS} "
            "tries; rename the clashing groups in Microsoft 365 or the MIS group"
        )
    if ensured.created:
        log.info("school %s: group %s created", message.school_id, ensured.id)

    def settle(current: Mapping) -> Mapping:
        return replace(
            current,
            graph_id=ensured.id,
            unique_key=unique,
            mail_nickname=nickname,
            name_at_creation=message.display_name,
            state=MappingState.ACTIVE,
            allow_recreate=False,
        )

    mapping = await _update_mapping(services, message, mapping, settle)
    return mapping, ensured.created, set(owners), ensured.failures


async def _settle_mapping(
    services: Services,
    message: GroupReconcile,
    mapping: Mapping,
    plan: GroupPlan,
    failures: list[ItemFailure],
) -> None:
    """Record the owners the sync now owns (O7) and the removals held back (X2)."""
    failed_adds = {f.user_id for f in failures if f.operation == "add_owner"}
    failed_removals = {f.user_id for f in failures if f.operation == "remove_owner"}
    kept = {plan.kept_last_owner} if plan.kept_last_owner else set()
    owners = (set(plan.sync_owners) - failed_adds) | (failed_removals & set(plan.remove_owners))
    owners |= kept & mapping.sync_owners

    def settle(current: Mapping) -> Mapping:
        return replace(
            current,
            sync_owners=owners,
            held_removals=set(plan.held_members),
            state=MappingState.ACTIVE,
        )

    await _update_mapping(services, message, mapping, settle)


async def _update_mapping(
    services: Services, message: GroupReconcile, mapping: Mapping, change
) -> Mapping:
    """Apply `change` to the mapping with ETag concurrency, re-reading after a lost race. A
    mapping deleted on demand meanwhile is returned as it is: the delete wins (G6)."""
    for _ in range(MAX_MAPPING_WRITE_ATTEMPTS):
        try:
            return await asyncio.to_thread(services.state.update_mapping, change(mapping))
        except ConcurrencyError:
            fresh = await asyncio.to_thread(
                services.state.get_mapping,
                mapping.school_id,
                mapping.mis_group_id,
                mapping.academic_year,
            )
            if fresh is None:  # pragma: no cover - mappings are never deleted
                raise
            if _left_deleted(fresh, message):
                log.info(
                    "school %s: MIS group %s deleted on demand during its reconcile; left so",
                    fresh.school_id,
                    fresh.mis_group_id,
                )
                return fresh
            mapping = fresh
    raise TransientError(
        f"the mapping of MIS group {mapping.mis_group_id} kept changing under this update"
    )


def _count_done(
    result: RunGroupResult, plan: GroupPlan, failures: list[ItemFailure], bound: set[str]
) -> None:
    failed = {(f.operation, f.user_id) for f in failures}

    def done(operation: str, ids: tuple[str, ...]) -> int:
        return sum(1 for user_id in ids if (operation, user_id) not in failed)

    result.owners_added = done("add_owner", plan.add_owners)
    result.members_added = done("add_member", plan.add_members)
    result.members_removed = done("remove_member", plan.remove_members)
    result.owners_removed = done("remove_owner", plan.remove_owners)


def _note_failures(result: RunGroupResult, failures: tuple[ItemFailure, ...] | list) -> None:
    for failure in failures:
        if failure.last_owner:
            continue  # the last owner stays by design; not an error for the admin
        who = f" user {failure.user_id}" if failure.user_id else ""
        result.errors.append(
            f"{failure.operation}{who}: {failure.status} {failure.code} {failure.message}"[:500]
        )


def _outcome(result: RunGroupResult, plan: GroupPlan) -> str:
    if result.errors:
        return "partly applied"
    if result.created:
        return "created"
    if plan.held_members:
        return "removals held"
    return "updated"


async def _record(services: Services, result: RunGroupResult, started: float) -> RunGroupResult:
    result.finished_at = services.clock()
    result.seconds = round(time.monotonic() - started, 3)
    await asyncio.to_thread(services.state.record_group_result, result)
    log.info(
        "school %s run %s group %s: %s (+%d/-%d members, +%d/-%d owners, %d held, %d errors)",
        result.school_id,
        result.run_id,
        result.mis_group_id,
        result.outcome,
        result.members_added,
        result.members_removed,
        result.owners_added,
        result.owners_removed,
        result.held_removals,
        len(result.errors),
    )
    return result
