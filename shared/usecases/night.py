"""The start of a night (T1): one `school-sync` message per enabled school.

Run ids of nightly runs are the night's date, and so are the message ids' tails, so a timer
that fires twice in one night sends nothing new: Service Bus drops the duplicates.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from shared.messages.schemas import (
    SCHOOL_SYNC_QUEUE,
    SchoolSync,
    encode,
    message_id,
    nightly_run_id,
)
from shared.usecases.services import Services

log = logging.getLogger(__name__)


async def start_night(services: Services, now: datetime) -> int:
    """Send one school-sync per enabled school for the night of `now` (UTC); returns the count."""
    from shared.messages.bus import OutgoingMessage

    schools = await asyncio.to_thread(services.state.list_schools, True)
    run_id = nightly_run_id(now.date())
    outgoing = []
    for school in schools:
        message = SchoolSync(school_id=school.school_id, run_id=run_id, trigger="nightly")
        outgoing.append(
            OutgoingMessage(
                body=encode(message), message_id=message_id(message), subject=SchoolSync.TYPE
            )
        )
    await services.send(SCHOOL_SYNC_QUEUE, outgoing)
    log.info("night %s: %d school-sync messages sent", run_id, len(outgoing))
    return len(outgoing)
