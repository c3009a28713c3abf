"""The values the Graph gateway takes and returns: groups to ensure, memberships read, link
changes to apply and the items Graph refused. Plain data in Graph's words and plain str ids."""

from __future__ import annotations

from dataclasses import dataclass, replace

from shared.graph.errors import (
    GraphErrorBody,
    is_last_owner,
    is_link_quota,
    is_transient,
)

MAX_LINKS_PER_REQUEST = 20  # owners + members bound in one create or PATCH


@dataclass(frozen=True)
class GroupSpec:
    """A group to create if missing. `owners`/`members` are user ids bound at creation: at most
    MAX_LINKS_PER_REQUEST together; add the rest with `apply_changes`."""

    unique_name: str
    display_name: str
    mail_nickname: str
    description: str = ""
    visibility: str = "Private"
    education: bool = False
    owners: tuple[str, ...] = ()
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemFailure:
    """One link (or one group operation) Graph refused, with Graph's status, code and message."""

    group_id: str
    operation: str  # add_owner | add_member | remove_member | remove_owner
    user_id: str | None
    status: int
    code: str
    message: str

    @property
    def transient(self) -> bool:
        """Throttling or an outage outlasted the retries: the same change may work later."""
        return is_transient(self.status)

    @property
    def last_owner(self) -> bool:
        return is_last_owner(self.status, GraphErrorBody(self.code, self.message))

    @property
    def over_quota(self) -> bool:
        """The 100-owner cap (or the member cap) was reached."""
        return is_link_quota(self.status, GraphErrorBody(self.code, self.message))

    @property
    def group_missing(self) -> bool:
        """Graph does not know the group (deleted, or a new one still replicating)."""
        return self.status == 404 and self.group_id in self.message


@dataclass(frozen=True)
class EnsuredGroup:
    """The group's id, and whether this call created it. `created=False` means it existed
    already (perhaps from an earlier attempt): read its membership before changing it. Links
    from the spec that Graph refused are in `failures`."""

    id: str
    created: bool
    failures: tuple[ItemFailure, ...] = ()


@dataclass
class Membership:
    members: set[str]
    owners: set[str]


@dataclass(frozen=True)
class MembershipChange:
    """Links to add and remove on one group. Education classes share their id with the group,
    and teachers are its owners, so the same group endpoints serve both; `education` is kept
    for the caller's record and logs."""

    group_id: str
    add_owners: tuple[str, ...] = ()
    add_members: tuple[str, ...] = ()
    remove_members: tuple[str, ...] = ()
    remove_owners: tuple[str, ...] = ()
    education: bool = False

    @property
    def empty(self) -> bool:
        return not (
            self.add_owners or self.add_members or self.remove_members or self.remove_owners
        )


@dataclass
class GatewayStats:
    """What this gateway sent: HTTP requests, the sub-requests inside batches (retries included),
    write sub-requests, sub-requests sent again, and 429s received."""

    requests: int = 0
    batch_subrequests: int = 0
    writes: int = 0
    retries: int = 0
    throttled_seen: int = 0
    paced_seconds: float = 0.0  # time spent waiting for the write budget

    def copy(self) -> GatewayStats:
        return replace(self)
