"""The Graph gateway: the operations a school sync needs (find users, ensure a group, read and
change memberships, delete a group), each sent through the batch runner as raw JSON.

    async with GraphGateway(GraphConfig.from_env(os.environ)) as graph:
        group = await graph.ensure_group(GroupSpec("sync-4001-10X-Ma1", "10X/Ma1", "10XMa1"))
        failures = await graph.apply_changes([MembershipChange(group.id, add_members=ids)])

Collections are read as JSON dicts, never as msgraph-sdk models (those cost seconds of CPU per
999-object page). Group creation is idempotent: Microsoft 365 groups by a `uniqueName` upsert,
Education classes by `externalId`. Membership writes live in shared/graph/links.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx

from shared.graph.batch import BatchRunner, SubRequest, SubResponse
from shared.graph.config import GraphConfig
from shared.graph.errors import (
    GraphError,
    GraphUnavailable,
    NicknameTaken,
    UniqueNameTaken,
    is_conflict,
    is_duplicate_link,
    is_missing_reference,
    is_transient,
)
from shared.graph.links import LinkWriter
from shared.graph.models import (
    MAX_LINKS_PER_REQUEST,
    EnsuredGroup,
    GatewayStats,
    GroupSpec,
    ItemFailure,
    Membership,
    MembershipChange,
)
from shared.graph.pacing import WriteBudget
from shared.graph.transport import Transport

log = logging.getLogger(__name__)

PAGE_SIZE = 999  # Graph's largest $top
FILTER_IN_LIMIT = 15  # values in one `in (...)` filter
FILTER_VALUE_MAX_CHARS = 120  # Graph refuses longer values in a filter
# How long a second creator of the same Education class waits for the first one's class to
# show up before calling its nickname taken.
CLASS_RACE_WAIT_SECONDS = 30.0
LOOKUP_BACKOFF_FIRST_SECONDS = 1.0
LOOKUP_BACKOFF_CAP_SECONDS = 15.0
DESCRIPTION_MAX_CHARS = 1024
CLASS_EXTERNAL_SOURCE = "manual"


class GraphGateway:
    def __init__(
        self,
        config: GraphConfig,
        *,
        http: httpx.AsyncClient | None = None,
        budget: WriteBudget | None = None,
    ) -> None:
        self._config = config
        self._stats = GatewayStats()
        self._transport = Transport(config, http=http)
        self._budget = budget or WriteBudget.for_process(
            config.base_url, config.write_budget, config.write_window_seconds
        )
        self._runner = BatchRunner(
            self._transport,
            self._budget,
            self._stats,
            max_concurrency=config.max_concurrency,
            max_attempts=config.max_attempts,
            max_retry_wait_seconds=config.max_retry_wait_seconds,
        )
        self._links = LinkWriter(self._runner, config.base_url, self._lag_for)
        self._new_groups: dict[str, float] = {}  # group id -> end of its replication wait

    async def __aenter__(self) -> GraphGateway:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._runner.aclose()
        await self._transport.aclose()

    @property
    def stats(self) -> GatewayStats:
        return self._stats.copy()

    def expect_replication(self, group_id: str) -> None:
        """Treat a 404 on this group as replication lag for a while: for a group created
        moments ago elsewhere (an earlier delivery of the same work, another process)."""
        self._new_groups[group_id] = time.monotonic() + self._config.replication_wait_seconds

    # -- users --------------------------------------------------------------------------

    async def list_users(self, select: Sequence[str]) -> list[dict[str, Any]]:
        """Every user in the directory with the selected properties, 999 to a page."""
        url: str | None = "/users?" + _query({"$select": ",".join(select), "$top": PAGE_SIZE})
        users: list[dict[str, Any]] = []
        while url:
            page = await self._get(url)
            users.extend(page.get("value", []))
            url = self._relative(page.get("@odata.nextLink"))
        log.info("listed %d users", len(users))
        return users

    async def find_users(self, property: str, values: Sequence[str]) -> dict[str, str]:
        """Lowercased value -> user id for the values some user has in `property` (for
        example userPrincipalName, mail or employeeId). A value two users share is left out:
        it cannot say who is meant."""
        wanted = sorted({v.strip().lower() for v in values if v and v.strip()})
        too_long = [v for v in wanted if len(v) > FILTER_VALUE_MAX_CHARS]
        if too_long:
            log.warning(
                "%d values longer than Graph's filter limit were not looked up", len(too_long)
            )
        wanted = [v for v in wanted if len(v) <= FILTER_VALUE_MAX_CHARS]
        chunks = [
            wanted[start : start + FILTER_IN_LIMIT]
            for start in range(0, len(wanted), FILTER_IN_LIMIT)
        ]
        pages = await asyncio.gather(*(self._find_chunk(property, chunk) for chunk in chunks))
        found: dict[str, str] = {}
        shared: set[str] = set()
        for users in pages:
            for user in users:
                value = str(_property(user, property) or "").lower()
                if value in found and found[value] != user["id"]:
                    shared.add(value)
                found[value] = user["id"]
        if shared:
            log.warning("%d %s values belong to more than one user", len(shared), property)
        return {value: uid for value, uid in found.items() if value not in shared}

    async def _find_chunk(self, property: str, chunk: list[str]) -> list[dict[str, Any]]:
        quoted = ",".join("'" + value.replace("'", "''") + "'" for value in chunk)
        url: str | None = "/users?" + _query(
            {"$filter": f"{property} in ({quoted})", "$select": f"id,{property}"}
        )
        users: list[dict[str, Any]] = []
        while url:
            page = await self._get(url)
            users.extend(page.get("value", []))
            url = self._relative(page.get("@odata.nextLink"))
        return users

    # -- groups -------------------------------------------------------------------------

    async def get_group(self, group_id: str) -> dict[str, Any] | None:
        answer = await self._runner.run_one(
            SubRequest("GET", f"/groups/{group_id}", **self._lag_for(group_id))
        )
        if answer.status == 404:
            return None
        return self._body_or_raise(answer, f"GET /groups/{group_id}")

    async def delete_group(self, group_id: str) -> bool:
        """Delete (Microsoft 365 groups: soft-delete for 30 days). False if already gone."""
        answer = await self._runner.run_one(
            SubRequest("DELETE", f"/groups/{group_id}", **self._lag_for(group_id))
        )
        self._new_groups.pop(group_id, None)
        if answer.status == 404:
            return False
        self._body_or_raise(answer, f"DELETE /groups/{group_id}")
        log.info("deleted group %s", group_id)
        return True

    async def ensure_group(self, spec: GroupSpec) -> EnsuredGroup:
        """The group named by `spec.unique_name`, created if missing; safe to repeat.

        Raises NicknameTaken when another group holds the mailNickname."""
        if len(spec.owners) + len(spec.members) > MAX_LINKS_PER_REQUEST:
            raise ValueError(
                f"a GroupSpec binds at most {MAX_LINKS_PER_REQUEST} owners and members together; "
                "add the rest with apply_changes after ensure_group"
            )
        if spec.education:
            return await self._ensure_class(spec)
        return await self._ensure_unified(spec)

    async def _ensure_unified(self, spec: GroupSpec) -> EnsuredGroup:
        key = spec.unique_name.replace("'", "''")
        url = f"/groups(uniqueName='{quote(key, safe='')}')"
        body: dict[str, Any] = {
            "displayName": spec.display_name,
            "mailNickname": spec.mail_nickname,
            "mailEnabled": True,
            "securityEnabled": False,
            "groupTypes": ["Unified"],
            "visibility": spec.visibility,
        }
        if spec.description:
            body["description"] = spec.description[:DESCRIPTION_MAX_CHARS]
        links = self._bind_links(spec)
        prefer = {"Prefer": "create-if-missing"}
        answer = await self._runner.run_one(SubRequest("PATCH", url, body | links, prefer))
        links_later = False
        refused = answer.status in (400, 404)
        if refused and not is_conflict(answer.status, answer.error, "mailNickname"):
            # On an existing group the upsert is an update, which Graph may refuse (creation-
            # only properties, links already there). The group existing is all we need to
            # know, and leaving it untouched keeps an admin's later edits. Those refusals
            # prove the group exists, so wait for it through replication lag; after any other
            # refusal one look is enough.
            error = answer.error
            proven = is_duplicate_link(answer.status, error) or "read-only" in error.message
            find = self._wait_for_group if proven else self._find_by
            existing = await find("uniqueName", spec.unique_name, "/groups")
            if existing:
                return await self._ensured(spec, existing, created=False, links_later=False)
            if links and (
                answer.status == 404 or is_missing_reference(answer.status, answer.error)
            ):
                # A user Graph cannot see (yet) refuses all links: create bare, link after.
                answer = await self._runner.run_one(SubRequest("PATCH", url, body, prefer))
                links_later = True
        return await self._upserted(spec, answer, links_later)

    async def _upserted(
        self, spec: GroupSpec, answer: SubResponse, links_later: bool
    ) -> EnsuredGroup:
        if is_conflict(answer.status, answer.error, "mailNickname"):
            raise _nickname_taken(spec, answer)
        if is_conflict(answer.status, answer.error, "uniqueName"):
            error = answer.error
            raise UniqueNameTaken(spec.unique_name, answer.status, error.code, error.message)
        self._body_or_raise(answer, f"upsert group {spec.unique_name!r}")
        if isinstance(answer.body, dict) and answer.body.get("id"):
            group_id = str(answer.body["id"])
        else:
            found = await self._wait_for_group("uniqueName", spec.unique_name, "/groups")
            if found is None:
                raise GraphUnavailable(
                    404, "Request_ResourceNotFound", "upserted group not found by its uniqueName"
                )
            group_id = found
        return await self._ensured(spec, group_id, answer.status == 201, links_later)

    async def _ensure_class(self, spec: GroupSpec) -> EnsuredGroup:
        # Race: two deliveries may both miss the class and both create it. Both use the same
        # mailNickname, which Graph keeps unique, so the loser gets a nickname conflict and
        # then finds the winner's class by externalId. A duplicate that slips through anyway
        # (a changed nickname) is detected by `_find_by` when it finds two classes.
        existing = await self._find_by("externalId", spec.unique_name, "/education/classes")
        if existing:
            return await self._ensured(spec, existing, False, links_later=False)
        body: dict[str, Any] = {
            "displayName": spec.display_name,
            "mailNickname": spec.mail_nickname,
            "description": spec.description[:DESCRIPTION_MAX_CHARS],
            "externalId": spec.unique_name,
            "externalName": spec.display_name,
            "externalSource": CLASS_EXTERNAL_SOURCE,
        }
        answer = await self._runner.run_one(SubRequest("POST", "/education/classes", body))
        if is_conflict(answer.status, answer.error, "mailNickname"):
            wait = min(CLASS_RACE_WAIT_SECONDS, self._config.replication_wait_seconds)
            existing = await self._wait_for_group(
                "externalId", spec.unique_name, "/education/classes", wait
            )
            if existing:
                return await self._ensured(spec, existing, False, links_later=False)
            raise _nickname_taken(spec, answer)
        created = self._body_or_raise(answer, f"create class {spec.unique_name!r}")
        # Classes take no links at creation: teachers and students go in afterwards.
        return await self._ensured(spec, str(created["id"]), True, links_later=True)

    async def _ensured(
        self, spec: GroupSpec, group_id: str, created: bool, links_later: bool
    ) -> EnsuredGroup:
        if created or links_later:
            self.expect_replication(group_id)
        failures: list[ItemFailure] = []
        if links_later and (spec.owners or spec.members):
            change = MembershipChange(
                group_id, add_owners=spec.owners, add_members=spec.members, education=spec.education
            )
            failures = await self._links.apply([change])
        log.info(
            "group %s ensured (created=%s, %d links refused)", group_id, created, len(failures)
        )
        return EnsuredGroup(group_id, created, tuple(failures))

    def _bind_links(self, spec: GroupSpec) -> dict[str, list[str]]:
        links: dict[str, list[str]] = {}
        if spec.owners:
            links["owners@odata.bind"] = [self._object_url(u) for u in spec.owners]
        if spec.members:
            links["members@odata.bind"] = [self._object_url(u) for u in spec.members]
        return links

    async def _find_by(self, property: str, value: str, collection: str) -> str | None:
        """The id of the object whose `property` equals `value`; with several, the oldest."""
        quoted = value.replace("'", "''")
        url = f"{collection}?" + _query(
            {"$filter": f"{property} eq '{quoted}'", "$select": "id,createdDateTime"}
        )
        found = (await self._get(url)).get("value", [])
        if len(found) > 1:
            log.warning(
                "%d objects in %s share %s %s: ids %s; keeping the oldest, remove the others",
                len(found),
                collection,
                property,
                value,
                ",".join(str(f.get("id")) for f in found),
            )
            found.sort(key=lambda f: str(f.get("createdDateTime") or ""))
        return str(found[0]["id"]) if found else None

    async def _wait_for_group(
        self, property: str, value: str, collection: str, wait: float | None = None
    ) -> str | None:
        """`_find_by`, tried again with backoff while a just-written object replicates."""
        deadline = time.monotonic() + (wait or self._config.replication_wait_seconds)
        delay = LOOKUP_BACKOFF_FIRST_SECONDS
        while True:
            found = await self._find_by(property, value, collection)
            if found or time.monotonic() + delay > deadline:
                return found
            await asyncio.sleep(delay)
            delay = min(delay * 2, LOOKUP_BACKOFF_CAP_SECONDS)

    # -- memberships --------------------------------------------------------------------

    async def read_memberships(self, group_ids: Sequence[str]) -> dict[str, Membership | None]:
        """Members and owners (ids) of each group, None for a group Graph no longer has."""
        unique = list(dict.fromkeys(group_ids))
        reads = [self._read_links(gid, kind) for gid in unique for kind in ("members", "owners")]
        results = await asyncio.gather(*reads)
        memberships: dict[str, Membership | None] = {}
        for n, group_id in enumerate(unique):
            members, owners = results[2 * n], results[2 * n + 1]
            gone = members is None or owners is None
            memberships[group_id] = None if gone else Membership(members, owners)
        log.info(
            "read memberships of %d groups (%d gone)",
            len(unique),
            sum(1 for m in memberships.values() if m is None),
        )
        return memberships

    async def _read_links(self, group_id: str, kind: str) -> set[str] | None:
        url: str | None = f"/groups/{group_id}/{kind}?" + _query(
            {"$select": "id", "$top": PAGE_SIZE}
        )
        ids: set[str] = set()
        while url:
            answer = await self._runner.run_one(SubRequest("GET", url, **self._lag_for(group_id)))
            if answer.status == 404:
                return None
            page = self._body_or_raise(answer, f"GET /groups/{group_id}/{kind}")
            ids.update(str(item["id"]) for item in page.get("value", []))
            url = self._relative(page.get("@odata.nextLink"))
        return ids

    async def apply_changes(self, changes: Sequence[MembershipChange]) -> list[ItemFailure]:
        """Add and remove links on one or many groups; returns what Graph refused. Adds go
        first (owners, then members, 20 to a PATCH), then member removals, then owner
        removals; Graph refuses to remove a group's last owner and that comes back as a
        failure (`ItemFailure.last_owner`)."""
        return await self._links.apply(changes)

    # -- plumbing -----------------------------------------------------------------------

    async def _get(self, url: str) -> dict[str, Any]:
        answer = await self._runner.run_one(SubRequest("GET", url))
        return self._body_or_raise(answer, f"GET {url.split('?')[0]}")

    def _body_or_raise(self, answer: SubResponse, request: str) -> dict[str, Any]:
        if answer.ok:
            return answer.body if isinstance(answer.body, dict) else {}
        if is_transient(answer.status):
            raise GraphUnavailable.from_response(answer.status, answer.body, request=request)
        raise GraphError.from_response(answer.status, answer.body, request=request)

    def _lag_for(self, group_id: str) -> dict[str, Any]:
        until = self._new_groups.get(group_id)
        if until is None:
            return {}
        if until <= time.monotonic():
            del self._new_groups[group_id]
            return {}
        return {"lag_id": group_id, "lag_until": until}

    def _relative(self, link: str | None) -> str | None:
        """An absolute @odata.nextLink as a url relative to the version root, for $batch."""
        if not link:
            return None
        parts = urlsplit(link)
        root = urlsplit(self._config.base_url).path.rstrip("/")
        path = parts.path[len(root) :] if parts.path.startswith(root) else parts.path
        return path + (f"?{parts.query}" if parts.query else "")

    def _object_url(self, user_id: str) -> str:
        return f"{self._config.base_url}/directoryObjects/{user_id}"


def _query(params: dict[str, Any]) -> str:
    return urlencode({k: str(v) for k, v in params.items()}, quote_via=quote, safe=",$")


def _property(user: dict[str, Any], name: str) -> Any:
    if name in user:
        return user[name]
    lowered = name.lower()
    return next((v for k, v in user.items() if k.lower() == lowered), None)


def _nickname_taken(spec: GroupSpec, answer: SubResponse) -> NicknameTaken:
    error = answer.error
    log.info("mailNickname taken for group %s", spec.unique_name)
    return NicknameTaken(spec.mail_nickname, answer.status, error.code, error.message)
