"""The exception board: alerts filtered by status, severity and kind, and the moves on one.

    GET  /console/board?state=OPEN&severity=CRITICAL&kind=LOW_STOCK
    POST /console/board/act    action=acknowledge|assign|resolve|snooze, id, (resolution | hours), csrf

A move the API refuses (a role that may not, a state that does not allow
it) shows the API's own message on the board, with the matching status.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from console import documents
from console.client import Problem
from console.i18n import LOCAL_ZONE
from console.pages import posted, problem_status, signed_in
from console.site import BASE, Console
from models import ConsoleSession

STATES = ("OPEN", "ACKNOWLEDGED", "SNOOZED", "RESOLVED")
SEVERITIES = ("CRITICAL", "WARNING", "INFO")
SNOOZE_HOURS = {"1": 1, "4": 4, "24": 24}
ACTIONS = {"acknowledge": ("acknowledgeAlert", documents.ACKNOWLEDGE), "assign": ("assignAlert", documents.ASSIGN),
           "resolve": ("resolveAlert", documents.RESOLVE), "snooze": ("snoozeAlert", documents.SNOOZE)}


def _kinds(console: Console) -> list[str]:
    enum = console.client.schema.get_type_by_name("AlertKind")
    return [value.name for value in enum.values] if enum is not None else []


def _filter(request: Request, kinds: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The GraphQL filter from the query string, and the choices to show again in the form."""
    q = request.query_params
    chosen = {"state": q.get("state", "") if q.get("state") in STATES else "",
              "severity": q.get("severity", "") if q.get("severity") in SEVERITIES else "",
              "kind": q.get("kind", "") if q.get("kind") in kinds else ""}
    wanted: dict[str, Any] = {"openOnly": not chosen["state"]}
    if chosen["state"]:
        wanted["states"] = [chosen["state"]]
    if chosen["severity"]:
        wanted["severities"] = [chosen["severity"]]
    if chosen["kind"]:
        wanted["kinds"] = [chosen["kind"]]
    return wanted, chosen


async def _board(console: Console, request: Request, session: ConsoleSession, *, status: int = 200,
                 problem: Problem | None = None) -> Response:
    kinds = _kinds(console)
    wanted, chosen = _filter(request, kinds)
    result = await console.gql(request, session, documents.BOARD, {"filter": wanted})
    view = console.view(request, session, "board")
    board = (result.data or {}).get("exceptionBoard") or {"nodes": [], "totalCount": 0}
    done = request.query_params.get("done")
    message, tone = "", "ok"
    if problem is not None or result.problems:
        shown = problem or result.problems[0]
        message, tone = view.t("refused", message=shown.message), "err"
    elif done in ACTIONS:
        message = view.t(f"done_{done}")
    return console.page(request, "board.html", view, status=status, board=board, chosen=chosen, kinds=kinds,
                        states=STATES, severities=SEVERITIES, message=message, tone=tone,
                        drawn_at=datetime.now(LOCAL_ZONE).strftime("%H:%M:%S"),
                        back=f"{BASE}/board?{urlencode({k: v for k, v in chosen.items() if v})}")


@signed_in
async def board(console: Console, request: Request, session: ConsoleSession) -> Response:
    return await _board(console, request, session)


def _back(form: dict[str, str]) -> str:
    back = form.get("back", "")
    return back if back.startswith(f"{BASE}/board") and "//" not in back else f"{BASE}/board"


@signed_in
@posted
async def act(console: Console, request: Request, session: ConsoleSession, form: dict[str, str]) -> Response:
    action = form.get("action", "")
    if action not in ACTIONS:
        return await _board(console, request, session, status=422, problem=Problem("VALIDATION", "unknown action"))
    field, document = ACTIONS[action]
    variables: dict[str, Any] = {"id": form.get("id", "")}
    if action == "assign":
        variables["owner"] = session.user.display_name
    elif action == "resolve":
        variables["resolution"] = form.get("resolution", "").strip()
    elif action == "snooze":
        hours = SNOOZE_HOURS.get(form.get("hours", ""), 1)
        variables["until"] = (datetime.now(UTC) + timedelta(hours=hours)).isoformat()
    result = await console.gql(request, session, document, variables, payload=field)
    if result.problems:
        problem = result.problems[0]
        return await _board(console, request, session, status=problem_status(problem.code), problem=problem)
    back = _back(form)
    return console.redirect(request, f"{back}{'&' if '?' in back else '?'}done={action}")
