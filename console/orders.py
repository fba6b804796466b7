"""Order search and one order's page: status, lines, lineage, allocation, parcels, payments, after-sales.

    GET /console/orders?q=OG000000042      (order number, external id, tracking number or phone tail)
    GET /console/orders/OG000000042        (?diagnose=1 adds the cross-system diagnosis, see console.diagnosis)
    POST /console/orders/OG000000042/repair

Personal data is whatever the API gives this person's role: masked for
roles that may not see it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from console import diagnosis, documents
from console.client import Problem
from console.pages import posted, problem_status, signed_in
from console.site import BASE, Console
from models import ConsoleSession

MAX_QUERY = 64
ORDER_NO = re.compile(r"OG[0-9]{9}")


@signed_in
async def search(console: Console, request: Request, session: ConsoleSession) -> Response:
    typed = request.query_params.get("q", "").strip()[:MAX_QUERY]
    view = console.view(request, session, "orders")
    orders: list[dict[str, Any]] | None = None
    message = ""
    if typed:
        result = await console.gql(request, session, documents.ORDER_SEARCH, {"search": typed})
        orders = ((result.data or {}).get("orders") or {}).get("nodes") or []
        if result.problems:
            message = view.t("refused", message=result.problems[0].message)
    return console.page(request, "orders.html", view, typed=typed, orders=orders, message=message)


def _change(event: dict[str, Any]) -> str:
    """Before -> after, compact, for the timeline."""
    parts = []
    for key in ("before", "after"):
        value = event.get(key)
        if value:
            parts.append(json.dumps(value, ensure_ascii=False, sort_keys=True)[:300])
    return " → ".join(parts)


@signed_in
async def detail(console: Console, request: Request, session: ConsoleSession) -> Response:
    number = request.path_params["number"]
    if not ORDER_NO.fullmatch(number):
        return await search(console, request)
    return await _detail(console, request, session, number)


async def _detail(console: Console, request: Request, session: ConsoleSession, number: str, *, status: int = 200,
                  problem: Problem | None = None) -> Response:
    done = request.query_params.get("done") == "repair"
    result = await console.gql(request, session, documents.ORDER_DETAIL, {"search": number})
    view = console.view(request, session, "orders")
    nodes = ((result.data or {}).get("orders") or {}).get("nodes") or []
    order = next((node for node in nodes if node.get("number") == number), None)
    if order is None:
        status = problem_status(result.problems[0].code) if result.problems else 404
        message = view.t("refused", message=result.problems[0].message) if result.problems else view.t("no_orders")
        return console.page(request, "orders.html", view, status=status, typed=number, orders=[], message=message)
    events = sorted(order.get("events") or [], key=lambda e: e["eventId"], reverse=True)
    found, refused = None, problem
    if request.query_params.get("diagnose") and problem is None:
        found, refused = await diagnosis.diagnose(console, request, session, order["id"])
    message = view.t("refused", message=refused.message) if refused else (view.t("repaired") if done else "")
    return console.page(request, "order.html", view, status=status, order=order, events=events, change=_change,
                        diagnosis=found, message=message)


@signed_in
@posted
async def repair(console: Console, request: Request, session: ConsoleSession, form: dict[str, str]) -> Response:
    """A repair button: run it, then show the order (and its diagnosis again) with what happened."""
    number = request.path_params["number"]
    if not ORDER_NO.fullmatch(number):
        return await search(console, request)
    result = await diagnosis.repair(console, request, session, form)
    if result.problems:
        problem = result.problems[0]
        return await _detail(console, request, session, number, status=problem_status(problem.code), problem=problem)
    return console.redirect(request, f"{BASE}/orders/{number}?diagnose=1&done=repair")
