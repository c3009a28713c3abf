"""What a reader says when an MIS export is wrong: located problems, gathered into one error.

A reader keeps going after a cheap problem (a bad value in one row) so the admin sees many at
once, and stops after `MAX_PROBLEMS` or at the first problem that makes the rest meaningless.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn, TypeVar

MAX_PROBLEMS = 50

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an export, where it is, and what to do about it."""

    file: str
    line: int | None
    column: str | None
    message: str
    remedy: str

    def location(self) -> str:
        """Where the problem is, as in "users.csv line 14, column role"."""
        place = self.file
        if self.line is not None:
            place = f"{place} line {self.line}".strip()
        if self.column:
            place = f"{place}, column {self.column}" if place else f"column {self.column}"
        return place

    def __str__(self) -> str:
        where = self.location()
        text = f"{where}: {self.message}" if where else self.message
        return f"{text} ({self.remedy})" if self.remedy else text

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "remedy": self.remedy,
        }


class MisExportError(Exception):
    """The export cannot be read as a valid MIS snapshot; `problems` says where and why."""

    def __init__(self, problems: list[Problem], *, truncated: bool = False) -> None:
        self.problems = list(problems)
        self.truncated = truncated
        super().__init__(self._text())

    def _text(self) -> str:
        lines = [str(problem) for problem in self.problems]
        if self.truncated:
            lines.append(f"stopped after {len(self.problems)} problems; fix these and re-run")
        return "\n".join(lines)


class _Full(Exception):
    """Raised inside a reader when the problem list has reached its cap."""


class Problems:
    """The problems found so far while reading one export, capped at `limit`."""

    def __init__(self, limit: int = MAX_PROBLEMS) -> None:
        self.items: list[Problem] = []
        self.warnings: list[str] = []
        self._limit = limit

    def add(
        self,
        file: str,
        line: int | None,
        column: str | None,
        message: str,
        remedy: str,
    ) -> None:
        self.items.append(Problem(file, line, column, message, remedy))
        if len(self.items) >= self._limit:
            raise _Full

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    def for_school(self) -> Problems:
        """A view for one school of the export: the same problem list, and its own copy of the
        warnings so far, so that one school's warnings do not reach another's snapshot."""
        view = Problems(self._limit)
        view.items = self.items
        view.warnings = list(self.warnings)
        return view

    def fail(
        self,
        file: str,
        line: int | None,
        column: str | None,
        message: str,
        remedy: str,
    ) -> NoReturn:
        """Add a problem that makes reading further pointless, and stop."""
        self.items.append(Problem(file, line, column, message, remedy))
        raise MisExportError(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise MisExportError(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)


def collecting(problems: Problems, read: Callable[[], T]) -> T:
    """Run `read()`; turn a full problem list into the one error the caller sees."""
    try:
        result = read()
    except _Full:
        raise MisExportError(problems.items, truncated=True) from None
    problems.raise_if_any()
    return result
