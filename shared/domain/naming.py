"""Names for synced groups: the display name (G1), a mail nickname Graph accepts, and the
stable key that makes creation idempotent.

    group_display_name("10X/Ma1", "4001", 2025)      # '10X/Ma1 4001 2025'
    mail_nickname("10X/Ma1 4001 2025", taken=set())  # '10X-Ma1-4001-2025'
    unique_key("4001", "class-10X-Ma1", 2025)        # 'gs-4001-2025-…' (ASCII, at most 64)
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

# Graph's limits on a Microsoft 365 group.
DISPLAY_NAME_MAX_LENGTH = 256
MAIL_NICKNAME_MAX_LENGTH = 64
UNIQUE_KEY_MAX_LENGTH = 64

# Graph allows most printable ASCII in a nickname, but a nickname becomes the local part of
# the group's address; letters, digits, `-` and `_` read well and survive every mail system.
_NOT_NICKNAME = re.compile(r"[^A-Za-z0-9_-]+")
_DASHES = re.compile(r"-{2,}")
_SPACES = re.compile(r"\s+")
_FALLBACK_NICKNAME = "group"

_KEY_PREFIX = "gs"
_KEY_SCHOOL_LENGTH = 20
_KEY_HASH_LENGTH = 16


def group_display_name(mis_name: str, name_identifier: str, academic_year_start: int) -> str:
    """`<MIS group name> <name identifier> <academic year start>`, e.g. `10X/Ma1 4001 2025`.

    A name too long for Graph loses the end of its MIS part, so the identifier and the year,
    which tell groups apart, survive.
    """
    suffix = " ".join(part for part in (name_identifier.strip(), str(academic_year_start)) if part)
    mis_part = _SPACES.sub(" ", mis_name).strip()
    room = DISPLAY_NAME_MAX_LENGTH - len(suffix) - 1
    return f"{mis_part[:room].rstrip()} {suffix}"


def fold_to_ascii(text: str) -> str:
    """Accented letters lose their accents (`Zoë` to `Zoe`); other non-ASCII is dropped."""
    decomposed = unicodedata.normalize("NFKD", text)
    return decomposed.encode("ascii", "ignore").decode("ascii")


def _nickname_base(display_name: str) -> str:
    folded = _NOT_NICKNAME.sub("-", fold_to_ascii(display_name))
    return _DASHES.sub("-", folded).strip("-") or _FALLBACK_NICKNAME


def _fit(base: str, suffix: str) -> str:
    return base[: MAIL_NICKNAME_MAX_LENGTH - len(suffix)].rstrip("-") + suffix


def _first_free(base: str, used: set[str]) -> str:
    candidate = _fit(base, "")
    number = 1
    while candidate.lower() in used:
        number += 1
        candidate = _fit(base, f"-{number}")
    return candidate


def mail_nickname(display_name: str, taken: set[str]) -> str:
    """A nickname for the display name that is not in `taken` (compared case-insensitively).

    Deterministic: the same name and the same `taken` always give the same nickname. A clash
    gets `-2`, `-3`, ... while staying within Graph's 64 characters.
    """
    return _first_free(_nickname_base(display_name), {nickname.lower() for nickname in taken})


class NicknameRegister:
    """Nicknames for many groups at once, each unique among those handed out and `taken`.

    The same as calling `mail_nickname` for each group and adding the result to `taken`,
    without comparing every name with every other.
    """

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self._used = {nickname.lower() for nickname in taken}

    def claim(self, display_name: str) -> str:
        nickname = _first_free(_nickname_base(display_name), self._used)
        self._used.add(nickname.lower())
        return nickname


def unique_key(school_id: str, mis_group_id: str, academic_year: int) -> str:
    """The group's stable key in Microsoft 365 (`uniqueName`, or a class's `externalId`).

    A readable prefix (school and year) plus a hash of the school and MIS group id: MIS ids
    may hold any character and any length, the key must stay short, ASCII and unique.
    """
    school_part = _NOT_NICKNAME.sub("-", fold_to_ascii(school_id)).strip("-").lower()
    school_part = school_part[:_KEY_SCHOOL_LENGTH].strip("-") or "school"
    digest = hashlib.sha256(f"{school_id}\n{mis_group_id}".encode()).hexdigest()
    key = f"{_KEY_PREFIX}-{school_part}-{academic_year}-{digest[:_KEY_HASH_LENGTH]}"
    assert len(key) <= UNIQUE_KEY_MAX_LENGTH, "prefix lengths are fixed above"
    return key
