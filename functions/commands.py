"""`commands` queue: on-demand work from the admin API and operators (T2, C1, C2, X2)."""

from __future__ import annotations

import azure.functions as func

from functions.runtime import SERVICE_BUS_CONNECTION, decode_message, services

bp = func.Blueprint()


@bp.function_name("commands")
@bp.service_bus_queue_trigger(
    arg_name="msg", connection=SERVICE_BUS_CONNECTION, queue_name="commands"
)
async def commands(msg: func.ServiceBusMessage) -> None:
    from shared.messages.schemas import COMMANDS_QUEUE
    from shared.usecases.commands import handle_command
    from shared.usecases.dispatch import send_to_queue

    message = decode_message(msg.get_body(), COMMANDS_QUEUE, msg.message_id)
    ports = await services()
    await handle_command(ports, message, send_to_queue(ports))
