"""`groupsync inspect`: exit codes, the human summary, the JSON result, and no Azure imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shared.cli import main

MIS_FIXTURES = Path(__file__).resolve().parent.parent / "mis"
GOOD = MIS_FIXTURES / "good"
BROKEN = MIS_FIXTURES / "broken"


def test_valid_export_exits_zero_with_a_summary(capsys: pytest.CaptureFixture[str]):
    code = main(["inspect", str(GOOD / "oneroster-1.1")])

    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[:6] == [
        "VALID: Northfield Academy (sch-4001, DfE 4001), oneroster-1.1, academic year 2025/26",
        "Groups: year 2, registration 3, teaching 2",
        "Empty groups: 0",
        "People: administrator 1, aide 1, student 6, teacher 2",
        "Inactive people: student 1",
        "People not in any group: administrator 1, aide 1",
    ]


def test_invalid_export_exits_two_and_locates_each_problem(capsys: pytest.CaptureFixture[str]):
    code = main(["inspect", str(BROKEN / "unknown-user-role")])

    out = capsys.readouterr().out
    assert code == 2
    assert out.splitlines()[0] == "INVALID: 1 problem"
    assert out.splitlines()[1].startswith("  users.csv line 3, column role: unknown role 'pupil'")


def test_json_output_is_complete(capsys: pytest.CaptureFixture[str]):
    code = main(["inspect", str(GOOD / "sds-2.1"), "--registration-pattern", "^REG$", "--json"])

    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["valid"] is True
    assert result["format"] == "sds-2.1"
    assert result["school"] == {"id": "sch-4001", "name": "Northfield Academy", "dfe_number": ""}
    assert result["academic_year_start"] == 2025
    assert result["groups"] == {"year": 2, "registration": 3, "teaching": 2}
    assert result["people"] == {"administrator": 1, "aide": 1, "student": 6, "teacher": 2}
    assert result["inactive_people"] == {}
    assert result["people_not_in_any_group"] == {"administrator": 1, "aide": 1}
    assert any("DfE number" in warning for warning in result["warnings"])
    assert result["problems"] == []


def test_json_output_for_an_invalid_export_lists_the_problems(
    capsys: pytest.CaptureFixture[str],
):
    code = main(["inspect", str(BROKEN / "several-schools"), "--json"])

    result = json.loads(capsys.readouterr().out)
    assert code == 2
    assert result["valid"] is False
    assert result["problems"][0]["file"] == "orgs.csv"
    assert result["problems"][0]["column"] == "type"
    assert "pass a school id" in result["problems"][0]["remedy"]


def test_school_option_picks_one_school_of_several(capsys: pytest.CaptureFixture[str]):
    code = main(["inspect", str(BROKEN / "several-schools"), "--school", "4002"])

    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("VALID: Hill School (sch-1, DfE 4002)")


def test_format_option_skips_detection(capsys: pytest.CaptureFixture[str]):
    code = main(["inspect", str(GOOD / "oneroster-1.2"), "--format", "oneroster-1.1"])

    out = capsys.readouterr().out
    assert code == 2
    assert "required column 'orgSourcedIds' is missing" in out


def test_inspect_imports_nothing_from_azure():
    script = (
        "import sys; from shared.cli import main; "
        f"code = main(['inspect', {str(GOOD / 'oneroster-1.1')!r}]); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('azure', 'msgraph')))"
    )

    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )

    assert result.stdout.splitlines()[-1] == "[]"
