"""Which format an export is in: from manifest.csv, else from the files and headers present.

OneRoster packages say their version in manifest.csv; SDS has no manifest, and its roles.csv
lacks OneRoster 1.2's roleType column. A lone .json file is the project's own snapshot.
"""

from __future__ import annotations

import csv
import io

from shared.mis.errors import Problems
from shared.mis.jsonsnapshot import GROUPSYNC_JSON
from shared.mis.oneroster_schema import ONEROSTER_11, ONEROSTER_12, read_manifest
from shared.mis.package import ExportPackage
from shared.mis.sds import SDS_21

FORMATS = (ONEROSTER_11, ONEROSTER_12, SDS_21, GROUPSYNC_JSON)
ONEROSTER_VERSIONS = {"1.1": ONEROSTER_11, "1.2": ONEROSTER_12}
HEADER_PEEK_BYTES = 4096


def check_format_name(fmt: str, problems: Problems) -> str:
    if fmt not in FORMATS:
        problems.fail(
            "",
            None,
            None,
            f"unknown format '{fmt}'",
            f"use one of {', '.join(FORMATS)}, or leave the format out to detect it",
        )
    return fmt


def json_file(package: ExportPackage, problems: Problems) -> str:
    """The one JSON file of a JSON snapshot package."""
    names = sorted(name for name in package.names if name.lower().endswith(".json"))
    if len(names) != 1:
        problems.fail(
            package.label,
            None,
            None,
            f"expected one .json snapshot file, found {len(names)}",
            "point at the snapshot file itself",
        )
    return names[0]


def detect_format(package: ExportPackage, problems: Problems) -> str:
    names = package.names
    if package.has("manifest.csv"):
        manifest = read_manifest(package, problems)
        version = manifest.get("oneroster.version", "")
        fmt = ONEROSTER_VERSIONS.get(version)
        if fmt is None:
            problems.fail(
                "manifest.csv",
                None,
                "value",
                f"oneroster.version is '{version}'; expected 1.1 or 1.2",
                "export OneRoster 1.1 or 1.2 CSV, or pass --format",
            )
        return fmt
    csv_files = {name for name in names if name.lower().endswith(".csv")}
    if not csv_files and any(name.lower().endswith(".json") for name in names):
        return GROUPSYNC_JSON
    if package.has("roles.csv"):
        return ONEROSTER_12 if "roleType" in _header(package, "roles.csv") else SDS_21
    if package.has("users.csv") and "role" in _header(package, "users.csv"):
        problems.warn("manifest.csv is missing; reading the export as OneRoster 1.1")
        return ONEROSTER_11
    listed = ", ".join(sorted(names)[:10])
    problems.fail(
        package.label,
        None,
        None,
        f"cannot tell the export's format from its files ({listed})",
        "export OneRoster 1.1/1.2 CSV (with manifest.csv) or SDS v2.1 CSV, or pass --format",
    )


def _header(package: ExportPackage, name: str) -> list[str]:
    text = package.raw(name)[:HEADER_PEEK_BYTES].decode("utf-8-sig", errors="replace")
    return next(csv.reader(io.StringIO(text)), [])
