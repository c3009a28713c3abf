"""MIS exports in Blob Storage: where each school's nightly export is dropped, which one is the
newest complete one, and fetching it to a local path the MIS readers can open.

    exports = ExportStore.from_env(os.environ)
    ref = exports.latest_export("4001")          # None if the school has no complete export
    path = exports.download_export(ref, Path(tmp))

Layout, in container `mis`: an export is either one zip blob `<school_id>/<export_id>.zip`
(atomic) or a folder `<school_id>/<export_id>/...` that counts only once its marker blob
`<school_id>/<export_id>/_complete` exists, so a half-uploaded folder is never read.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path, PurePosixPath

from azure.core.exceptions import ResourceExistsError

from shared.state.connection import StorageLocation
from shared.state.errors import storage_errors

log = logging.getLogger(__name__)

DEFAULT_CONTAINER = "mis"
CONTAINER_SETTING = "MIS_EXPORT_CONTAINER"
COMPLETE_MARKER = "_complete"
ZIP_SUFFIX = ".zip"
# The export id an upload gets when none is given; it sorts by time as text too.
EXPORT_ID_FORMAT = "%Y%m%dT%H%M%SZ"
# Export ids read as times, tried in order. An id none of them fits is dated by its upload.
EXPORT_ID_TIME_FORMATS = (
    EXPORT_ID_FORMAT,
    "%Y%m%dT%H%M%S",
    "%Y%m%d%H%M%S",
    "%Y-%m-%dT%H-%M-%SZ",
    "%Y-%m-%dT%H%M%SZ",
    "%Y%m%dT%H%MZ",
    "%Y-%m-%d",
    "%Y%m%d",
)


class ExportKind(StrEnum):
    ZIP = "zip"
    FOLDER = "folder"


@dataclass(frozen=True)
class ExportRef:
    """One complete export. `exported_at` orders exports: the time in the export id where it
    holds one, otherwise the time the export was completed in Blob Storage."""

    school_id: str
    export_id: str
    kind: ExportKind
    blob_name: str  # the zip blob, or the folder's prefix ending in "/"
    last_modified: datetime
    exported_at: datetime


def export_time(export_id: str, completed_at: datetime) -> datetime:
    """When an export was taken: parsed from its id, or `completed_at` if the id is no time."""
    for time_format in EXPORT_ID_TIME_FORMATS:
        try:
            return datetime.strptime(export_id, time_format).replace(tzinfo=UTC)
        except ValueError:
            continue
    return completed_at


class ExportStore:
    """The MIS export drop: one folder of exports per school in one Blob container."""

    def __init__(
        self,
        connection_string: str | None = None,
        container: str = DEFAULT_CONTAINER,
        *,
        location: StorageLocation | None = None,
    ) -> None:
        if location is None:
            location = StorageLocation.from_connection_string(connection_string or "")
        self._location = location
        self._service = location.blob_service()
        self._container = self._service.get_container_client(container)
        self._container_checked = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ExportStore:
        env = os.environ if env is None else env
        container = env.get(CONTAINER_SETTING) or DEFAULT_CONTAINER
        return cls(container=container, location=StorageLocation.from_env(env))

    def close(self) -> None:
        self._container.close()
        self._service.close()

    def __enter__(self) -> ExportStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def ensure_container(self) -> None:
        what = f"creating container {self._container.container_name}"
        with self._errors(what), suppress(ResourceExistsError):
            self._container.create_container()
        self._container_checked = True

    def upload_export(self, school_id: str, path: Path, export_id: str | None = None) -> str:
        """Upload a local export and return its id. A zip goes up as one blob; a folder file by
        file with the marker last; any other single file as a one-file folder."""
        path = Path(path)
        export_id = export_id or datetime.now(UTC).strftime(EXPORT_ID_FORMAT)
        _check_name(school_id, "school id")
        _check_name(export_id, "export id")
        if not path.exists():
            raise FileNotFoundError(f"no MIS export at {path}: give a folder, a zip or a file")
        if not self._container_checked:
            self.ensure_container()

        if path.is_file() and path.suffix.lower() == ZIP_SUFFIX:
            self._upload_file(path, f"{school_id}/{export_id}{ZIP_SUFFIX}")
            log.info("school %s: export %s uploaded as a zip", school_id, export_id)
            return export_id

        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        base = path.parent if path.is_file() else path
        prefix = f"{school_id}/{export_id}/"
        for file in files:
            relative = file.relative_to(base).as_posix()
            if relative != COMPLETE_MARKER:
                self._upload_file(file, prefix + relative)
        # Last, so a reader never sees the marker before every file is in place.
        with self._errors(f"marking export {export_id} complete"):
            self._container.upload_blob(prefix + COMPLETE_MARKER, b"", overwrite=True)
        log.info("school %s: export %s uploaded, %d files", school_id, export_id, len(files))
        return export_id

    def list_exports(self, school_id: str) -> list[ExportRef]:
        """The school's complete exports, newest first (ties broken by export id)."""
        _check_name(school_id, "school id")
        prefix = f"{school_id}/"
        refs: list[ExportRef] = []
        with self._errors(f"listing the exports of school {school_id}"):
            for blob in self._container.list_blobs(name_starts_with=prefix):
                ref = _export_ref(school_id, blob.name[len(prefix) :], blob.last_modified)
                if ref is not None:
                    refs.append(ref)
        refs.sort(key=lambda ref: (ref.exported_at, ref.export_id), reverse=True)
        return refs

    def latest_export(self, school_id: str) -> ExportRef | None:
        exports = self.list_exports(school_id)
        return exports[0] if exports else None

    def download_export(self, ref: ExportRef, dest: Path) -> Path:
        """Fetch an export under `dest`; returns the zip file or the folder to read."""
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        if ref.kind is ExportKind.ZIP:
            target = dest / f"{ref.export_id}{ZIP_SUFFIX}"
            self._download_blob(ref.blob_name, target)
            return target

        folder = dest / ref.export_id
        with self._errors(f"listing export {ref.export_id} of school {ref.school_id}"):
            names = [
                blob.name for blob in self._container.list_blobs(name_starts_with=ref.blob_name)
            ]
        for name in names:
            relative = PurePosixPath(name[len(ref.blob_name) :])
            if str(relative) == COMPLETE_MARKER:
                continue
            if relative.is_absolute() or ".." in relative.parts:
                raise ValueError(
                    f"blob {name!r} would be written outside {folder}: remove it from the "
                    f"{self._container.container_name} container and upload the export again"
                )
            self._download_blob(name, folder.joinpath(*relative.parts))
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _upload_file(self, file: Path, blob_name: str) -> None:
        with self._errors(f"uploading {blob_name}"), file.open("rb") as data:
            self._container.upload_blob(blob_name, data, overwrite=True)

    def _download_blob(self, blob_name: str, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        with self._errors(f"downloading {blob_name}"), target.open("wb") as out:
            self._container.download_blob(blob_name).readinto(out)

    def _errors(self, what: str) -> AbstractContextManager[None]:
        where = f"container {self._container.container_name} at {self._service.url}"
        return storage_errors(what, where=where, setting=self._location.setting)


def _export_ref(school_id: str, name: str, last_modified: datetime) -> ExportRef | None:
    """The export a blob (named relative to the school's folder) completes, if it does."""
    parts = name.split("/")
    if len(parts) == 1 and parts[0].lower().endswith(ZIP_SUFFIX):
        export_id, kind = parts[0][: -len(ZIP_SUFFIX)], ExportKind.ZIP
        blob_name = f"{school_id}/{parts[0]}"
    elif len(parts) == 2 and parts[1] == COMPLETE_MARKER:
        export_id, kind = parts[0], ExportKind.FOLDER
        blob_name = f"{school_id}/{export_id}/"
    else:
        return None
    return ExportRef(
        school_id=school_id,
        export_id=export_id,
        kind=kind,
        blob_name=blob_name,
        last_modified=last_modified,
        exported_at=export_time(export_id, last_modified),
    )


def _check_name(value: str, what: str) -> None:
    if not value or "/" in value or "\\" in value or value in (".", ".."):
        raise ValueError(
            f"{what} {value!r} cannot name a folder in Blob Storage: use a non-empty id "
            "without slashes"
        )
