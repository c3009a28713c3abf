"""`school-sync` queue: plan one school and send a `group-reconcile` per group that drifted."""

from __future__ import annotations

import azure.functions as func

from functions.runtime import SERVICE_BUS_CONNECTION, decode_message, services

bp = func.Blueprint()


@bp.function_name("school_sync")
@bp.service_bus_queue_trigger(
    arg_name="msg", connection=SERVICE_BUS_CONNECTION, queue_name="school-sync"
)
async def school_sync(msg: func.ServiceBusMessage) -> None:
    from shared.messages.schemas import SCHOOL_SYNC_QUEUE
    from shared.usecases.dispatch import send_to_queue
    from shared.usecases.school_run import run_school

    message = decode_message(msg.get_body(), SCHOOL_SYNC_QUEUE, msg.message_id)
    ports = await services()
    await run_school(
        ports, message.school_id, message.run_id, message.trigger, send_to_queue(ports)
    )
