"""The admin HTTP API, called as the Functions host would, against the local stack."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import azure.functions as func
import pytest

import function_app
from functions import runtime
from local.host import functions_of
from shared.messages.bus import MessageBus
from shared.messages.schemas import COMMANDS_QUEUE, decode
from shared.usecases.dispatch import reconcile_inline
from shared.usecases.school_run import run_school
from tests.usecases.conftest import EXPORTS_START
from tests.usecases.test_loss_approval import LEAVING_YEARS, without_years


@pytest.fixture
async def admin(stack, servicebus, monkeypatch):
    for name, value in {**stack.env, "ServiceBusConnection": servicebus.connection_string}.items():
        monkeypatch.setenv(name, value)
    handlers = {
        f.get_function_name(): f.get_user_function() for f in functions_of(function_app.app)
    }

    async def call(name: str, *, method="GET", route_params=None, body=b"", params=None):
        request = func.HttpRequest(
            method=method,
            url=f"/api/{name}",
            route_params=route_params or {},
            params=params or {},
            body=body,
        )
        response = await handlers[name](request)
        return response.status_code, response.get_body()

    yield call
    await runtime.close_services()


async def test_the_schools_list_shows_each_school_and_its_settings(stack, admin):
    status, body = await admin("admin_schools")

    schools = json.loads(body)
    assert status == 200
    assert [s["school_id"] for s in schools] == [stack.school_id]
    assert schools[0]["settings"]["enabled_kinds"] == ["year", "registration"]


async def test_a_run_and_its_group_results_can_be_read(stack, services, admin):
    await run_school(services, stack.school_id, "night-1", "nightly", reconcile_inline(services))

    status, runs = await admin("admin_runs", route_params={"school": stack.school_id})
    _, groups = await admin(
        "admin_run_groups", route_params={"school": stack.school_id, "run": "night-1"}
    )

    assert status == 200
    assert json.loads(runs)[0]["run_id"] == "night-1"
    assert len(json.loads(groups)) == 14


async def test_a_schools_groups_show_their_mis_students_and_state(stack, services, admin):
    await run_school(services, stack.school_id, "night-1", "nightly", reconcile_inline(services))

    status, body = await admin("admin_school_groups", route_params={"school": stack.school_id})

    groups = {g["mis_group_id"]: g for g in json.loads(body)}
    assert status == 200
    form = next(c for c in stack.school.classes if c.class_type == "homeroom")
    assert groups[form.sourced_id]["state"] == "active"
    assert groups[form.sourced_id]["students"]
    teaching = next(c for c in stack.school.classes if c.class_type == "scheduled")
    assert groups[teaching.sourced_id]["state"] == "not synced"


async def test_a_posted_command_is_queued_not_carried_out(stack, servicebus, admin):
    command_id = uuid.uuid4().hex
    body = json.dumps(
        {"type": "sync-school", "school_id": stack.school_id, "command_id": command_id}
    ).encode()

    status, answer = await admin("admin_commands", method="POST", body=body)

    assert status == 202
    assert json.loads(answer)["command_id"] == command_id
    with MessageBus(servicebus.connection_string) as bus:
        received = bus.receive(COMMANDS_QUEUE, max_messages=50, max_wait_time=1)
    queued = [decode(b"".join(m.body), COMMANDS_QUEUE) for m in received]
    assert command_id in {c.command_id for c in queued}
    assert stack.emulator.writes() == 0


async def test_a_posted_command_with_a_bad_field_is_refused_with_the_reason(admin):
    body = json.dumps({"type": "create-group", "school_id": "4001", "mis_group_id": "g"}).encode()

    status, answer = await admin("admin_commands", method="POST", body=body)

    assert status == 400
    assert "lifetime" in json.loads(answer)["error"]


async def test_the_console_page_is_served(admin):
    status, body = await admin("admin_console")

    assert status == 200
    assert b"<html" in body.lower()


async def test_a_loss_approval_is_queued_for_the_export_the_blocked_run_read(
    stack, services, servicebus, admin
):
    await run_school(services, stack.school_id, "night-1", "nightly", reconcile_inline(services))
    leavers_export = stack.upload(without_years(stack.school, LEAVING_YEARS))
    await run_school(services, stack.school_id, "night-2", "nightly", reconcile_inline(services))
    body = json.dumps(
        {
            "type": "sync-school",
            "school_id": stack.school_id,
            "accept_loss": True,
            "requested_by": "it.admin@oakfield.example.org",
        }
    ).encode()

    status, answer = await admin("admin_commands", method="POST", body=body)

    assert status == 202
    assert json.loads(answer)["export_id"] == leavers_export
    with MessageBus(servicebus.connection_string) as bus:
        received = bus.receive(COMMANDS_QUEUE, max_messages=50, max_wait_time=1)
    queued = [decode(b"".join(m.body), COMMANDS_QUEUE) for m in received]
    (approval,) = [c for c in queued if c.command_id == json.loads(answer)["command_id"]]
    assert approval.accept_loss and approval.export_id == leavers_export


async def test_a_loss_approval_for_a_school_with_no_blocked_run_is_refused(stack, admin):
    body = json.dumps(
        {"type": "sync-school", "school_id": stack.school_id, "accept_loss": True,
         "requested_by": "it.admin@oakfield.example.org"}
    ).encode()  # fmt: skip

    status, answer = await admin("admin_commands", method="POST", body=body)

    assert status == 409
    assert "no blocked run" in json.loads(answer)["error"]


async def test_a_runs_stale_export_warning_is_in_the_runs_list(stack, admin):
    services = stack.services(clock=lambda: EXPORTS_START + timedelta(days=10))
    await run_school(services, stack.school_id, "night-1", "nightly", reconcile_inline(services))
    await services.graph.aclose()

    status, body = await admin("admin_runs", route_params={"school": stack.school_id})

    (run,) = json.loads(body)
    assert status == 200
    assert len(run["warnings"]) == 1
    assert "days before this run" in run["warnings"][0]
