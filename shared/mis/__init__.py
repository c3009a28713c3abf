"""MIS readers: a school's export (OneRoster 1.1/1.2 CSV, SDS v2.1 CSV, groupsync JSON) in,
a validated `MisSnapshot` per school out, or a `MisExportError` saying where the export is wrong.

    snapshot = read_mis_export(Path("exports/4001.zip"))
    snapshots = read_mis_exports(Path("exports/trust"), as_of=date(2026, 1, 5))
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from shared.domain.snapshot import MisSnapshot, School
from shared.mis import jsonsnapshot, oneroster, sds
from shared.mis.assembly import SchoolChoice
from shared.mis.detect import FORMATS, check_format_name, detect_format, json_file
from shared.mis.errors import MisExportError, Problem, Problems, collecting
from shared.mis.jsonsnapshot import GROUPSYNC_JSON, snapshot_to_json
from shared.mis.oneroster_schema import ONEROSTER_11, ONEROSTER_12
from shared.mis.package import open_package
from shared.mis.sds import SDS_21

__all__ = [
    "FORMATS",
    "GROUPSYNC_JSON",
    "ONEROSTER_11",
    "ONEROSTER_12",
    "SDS_21",
    "MisExportError",
    "Problem",
    "list_schools",
    "read_mis_export",
    "read_mis_exports",
    "snapshot_to_json",
]


def read_mis_export(
    path: Path,
    *,
    format: str | None = None,
    school_id: str | None = None,
    registration_pattern: str | None = None,
    as_of: date | None = None,
) -> MisSnapshot:
    """Read one school's snapshot from a folder, zip or JSON file.

    `format` is one of FORMATS (detected when None); `school_id` (sourcedId or DfE number)
    picks the school in a trust export; `registration_pattern` is a regular expression,
    searched in each class's course code and title, that marks registration groups in formats
    with no class type (SDS). Enrolments that had ended or not yet begun on `as_of` (today in
    UTC when None) are left out of the groups and counted. Raises MisExportError listing what
    is wrong and where.
    """
    snapshots = _read(path, format, SchoolChoice(school_id), registration_pattern, as_of)
    return next(iter(snapshots.values()))


def read_mis_exports(
    path: Path,
    *,
    format: str | None = None,
    registration_pattern: str | None = None,
    as_of: date | None = None,
) -> dict[str, MisSnapshot]:
    """Every school's snapshot from one read of the export, keyed by the school's MIS id.

    Options as for `read_mis_export`. A problem anywhere in the export, whichever school it
    belongs to, raises MisExportError (each problem located by file, line and column); to
    sync the other schools of a trust meanwhile, read them one by one with `read_mis_export`,
    which checks only the rows its school needs.
    """
    return _read(path, format, SchoolChoice(every=True), registration_pattern, as_of)


def _read(
    path: Path,
    format: str | None,
    choice: SchoolChoice,
    registration_pattern: str | None,
    as_of: date | None,
) -> dict[str, MisSnapshot]:
    """The one way an export is read: the chosen schools' snapshots from one pass."""
    run_date = as_of or datetime.now(UTC).date()
    problems = Problems()

    def read() -> dict[str, MisSnapshot]:
        package = open_package(Path(path), problems)
        fmt = check_format_name(format, problems) if format else detect_format(package, problems)
        if fmt in (ONEROSTER_11, ONEROSTER_12):
            return oneroster.read_oneroster(package, problems, fmt, choice, run_date)
        if fmt == SDS_21:
            return sds.read_sds(package, problems, choice, registration_pattern, run_date)
        name = json_file(package, problems)
        return jsonsnapshot.read_json_snapshot(package, problems, name, choice, run_date)

    return collecting(problems, read)


def list_schools(path: Path, *, format: str | None = None) -> list[School]:
    """The schools an export holds (a trust export holds several)."""
    problems = Problems()

    def read() -> list[School]:
        package = open_package(Path(path), problems)
        fmt = check_format_name(format, problems) if format else detect_format(package, problems)
        if fmt in (ONEROSTER_11, ONEROSTER_12):
            return oneroster.list_schools(package, problems, fmt)
        if fmt == SDS_21:
            return sds.list_schools(package, problems)
        return jsonsnapshot.list_schools(package, problems, json_file(package, problems))

    return collecting(problems, read)
