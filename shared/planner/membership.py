"""A desired group's owners and members as directory users, ready to diff against Microsoft 365.

    wanted = resolve_desired(group, links, admin_ids)
    plan = plan_group(wanted.owners, wanted.members, current, sync_owners, settings.safety)

People the directory does not know are listed, never guessed (M2), and the rest of the group
still syncs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.domain.policy import DesiredGroup


@dataclass(frozen=True, slots=True)
class DesiredMembership:
    """Directory user ids the group should have, and who could not be resolved."""

    owners: frozenset[str]
    members: frozenset[str]
    unmatched_people: tuple[str, ...] = ()
    unmatched_admins: tuple[str, ...] = ()


def resolve_desired(
    group: DesiredGroup,
    links: Mapping[str, str],
    admin_ids: Mapping[str, str],
) -> DesiredMembership:
    """Turn MIS person ids (via `links`) and admin UPNs (via `admin_ids`) into user ids.

    `links` maps MIS person id to directory user id; `admin_ids` maps lowercased UPN to
    directory user id.
    """
    unmatched_people = sorted(
        {p for p in (*group.owner_people, *group.member_people) if p not in links}
    )
    admins = [admin_ids[upn] for upn in group.admin_owners if upn in admin_ids]
    unmatched_admins = tuple(upn for upn in group.admin_owners if upn not in admin_ids)

    owners = {links[p] for p in group.owner_people if p in links} | set(admins)
    members = {links[p] for p in group.member_people if p in links}
    if group.admins_are_members:
        members.update(admins)
    return DesiredMembership(
        owners=frozenset(owners),
        members=frozenset(members),
        unmatched_people=tuple(unmatched_people),
        unmatched_admins=unmatched_admins,
    )
