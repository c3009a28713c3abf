"""One CSV file of an export: header checks, then rows with the line each one starts on.

Headers are matched exactly (the standards make them case-sensitive) and a near miss is named;
rows come back as plain lists for speed, with blank lines skipped and short rows padded.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from shared.mis.errors import Problems
from shared.mis.package import ExportPackage
from shared.mis.values import parse_date

EXTENSION_PREFIX = "metadata."


@dataclass(frozen=True, slots=True)
class Columns:
    """The header a file may have: columns that must be there, and columns that may."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @classmethod
    def of(cls, required: str, optional: str = "") -> Columns:
        """Columns from space-separated names: `Columns.of("sourcedId name", "status")`."""
        return cls(tuple(required.split()), tuple(optional.split()))


class CsvTable:
    """A CSV file whose header has been checked; `col()` gives a column's index or None."""

    def __init__(self, name: str, text: str, problems: Problems) -> None:
        self.name = name
        self._text = text
        self._problems = problems
        self._reader = csv.reader(io.StringIO(text, newline=""))
        self.header: list[str] = next(self._reader, [])
        self.index = {column: position for position, column in enumerate(self.header)}
        # First fields of rows too malformed to read: usually their ids, so that records
        # referring to them can be skipped instead of reported a second time.
        self.skipped: set[str] = set()

    def col(self, column: str) -> int | None:
        return self.index.get(column)

    def check_header(self, columns: Columns, *, standard: str) -> bool:
        """Record every header problem; True when the rows can be read."""
        problems = self._problems
        if not self.header or self.header == [""]:
            problems.add(
                self.name,
                1,
                None,
                "the file is empty; a header row is required",
                f"export the file again with its {standard} header row",
            )
            return False
        ok = True
        by_lower = {column.lower(): column for column in self.header}
        for column in columns.required + columns.optional:
            if column in self.index:
                continue
            near = by_lower.get(column.lower())
            if near is not None:
                problems.add(
                    self.name,
                    1,
                    near,
                    f"header '{near}' should be '{column}'",
                    f"{standard} headers are case-sensitive; rename the column",
                )
                ok = False
            elif column in columns.required:
                problems.add(
                    self.name,
                    1,
                    column,
                    f"required column '{column}' is missing",
                    f"add the '{column}' column to the header ({standard})",
                )
                ok = False
        seen: set[str] = set()
        for column in self.header:
            if column in seen:
                problems.add(
                    self.name,
                    1,
                    column,
                    f"column '{column}' appears twice in the header",
                    "remove the duplicate column",
                )
                ok = False
            seen.add(column)
        known = {column.lower() for column in columns.required + columns.optional}
        unknown = [
            column
            for column in self.header
            if column and column.lower() not in known and not column.startswith(EXTENSION_PREFIX)
        ]
        if unknown:
            problems.warn(f"{self.name}: ignored unknown columns {', '.join(unknown)}")
        return ok

    def blank(self, row: list[str], line: int, columns: tuple[str, ...]) -> bool:
        """Report each of `columns` whose value is blank in `row`; True when any was."""
        missing = False
        for column in columns:
            if not row[self.index[column]].strip():
                self._problems.add(
                    self.name,
                    line,
                    column,
                    f"{column} is blank; a value is required",
                    "fill in the value in the MIS, or leave the row out of the export",
                )
                missing = True
        return missing

    def duplicate(self, seen: dict[str, int], key: str, line: int, column: str) -> bool:
        """True (and a problem) when `key` was already seen; else remember its line."""
        first = seen.get(key)
        if first is None:
            seen[key] = line
            return False
        self._problems.add(
            self.name,
            line,
            column,
            f"duplicate {column} '{key}' (first on line {first})",
            "each record needs its own id; remove or renumber the duplicate",
        )
        return True

    def records(self, required: tuple[str, ...]) -> Iterator[tuple[int, list[str], str]]:
        """Each row with its line and sourcedId, passing over (after reporting them) rows with a
        blank `required` value and rows whose sourcedId came before."""
        id_at = self.index["sourcedId"]
        seen: dict[str, int] = {}
        for line, row in self.rows():
            if self.blank(row, line, required):
                continue
            record_id = row[id_at]
            if self.duplicate(seen, record_id, line, "sourcedId"):
                continue
            yield line, row, record_id

    def date(self, row: list[str], line: int, column: str) -> date | None:
        """The column's date, None when blank or absent (a bad date is a problem)."""
        at = self.index.get(column)
        if at is None or not row[at].strip():
            return None
        try:
            return parse_date(row[at])
        except ValueError as error:
            self._problems.add(self.name, line, column, str(error), "fix the date in the export")
            return None

    def value(self, row: list[str], at: int | None) -> str:
        """A stripped optional value; blank when the column is absent."""
        return row[at].strip() if at is not None else ""

    def bad_value(self, line: int, column: str, message: str, remedy: str) -> None:
        self._problems.add(self.name, line, column, message, remedy)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Each data row with its starting line number; blank lines are skipped."""
        reader = self._reader
        width = len(self.header)
        previous = reader.line_num
        try:
            for row in reader:
                line = previous + 1
                previous = reader.line_num
                if len(row) != width:
                    if not row or (len(row) == 1 and not row[0].strip()):
                        continue
                    if len(row) > width:
                        # Even blank extra fields mean a shifted row: an unquoted comma.
                        self._problems.add(
                            self.name,
                            line,
                            None,
                            f"the row has {len(row)} fields but the header has {width}",
                            "quote any value that contains a comma, or remove the extra fields",
                        )
                        self.skipped.add(row[0])
                        continue
                    row.extend([""] * (width - len(row)))
                yield line, row
        except csv.Error as error:
            self._problems.add(
                self.name,
                reader.line_num,
                None,
                f"the file is not valid CSV ({error})",
                "export the file again as RFC 4180 CSV",
            )


def open_table(
    package: ExportPackage,
    name: str,
    columns: Columns,
    problems: Problems,
    *,
    standard: str,
    required: bool = True,
) -> CsvTable | None:
    """The named file with its header checked, or None (with a problem if it was required)."""
    if not package.has(name):
        if required:
            near = package.find(name)
            message = (
                f"the file is named '{near}'; it should be '{name}'"
                if near
                else f"required file '{name}' is missing"
            )
            problems.add(
                name,
                None,
                None,
                message,
                f"add {name} to the export ({standard} needs it); file names are case-sensitive",
            )
        return None
    table = CsvTable(name, package.text(name), problems)
    if not table.check_header(columns, standard=standard):
        return None
    return table
