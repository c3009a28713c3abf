"""A whole school's plan: every desired group planned against what Microsoft 365 holds.

    preview = preview_empty_tenant(snapshot, settings)        # what a first run would create
    preview = preview_school(snapshot, settings, links=links, admin_ids=admin_ids,
                             current=current_by_group, sync_owners=owners_by_group)

Pure: the caller reads the directory and the groups, this decides. Used by `groupsync plan`
and by anything else that needs the plan without writing (X3 preview-only).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.domain.matching import match_people, match_value
from shared.domain.policy import DesiredGroup, desired_groups
from shared.domain.settings import SchoolSettings
from shared.domain.snapshot import GroupKind, MisSnapshot
from shared.planner.group_plan import CurrentGroup, GroupPlan, plan_group
from shared.planner.membership import resolve_desired
from shared.planner.safety import SchoolCheck, SnapshotFigures, check_school


@dataclass(frozen=True, slots=True)
class GroupPreview:
    """One desired group, its plan, and the people it could not resolve."""

    desired: DesiredGroup
    plan: GroupPlan
    unmatched_people: tuple[str, ...] = ()
    unmatched_admins: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        group = self.desired
        return {
            "mis_group_id": group.mis_group_id,
            "kind": group.kind.value,
            "mis_name": group.mis_name,
            "display_name": group.display_name,
            "mail_nickname": group.mail_nickname,
            "unique_key": group.unique_key,
            "academic_year": group.academic_year,
            "education": group.education,
            "privacy": group.privacy.value,
            "owner_people": list(group.owner_people),
            "member_people": list(group.member_people),
            "admin_owners": list(group.admin_owners),
            "inactive_left_out": group.inactive_left_out,
            "wrong_role_left_out": group.wrong_role_left_out,
            "unmatched_people": list(self.unmatched_people),
            "unmatched_admins": list(self.unmatched_admins),
            "plan": self.plan.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class SchoolPreview:
    """Every group's plan for one school, with the X1 check and the people not matched."""

    school_id: str
    academic_year: int
    check: SchoolCheck
    groups: tuple[GroupPreview, ...]
    unmatched_people: tuple[str, ...]
    inactive_people: int

    @property
    def changed_groups(self) -> list[GroupPreview]:
        return [group for group in self.groups if not group.plan.is_empty]

    def totals(self) -> dict[str, Any]:
        plans = [group.plan for group in self.groups]
        created = Counter(g.desired.kind.value for g in self.groups if g.plan.create)
        return {
            "groups": len(plans),
            "groups_to_create": sum(created.values()),
            "groups_to_create_by_kind": {kind.value: created[kind.value] for kind in GroupKind},
            "groups_to_change": sum(1 for p in plans if p.has_changes and not p.create),
            "groups_in_line": sum(1 for p in plans if p.is_empty),
            "owners_to_add": sum(len(p.add_owners) for p in plans),
            "members_to_add": sum(len(p.add_members) for p in plans),
            "members_to_remove": sum(len(p.remove_members) for p in plans),
            "owners_to_remove": sum(len(p.remove_owners) for p in plans),
            "groups_with_held_removals": sum(1 for p in plans if p.removals_held),
            "held_member_removals": sum(len(p.held_members) for p in plans),
            "held_owner_removals": sum(len(p.held_owners) for p in plans),
            "people_not_matched": len(self.unmatched_people),
            "inactive_people": self.inactive_people,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "school_id": self.school_id,
            "academic_year": self.academic_year,
            "check": self.check.to_dict(),
            "totals": self.totals(),
            "unmatched_people": list(self.unmatched_people),
            "groups": [group.to_dict() for group in self.groups],
        }


def preview_school(
    snapshot: MisSnapshot,
    settings: SchoolSettings,
    *,
    links: Mapping[str, str],
    admin_ids: Mapping[str, str],
    current: Mapping[str, CurrentGroup] | None = None,
    sync_owners: Mapping[str, Iterable[str]] | None = None,
    last_good: SnapshotFigures | None = None,
    kinds: Iterable[GroupKind] | None = None,
) -> SchoolPreview:
    """Plan every desired group; `current` and `sync_owners` are keyed by MIS group id.

    A group missing from `current` is planned as a creation. The plans are made even when
    the X1 check blocks the run, so an admin can see what the run would have done.
    """
    current = current or {}
    sync_owners = sync_owners or {}
    previews = []
    unmatched: set[str] = set()
    for group in desired_groups(snapshot, settings, kinds=kinds):
        wanted = resolve_desired(group, links, admin_ids)
        plan = plan_group(
            wanted.owners,
            wanted.members,
            current.get(group.mis_group_id),
            sync_owners.get(group.mis_group_id, ()),
            settings.safety,
        )
        unmatched.update(wanted.unmatched_people)
        previews.append(GroupPreview(group, plan, wanted.unmatched_people, wanted.unmatched_admins))

    return SchoolPreview(
        school_id=settings.school_id,
        academic_year=snapshot.academic_year_start,
        check=check_school(last_good, SnapshotFigures.of(snapshot), settings.safety),
        groups=tuple(previews),
        unmatched_people=tuple(sorted(unmatched)),
        inactive_people=snapshot.inactive_people,
    )


def preview_empty_tenant(
    snapshot: MisSnapshot,
    settings: SchoolSettings,
    *,
    kinds: Iterable[GroupKind] | None = None,
) -> SchoolPreview:
    """What a first run would create in a tenant with no groups and no directory to ask.

    People stand for themselves by their match value (e.g. their UPN); people with no value
    are not matched. Admin owners stand for themselves by their UPN.
    """
    values = (match_value(person, settings.matching) for person in snapshot.people.values())
    directory = {value: value for value in values if value is not None}
    links = match_people(snapshot.people.values(), settings.matching, directory).links
    admin_ids = {upn: upn for upn in settings.admin_owners}
    return preview_school(snapshot, settings, links=links, admin_ids=admin_ids, kinds=kinds)
