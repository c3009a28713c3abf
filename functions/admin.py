"""The admin HTTP API and console page (R2, T2): reports to read, commands to queue.

    GET  /api/schools                                  schools and their settings
    GET  /api/schools/{school}/runs                    the last runs, newest first
    GET  /api/schools/{school}/runs/{run}/groups       one run's per-group results
    GET  /api/schools/{school}/groups                  groups: MIS students and Microsoft 365 state
    POST /api/commands                                 queue a command; 202 with its message id
         {"type": "sync-school", "school_id": "4001", "accept_loss": true,
          "requested_by": "it.admin@school.org"}       approve the export a blocked run read (X1)
    GET  /api/console                                  the console page

Writes only ever become `commands` messages: nothing here calls Graph.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import azure.functions as func

from functions.runtime import services

log = logging.getLogger(__name__)
bp = func.Blueprint()

CONSOLE_PAGE = Path(__file__).with_name("console.html")
DEFAULT_RUN_COUNT = 20
MAX_RUN_COUNT = 200


@bp.function_name("admin_schools")
@bp.route(route="schools", methods=["GET"])
async def admin_schools(req: func.HttpRequest) -> func.HttpResponse:
    from shared.usecases.queries import list_schools

    return _json(list_schools(await services()))


@bp.function_name("admin_runs")
@bp.route(route="schools/{school}/runs", methods=["GET"])
async def admin_runs(req: func.HttpRequest) -> func.HttpResponse:
    from shared.usecases.queries import list_runs

    try:
        count = min(int(req.params.get("count", DEFAULT_RUN_COUNT)), MAX_RUN_COUNT)
    except ValueError:
        return _problem(400, "count must be a whole number, e.g. ?count=20")
    return _json(list_runs(await services(), req.route_params["school"], count))


@bp.function_name("admin_run_groups")
@bp.route(route="schools/{school}/runs/{run}/groups", methods=["GET"])
async def admin_run_groups(req: func.HttpRequest) -> func.HttpResponse:
    from shared.usecases.queries import run_group_results

    school, run = req.route_params["school"], req.route_params["run"]
    return _json(run_group_results(await services(), school, run))


@bp.function_name("admin_school_groups")
@bp.route(route="schools/{school}/groups", methods=["GET"])
async def admin_school_groups(req: func.HttpRequest) -> func.HttpResponse:
    from shared.mis import MisExportError
    from shared.usecases.errors import CommandRejected
    from shared.usecases.planning import NoExport
    from shared.usecases.queries import school_groups

    try:
        groups = await school_groups(await services(), req.route_params["school"])
    except (CommandRejected, NoExport) as error:
        return _problem(404, str(error))
    except MisExportError as error:
        return _problem(422, f"the newest MIS export is invalid: {error}")
    return _json(groups)


@bp.function_name("admin_commands")
@bp.route(route="commands", methods=["POST"])
async def admin_commands(req: func.HttpRequest) -> func.HttpResponse:
    from shared.messages.schemas import InvalidMessage
    from shared.usecases.errors import CommandRejected
    from shared.usecases.queries import command_from_request, pin_loss_approval, submit_command

    try:
        command = command_from_request(req.get_json())
    except ValueError as error:
        reason = error.reason if isinstance(error, InvalidMessage) else "the body is not JSON"
        return _problem(400, reason)
    ports = await services()
    try:
        command = await pin_loss_approval(ports, command)
    except CommandRejected as error:
        return _problem(409, str(error))
    sent_id = await submit_command(ports, command)
    answer = {"message_id": sent_id, "command_id": command.command_id}
    if getattr(command, "accept_loss", False):
        answer["export_id"] = command.export_id
    return _json(answer, status=202)


@bp.function_name("admin_console")
@bp.route(route="console", methods=["GET"])
async def admin_console(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(
        CONSOLE_PAGE.read_text(encoding="utf-8"), mimetype="text/html", charset="utf-8"
    )


def _json(value: Any, status: int = 200) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(value, default=str), status_code=status, mimetype="application/json"
    )


def _problem(status: int, detail: str) -> func.HttpResponse:
    return _json({"error": detail}, status=status)
