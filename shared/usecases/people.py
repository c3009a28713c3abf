"""Resolving a school's MIS people and admin owners to directory users (M1, M2, S3).

The directory is listed once per run (999 users to a page) and indexed by the school's match
property, so a school of any size costs ceil(users / 999) reads, not one per person. Matches
are cached as user links; only links that changed are written.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.domain.matching import (
    DirectoryProperty,
    MatchRule,
    directory_index,
    match_people,
    match_value,
)
from shared.domain.settings import SchoolSettings
from shared.domain.snapshot import MisSnapshot
from shared.state.records import UserLink
from shared.usecases.services import Services

log = logging.getLogger(__name__)

# An unchanged link is re-stamped as confirmed only this often: stamping every link every
# night would rewrite the whole table each night for no new information.
LINK_RECONFIRM_INTERVAL = timedelta(days=7)
_UPN_RULE = MatchRule(directory_property=DirectoryProperty.UPN)


@dataclass(slots=True)
class ResolvedPeople:
    """User ids by MIS person id and by admin UPN, and who could not be matched."""

    links: dict[str, str] = field(default_factory=dict)
    admin_ids: dict[str, str] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)
    unknown_admins: list[str] = field(default_factory=list)
    directory_users: int = 0
    links_written: int = 0


async def resolve_people(
    services: Services,
    snapshot: MisSnapshot,
    settings: SchoolSettings,
    now: datetime,
    *,
    extra_upns: tuple[str, ...] = (),
) -> ResolvedPeople:
    """Match every active MIS person by the school's rule, and every admin owner by UPN.

    `extra_upns` are resolved like admin owners (a requesting teacher, O4) without being
    reported as missing admins.
    """
    rule = settings.matching
    select = ["id", DirectoryProperty.UPN.value]
    if rule.directory_property is not DirectoryProperty.UPN:
        select.append(rule.directory_property.value)
    users = await services.graph.list_users(select)

    index = directory_index(users, rule)
    by_upn = index if rule.directory_property is DirectoryProperty.UPN else None
    by_upn = by_upn or directory_index(users, _UPN_RULE)
    people = [person for person in snapshot.people.values() if person.active]
    matched = match_people(people, rule, index)

    resolved = ResolvedPeople(
        links=matched.links,
        unmatched=matched.unmatched,
        ambiguous=matched.ambiguous,
        directory_users=len(users),
    )
    for upn in settings.admin_owners:
        user_id = by_upn.get(upn.lower())
        if user_id is None:
            resolved.unknown_admins.append(upn)
        else:
            resolved.admin_ids[upn.lower()] = user_id
    for upn in extra_upns:
        user_id = by_upn.get(upn.lower())
        if user_id is not None:
            resolved.admin_ids[upn.lower()] = user_id
    if resolved.unknown_admins:
        log.warning(
            "school %s: %d admin owners are not directory users; check admin_owners",
            settings.school_id,
            len(resolved.unknown_admins),
        )

    values = {person.mis_id: match_value(person, rule) or "" for person in people}
    resolved.links_written = await asyncio.to_thread(
        _cache_links, services, settings.school_id, matched.links, values, now
    )
    return resolved


def _cache_links(
    services: Services,
    school_id: str,
    links: dict[str, str],
    values: dict[str, str],
    now: datetime,
) -> int:
    stored = services.state.get_user_links(school_id)
    fresh = []
    for person_id, user_id in links.items():
        old = stored.get(person_id)
        confirmed = now
        if (
            old is not None
            and old.user_id == user_id
            and old.match_value == values[person_id]
            and old.confirmed_at is not None
            and now - old.confirmed_at < LINK_RECONFIRM_INTERVAL
        ):
            confirmed = old.confirmed_at
        fresh.append(UserLink(person_id, user_id, values[person_id], confirmed))
    written = services.state.save_user_links(school_id, fresh)
    # A person no longer matched (left the MIS, or lost their directory account) loses the
    # link, so a later report never shows a stale match.
    gone = [person_id for person_id in stored if person_id not in links]
    if gone:
        written += services.state.delete_user_links(school_id, gone)
    return written
