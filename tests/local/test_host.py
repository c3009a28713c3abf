"""The local Functions host: real SDK receives, real trigger objects, the host's settlement."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import azure.functions as func
import pytest
from azure.servicebus import ServiceBusMessage, ServiceBusReceiveMode
from azure.servicebus.aio import ServiceBusClient

from local.host import LocalHost
from local.services import start_servicebus
from shared.messages.bus import MessageBus, OutgoingMessage
from shared.messages.schemas import (
    COMMANDS_QUEUE,
    GROUP_RECONCILE_QUEUE,
    QUEUES,
    SCHOOL_SYNC_QUEUE,
)
from tests.usecases.conftest import services as services
from tests.usecases.conftest import stack as stack

NIGHT = datetime(2025, 10, 6, 1, 30, tzinfo=UTC)
NEXT_NIGHT = datetime(2025, 10, 7, 1, 30, tzinfo=UTC)
# The SDK's lock renewer looks once a second and renews a short lock once less than three
# quarters of it is left: four seconds is about the shortest lock it reliably keeps.
SHORT_LOCK_SECONDS = 4


@pytest.fixture
async def bus(servicebus):
    # The stand-in lives for the whole session: start from empty queues.
    async with ServiceBusClient.from_connection_string(servicebus.connection_string) as client:
        await asyncio.gather(*(_purge(client, queue) for queue in (*QUEUES, "flaky")))
    with MessageBus(servicebus.connection_string) as bus:
        yield bus


async def _purge(client: ServiceBusClient, queue: str) -> None:
    receiver = client.get_queue_receiver(
        queue, receive_mode=ServiceBusReceiveMode.RECEIVE_AND_DELETE
    )
    async with receiver:
        while await receiver.receive_messages(max_message_count=100, max_wait_time=0.2):
            pass


@pytest.fixture
def host_env(stack, servicebus, bus):
    return {**stack.env, "ServiceBusConnection": servicebus.connection_string}


def dead_letters(bus: MessageBus, queue: str) -> dict:
    return {m.message_id: m for m in bus.receive(queue, 100, 0.5, dead_letter=True)}


async def test_a_night_through_the_host_creates_every_group(stack, host_env):
    async with LocalHost(host_env) as host:
        await host.run_night(NIGHT)
        report = await host.drain()

    assert report.completed[SCHOOL_SYNC_QUEUE] == 1
    assert report.completed[GROUP_RECONCILE_QUEUE] == 14
    assert report.dead_lettered == {}
    assert len(stack.emulator.groups()) == 14
    (run,) = stack.state.list_runs(stack.school_id)
    assert run.run_id == "2025-10-06"


async def test_the_timer_firing_twice_in_a_night_syncs_the_school_once(stack, host_env):
    async with LocalHost(host_env) as host:
        await host.run_night(NEXT_NIGHT)
        await host.run_night(NEXT_NIGHT)
        report = await host.drain()

    assert report.completed[SCHOOL_SYNC_QUEUE] == 1
    assert len(stack.state.list_runs(stack.school_id)) == 1


async def test_an_invalid_message_is_dead_lettered_at_once_with_its_reason(host_env, bus):
    message_id = f"bad-{uuid.uuid4().hex}"
    bus.send(COMMANDS_QUEUE, [OutgoingMessage(body=b'{"type": "launch"}', message_id=message_id)])

    async with LocalHost(host_env) as host:
        report = await host.drain()

    assert report.dead_lettered[COMMANDS_QUEUE] == 1
    assert report.abandoned[COMMANDS_QUEUE] == 0
    dead = dead_letters(bus, COMMANDS_QUEUE)[message_id]
    assert dead.dead_letter_reason == "InvalidMessage"
    assert "version" in dead.dead_letter_error_description


def flaky_app(calls: list[int], *, fail: bool) -> func.FunctionApp:
    app = func.FunctionApp()

    @app.function_name("flaky")
    @app.service_bus_queue_trigger(arg_name="msg", connection="ServiceBusConnection",
                                   queue_name="flaky")  # fmt: skip
    async def flaky(msg: func.ServiceBusMessage) -> None:
        calls.append(msg.delivery_count)
        if fail:
            raise RuntimeError("downstream is down")

    return app


async def test_a_function_that_succeeds_has_its_message_completed(host_env, bus):
    calls: list[int] = []
    bus.send("flaky", [OutgoingMessage(body=b"{}", message_id=uuid.uuid4().hex)])

    async with LocalHost(host_env, app=flaky_app(calls, fail=False)) as host:
        report = await host.drain()
        again = await host.drain()

    assert calls == [1]
    assert report.completed["flaky"] == 1
    assert again.handled == 0


async def test_a_failing_function_is_abandoned_then_dead_lettered_at_the_max_delivery_count(
    host_env, bus
):
    calls: list[int] = []
    message_id = uuid.uuid4().hex
    bus.send("flaky", [OutgoingMessage(body=b"{}", message_id=message_id)])

    async with LocalHost(host_env, app=flaky_app(calls, fail=True), max_delivery_count=3) as host:
        report = await host.drain()

    assert calls == [1, 2, 3]
    assert report.abandoned["flaky"] == 2
    assert report.dead_lettered["flaky"] == 1
    dead = dead_letters(bus, "flaky")[message_id]
    assert dead.dead_letter_reason == "MaxDeliveryCountExceeded"
    assert "downstream is down" in dead.dead_letter_error_description


@pytest.fixture(scope="module")
def short_lock_servicebus():
    with start_servicebus("--lock-duration", str(SHORT_LOCK_SECONDS)) as service:
        yield service


def slow_app(handled: list[str], seconds: float) -> func.FunctionApp:
    app = func.FunctionApp()

    @app.function_name("slow")
    @app.service_bus_queue_trigger(arg_name="msg", connection="ServiceBusConnection",
                                   queue_name="slow")  # fmt: skip
    async def slow(msg: func.ServiceBusMessage) -> None:
        await asyncio.sleep(seconds)
        handled.append(msg.message_id)

    return app


async def test_a_pass_outlasting_the_lock_renews_every_lock_and_completes_each_message_once(
    short_lock_servicebus,
):
    connection = short_lock_servicebus.connection_string
    message_ids = [uuid.uuid4().hex for _ in range(4)]
    # Without the keep-alive, closing the sender does not wait a second for it.
    async with (
        ServiceBusClient.from_connection_string(connection) as client,
        client.get_queue_sender("slow", keep_alive=0) as sender,
    ):
        await sender.send_messages([ServiceBusMessage(b"{}", message_id=m) for m in message_ids])
    handled: list[str] = []
    app = slow_app(handled, seconds=SHORT_LOCK_SECONDS + 0.5)

    async with LocalHost({"ServiceBusConnection": connection}, app=app) as host:
        report = await host.drain()

    assert sorted(handled) == sorted(message_ids)
    assert report.completed["slow"] == len(message_ids)
    assert report.errors == []
