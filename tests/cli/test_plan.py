"""`groupsync plan`: the plan against an empty tenant, readable for a person and as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.cli import main
from shared.domain.snapshot import Person, Role
from shared.mis import snapshot_to_json
from tests.domain.snapshots import small_school


def write_json(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.fixture
def export(tmp_path) -> Path:
    school = small_school()
    # A pupil the MIS gives no username, so no directory value to match on.
    school.people["s3"] = Person(mis_id="s3", role=Role.STUDENT, given_name="Zoë", grade="10")
    return write_json(tmp_path / "snapshot.json", snapshot_to_json(school))


@pytest.fixture
def settings(tmp_path) -> Path:
    return write_json(
        tmp_path / "school.json",
        {"school_id": "org-1", "dfe_number": "4001", "admin_owners": ["it@x.org"]},
    )


def test_plan_prints_one_line_a_group_then_the_totals(export, settings, capsys):
    code = main(["plan", "--mis", str(export), "--settings", str(settings)])

    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert len(lines) == 1 + 4 + 2
    assert lines[1].split()[:3] == ["create", "year", "Year"]
    assert "10X/Ma1 4001 2025" in "\n".join(lines)
    assert lines[-2].startswith("Totals: 4 groups to create")
    assert lines[-1] == "Not matched (MIS ids): s3"


def test_plan_text_names_no_pupil(export, settings, capsys):
    main(["plan", "--mis", str(export), "--settings", str(settings)])

    assert "Zo" not in capsys.readouterr().out


def test_plan_json_is_complete(export, settings, capsys):
    code = main(["plan", "--mis", str(export), "--settings", str(settings), "--json"])

    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert document["tenant"] == "empty"
    assert document["totals"]["groups_to_create"] == 4
    assert document["unmatched_people"] == ["s3"]
    maths = next(g for g in document["groups"] if g["mis_name"] == "10X/Ma1")
    assert maths["plan"]["create"] is True
    assert maths["plan"]["add_owners"] == ["it@x.org", "t1@oakfield.example.org"]
    assert maths["mail_nickname"] == "10X-Ma1-4001-2025"
    assert maths["unique_key"].startswith("gs-org-1-2025-")


def test_a_misspelt_setting_stops_the_plan_with_its_name(export, tmp_path, capsys):
    settings = write_json(tmp_path / "bad.json", {"school_id": "org-1", "taregt": "classes"})

    code = main(["plan", "--mis", str(export), "--settings", str(settings)])

    assert code == 2
    assert "'taregt'" in capsys.readouterr().err


def test_a_settings_file_that_is_not_json_is_located(export, tmp_path, capsys):
    settings = tmp_path / "bad.json"
    settings.write_text('{"school_id": "org-1",\n "target": }', encoding="utf-8")

    code = main(["plan", "--mis", str(export), "--settings", str(settings)])

    assert code == 2
    assert "line 2" in capsys.readouterr().err


def test_a_broken_export_stops_the_plan_with_a_located_error(settings, tmp_path, capsys):
    broken = snapshot_to_json(small_school())
    broken["people"][0]["role"] = "pupil"
    export = write_json(tmp_path / "snapshot.json", broken)

    code = main(["plan", "--mis", str(export), "--settings", str(settings)])

    error = capsys.readouterr().err
    assert code == 2
    assert "pupil" in error
    assert "people[0]" in error
