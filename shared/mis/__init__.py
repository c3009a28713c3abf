"""MIS readers: a school's export (OneRoster 1.1/1.2 CSV, SDS v2.1 CSV, groupsync JSON) in,
a validated `MisSnapshot` out, or a `MisExportError` saying where the export is wrong.

    snapshot = read_mis_export(Path("exports/4001.zip"))
    schools = list_schools(Path("exports/trust"), format="oneroster-1.2")
"""

from __future__ import annotations

from pathlib import Path

from shared.domain.snapshot import MisSnapshot, School
from shared.mis import jsonsnapshot, oneroster, sds
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
    "snapshot_to_json",
]


def read_mis_export(
    path: Path,
    *,
    format: str | None = None,
    school_id: str | None = None,
    registration_pattern: str | None = None,
) -> MisSnapshot:
    """Read one school's snapshot from a folder, zip or JSON file.

    `format` is one of FORMATS (detected when None); `school_id` (sourcedId or DfE number)
    picks the school in a trust export; `registration_pattern` is a regular expression,
    searched in each class's course code and title, that marks registration groups in formats
    with no class type (SDS). Raises MisExportError listing what is wrong and where.
    """
    # Limitation: a trust export is read whole for each school, so reading every school of a
    # large trust costs one full read per school (about 2 s each for a million enrolments).
    problems = Problems()

    def read() -> MisSnapshot:
        package = open_package(Path(path), problems)
        fmt = check_format_name(format, problems) if format else detect_format(package, problems)
        if fmt in (ONEROSTER_11, ONEROSTER_12):
            return oneroster.read_oneroster(package, problems, fmt, school_id)
        if fmt == SDS_21:
            return sds.read_sds(package, problems, school_id, registration_pattern)
        name = json_file(package, problems)
        return jsonsnapshot.read_json_snapshot(package, problems, name, school_id)

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
