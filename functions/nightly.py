"""The nightly timer: one `school-sync` message per enabled school (T1).

The schedule is the app setting NIGHTLY_SCHEDULE (NCRONTAB, UTC), 01:30 by default.
"""

from __future__ import annotations

import logging
import os

import azure.functions as func

from functions.runtime import DEFAULT_NIGHTLY_SCHEDULE, NIGHTLY_SCHEDULE_SETTING, services

log = logging.getLogger(__name__)
bp = func.Blueprint()


@bp.function_name("nightly")
@bp.timer_trigger(
    arg_name="timer",
    schedule=os.environ.get(NIGHTLY_SCHEDULE_SETTING) or DEFAULT_NIGHTLY_SCHEDULE,
    run_on_startup=False,
    use_monitor=True,
)
async def nightly(timer: func.TimerRequest) -> None:
    from shared.usecases.night import start_night

    ports = await services()
    sent = await start_night(ports, ports.clock())
    log.info("nightly: %d school-sync messages sent (past due: %s)", sent, timer.past_due)
