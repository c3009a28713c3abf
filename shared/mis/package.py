"""An MIS export as a set of named files, from a folder or a zip, decoded as UTF-8.

The readers ask for a file by name and get its text; this module alone knows about zips,
byte order marks and bad bytes, so the format readers never see raw bytes.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path, PurePosixPath

from shared.mis.errors import Problems

UTF8_BOM = b"\xef\xbb\xbf"
ZIP_MAGIC = b"PK"
MAC_FORK_FOLDER = "__MACOSX/"


class ExportPackage:
    """The files of one export, keyed by file name (no folders), read lazily."""

    def __init__(self, label: str, files: dict[str, object], problems: Problems) -> None:
        self.label = label
        self._files = files
        self._problems = problems

    @property
    def names(self) -> set[str]:
        return set(self._files)

    def has(self, name: str) -> bool:
        return name in self._files

    def find(self, name: str) -> str | None:
        """The stored name that equals `name` ignoring case, for "did you mean" messages."""
        lowered = name.lower()
        return next((stored for stored in self._files if stored.lower() == lowered), None)

    def raw(self, name: str) -> bytes:
        source = self._files[name]
        if isinstance(source, Path):
            return source.read_bytes()
        archive, member = source  # type: ignore[misc]
        try:
            return archive.read(member)
        except (zipfile.BadZipFile, zlib.error, OSError) as error:
            self._problems.fail(
                name,
                None,
                None,
                f"the file cannot be read from the zip ({error})",
                "re-create the zip from the export folder; it may be damaged",
            )

    def text(self, name: str) -> str:
        """The file decoded as UTF-8 with any byte order mark removed."""
        data = self.raw(name)
        if data.startswith(UTF8_BOM):
            data = data[len(UTF8_BOM) :]
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            byte = data[error.start : error.start + 1].hex()
            self._problems.fail(
                name,
                line,
                None,
                f"byte 0x{byte} at byte offset {error.start} is not valid UTF-8",
                "save the export as UTF-8 (not ANSI/Windows-1252) and export it again",
            )


def open_package(path: Path, problems: Problems) -> ExportPackage:
    """Open a folder or zip export; missing paths and broken zips are fatal problems."""
    if not path.exists():
        problems.fail(
            str(path), None, None, "no such file or folder", "check the export path and try again"
        )
    if path.is_dir():
        # Hidden files (.DS_Store, .gitkeep) are never part of an export.
        files: dict[str, object] = {
            child.name: child
            for child in sorted(path.iterdir())
            if child.is_file() and not child.name.startswith(".")
        }
        package = ExportPackage(path.name, files, problems)
    elif _is_zip(path):
        package = _open_zip(path, problems)
    else:
        # A single file: the format detection decides whether it is a JSON snapshot.
        package = ExportPackage(
            path.name, {path.name: path} if path.stat().st_size else {}, problems
        )
    if not package.names:
        problems.fail(
            path.name,
            None,
            None,
            "the export is empty",
            "export the MIS data again; an export holds at least orgs.csv, users.csv, "
            "classes.csv and enrollments.csv",
        )
    return package


def _is_zip(path: Path) -> bool:
    if path.suffix.lower() == ".zip":
        return True
    with path.open("rb") as handle:
        return handle.read(len(ZIP_MAGIC)) == ZIP_MAGIC


def _open_zip(path: Path, problems: Problems) -> ExportPackage:
    try:
        archive = zipfile.ZipFile(path)
        members = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError) as error:
        problems.fail(
            path.name,
            None,
            None,
            f"the zip cannot be opened ({error})",
            "re-create the zip from the export folder; it may be truncated",
        )

    # Finder and Explorer add their own entries; they are never part of an export.
    entries = [
        (PurePosixPath(info.filename).parts, info.filename)
        for info in members
        if not info.filename.startswith(MAC_FORK_FOLDER)
        and not PurePosixPath(info.filename).name.startswith(".")
    ]
    # A zip made by compressing the export folder holds one top folder; look inside it.
    one_top = len({parts[0] for parts, _ in entries}) == 1
    depth = 2 if one_top and all(len(parts) > 1 for parts, _ in entries) else 1
    files: dict[str, object] = {
        parts[-1]: (archive, name) for parts, name in entries if len(parts) == depth
    }
    return ExportPackage(path.name, files, problems)
