"""One school's settings: what it syncs, how it names and matches, and its safety limits.

    settings = SchoolSettings.from_dict(json.loads(Path("school.json").read_text()))
    settings.to_dict()  # JSON-safe; from_dict(to_dict()) gives the same settings back

JSON is the file format (`groupsync plan --settings FILE`) and what the state store keeps.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any, TypeVar

from shared.domain.matching import DirectoryProperty, MatchRule, MisField
from shared.domain.snapshot import GroupKind

# MIS vendors whose behaviour differs (rules I3 and O3 in docs/rules.md); any other vendor
# needs no special case.
SCHOLARPACK = "scholarpack"
SEEMIS = "seemis"

# Why these safety limits by default:
# - Students (X1): a normal night changes well under 1% of a school's students. Losing a fifth
#   at once is almost always a truncated or wrong export. The summer leavers of an 11-18
#   school (Years 11 and 13, about a quarter) pass it once a year: a moment an admin should
#   confirm anyway, by raising the limit for that run.
# - Groups (X1): the same reasoning; a new timetable replaces groups rather than dropping a
#   fifth of them.
# - Members of one group (X2): set changes move a few pupils; half a group leaving in one
#   night is rare enough to deserve a look, while a tighter share would hold ordinary moves
#   in small groups (one pupil of four is already a quarter).
# - A floor on held removals (X2): in a sixth-form set of one or two pupils any departure is
#   half the group or more; holding those would ask an admin to approve ordinary changes every
#   week. Three or more pupils leaving past the share is what a broken export looks like.
DEFAULT_MAX_STUDENT_LOSS = 0.2
DEFAULT_MAX_GROUP_LOSS = 0.2
DEFAULT_MAX_MEMBER_LOSS = 0.5
DEFAULT_MIN_HELD_REMOVALS = 3

_Choice = TypeVar("_Choice", bound=StrEnum)


class SettingsError(ValueError):
    """A school's settings are invalid: names the field and how to fix it."""

    def __init__(self, field_name: str, problem: str, remedy: str) -> None:
        self.field_name = field_name
        self.problem = problem
        self.remedy = remedy
        super().__init__(f"setting {field_name!r}: {problem}; {remedy}")


class Target(StrEnum):
    """Where a school's groups live in Microsoft 365 (rule S4)."""

    GROUPS = "groups"
    CLASSES = "classes"


class Privacy(StrEnum):
    PRIVATE = "Private"
    PUBLIC = "Public"


@dataclass(frozen=True, slots=True)
class SafetyLimits:
    """Shares in 0..1 past which a run is blocked (X1) or a group's removals held (X2).

    A group's removals are held only when at least `min_held_removals` members would leave.
    """

    max_student_loss: float = DEFAULT_MAX_STUDENT_LOSS
    max_group_loss: float = DEFAULT_MAX_GROUP_LOSS
    max_member_loss: float = DEFAULT_MAX_MEMBER_LOSS
    min_held_removals: int = DEFAULT_MIN_HELD_REMOVALS

    def to_dict(self) -> dict[str, float | int]:
        return {
            "max_student_loss": self.max_student_loss,
            "max_group_loss": self.max_group_loss,
            "max_member_loss": self.max_member_loss,
            "min_held_removals": self.min_held_removals,
        }


@dataclass(frozen=True, slots=True)
class SchoolSettings:
    """Per-school settings (rules S1-S5, G2 and X1-X3 in docs/rules.md) with the defaults a new
    school gets.

    All three group kinds are enabled by default: a school that turns the sync on most likely
    wants its classes, forms and year groups. The target defaults to Microsoft 365 groups
    because they work in every tenant; a school in an Education tenant should choose classes.
    """

    school_id: str
    dfe_number: str = ""
    name_identifier: str = ""
    enabled_kinds: frozenset[GroupKind] = frozenset(GroupKind)
    admin_owners: tuple[str, ...] = ()
    target: Target = Target.GROUPS
    mis_vendor: str = ""
    matching: MatchRule = field(default_factory=MatchRule)
    safety: SafetyLimits = field(default_factory=SafetyLimits)
    preview_only: bool = False
    registration_pattern: str | None = None
    default_privacy: Privacy = Privacy.PRIVATE
    enabled: bool = True

    @property
    def teaching_groups_supported(self) -> bool:
        """ScholarPack does not provide teaching groups (I3)."""
        return self.mis_vendor != SCHOLARPACK

    @property
    def all_staff_own_teaching_groups(self) -> bool:
        """SEEMiS schools make every staff member of a teaching group an owner (O3)."""
        return self.mis_vendor == SEEMIS

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SchoolSettings:
        """Validate settings from JSON; unknown keys are errors, so a typo is never ignored."""
        if not isinstance(data, Mapping):
            raise SettingsError("(top level)", "expected a JSON object", "wrap the keys in {}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SettingsError(
                unknown[0],
                "unknown setting",
                f"remove it or correct its spelling; known settings: {', '.join(sorted(known))}",
            )

        school_id = _text(data, "school_id", required=True)
        dfe_number = _text(data, "dfe_number")
        return cls(
            school_id=school_id,
            dfe_number=dfe_number,
            name_identifier=_text(data, "name_identifier") or dfe_number,
            enabled_kinds=_kinds(data.get("enabled_kinds", [k.value for k in GroupKind])),
            admin_owners=_admin_owners(data.get("admin_owners", [])),
            target=_choice(data, "target", Target, Target.GROUPS),
            mis_vendor=_text(data, "mis_vendor").lower(),
            matching=_matching(data.get("matching", {})),
            safety=_safety(data.get("safety", {})),
            preview_only=_flag(data, "preview_only", False),
            registration_pattern=_pattern(data.get("registration_pattern")),
            default_privacy=_choice(data, "default_privacy", Privacy, Privacy.PRIVATE),
            enabled=_flag(data, "enabled", True),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "school_id": self.school_id,
            "dfe_number": self.dfe_number,
            "name_identifier": self.name_identifier,
            "enabled_kinds": sorted(kind.value for kind in self.enabled_kinds),
            "admin_owners": list(self.admin_owners),
            "target": self.target.value,
            "mis_vendor": self.mis_vendor,
            "matching": self.matching.to_dict(),
            "safety": self.safety.to_dict(),
            "preview_only": self.preview_only,
            "registration_pattern": self.registration_pattern,
            "default_privacy": self.default_privacy.value,
            "enabled": self.enabled,
        }


