"""The plan for one group: what to add and remove to bring it in line with the MIS.

    plan = plan_group(owners, members, current, sync_owners, settings.safety)
    for step, user_ids in plan.steps(): ...   # add owners, add members, remove members, owners

A pure diff of directory ids with no I/O, kept apart from the calls that apply it. The rules:
owners added directly in Microsoft 365 stay (O5), members added directly go (O6), only owners
the sync added are removed and never the last one (O7), and a group about to lose too large a
share of its members keeps them, and its owners, until an admin releases the removals (X2).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.domain.settings import SafetyLimits

PLAN_FORMAT_VERSION = 1

# Owners go in before anyone leaves and come out last: Graph refuses to remove a group's last
# owner, and a class whose teacher changes must never be left without one in between.
STEP_ORDER = ("add_owners", "add_members", "remove_members", "remove_owners")


@dataclass(frozen=True, slots=True)
class CurrentGroup:
    """A group's owners and members in Microsoft 365 now, as directory user ids."""

    owners: frozenset[str]
    members: frozenset[str]


@dataclass(frozen=True, slots=True)
class GroupPlan:
    """The changes for one group, as sorted directory user ids.

    `remove_members` are the removals to apply now; when the group would lose more than its
    share (X2) they are empty and `held_members` holds them instead, and the owner removals
    wait with them in `held_owners`. `member_loss` is the
    share of current members the MIS no longer names. `sync_owners` is what to record, once
    the plan is applied, as the owners the sync itself added. `kept_last_owner` names an
    owner kept only because removing them would leave the group with none.
    """

    create: bool = False
    add_owners: tuple[str, ...] = ()
    add_members: tuple[str, ...] = ()
    remove_members: tuple[str, ...] = ()
    remove_owners: tuple[str, ...] = ()
    held_members: tuple[str, ...] = ()
    held_owners: tuple[str, ...] = ()
    member_loss: float = 0.0
    sync_owners: tuple[str, ...] = ()
    kept_last_owner: str | None = None

    @property
    def removals_held(self) -> bool:
        return bool(self.held_members or self.held_owners)

    @property
    def has_changes(self) -> bool:
        """Something to write to Microsoft 365."""
        return self.create or any(ids for _, ids in self.steps())

    @property
    def is_empty(self) -> bool:
        """The group is in line: nothing to write and nothing held for an admin."""
        return not self.has_changes and not self.removals_held

    def steps(self) -> list[tuple[str, tuple[str, ...]]]:
        """The changes in the order they must be applied (see STEP_ORDER)."""
        return [(name, getattr(self, name)) for name in STEP_ORDER]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe, for queue messages and the run report."""
        return {
            "version": PLAN_FORMAT_VERSION,
            "create": self.create,
            "add_owners": list(self.add_owners),
            "add_members": list(self.add_members),
            "remove_members": list(self.remove_members),
            "remove_owners": list(self.remove_owners),
            "held_members": list(self.held_members),
            "held_owners": list(self.held_owners),
            "member_loss": self.member_loss,
            "sync_owners": list(self.sync_owners),
            "kept_last_owner": self.kept_last_owner,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GroupPlan:
        version = data.get("version")
        if version != PLAN_FORMAT_VERSION:
            raise ValueError(
                f"group plan version {version!r} is not {PLAN_FORMAT_VERSION}; "
                "plan the group again with this version of the sync"
            )
        return cls(
            create=bool(data["create"]),
            add_owners=_ids(data, "add_owners"),
            add_members=_ids(data, "add_members"),
            remove_members=_ids(data, "remove_members"),
            remove_owners=_ids(data, "remove_owners"),
            held_members=_ids(data, "held_members"),
            held_owners=_ids(data, "held_owners"),
            member_loss=float(data.get("member_loss", 0.0)),
            sync_owners=_ids(data, "sync_owners"),
            kept_last_owner=data.get("kept_last_owner"),
        )


def _ids(data: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"group plan field {name!r} must be a list of user ids")
    return tuple(sorted(value))


def plan_group(
    desired_owners: Iterable[str],
    desired_members: Iterable[str],
    current: CurrentGroup | None,
    sync_owners: Iterable[str],
    safety: SafetyLimits,
    *,
    release_held_removals: bool = False,
) -> GroupPlan:
    """Plan one group; `current` is None when it does not exist in Microsoft 365 yet.

    `sync_owners` are the owners the sync added on earlier runs (from the mapping).
    Removals are held (X2) when the group would lose more than `safety.max_member_loss` of
    its members and at least `safety.min_held_removals` of them; the school's limits come
    whole so that no caller can leave one out. `release_held_removals` is an admin's
    go-ahead for removals that would otherwise be held.
    """
    owners = frozenset(desired_owners)
    members = frozenset(desired_members)
    if current is None:
        return GroupPlan(
            create=True,
            add_owners=tuple(sorted(owners)),
            add_members=tuple(sorted(members)),
            sync_owners=tuple(sorted(owners)),
        )

    add_owners = owners - current.owners
    remove_owners = (current.owners & frozenset(sync_owners)) - owners
    kept_last_owner = None
    if remove_owners and not (current.owners | add_owners) - remove_owners:
        # Graph refuses to remove the last owner; keep one, the same one every night.
        kept_last_owner = min(remove_owners)
        remove_owners = remove_owners - {kept_last_owner}
    staying_owners = (current.owners | add_owners) - remove_owners

    add_members = members - current.members
    # An owner who stays keeps their membership: without it the group disappears from their
    # Outlook, and a class stops working for a teacher who is not in both lists.
    leaving = current.members - members - staying_owners
    member_loss = len(leaving) / len(current.members) if current.members else 0.0
    suspicious = member_loss > safety.max_member_loss and len(leaving) >= safety.min_held_removals
    holding = suspicious and not release_held_removals
    held = leaving if holding else frozenset()
    # A broken export drops a class's teachers as readily as its pupils, so the owner
    # removals wait for the same admin release as the member removals.
    held_owners = remove_owners if holding else frozenset()
    remove_owners = remove_owners - held_owners

    recorded = ((frozenset(sync_owners) & current.owners) - remove_owners) | add_owners
    return GroupPlan(
        create=False,
        add_owners=tuple(sorted(add_owners)),
        add_members=tuple(sorted(add_members)),
        remove_members=tuple(sorted(leaving - held)),
        remove_owners=tuple(sorted(remove_owners)),
        held_members=tuple(sorted(held)),
        held_owners=tuple(sorted(held_owners)),
        member_loss=round(member_loss, 4),
        sync_owners=tuple(sorted(recorded)),
        kept_last_owner=kept_last_owner,
    )
