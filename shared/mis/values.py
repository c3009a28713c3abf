"""Cell values as real exports write them: booleans, dates, lists, grades and year groups.

Parsers raise `ValueError` with a message fit for the admin; the reader adds file, line and
column. No regular expressions: these run once per row on exports of a million rows.
"""

from __future__ import annotations

from datetime import date

from shared.domain.snapshot import GroupKind, MisGroup

TRUE_WORDS = frozenset({"true", "yes", "1", "t", "y"})
FALSE_WORDS = frozenset({"false", "no", "0", "f", "n"})
YEAR_GROUP_PREFIX = "year:"


def parse_bool(value: str, *, default: bool) -> bool:
    """A boolean in any case; blank means `default`."""
    if not value:
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"'{value}' is not a boolean; expected true or false")


def parse_date(value: str) -> date:
    """An ISO 8601 date (a time part is ignored) or a US month/day/year date."""
    text = value.strip()
    try:
        if "/" in text:
            month, day, year = text.split("/")
            if len(year) != 4:
                raise ValueError
            return date(int(year), int(month), int(day))
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"'{value}' is not a date; expected YYYY-MM-DD (or M/D/YYYY)") from None


def parse_year(value: str) -> int:
    text = value.strip()
    if len(text) != 4 or not text.isdigit():
        raise ValueError(f"'{value}' is not a year; expected four digits such as 2026")
    return int(text)


def split_list(value: str) -> list[str]:
    """A OneRoster list cell ("a,b,c") as its non-blank items."""
    if "," not in value:
        return [value.strip()] if value.strip() else []
    return [item.strip() for item in value.split(",") if item.strip()]


def first_grade(value: str) -> str:
    """The grade a student is in: the first of a list, as written."""
    if "," in value:
        items = split_list(value)
        return items[0] if items else ""
    return value.strip()


def year_group_key(grade: str) -> tuple[str, str]:
    """The year group id and MIS name for a grade: `Year 7` for "07", else the grade itself.

    Numeric grades lose their leading zeros in the id too, so an MIS that starts padding
    grades ("7" becomes "07") keeps the same year groups.
    """
    if grade.isdigit():
        number = str(int(grade))
        return f"{YEAR_GROUP_PREFIX}{number}", f"Year {number}"
    return f"{YEAR_GROUP_PREFIX}{grade}", grade


def add_year_groups(groups: dict[str, MisGroup], students_by_grade: dict[str, list[str]]) -> None:
    """Add one year group per grade, holding the students in that grade."""
    for grade, student_ids in students_by_grade.items():
        group_id, name = year_group_key(grade)
        group = groups.get(group_id)
        if group is None:
            group = groups[group_id] = MisGroup(group_id, GroupKind.YEAR, name)
        group.students.update(student_ids)
