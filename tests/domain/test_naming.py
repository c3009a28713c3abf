"""Group names, mail nicknames and the stable keys used for idempotent creation."""

from __future__ import annotations

import re

from shared.domain.naming import (
    DISPLAY_NAME_MAX_LENGTH,
    MAIL_NICKNAME_MAX_LENGTH,
    NicknameRegister,
    group_display_name,
    mail_nickname,
    unique_key,
)

# Graph's documented nickname charset: ASCII without @ ( ) \ [ ] " ; : < > , or space.
GRAPH_NICKNAME = re.compile(r"^[\x21-\x7e]+$")
GRAPH_FORBIDDEN = set('@()\\[]";:<>, ')


def test_display_name_is_mis_name_identifier_and_academic_year_start():
    name = group_display_name("10X/Ma1", "4001", 2025)

    assert name == "10X/Ma1 4001 2025"


def test_an_overlong_display_name_keeps_its_identifier_and_year():
    name = group_display_name("x" * 400, "4001", 2025)

    assert len(name) == DISPLAY_NAME_MAX_LENGTH
    assert name.endswith(" 4001 2025")


def test_nickname_has_no_spaces_or_reserved_characters():
    nickname = mail_nickname("10X/Ma1 4001 2025", taken=set())

    assert nickname == "10X-Ma1-4001-2025"
    assert GRAPH_NICKNAME.match(nickname)
    assert not GRAPH_FORBIDDEN & set(nickname)


def test_nickname_folds_accents_to_ascii():
    nickname = mail_nickname("Français Année 10 (Zoë's set) 4001 2025", taken=set())

    assert nickname == "Francais-Annee-10-Zoe-s-set-4001-2025"


def test_a_name_with_nothing_ascii_still_gets_a_nickname():
    nickname = mail_nickname("中文", taken=set())

    assert nickname == "group"


def test_nickname_is_at_most_64_characters():
    nickname = mail_nickname("Design and Technology " * 10, taken=set())

    assert len(nickname) == MAIL_NICKNAME_MAX_LENGTH
    assert not nickname.endswith("-")


def test_a_taken_nickname_gets_the_next_free_suffix_case_insensitively():
    taken = {"10x-ma1-4001-2025", "10X-Ma1-4001-2025-2"}

    nickname = mail_nickname("10X/Ma1 4001 2025", taken=taken)

    assert nickname == "10X-Ma1-4001-2025-3"


def test_a_suffix_on_a_long_name_stays_within_64_characters():
    first = mail_nickname("a" * 100, taken=set())

    second = mail_nickname("a" * 100, taken={first})

    assert second.endswith("-2")
    assert len(second) == MAIL_NICKNAME_MAX_LENGTH


def test_nickname_is_deterministic():
    names = [mail_nickname("7A 4001 2025", taken={"7A-4001-2025"}) for _ in range(3)]

    assert names == ["7A-4001-2025-2"] * 3


def test_unique_key_is_stable_short_ascii_and_distinct_per_group_school_and_year():
    key = unique_key("org-1", "class/10X/Ma1", 2025)

    assert key == unique_key("org-1", "class/10X/Ma1", 2025)
    assert re.fullmatch(r"[a-z0-9_-]{1,64}", key)
    assert key.startswith("gs-org-1-2025-")
    assert key != unique_key("org-1", "class/10X/Ma2", 2025)
    assert key != unique_key("org-2", "class/10X/Ma1", 2025)
    assert key != unique_key("org-1", "class/10X/Ma1", 2026)


def test_unique_key_stays_short_for_long_unusual_school_ids():
    key = unique_key("Ünïversity Technical College of the North " * 3, "g" * 500, 2025)

    assert len(key) <= 64
    assert key.isascii()


def test_a_register_hands_out_the_same_nicknames_as_one_call_at_a_time():
    names = ["7A 4001 2025", "7a 4001 2025", "7/A 4001 2025", "7B 4001 2025"]
    taken = {"7A-4001-2025-2"}
    expected = []
    for name in names:
        expected.append(mail_nickname(name, taken))
        taken.add(expected[-1])

    register = NicknameRegister({"7A-4001-2025-2"})
    claimed = [register.claim(name) for name in names]

    assert claimed == expected
    assert claimed == ["7A-4001-2025", "7a-4001-2025-3", "7-A-4001-2025", "7B-4001-2025"]
