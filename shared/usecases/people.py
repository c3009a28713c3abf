"""Resolving a school's MIS people and admin owners to directory users (M1, M2, S3).

The directory is listed once per run (999 users to a page) and indexed by the school's match
property, so a school of any size costs ceil(users / 999) reads, not one per person. Matches
are cached as user links; only links that changed are written. A person still in the export
whom tonight's rule misses keeps their cached link, so a failed match never empties a class.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.domain.matching import (
    DirectoryProperty,
    MatchResult,
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
    # Active people the rule missed tonight, linked by their cached link instead (sorted ids).
    from_cache: list[str] = field(default_factory=list)
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
    stored = await asyncio.to_thread(services.state.get_user_links, settings.school_id)
    from_cache = _cached_links(matched, stored, {str(user["id"]) for user in users})

    resolved = ResolvedPeople(
        links={**matched.links, **from_cache},
        unmatched=[p for p in matched.unmatched if p not in from_cache],
        ambiguous=[p for p in matched.ambiguous if p not in from_cache],
        from_cache=sorted(from_cache),
        directory_users=len(users),
    )
    if from_cache:
        log.warning(
            "school %s: %d people not matched by the rule were linked from the cache; "
            "check their directory accounts and the school's matching setting",
            settings.school_id,
            len(from_cache),
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
        _cache_links,
        services,
        settings.school_id,
        stored,
        matched.links,
        values,
        set(snapshot.people),
        now,
    )
    return resolved


def _cached_links(
    matched: MatchResult, stored: dict[str, UserLink], directory_ids: set[str]
) -> dict[str, str]:
    """Cached links for the people tonight's rule missed (M2), where the user still exists.

    A changed UPN, a value two people now share or a wrong matching setting would otherwise
    make every such person look like a leaver and strip classes of pupils and teachers. A
    directory user already linked tonight, or cached for two people, is never used: one user
    is never linked to two MIS people.

    Limitation: a cached link has no expiry; it is trusted for as long as the person stays in
    the export and the user in the directory, so an account handed to someone else keeps the
    old link until the rule matches again. The run summary counts these people every night.
    """
    candidates = {
        person_id: stored[person_id].user_id
        for person_id in matched.unmatched
        if person_id in stored and stored[person_id].user_id in directory_ids
    }
    claimed = Counter([*matched.links.values(), *candidates.values()])
    return {person: user for person, user in candidates.items() if claimed[user] == 1}


def _cache_links(
    services: Services,
    school_id: str,
    stored: dict[str, UserLink],
    links: dict[str, str],
    values: dict[str, str],
    in_export: set[str],
    now: datetime,
) -> int:
    """Save tonight's matches; drop only the links of people gone from the export.

    A person still in the export keeps their link even when tonight's rule misses them: it
    is the evidence the next run needs to keep them in their groups.
    """
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
    gone = [person_id for person_id in stored if person_id not in in_export]
    if gone:
        written += services.state.delete_user_links(school_id, gone)
    return written
