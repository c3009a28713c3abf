"""`groupsync sync` and `groupsync report` against the local stack, through the dispatcher."""

from __future__ import annotations

import json

from shared.cli import main
from tests.usecases.conftest import ADMIN_UPN
from tests.usecases.test_loss_approval import LEAVING_YEARS, without_years


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


def test_groupsync_sync_accept_loss_runs_the_blocked_export_and_report_names_the_approver(
    stack, monkeypatch, capsys
):
    for name, value in stack.env.items():
        monkeypatch.setenv(name, value)
    main(["sync", "--school", stack.school_id])
    leavers_export = stack.upload(without_years(stack.school, LEAVING_YEARS))
    blocked_code = main(["sync", "--school", stack.school_id])
    capsys.readouterr()

    code = main(
        [
            "sync",
            "--school",
            stack.school_id,
            "--accept-loss",
            "--requested-by",
            ADMIN_UPN,
            "--json",
        ]
    )
    synced = json.loads(capsys.readouterr().out)
    main(["report", "--school", stack.school_id, "--runs", "1"])
    text = capsys.readouterr().out

    assert blocked_code == 1
    assert code == 0
    assert synced["run"]["status"] == "done"
    assert synced["run"]["summary"]["loss_approval"]["requested_by"] == ADMIN_UPN
    assert synced["run"]["summary"]["loss_approval"]["export_id"] == leavers_export
    assert f"loss approved by {ADMIN_UPN} for export {leavers_export}" in text


def test_groupsync_sync_refuses_accept_loss_for_one_group(stack, monkeypatch, capsys):
    for name, value in stack.env.items():
        monkeypatch.setenv(name, value)

    code = main(["sync", "--school", stack.school_id, "--group", "g1", "--accept-loss"])

    assert code == 2
    assert "--group" in capsys.readouterr().err
