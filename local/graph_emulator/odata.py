"""OData query options as Graph's directory applies them: `$select`, `$top` (1-999),
`$skiptoken` paging with absolute next links, `$count`, and a small `$filter` language
(eq, ne, in, startswith, endswith, not, and, or, `groupTypes/any(c:c eq 'Unified')`).

Lookups by an indexed key are answered from the store's indexes, never by a scan.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from . import errors
from .messages import Request

MAX_IN_VALUES = 15
MAX_EQ_VALUE_LENGTH = 120

Node = tuple  # ("eq"|"ne"|"startswith"|"endswith", prop, value) | ("in", prop, values) |
# ("any", prop, value) | ("and"|"or", left, right) | ("not", node)


def project(entity: dict[str, Any], select: list[str] | None) -> dict[str, Any]:
    """Keep only the `$select`ed properties (case-insensitive names), plus annotations."""
    if select is None:
        return entity
    wanted = {name.lower() for name in select}
    return {k: v for k, v in entity.items() if k.lower() in wanted or k.startswith("@odata")}


def page(
    request: Request,
    items: list[Any],
    render: Callable[[Any], dict[str, Any]],
    context: str,
) -> dict[str, Any]:
    """One page of a collection, with `@odata.nextLink` when more remain."""
    offset = request.offset()
    top = request.top()
    chunk = items[offset : offset + top]
    body: dict[str, Any] = {"@odata.context": context}
    # `$count=true` is honoured only with ConsistencyLevel: eventual, and silently ignored else.
    if request.count_requested and request.eventual and offset == 0:
        body["@odata.count"] = len(items)
    if offset + top < len(items):
        body["@odata.nextLink"] = request.next_link(offset + top)
    body["value"] = [render(item) for item in chunk]
    return body


# --- $filter --------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<punct>[(),:/])"
    r"|(?P<word>[A-Za-z_$@][\w.@$]*))"
)
COMPARISONS = {"eq", "ne", "in"}
FUNCTIONS = {"startswith", "endswith"}
ADVANCED_ONLY = {"ne", "not", "endswith"}


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = self._tokenize(text)
        self.at = 0

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, Any]]:
        tokens: list[tuple[str, Any]] = []
        position = 0
        text = text.rstrip()
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None:
                raise errors.invalid_filter(f"syntax error at position {position} in '{text}'.")
            position = match.end()
            if match.group("str") is not None:
                tokens.append(("value", match.group("str")[1:-1].replace("''", "'")))
            elif match.group("num") is not None:
                number = match.group("num")
                tokens.append(("value", float(number) if "." in number else int(number)))
            elif match.group("punct") is not None:
                tokens.append(("punct", match.group("punct")))
            else:
                word = match.group("word")
                lowered = word.lower()
                literals = {"true": True, "false": False, "null": None}
                if lowered in literals:
                    tokens.append(("value", literals[lowered]))
                else:
                    tokens.append(("word", word))
        return tokens

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, kind: str, value: Any = None) -> Any:
        token = self.peek()
        if token is None or token[0] != kind or (value is not None and token[1] != value):
            expected = value or kind
            raise errors.invalid_filter(f"expected {expected!r} but found {token!r}.")
        self.at += 1
        return token[1]

    def is_word(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "word" and token[1].lower() in words

    def parse(self) -> Node:
        node = self.parse_or()
        if self.peek() is not None:
            raise errors.invalid_filter(f"unexpected {self.peek()!r}.")
        return node

    def parse_or(self) -> Node:
        node = self.parse_and()
        while self.is_word("or"):
            self.at += 1
            node = ("or", node, self.parse_and())
        return node

    def parse_and(self) -> Node:
        node = self.parse_unary()
        while self.is_word("and"):
            self.at += 1
            node = ("and", node, self.parse_unary())
        return node

    def parse_unary(self) -> Node:
        if self.is_word("not"):
            self.at += 1
            return ("not", self.parse_unary())
        token = self.peek()
        if token == ("punct", "("):
            self.at += 1
            node = self.parse_or()
            self.take("punct", ")")
            return node
        name = self.take("word")
        if name.lower() in FUNCTIONS:
            self.take("punct", "(")
            prop = self.take("word")
            self.take("punct", ",")
            value = self.take("value")
            self.take("punct", ")")
            return (name.lower(), prop, value)
        if self.peek() == ("punct", "/"):
            return self.parse_any(name)
        operator = self.take("word").lower()
        if operator not in COMPARISONS:
            raise errors.invalid_filter(f"operator '{operator}' is not supported.")
        if operator == "in":
            self.take("punct", "(")
            values = [self.take("value")]
            while self.peek() == ("punct", ","):
                self.at += 1
                values.append(self.take("value"))
            self.take("punct", ")")
            return ("in", name, values)
        return (operator, name, self.take("value"))

    def parse_any(self, prop: str) -> Node:
        self.take("punct", "/")
        if self.take("word").lower() != "any":
            raise errors.invalid_filter("only the 'any' lambda is supported.")
        self.take("punct", "(")
        variable = self.take("word")
        self.take("punct", ":")
        if self.take("word") != variable or self.take("word").lower() != "eq":
            raise errors.invalid_filter("lambda body must be '<var> eq <value>'.")
        value = self.take("value")
        self.take("punct", ")")
        return ("any", prop, value)


def parse_filter(
    text: str,
    request: Request,
    max_or_clauses: int = MAX_IN_VALUES,
) -> Node:
    """Parse and check Graph's limits: `in`/`or` width, `eq` value length, advanced-only."""
    node = _Parser(text).parse()
    or_clauses = _or_width(node)
    if or_clauses > max_or_clauses:
        raise errors.too_many_or_clauses(or_clauses, max_or_clauses)
    for leaf in _leaves(node):
        if leaf[0] in ("eq", "in"):
            values = leaf[2] if leaf[0] == "in" else [leaf[2]]
            if any(isinstance(v, str) and len(v) > MAX_EQ_VALUE_LENGTH for v in values):
                raise errors.filter_value_too_long(MAX_EQ_VALUE_LENGTH)
    advanced = request.eventual and request.count_requested
    if not advanced and _uses_advanced(node):
        raise errors.unsupported_query()
    return node


