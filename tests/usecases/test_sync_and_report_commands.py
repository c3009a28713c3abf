"""`groupsync sync` and `groupsync report` against the local stack, through the dispatcher."""

from __future__ import annotations

import json

from shared.cli import main


def test_groupsync_sync_runs_the_school_inline_and_report_shows_it(stack, monkeypatch, capsys):
    for name, value in stack.env.items():
        monkeypatch.setenv(name, value)

    code = main(["sync", "--school", stack.school_id, "--json"])
    synced = json.loads(capsys.readouterr().out)
    report_code = main(["report", "--school", stack.school_id, "--json"])
    report = json.loads(capsys.readouterr().out)

    assert code == 0
    assert synced["run"]["status"] == "done"
    assert len(synced["groups"]) == 14
    assert len(stack.emulator.groups()) == 14
    assert report_code == 0
    assert report[0]["run"]["run_id"] == synced["run"]["run_id"]
    assert {g["outcome"] for g in report[0]["groups"]} == {"created"}


def test_groupsync_report_prints_runs_for_people(stack, monkeypatch, capsys):
    for name, value in stack.env.items():
        monkeypatch.setenv(name, value)
    main(["sync", "--school", stack.school_id])
    capsys.readouterr()

    code = main(["report", "--school", stack.school_id])

    text = capsys.readouterr().out
    assert code == 0
    assert f"school {stack.school_id}" in text
    assert "created" in text


def test_groupsync_sync_of_an_unknown_school_exits_2(stack, monkeypatch, capsys):
    for name, value in stack.env.items():
        monkeypatch.setenv(name, value)

    code = main(["sync", "--school", "nowhere"])

    assert code == 2
    assert "nowhere" in capsys.readouterr().err
