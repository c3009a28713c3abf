"""Requests to a queue's `$management` node and to `$cbs`: lock renewal, peek, scheduling,
cancelling and settling by lock token, each answered the way the SDK expects.

    response, changed = handle_management(broker, "school-sync", request, time.time())
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from proton import Array, Data, Message, symbol, timestamp

from local.servicebus import codec
from local.servicebus.broker import Broker, LockLost, Outcome

log = logging.getLogger(__name__)

OK, ACCEPTED, NO_CONTENT = 200, 202, 204
BAD_REQUEST, GONE, NOT_IMPLEMENTED = 400, 410, 501
LOCK_LOST_CONDITION = symbol("com.microsoft:message-lock-lost")
# The SDK's names for settlement over the management link.
DISPOSITIONS = {
    "completed": Outcome.COMPLETE,
    "abandoned": Outcome.ABANDON,
    "suspended": Outcome.DEAD_LETTER,
}


@dataclass
class Reply:
    status: int
    body: Any = None
    description: str = ""
    condition: str | None = None
    # Queues that gained available messages, so the caller can hand them to receivers.
    changed: set[str] = field(default_factory=set)


def handle_cbs(request: Message) -> Message:
    """Every put-token is accepted: the stand-in checks no credentials."""
    response = Message(correlation_id=request.id, address=request.reply_to)
    response.properties = {"status-code": ACCEPTED, "status-description": "Accepted"}
    return response


def handle_management(
    broker: Broker, queue_name: str, request: Message, now: float
) -> tuple[Message, set[str]]:
    operation = str((request.properties or {}).get("operation", ""))
    body = request.body if isinstance(request.body, dict) else {}
    handler = OPERATIONS.get(operation)
    if handler is None:
        reply = Reply(NOT_IMPLEMENTED, description=f"{operation} is not modelled by the stand-in")
    else:
        try:
            reply = handler(broker, queue_name, body, now)
        except LockLost as error:
            reply = Reply(GONE, description=str(error), condition=LOCK_LOST_CONDITION)
        except (KeyError, TypeError, ValueError) as error:
            reply = Reply(BAD_REQUEST, description=f"malformed {operation} request: {error}")
    log.debug("%s on %s: %d", operation, queue_name, reply.status)

    response = Message(correlation_id=request.id, address=request.reply_to, body=reply.body)
    properties: dict[str, Any] = {
        "statusCode": reply.status,
        "statusDescription": reply.description,
    }
    if reply.condition is not None:
        properties["errorCondition"] = reply.condition
    response.properties = properties
    return response, reply.changed


def _renew_lock(broker: Broker, queue_name: str, body: dict, now: float) -> Reply:
    expirations = [
        timestamp(int(broker.renew_lock(queue_name, token, now) * 1000))
        for token in _lock_tokens(body)
    ]
    return Reply(OK, {"expirations": Array(Data.NULL, Data.TIMESTAMP, *expirations)})


def _peek(broker: Broker, queue_name: str, body: dict, now: float) -> Reply:
    queue = broker.queue(queue_name)
    peeked = broker.peek(queue_name, int(body["from-sequence-number"]), int(body["message-count"]))
    if not peeked:
        return Reply(NO_CONTENT)
    messages = [
        {
            "message": codec.for_delivery(
                m, peeked=True, scheduled=m.sequence_number in queue.scheduled
            )
        }
        for m in peeked
    ]
    return Reply(OK, {"messages": messages})


def _schedule(broker: Broker, queue_name: str, body: dict, now: float) -> Reply:
    sequence_numbers = []
    for entry in _elements(body["messages"]):
        payload = bytes(entry["message"])
        message_id, scheduled_at = codec.routing_fields(payload)
        sequence_number = broker.enqueue(
            queue_name, payload, message_id, now, scheduled_at=scheduled_at
        )
        # A duplicate is dropped, but the SDK still expects one number per message.
        sequence_numbers.append(sequence_number or broker.reserve_sequence_number())
    return Reply(
        OK,
        {"sequence-numbers": Array(Data.NULL, Data.LONG, *sequence_numbers)},
        changed={queue_name},
    )


def _cancel(broker: Broker, queue_name: str, body: dict, now: float) -> Reply:
    broker.cancel_scheduled(queue_name, [int(n) for n in _elements(body["sequence-numbers"])])
    return Reply(OK)


def _update_disposition(broker: Broker, queue_name: str, body: dict, now: float) -> Reply:
    outcome = DISPOSITIONS.get(str(body["disposition-status"]))
    if outcome is None:
        return Reply(NOT_IMPLEMENTED, description="deferral is not modelled by the stand-in")
    for token in _lock_tokens(body):
        broker.settle(
            queue_name,
            token,
            outcome,
            now,
            reason=body.get("deadletter-reason"),
            description=body.get("deadletter-description"),
        )
    return Reply(OK, changed={queue_name})


def _lock_tokens(body: dict) -> list[uuid.UUID]:
    return [
        t if isinstance(t, uuid.UUID) else uuid.UUID(str(t)) for t in _elements(body["lock-tokens"])
    ]


def _elements(value: Any) -> list:
    return list(value.elements) if isinstance(value, Array) else list(value)


OPERATIONS: dict[str, Callable[[Broker, str, dict, float], Reply]] = {
    "com.microsoft:renew-lock": _renew_lock,
    "com.microsoft:peek-message": _peek,
    "com.microsoft:schedule-message": _schedule,
    "com.microsoft:cancel-scheduled-message": _cancel,
    "com.microsoft:update-disposition": _update_disposition,
}