def _or_width(node: Node) -> int:
    kind = node[0]
    if kind == "in":
        return len(node[2])
    if kind == "or":
        return _or_width(node[1]) + _or_width(node[2])
    if kind == "and":
        return max(_or_width(node[1]), _or_width(node[2]))
    if kind == "not":
        return _or_width(node[1])
    return 1


def _leaves(node: Node) -> Iterable[Node]:
    if node[0] in ("and", "or"):
        yield from _leaves(node[1])
        yield from _leaves(node[2])
    elif node[0] == "not":
        yield from _leaves(node[1])
    else:
        yield node


def _uses_advanced(node: Node) -> bool:
    if node[0] in ADVANCED_ONLY:
        return True
    if node[0] in ("and", "or"):
        return _uses_advanced(node[1]) or _uses_advanced(node[2])
    return False


Getter = Callable[[Any], Any]


def matcher(node: Node, getters: dict[str, Getter]) -> Callable[[Any], bool]:
    """A predicate for `node`; property names are checked now, so typos fail before a scan."""
    kind = node[0]
    if kind in ("and", "or"):
        left, right = matcher(node[1], getters), matcher(node[2], getters)
        if kind == "and":
            return lambda obj: left(obj) and right(obj)
        return lambda obj: left(obj) or right(obj)
    if kind == "not":
        inner = matcher(node[1], getters)
        return lambda obj: not inner(obj)
    getter = getters.get(node[1].lower())
    if getter is None:
        raise errors.unknown_property(node[1])
    if kind == "in":
        wanted = {_fold(v) for v in node[2]}
        return lambda obj: _fold(getter(obj)) in wanted
    value = _fold(node[2])
    if kind == "eq":
        return lambda obj: _fold(getter(obj)) == value
    if kind == "ne":
        return lambda obj: _fold(getter(obj)) != value
    if kind == "any":
        return lambda obj: value in {_fold(v) for v in getter(obj) or ()}
    if kind == "startswith":
        return lambda obj: str(_fold(getter(obj)) or "").startswith(str(value))
    return lambda obj: str(_fold(getter(obj)) or "").endswith(str(value))


Index = Callable[[str], Iterable[str]]


def candidates(node: Node, indexes: dict[str, Index]) -> set[str] | None:
    """Ids that may match, from the indexes alone; None when the filter needs a scan."""
    kind = node[0]
    if kind == "and":
        left, right = candidates(node[1], indexes), candidates(node[2], indexes)
        if left is None:
            return right
        return left if right is None else left & right
    if kind == "or":
        left, right = candidates(node[1], indexes), candidates(node[2], indexes)
        return None if left is None or right is None else left | right
    if kind not in ("eq", "in"):
        return None
    index = indexes.get(node[1].lower())
    if index is None:
        return None
    values = node[2] if kind == "in" else [node[2]]
    found: set[str] = set()
    for value in values:
        if isinstance(value, str):
            found.update(index(value.lower()))
    return found


def _fold(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value
