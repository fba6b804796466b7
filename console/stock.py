"""Warehouses, and stock per SKU and warehouse (available, reserved, safety), low stock highlighted.

    GET /console/stock?sku=TEA-001&warehouse=<id>&low=1&after=<cursor>

``warehouses`` and ``stockLevels`` (``low`` is the API's: an open low-stock
alert); titles come from the catalogue (``catalogItems``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from console import documents
from console.pages import problem_status, signed_in
from console.site import Console
from models import ConsoleSession

MAX_FIELD = 100


@signed_in
async def stock(console: Console, request: Request, session: ConsoleSession) -> Response:
    view = console.view(request, session, "stock")
    q = request.query_params
    warehouses, listed = await console.rows(request, session, documents.WAREHOUSES)
    chosen = {"sku": q.get("sku", "").strip()[:MAX_FIELD], "warehouse": q.get("warehouse", "")[:MAX_FIELD],
              "low": q.get("low") == "1"}
    if chosen["warehouse"] not in {w["id"] for w in warehouses}:
        chosen["warehouse"] = ""
    variables: dict[str, Any] = {"sku": chosen["sku"] or None, "warehouse": chosen["warehouse"] or None,
                                 "lowOnly": chosen["low"], "after": q.get("after") or None}
    result = await console.gql(request, session, documents.STOCK_LEVELS, variables)
    levels = (result.data or {}).get("stockLevels") or {"nodes": [], "pageInfo": {"hasNextPage": False}}
    titles: dict[str, str] = {}
    skus = sorted({row["sku"] for row in levels["nodes"]})
    if skus:
        catalog = await console.gql(request, session, documents.CATALOG, {"skus": skus})
        items = ((catalog.data or {}).get("catalogItems") or {}).get("nodes") or []
        titles = {item["sku"]: item["title"] for item in items}
    problems = listed.problems + result.problems
    status = problem_status(problems[0].code) if problems else 200
    message = view.t("refused", message=problems[0].message) if problems else ""
    return console.page(request, "stock.html", view, status=status, warehouses=warehouses, levels=levels,
                        titles=titles, chosen=chosen, message=message, tone="err")
