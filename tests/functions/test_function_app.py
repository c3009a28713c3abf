"""The function app: what it registers, how cheaply it imports, how triggers refuse bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from azure.functions.servicebus import ServiceBusMessage

import function_app
from local.host import functions_of
from shared.messages.schemas import InvalidMessage

REPO_ROOT = Path(__file__).resolve().parents[2]
# Modules a cold start must not pay for: the Graph SDK, the storage and Service Bus clients,
# the identity library, and the engine itself.
HEAVY_MODULES = ("msgraph", "kiota", "azure.servicebus", "azure.data.tables", "azure.identity",
                 "azure.storage", "httpx", "shared.usecases", "shared.graph")  # fmt: skip


def functions_by_name():
    return {f.get_function_name(): f for f in functions_of(function_app.app)}


def test_the_app_registers_the_timer_the_three_queues_and_the_admin_api():
    functions = functions_by_name()

    triggers = {name: f.get_trigger() for name, f in functions.items()}
    assert triggers["nightly"].type == "timerTrigger"
    queues = {
        t.queue_name: (name, t.connection)
        for name, t in triggers.items()
        if t.type == "serviceBusTrigger"
    }
    assert queues == {
        "school-sync": ("school_sync", "ServiceBusConnection"),
        "group-reconcile": ("group_reconcile", "ServiceBusConnection"),
        "commands": ("commands", "ServiceBusConnection"),
    }
    routes = {t.route for t in triggers.values() if t.type == "httpTrigger"}
    assert routes == {
        "schools",
        "schools/{school}/runs",
        "schools/{school}/runs/{run}/groups",
        "schools/{school}/groups",
        "commands",
        "console",
    }


def test_the_nightly_timer_runs_at_half_past_one_utc_unless_configured():
    assert functions_by_name()["nightly"].get_trigger().schedule == "0 30 1 * * *"


def test_the_schedule_comes_from_the_nightly_schedule_setting():
    code = "import function_app; f = [f for f in function_app.app.get_functions() "
    code += "if f.get_function_name() == 'nightly'][0]; print(f.get_trigger().schedule)"
    env = {"NIGHTLY_SCHEDULE": "0 0 3 * * *", "PATH": "/usr/bin:/bin"}

    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )

    assert out.stdout.strip() == "0 0 3 * * *", out.stderr


def test_importing_the_function_app_loads_no_sdk_or_engine_module():
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import function_app"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )

    imported = [line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines()]
    assert "function_app" in imported
    heavy = [m for m in imported if m.startswith(HEAVY_MODULES)]
    assert heavy == []


@pytest.mark.parametrize("name", ["school_sync", "group_reconcile", "commands"])
async def test_a_trigger_refuses_a_message_that_is_not_json_with_the_reason(name):
    handler = functions_by_name()[name].get_user_function()
    message = ServiceBusMessage(
        body=b"not json", message_id="m-1", application_properties={}, user_properties={}
    )

    with pytest.raises(InvalidMessage) as raised:
        await handler(message)

    assert "not JSON" in raised.value.reason
