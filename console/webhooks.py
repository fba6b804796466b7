"""Webhook endpoints and their delivery log, and sending one delivery again.

    GET  /console/webhooks?endpoint=<id>&status=FAILED&after=<cursor>
    POST /console/webhooks/replay    id, endpoint, csrf

The API gives the log to admins (a partner key sees its own endpoints; people
have no partner key), so any other role sees the API's refusal with its status.
Secrets show only by prefix, as the API gives them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from console import documents
from console.client import Problem
from console.pages import posted, problem_status, signed_in
from console.site import BASE, Console
from models import ConsoleSession

STATUSES = ("PENDING", "DELIVERING", "SUCCEEDED", "FAILED")
MAX_ID = 100


async def _page(console: Console, request: Request, session: ConsoleSession, *, status: int = 200,
                problem: Problem | None = None) -> Response:
    view = console.view(request, session, "webhooks")
    q = request.query_params
    endpoints, listed = await console.rows(request, session, documents.WEBHOOK_ENDPOINTS)
    chosen_id = (q.get("endpoint") or "")[:MAX_ID] or (endpoints[0]["id"] if endpoints else "")
    wanted = q.get("status") if q.get("status") in STATUSES else ""
    endpoint: dict[str, Any] | None = None
    shown = problem or (listed.problems[0] if listed.problems else None)
    if chosen_id and shown is None:
        variables = {"id": chosen_id, "status": [wanted] if wanted else None, "after": q.get("after") or None}
        result = await console.gql(request, session, documents.WEBHOOK_DELIVERIES, variables)
        endpoint = (result.data or {}).get("webhookEndpoint")
        if result.problems:
            shown = result.problems[0]
        elif endpoint is None:
            shown = Problem("NOT_FOUND", view.t("no_such_endpoint"))
    if shown is not None and status == 200:
        status = problem_status(shown.code)
    message, tone = "", "ok"
    if shown is not None:
        message, tone = view.t("refused", message=shown.message), "err"
    elif q.get("done") == "replay":
        message = view.t("done_replay")
    return console.page(request, "webhooks.html", view, status=status, endpoints=endpoints, endpoint=endpoint,
                        chosen=chosen_id, wanted=wanted, statuses=STATUSES, message=message, tone=tone)


@signed_in
async def webhooks(console: Console, request: Request, session: ConsoleSession) -> Response:
    return await _page(console, request, session)


@signed_in
@posted
async def replay(console: Console, request: Request, session: ConsoleSession, form: dict[str, str]) -> Response:
    result = await console.gql(request, session, documents.REPLAY_DELIVERY, {"id": form.get("id", "")[:MAX_ID]},
                               payload="replayWebhookDelivery")
    if result.problems:
        problem = result.problems[0]
        return await _page(console, request, session, status=problem_status(problem.code), problem=problem)
    query = urlencode({"endpoint": form.get("endpoint", "")[:MAX_ID], "done": "replay"})
    return console.redirect(request, f"{BASE}/webhooks?{query}")
