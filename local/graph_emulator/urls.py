"""URL tolerance, as real Graph has it: repeated slashes collapse, `%24` means `$`, key
segments like `groups(uniqueName='x')` or `users('id')`, and `@odata.id` references to
`directoryObjects/{id}`, `users/{id}` or `education/users/{id}` on any host."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from . import errors

VERSION = "v1.0"
_KEY_SEGMENT = re.compile(r"^(?P<name>[^(]+)\((?P<key>.*)\)$")
_NAMED_KEY = re.compile(r"^(?P<prop>\w+)=(?P<value>.*)$")
REFERENCE_COLLECTIONS = {"directoryobjects", "users", "groups"}


@dataclass(frozen=True, slots=True)
class AltKey:
    """An alternate key in a path, e.g. `groups(uniqueName='x')` -> AltKey("uniqueName", "x")."""

    prop: str
    value: str


def split_target(raw_target: str) -> tuple[list[str], dict[str, str]]:
    """`/v1.0//groups/x?%24top=5` -> (["v1.0", "groups", "x"], {"$top": "5"})."""
    path, _, query_text = raw_target.partition("?")
    segments = [unquote(part) for part in path.split("/") if part]
    query = dict(parse_qsl(query_text, keep_blank_values=True))
    return segments, query


def expand_keys(segments: list[str]) -> list[str | AltKey]:
    """Turn `groups('id')` into two segments and `groups(uniqueName='x')` into an AltKey."""
    expanded: list[str | AltKey] = []
    for segment in segments:
        match = _KEY_SEGMENT.match(segment)
        if match is None:
            expanded.append(segment)
            continue
        expanded.append(match.group("name"))
        key = match.group("key").strip()
        named = _NAMED_KEY.match(key)
        if named is not None:
            expanded.append(AltKey(named.group("prop"), _unquote_literal(named.group("value"))))
        else:
            expanded.append(_unquote_literal(key))
    return expanded


def _unquote_literal(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    return text


def referenced_id(reference: object) -> str:
    """The object id in an `@odata.id` / `@odata.bind` URL, whatever its host or form."""
    if not isinstance(reference, str) or not reference:
        raise errors.invalid_value("@odata.id", "directoryObject")
    path = urlsplit(reference).path if "://" in reference else reference
    segments = expand_keys([unquote(part) for part in path.split("/") if part])
    for position in range(len(segments) - 1, 0, -1):
        collection = segments[position - 1]
        if isinstance(collection, str) and collection.lower() in REFERENCE_COLLECTIONS:
            object_id = segments[position]
            if isinstance(object_id, str):
                return object_id
    raise errors.invalid_value("@odata.id", "directoryObject")
