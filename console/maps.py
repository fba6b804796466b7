"""Status maps: a channel's (or carrier's) table of platform codes, and editing one code's mapping.

    GET  /console/status-maps?table=taobao&code=WAIT_SELLER_SEND_GOODS
    POST /console/status-maps   table, code, order, payment, afterSale | shipment, unmapped, reason, csrf

Saving is the API's ``saveStatusMapping`` (admin), which makes a new
version of the table and re-reads orders held for codes it now maps.
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
from domain.statuses import AfterSaleStatus, OrderStatus, PaymentStatus, ShipmentStatus
from models import ConsoleSession

CHOICES = {"order": [s.value for s in OrderStatus], "payment": [s.value for s in PaymentStatus],
           "afterSale": [s.value for s in AfterSaleStatus], "shipment": [s.value for s in ShipmentStatus]}
MAX_CODE = 64


async def _page(console: Console, request: Request, session: ConsoleSession, table: str, code: str, *,
                status: int = 200, problem: Problem | None = None, saved: str = "") -> Response:
    view = console.view(request, session, "maps")
    channels = await console.gql(request, session, documents.CHANNELS)
    listed = ((channels.data or {}).get("channels")) or []
    table = table or (listed[0]["kind"] if listed else "taobao")
    result = await console.gql(request, session, documents.STATUS_MAP, {"table": table})
    data = result.data or {}
    mapping = data.get("statusMapping")
    shown = problem or (result.problems[0] if result.problems else None)
    if shown is not None and status == 200:
        status = problem_status(shown.code)
    entry = next((e for e in (mapping or {}).get("entries", []) if e["code"] == code), None) if code else None
    message = view.t("refused", message=shown.message) if shown else saved
    return console.page(request, "maps.html", view, status=status, table=table, tables=data.get("statusMappingTables") or [],
                        channels=listed, mapping=mapping, code=code, entry=entry, choices=CHOICES, message=message,
                        tone="err" if shown else "ok")


@signed_in
async def maps(console: Console, request: Request, session: ConsoleSession) -> Response:
    q = request.query_params
    saved = ""
    if q.get("saved", "").isdigit():
        saved = console.view(request, session).t("saved_mapping", version=q["saved"], n=q.get("n", "0"))
    return await _page(console, request, session, q.get("table", "")[:MAX_CODE], q.get("code", "")[:MAX_CODE], saved=saved)


def _entry(form: dict[str, str], code: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"code": code}
    if form.get("unmapped"):
        entry["unmapped"] = True
        return entry
    for key, values in CHOICES.items():
        if form.get(key) in values:
            entry[key] = form[key]
    return entry


@signed_in
@posted
async def save(console: Console, request: Request, session: ConsoleSession, form: dict[str, str]) -> Response:
    table, code = form.get("table", "")[:MAX_CODE], form.get("code", "").strip()[:MAX_CODE]
    if not code:
        return await _page(console, request, session, table, "", status=422,
                           problem=Problem("VALIDATION", "a platform code is needed", "code"))
    variables = {"input": {"table": table, "entries": [_entry(form, code)], "reason": form.get("reason", "")[:200]}}
    result = await console.gql(request, session, documents.SAVE_MAPPING, variables, payload="saveStatusMapping")
    if result.problems:
        problem = result.problems[0]
        return await _page(console, request, session, table, code, status=problem_status(problem.code), problem=problem)
    saved = result.data["saveStatusMapping"]
    query = urlencode({"table": table, "code": code, "saved": saved["table"]["version"], "n": saved["reevaluatedOrders"]})
    return console.redirect(request, f"{BASE}/status-maps?{query}")
