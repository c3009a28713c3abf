"""Matching MIS people to directory users by a school's rule: exact values only, never a guess.

    rule = MatchRule(mis_field=MisField.USERNAME, directory_property=DirectoryProperty.UPN)
    result = match_people(snapshot.people.values(), rule, directory_index(users, rule))

A person whose value is missing, unknown to the directory or shared with another MIS person is
reported as not matched; the rest of their groups still sync.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from shared.domain.snapshot import Person


class MisField(StrEnum):
    """The MIS field a school matches on, in OneRoster's names."""

    USERNAME = "username"
    EMAIL = "email"
    IDENTIFIER = "identifier"
    SOURCED_ID = "sourcedId"


class DirectoryProperty(StrEnum):
    """The Entra ID user property an MIS value is compared with."""

    UPN = "userPrincipalName"
    MAIL = "mail"
    EMPLOYEE_ID = "employeeId"


# Only properties that hold an address can take a domain suffix.
_ADDRESS_PROPERTIES = frozenset({DirectoryProperty.UPN, DirectoryProperty.MAIL})


@dataclass(frozen=True, slots=True)
class MatchRule:
    """How one school's MIS people are found in the directory (default: username to UPN).

    `domain_suffix` is appended, after an `@`, to values that have none: MIS usernames are
    often bare (`jsmith23`) while UPNs are not (`jsmith23@school.example.org`).
    """

    mis_field: MisField = MisField.USERNAME
    directory_property: DirectoryProperty = DirectoryProperty.UPN
    domain_suffix: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "mis_field", MisField(self.mis_field))
        object.__setattr__(self, "directory_property", DirectoryProperty(self.directory_property))
        suffix = (self.domain_suffix or "").strip().lstrip("@").lower()
        if suffix and self.directory_property not in _ADDRESS_PROPERTIES:
            raise ValueError(
                f"a domain suffix cannot apply to {self.directory_property.value}; "
                "remove domain_suffix or match on userPrincipalName or mail"
            )
        if suffix and (" " in suffix or "@" in suffix or "." not in suffix):
            raise ValueError(
                f"domain suffix {self.domain_suffix!r} is not a domain; "
                "give it as school.example.org"
            )
        object.__setattr__(self, "domain_suffix", suffix or None)

    def to_dict(self) -> dict[str, str | None]:
        return {
            "mis_field": self.mis_field.value,
            "directory_property": self.directory_property.value,
            "domain_suffix": self.domain_suffix,
        }


@dataclass(slots=True)
class MatchResult:
    """Directory user ids by MIS person id, and the people left unmatched (sorted ids).

    `ambiguous` lists the unmatched people whose value another MIS person shares: a
    directory user is never linked to two MIS people.
    """

    links: dict[str, str] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)


def _raw_value(person: Person, mis_field: MisField) -> str:
    if mis_field is MisField.USERNAME:
        return person.username
    if mis_field is MisField.EMAIL:
        return person.email
    if mis_field is MisField.IDENTIFIER:
        return person.identifier
    return person.mis_id


def match_value(person: Person, rule: MatchRule) -> str | None:
    """The lowercased directory value this person should have, or None if the MIS has none."""
    value = _raw_value(person, rule.mis_field).strip().lower()
    if not value:
        return None
    if rule.domain_suffix and "@" not in value:
        value = f"{value}@{rule.domain_suffix}"
    return value


def directory_index(users: Iterable[Mapping[str, object]], rule: MatchRule) -> dict[str, str]:
    """Directory user ids by the lowercased value of the rule's property.

    A value two directory users share is dropped: which of them is meant cannot be told.
    """
    index: dict[str, str] = {}
    shared: set[str] = set()
    prop = rule.directory_property.value
    for user in users:
        raw = user.get(prop)
        if not isinstance(raw, str) or not raw.strip():
            continue
        value = raw.strip().lower()
        if value in index and index[value] != user["id"]:
            shared.add(value)
        index[value] = str(user["id"])
    for value in shared:
        del index[value]
    return index


def match_people(
    people: Iterable[Person],
    rule: MatchRule,
    directory: Mapping[str, str],
) -> MatchResult:
    """Link each person to the directory user holding exactly their value (M1, M2)."""
    by_value: dict[str, list[str]] = {}
    result = MatchResult()
    for person in people:
        value = match_value(person, rule)
        if value is None:
            result.unmatched.append(person.mis_id)
            continue
        by_value.setdefault(value, []).append(person.mis_id)

    for value, person_ids in by_value.items():
        user_id = directory.get(value)
        if user_id is None:
            result.unmatched.extend(person_ids)
        elif len(person_ids) > 1:
            result.unmatched.extend(person_ids)
            result.ambiguous.extend(person_ids)
        else:
            result.links[person_ids[0]] = user_id

    result.unmatched.sort()
    result.ambiguous.sort()
    return result
