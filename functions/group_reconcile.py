"""`group-reconcile` queue: bring one group in line with its plan.

A group Graph does not show yet (replication lag) is not retried by abandoning, which would
redeliver at once and burn the delivery count: a copy is scheduled for later and this
delivery completes. Anything else that fails is abandoned and redelivered by Service Bus.
"""

from __future__ import annotations

import azure.functions as func

from functions.runtime import SERVICE_BUS_CONNECTION, decode_message, services

bp = func.Blueprint()


@bp.function_name("group_reconcile")
@bp.service_bus_queue_trigger(
    arg_name="msg", connection=SERVICE_BUS_CONNECTION, queue_name="group-reconcile"
)
async def group_reconcile(msg: func.ServiceBusMessage) -> None:
    from shared.messages.schemas import GROUP_RECONCILE_QUEUE
    from shared.usecases.dispatch import retry_later
    from shared.usecases.errors import TransientError
    from shared.usecases.reconcile import reconcile_group

    message = decode_message(msg.get_body(), GROUP_RECONCILE_QUEUE, msg.message_id)
    ports = await services()
    try:
        await reconcile_group(ports, message)
    except TransientError:
        # retry_later re-raises once the attempts are used up, so the message is abandoned.
        await retry_later(ports, message)
