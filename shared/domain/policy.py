"""Which groups a school should have in Microsoft 365, and who owns and belongs to each.

    groups = desired_groups(snapshot, settings)                    # nightly: enabled kinds
    one = desired_groups(snapshot, settings, kinds={GroupKind.YEAR})  # on demand: a chosen kind

Pure rules over the MIS snapshot and the school's settings: rules O1-O3, O8, O9, I3, I7 and G1
in docs/rules.md.
People here are MIS ids; turning them into directory users is the planner's step.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shared.domain.naming import NicknameRegister, group_display_name, unique_key
from shared.domain.settings import Privacy, SchoolSettings, SettingsError, Target
from shared.domain.snapshot import GroupKind, MisGroup, MisSnapshot, Person, Role, StaffLink


@dataclass(frozen=True, slots=True)
class DesiredGroup:
    """One MIS group as it should be in Microsoft 365.

    `owner_people` and `member_people` are MIS person ids (sorted); `admin_owners` are the
    school's admin UPNs, kept apart because they are not MIS people. `member_people` already
    holds the teacher owners where the target needs them as members (O8);
    `admins_are_members` says whether the admin owners must be members too (classes).
    `inactive_left_out` counts the inactive people enrolled in the group (I7) and
    `wrong_role_left_out` those enrolled in a role their MIS role forbids (O9).
    """

    mis_group_id: str
    kind: GroupKind
    mis_name: str
    display_name: str
    mail_nickname: str
    unique_key: str
    academic_year: int
    member_people: tuple[str, ...]
    owner_people: tuple[str, ...]
    admin_owners: tuple[str, ...]
    admins_are_members: bool
    privacy: Privacy
    education: bool
    inactive_left_out: int = 0
    wrong_role_left_out: int = 0

    @property
    def student_people(self) -> tuple[str, ...]:
        """The members who are there as students, not as owners (O8)."""
        owners = set(self.owner_people)
        return tuple(p for p in self.member_people if p not in owners)


@dataclass(slots=True)
class _Tally:
    inactive: int = 0
    wrong_role: int = 0


def desired_groups(
    snapshot: MisSnapshot,
    settings: SchoolSettings,
    *,
    kinds: Iterable[GroupKind] | None = None,
) -> list[DesiredGroup]:
    """Every group of the chosen kinds (the school's enabled kinds by default), by MIS id.

    Nicknames are handed out in MIS-id order so that a suffix (`-2`) lands on the same group
    every night and whichever kinds are asked for.
    """
    chosen = settings.enabled_kinds if kinds is None else frozenset(kinds)
    if not settings.teaching_groups_supported:
        chosen = chosen - {GroupKind.TEACHING}
    name_identifier = settings.name_identifier or snapshot.school.dfe_number
    if not name_identifier:
        raise SettingsError(
            "name_identifier",
            f"school {settings.school_id} has no name identifier and its MIS export no DfE number",
            "set dfe_number or name_identifier in the school's settings",
        )

    # Every group claims its nickname, chosen or not, so a group's nickname does not depend
    # on which kinds this call asked for.
    nicknames = NicknameRegister()
    desired = []
    for mis_group_id in sorted(snapshot.groups):
        group = snapshot.groups[mis_group_id]
        display_name = group_display_name(group.name, name_identifier, snapshot.academic_year_start)
        nickname = nicknames.claim(display_name)
        if group.kind in chosen:
            desired.append(_desired_group(snapshot, settings, group, display_name, nickname))
    return desired


def _desired_group(
    snapshot: MisSnapshot,
    settings: SchoolSettings,
    group: MisGroup,
    display_name: str,
    nickname: str,
) -> DesiredGroup:
    tally = _Tally()
    students = _active_students(snapshot.people, group.students, tally)
    owners = _staff_owners(snapshot.people, group, settings, tally)

    # O8: Education classes need every teacher in both lists, and Outlook shows a Microsoft
    # 365 group only to its members; either way a teacher owner is a member too.
    members = sorted(set(students) | set(owners))
    return DesiredGroup(
        mis_group_id=group.mis_id,
        kind=group.kind,
        mis_name=group.name,
        display_name=display_name,
        mail_nickname=nickname,
        unique_key=unique_key(settings.school_id, group.mis_id, snapshot.academic_year_start),
        academic_year=snapshot.academic_year_start,
        member_people=tuple(members),
        owner_people=tuple(owners),
        admin_owners=settings.admin_owners,
        # Admins own every group of the school; making them members of every Microsoft 365
        # group would fill their Outlook with hundreds of groups, so only classes, which
        # require it, get them as members.
        admins_are_members=settings.target is Target.CLASSES,
        privacy=settings.default_privacy,
        education=settings.target is Target.CLASSES,
        inactive_left_out=tally.inactive,
        wrong_role_left_out=tally.wrong_role,
    )


def _active_students(people: dict[str, Person], enrolled: set[str], tally: _Tally) -> list[str]:
    students = []
    for person_id in enrolled:
        person = people.get(person_id)
        if person is None or person.role is not Role.STUDENT:
            # O9: only students become members; staff come in as owners or not at all.
            tally.wrong_role += 1
        elif not person.active:
            tally.inactive += 1
        else:
            students.append(person_id)
    students.sort()
    return students


def _staff_owners(
    people: dict[str, Person],
    group: MisGroup,
    settings: SchoolSettings,
    tally: _Tally,
) -> list[str]:
    """O1-O3, O9: nobody from the MIS owns a year or registration group; a teaching group is
    owned by its registered teacher, or by all its staff in SEEMiS schools."""
    eligible: list[StaffLink] = []
    for link in group.staff:
        person = people.get(link.person_id)
        if person is None or not person.role.is_staff:
            tally.wrong_role += 1
        elif not person.active:
            tally.inactive += 1
        elif settings.all_staff_own_teaching_groups or _teaches(link, person):
            eligible.append(link)

    if group.kind is not GroupKind.TEACHING or not eligible:
        return []
    if settings.all_staff_own_teaching_groups:
        return sorted({link.person_id for link in eligible})
    # Exports list staff in no fixed order; choosing by MIS id keeps the same registered
    # teacher every night instead of swapping owners whenever the rows move (O2).
    ordered = sorted(eligible, key=lambda link: link.person_id)
    registered = next((link for link in ordered if link.primary), ordered[0])
    return [registered.person_id]


def _teaches(link: StaffLink, person: Person) -> bool:
    # An aide stays an aide even where an export enrols them as a teacher.
    return link.role is Role.TEACHER and person.role is not Role.AIDE
