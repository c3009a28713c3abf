"""Applying owner and member changes to groups, in the order Graph needs and at the fewest
writes: links are added 20 to a PATCH, and one by one only when a PATCH is refused as a whole.

The order, per group: add owners, add members, then remove members, then remove owners, so a
group is never left without its new owners while old ones go (Graph refuses to remove the last
owner); if an owner add fails, the group's owner removals are put off, as transient failures.
Groups are worked on side by side; the batch runner packs their requests together.
What counts as done: a link that already exists, a removal of a link that is not there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from shared.graph.batch import BatchRunner, SubRequest, SubResponse
from shared.graph.errors import (
    is_absent_link,
    is_duplicate_link,
    is_link_quota,
    is_missing_reference,
)
from shared.graph.models import MAX_LINKS_PER_REQUEST, ItemFailure, MembershipChange

log = logging.getLogger(__name__)

# A bind PATCH on a group created moments ago may answer 400 "do not exist" while the group
# replicates; try the PATCH again this many times before going link by link.
NEW_GROUP_PATCH_RETRIES = 3
NEW_GROUP_PATCH_BACKOFF_SECONDS = 2.0

# The status of a change that was not sent; `is_transient` counts it as worth another try.
NOT_ATTEMPTED_STATUS = 0
PUT_OFF_FOR_GOOD_STATUS = 409

ADD_OPERATION = {"owners": "add_owner", "members": "add_member"}
REMOVE_OPERATION = {"owners": "remove_owner", "members": "remove_member"}

LagFor = Callable[[str], dict[str, Any]]  # group id -> SubRequest lag fields (or {})


class LinkWriter:
    def __init__(self, runner: BatchRunner, base_url: str, lag_for: LagFor) -> None:
        self._runner = runner
        self._base_url = base_url
        self._lag_for = lag_for

    async def apply(self, changes: Sequence[MembershipChange]) -> list[ItemFailure]:
        work = [change for change in changes if not change.empty]
        results = await asyncio.gather(*(self._apply_to_group(change) for change in work))
        failures = [failure for result in results for failure in result]
        log.info(
            "applied link changes to %d groups: %d links added, %d removed, %d refused",
            len(work),
            sum(len(c.add_owners) + len(c.add_members) for c in work),
            sum(len(c.remove_members) + len(c.remove_owners) for c in work),
            len(failures),
        )
        return failures

    async def _apply_to_group(self, change: MembershipChange) -> list[ItemFailure]:
        group_id = change.group_id
        links = [("owners", u) for u in change.add_owners]
        links += [("members", u) for u in change.add_members]
        chunks = [
            links[start : start + MAX_LINKS_PER_REQUEST]
            for start in range(0, len(links), MAX_LINKS_PER_REQUEST)
        ]
        added = await asyncio.gather(*(self._add_chunk(group_id, chunk) for chunk in chunks))
        failures = [failure for result in added for failure in result]
        # Removals only after every add, and owners last: see the module docstring.
        failures += await self._remove(group_id, "members", change.remove_members)
        owner_adds_failed = [f for f in failures if f.operation == ADD_OPERATION["owners"]]
        if owner_adds_failed:
            # Old owners go only once the new ones are in place: leave them for a later try,
            # retried soon only if the add itself may work soon.
            log.debug("group %s: owner removals put off, an owner add failed", group_id)
            retry_soon = all(failure.transient for failure in owner_adds_failed)
            return failures + [
                _put_off(group_id, user_id, retry_soon) for user_id in change.remove_owners
            ]
        failures += await self._remove(group_id, "owners", change.remove_owners)
        return failures

    async def _add_chunk(self, group_id: str, chunk: list[tuple[str, str]]) -> list[ItemFailure]:
        body: dict[str, list[str]] = {}
        for kind, user_id in chunk:
            body.setdefault(f"{kind}@odata.bind", []).append(self._object_url(user_id))
        request = SubRequest("PATCH", f"/groups/{group_id}", body, **self._lag_for(group_id))
        answer = await self._runner.run_one(request)
        retries = NEW_GROUP_PATCH_RETRIES if request.lag_id else 0
        for attempt in range(retries):
            if not is_missing_reference(answer.status, answer.error):
                break
            await asyncio.sleep(NEW_GROUP_PATCH_BACKOFF_SECONDS * 2**attempt)
            answer = await self._runner.run_one(request)
        if answer.ok:
            return []
        error = answer.error
        if (
            is_duplicate_link(answer.status, error)
            or is_link_quota(answer.status, error)
            or is_missing_reference(answer.status, error)
            or (answer.status == 404 and group_id not in error.message)
        ):
            # All-or-nothing PATCH: one existing link, one user too many for the owner cap, or
            # one unknown user refuses all 20, so find out link by link.
            return await self._add_one_by_one(group_id, chunk)
        return [_failure(group_id, ADD_OPERATION[kind], uid, answer) for kind, uid in chunk]

    async def _add_one_by_one(
        self, group_id: str, chunk: list[tuple[str, str]]
    ) -> list[ItemFailure]:
        lag = self._lag_for(group_id)
        requests = [
            SubRequest(
                "POST",
                f"/groups/{group_id}/{kind}/$ref",
                {"@odata.id": self._object_url(user_id)},
                **lag,
            )
            for kind, user_id in chunk
        ]
        answers = await self._runner.run(requests)
        return [
            _failure(group_id, ADD_OPERATION[kind], user_id, answer)
            for (kind, user_id), answer in zip(chunk, answers, strict=True)
            if not (answer.ok or is_duplicate_link(answer.status, answer.error))
        ]

    async def _remove(self, group_id: str, kind: str, user_ids: Sequence[str]) -> list[ItemFailure]:
        # Limitation: a removal on a group that is still replicating answers 404 like a link
        # that is not there, so it counts as done while the link stays; the next run removes it.
        requests = [
            SubRequest("DELETE", f"/groups/{group_id}/{kind}/{user_id}/$ref")
            for user_id in user_ids
        ]
        answers = await self._runner.run(requests)
        return [
            _failure(group_id, REMOVE_OPERATION[kind], user_id, answer)
            for user_id, answer in zip(user_ids, answers, strict=True)
            if not (answer.ok or is_absent_link(answer.status, answer.error))
        ]

    def _object_url(self, user_id: str) -> str:
        return f"{self._base_url}/directoryObjects/{user_id}"


def _put_off(group_id: str, user_id: str, retry_soon: bool) -> ItemFailure:
    """An owner removal not attempted because a new owner is missing. When the add failed
    transiently, status 0 makes this transient too, so the change is tried again soon; when it
    failed for good (an unknown user, the owner cap), a 409 reports it without retries and the
    next run tries again, the old owner still recorded as one the sync added."""
    return ItemFailure(
        group_id,
        REMOVE_OPERATION["owners"],
        user_id,
        NOT_ATTEMPTED_STATUS if retry_soon else PUT_OFF_FOR_GOOD_STATUS,
        "ownerRemovalPutOff",
        f"not removed: a new owner of group {group_id} could not be added yet",
    )


def _failure(group_id: str, operation: str, user_id: str, answer: SubResponse) -> ItemFailure:
    error = answer.error
    return ItemFailure(group_id, operation, user_id, answer.status, error.code, error.message)
