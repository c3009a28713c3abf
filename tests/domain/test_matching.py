"""Matching MIS people to directory users: exact values by the school's rule, never a guess."""

from __future__ import annotations

import pytest

from shared.domain.matching import (
    DirectoryProperty,
    MatchRule,
    MisField,
    directory_index,
    match_people,
    match_value,
)
from shared.domain.snapshot import Person, Role


def person(mis_id: str, **fields: str) -> Person:
    return Person(mis_id=mis_id, role=Role.STUDENT, **fields)


def test_default_rule_matches_username_to_user_principal_name_lowercased():
    pupil = person("p1", username="JSmith23@Oakfield.example.org")

    value = match_value(pupil, MatchRule())

    assert value == "jsmith23@oakfield.example.org"


def test_domain_suffix_is_appended_to_a_bare_value_only():
    rule = MatchRule(domain_suffix="oakfield.example.org")

    bare = match_value(person("p1", username="jsmith23"), rule)
    full = match_value(person("p2", username="amy@other.example.org"), rule)

    assert bare == "jsmith23@oakfield.example.org"
    assert full == "amy@other.example.org"


@pytest.mark.parametrize(
    ("mis_field", "expected"),
    [
        (MisField.USERNAME, "user1"),
        (MisField.EMAIL, "mail1@x.org"),
        (MisField.IDENTIFIER, "emp-1"),
        (MisField.SOURCED_ID, "p1"),
    ],
)
def test_each_mis_field_can_be_matched_on(mis_field, expected):
    pupil = person("p1", username="user1", email="Mail1@x.org", identifier="EMP-1")

    value = match_value(pupil, MatchRule(mis_field, DirectoryProperty.EMPLOYEE_ID))

    assert value == expected


def test_a_person_without_the_field_has_no_match_value():
    value = match_value(person("p1", email=""), MatchRule(MisField.EMAIL, DirectoryProperty.MAIL))

    assert value is None


def test_people_link_to_the_user_holding_exactly_their_value():
    people = [person("p1", username="a@x.org"), person("p2", username="b@x.org")]

    result = match_people(people, MatchRule(), {"a@x.org": "user-a"})

    assert result.links == {"p1": "user-a"}
    assert result.unmatched == ["p2"]


def test_a_near_miss_is_not_matched():
    people = [person("p1", username="jsmith23@x.org")]

    result = match_people(people, MatchRule(), {"jsmith24@x.org": "user-1", "jsmith@x.org": "u2"})

    assert result.links == {}
    assert result.unmatched == ["p1"]


def test_two_mis_people_sharing_a_value_are_both_left_unmatched():
    people = [person("p1", email="family@x.org"), person("p2", email="family@x.org")]
    rule = MatchRule(MisField.EMAIL, DirectoryProperty.MAIL)

    result = match_people(people, rule, {"family@x.org": "user-1"})

    assert result.links == {}
    assert result.ambiguous == ["p1", "p2"]
    assert result.unmatched == ["p1", "p2"]


def test_directory_index_drops_a_value_two_users_share():
    users = [
        {"id": "u1", "mail": "Office@x.org"},
        {"id": "u2", "mail": "office@x.org"},
        {"id": "u3", "mail": "amy@x.org"},
        {"id": "u4", "mail": None},
    ]

    index = directory_index(users, MatchRule(MisField.EMAIL, DirectoryProperty.MAIL))

    assert index == {"amy@x.org": "u3"}
