"""`make demo` itself, on a smaller school: it must pass its own checks and leave both reports."""

from __future__ import annotations

import json

import pytest

from local import demo


@pytest.mark.slow
def test_the_demo_passes_its_own_checks_and_writes_both_reports(tmp_path, capsys):
    exit_code = demo.main(["--students", "300", "--out", str(tmp_path)])

    output = capsys.readouterr().out
    night_two = json.loads((tmp_path / "night-2.json").read_text())
    assert exit_code == 0, output
    assert json.loads((tmp_path / "night-1.json").read_text())["groups"]["created"] > 0
    assert night_two["groups"]["created"] == 1
    assert night_two["owners"]["removed"] == 1
    assert "FAILED" not in output
