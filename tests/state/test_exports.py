"""The MIS export drop against Azurite: the newest complete export wins, a folder counts only
once its marker is in place, and a download gives back what was uploaded."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime

import pytest

from shared.state import ExportKind
from shared.state.exports import _export_ref, export_time

UPLOADED = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def _folder(tmp_path, name: str = "export", marker: str = "v1"):
    folder = tmp_path / name
    (folder / "extra").mkdir(parents=True)
    (folder / "manifest.csv").write_text("propertyName,value\noneroster.version,1.1\n")
    (folder / "users.csv").write_text(f"sourcedId,marker\n1,{marker}\n")
    (folder / "extra" / "notes.txt").write_text("nested")
    return folder


def _zip(tmp_path, name: str = "export.zip"):
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.csv", "propertyName,value\n")
    return path


def test_a_folder_export_downloads_with_every_file_and_no_marker(exports, tmp_path):
    export_id = exports.upload_export("4001", _folder(tmp_path), "20261203T013000Z")

    ref = exports.latest_export("4001")
    path = exports.download_export(ref, tmp_path / "down")

    assert ref.export_id == export_id
    assert ref.kind is ExportKind.FOLDER
    files = sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())
    assert files == ["extra/notes.txt", "manifest.csv", "users.csv"]
    assert (path / "users.csv").read_text() == "sourcedId,marker\n1,v1\n"


def test_a_zip_export_downloads_as_a_zip_file(exports, tmp_path):
    exports.upload_export("4001", _zip(tmp_path), "20261203T013000Z")

    ref = exports.latest_export("4001")
    path = exports.download_export(ref, tmp_path / "down")

    assert ref.kind is ExportKind.ZIP
    assert path.suffix == ".zip"
    assert zipfile.ZipFile(path).namelist() == ["manifest.csv"]


def test_the_newest_export_by_its_id_wins(exports, tmp_path):
    exports.upload_export("4001", _folder(tmp_path, "a", "new"), "20261203T013000Z")
    exports.upload_export("4001", _zip(tmp_path), "20261202T013000Z")
    exports.upload_export("4001", _folder(tmp_path, "b", "old"), "20261201T013000Z")

    listed = [ref.export_id for ref in exports.list_exports("4001")]

    assert listed == ["20261203T013000Z", "20261202T013000Z", "20261201T013000Z"]


def test_a_folder_without_its_marker_is_not_read(exports, tmp_path):
    exports.upload_export("4001", _folder(tmp_path, "a"), "20261202T013000Z")
    half = _folder(tmp_path, "b", "half")
    for file in sorted(half.glob("*.csv")):
        exports._upload_file(file, f"4001/20261203T013000Z/{file.name}")

    latest = exports.latest_export("4001")

    assert latest.export_id == "20261202T013000Z"


def test_exports_of_another_school_are_not_listed(exports, tmp_path):
    exports.upload_export("4001", _zip(tmp_path), "20261203T013000Z")

    assert exports.latest_export("4002") is None


def test_an_upload_without_an_id_gets_the_current_time(exports, tmp_path):
    export_id = exports.upload_export("4001", _zip(tmp_path))

    assert export_time(export_id, UPLOADED) != UPLOADED
    assert exports.latest_export("4001").export_id == export_id


def test_a_single_snapshot_file_becomes_a_one_file_folder(exports, tmp_path):
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_text('{"format": "groupsync-snapshot"}')

    exports.upload_export("4001", snapshot, "20261203T013000Z")
    path = exports.download_export(exports.latest_export("4001"), tmp_path / "down")

    assert [p.name for p in path.iterdir()] == ["snapshot.json"]


def test_a_school_id_with_a_slash_is_refused(exports, tmp_path):
    with pytest.raises(ValueError, match="without slashes"):
        exports.upload_export("a/b", _zip(tmp_path))


@pytest.mark.parametrize(
    ("export_id", "expected"),
    [
        ("20261203T013000Z", datetime(2026, 12, 3, 1, 30, tzinfo=UTC)),
        ("2026-12-03", datetime(2026, 12, 3, tzinfo=UTC)),
        ("20261203", datetime(2026, 12, 3, tzinfo=UTC)),
        ("sims-nightly", UPLOADED),
    ],
)
def test_export_time_comes_from_the_id_or_else_the_upload(export_id, expected):
    assert export_time(export_id, UPLOADED) == expected


def test_an_export_whose_id_is_no_time_is_dated_by_its_marker():
    ref = _export_ref("4001", "sims-nightly/_complete", UPLOADED)

    assert ref.kind is ExportKind.FOLDER
    assert ref.exported_at == UPLOADED
    assert ref.blob_name == "4001/sims-nightly/"


def test_a_file_inside_an_export_folder_is_not_an_export_of_its_own():
    assert _export_ref("4001", "20261203T013000Z/users.csv", UPLOADED) is None