def _text(data: Mapping[str, Any], name: str, *, required: bool = False) -> str:
    value = data.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise SettingsError(name, f"expected text, got {type(value).__name__}", "quote the value")
    value = value.strip()
    if required and not value:
        raise SettingsError(name, "missing or empty", f"set {name} to the school's id")
    if any(ord(ch) < 32 for ch in value):
        raise SettingsError(name, "contains control characters", "remove them")
    return value


def _flag(data: Mapping[str, Any], name: str, default: bool) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise SettingsError(name, f"expected true or false, got {value!r}", "use a JSON boolean")
    return value


def _choice(data: Mapping[str, Any], name: str, enum: type[_Choice], default: _Choice) -> _Choice:
    value = data.get(name, default.value)
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise SettingsError(name, f"unknown value {value!r}", f"use one of {allowed}") from None


def _kinds(value: Any) -> frozenset[GroupKind]:
    allowed = ", ".join(kind.value for kind in GroupKind)
    if not isinstance(value, list | tuple):
        raise SettingsError("enabled_kinds", "expected a list", f"list any of {allowed}")
    kinds = set()
    for item in value:
        try:
            kinds.add(GroupKind(item))
        except ValueError:
            raise SettingsError(
                "enabled_kinds", f"unknown group kind {item!r}", f"use any of {allowed}"
            ) from None
    return frozenset(kinds)


def _admin_owners(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise SettingsError("admin_owners", "expected a list", "list the admins' UPNs")
    owners: list[str] = []
    for item in value:
        upn = item.strip().lower() if isinstance(item, str) else ""
        if upn.count("@") != 1 or " " in upn or upn.startswith("@") or upn.endswith("@"):
            raise SettingsError(
                "admin_owners",
                f"{item!r} is not a user principal name",
                "give each admin as name@domain, the way they sign in to Microsoft 365",
            )
        if upn not in owners:
            owners.append(upn)
    return tuple(owners)


def _matching(value: Any) -> MatchRule:
    if not isinstance(value, Mapping):
        raise SettingsError("matching", "expected an object", "see the defaults in to_dict()")
    unknown = sorted(set(value) - {"mis_field", "directory_property", "domain_suffix"})
    if unknown:
        raise SettingsError(
            f"matching.{unknown[0]}",
            "unknown setting",
            "use mis_field, directory_property and domain_suffix",
        )
    mis_field = value.get("mis_field", MisField.USERNAME.value)
    directory_property = value.get("directory_property", DirectoryProperty.UPN.value)
    if mis_field not in {m.value for m in MisField}:
        raise SettingsError(
            "matching.mis_field",
            f"unknown MIS field {mis_field!r}",
            f"use one of {', '.join(m.value for m in MisField)}",
        )
    if directory_property not in {p.value for p in DirectoryProperty}:
        raise SettingsError(
            "matching.directory_property",
            f"unknown directory property {directory_property!r}",
            f"use one of {', '.join(p.value for p in DirectoryProperty)}",
        )
    suffix = value.get("domain_suffix")
    if suffix is not None and not isinstance(suffix, str):
        raise SettingsError("matching.domain_suffix", "expected text", "quote the domain")
    try:
        return MatchRule(MisField(mis_field), DirectoryProperty(directory_property), suffix)
    except ValueError as error:
        raise SettingsError("matching.domain_suffix", str(error), "correct the rule") from None


def _safety(value: Any) -> SafetyLimits:
    if not isinstance(value, Mapping):
        raise SettingsError("safety", "expected an object", "see the defaults in to_dict()")
    defaults = SafetyLimits()
    names = {f.name for f in fields(SafetyLimits)}
    unknown = sorted(set(value) - names)
    if unknown:
        raise SettingsError(
            f"safety.{unknown[0]}", "unknown setting", f"use {', '.join(sorted(names))}"
        )
    floor = value.get("min_held_removals", defaults.min_held_removals)
    if isinstance(floor, bool) or not isinstance(floor, int) or floor < 1:
        raise SettingsError(
            "safety.min_held_removals",
            f"{floor!r} is not a whole number of members of at least 1",
            "give e.g. 3; 1 holds any removal past the share",
        )
    shares: dict[str, float | int] = {"min_held_removals": floor}
    for name in names - {"min_held_removals"}:
        share = value.get(name, getattr(defaults, name))
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            raise SettingsError(
                f"safety.{name}",
                f"{share!r} is not a share between 0 and 1",
                "give a fraction, e.g. 0.2 for 20%",
            )
        shares[name] = float(share)
    return SafetyLimits(**shares)


def _pattern(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise SettingsError("registration_pattern", "expected text", "quote the pattern")
    try:
        re.compile(value)
    except re.error as error:
        raise SettingsError(
            "registration_pattern",
            f"not a valid regular expression ({error})",
            "fix the pattern, e.g. ^Reg or ^[0-9]+[A-Z]$",
        ) from None
    return value
