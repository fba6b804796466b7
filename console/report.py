"""The report: health figures per day as server-drawn bar charts, only from what the API exposes.

    GET /console/report?days=14

Orders created per day (``orders(filter: {createdAfter, createdBefore}) { totalCount }``),
alerts raised and their median time to acknowledge (``alertStats``), and
orders differing in the daily reconciliation (``reconciliations``). A figure
the API does not give yet is shown as "not available yet", never invented.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from console import documents
from console.charts import bar_chart
from console.i18n import LOCAL_ZONE
from console.pages import signed_in
from console.site import Console
from models import ConsoleSession

DAYS = (7, 14)
ORDERS_PER_DAY = "orders", "filter: {{createdAfter: {s}, createdBefore: {u}}}, first: 0", "totalCount"
ALERTS_PER_DAY = "alertStats", "since: {s}, until: {u}", "total { raised timeToAcknowledge { count p50Seconds } }"
NOW_STATS = "query { alertStats { total { open overdue } } }"


def _days(count: int) -> list[tuple[date, datetime, datetime]]:
    today = datetime.now(LOCAL_ZONE).date()
    first = today - timedelta(days=count - 1)
    out = []
    for i in range(count):
        day = first + timedelta(days=i)
        start = datetime.combine(day, time(), LOCAL_ZONE)
        out.append((day, start, start + timedelta(days=1)))
    return out


async def _per_day(console: Console, request: Request, session: ConsoleSession, spec: tuple[str, str, str],
                   days: list[tuple[date, datetime, datetime]]) -> tuple[list[Any] | None, str]:
    variables: dict[str, Any] = {}
    for i, (_, start, end) in enumerate(days):
        variables[f"s{i}"], variables[f"u{i}"] = start.isoformat(), end.isoformat()
    result = await console.gql(request, session, documents.per_day(*spec, len(days)), variables)
    if result.problems or not result.data:
        return None, result.problems[0].message if result.problems else ""
    return [result.data[f"d{i}"] for i in range(len(days))], ""


@signed_in
async def report(console: Console, request: Request, session: ConsoleSession) -> Response:
    asked = request.query_params.get("days", "")
    count = int(asked) if asked.isdigit() and int(asked) in DAYS else 14
    days = _days(count)
    labels = [day.strftime("%m-%d") for day, _, _ in days]
    view = console.view(request, session, "report")
    empty = view.t("not_available")
    charts: list[tuple[str, Any, str]] = []

    orders, why = await _per_day(console, request, session, ORDERS_PER_DAY, days)
    points = list(zip(labels, [o["totalCount"] for o in orders], strict=True)) if orders else []
    charts.append((view.t("chart_orders"), bar_chart(points, title=view.t("chart_orders"), empty=empty), why))

    alerts, why = await _per_day(console, request, session, ALERTS_PER_DAY, days)
    raised = list(zip(labels, [a["total"]["raised"] for a in alerts], strict=True)) if alerts else []
    charts.append((view.t("chart_alerts"), bar_chart(raised, title=view.t("chart_alerts"), empty=empty), why))
    ack: list[tuple[str, float | None]] = []
    for label, figures in zip(labels, alerts or [], strict=False):
        p50 = figures["total"]["timeToAcknowledge"]["p50Seconds"]
        ack.append((label, None if p50 is None else round(p50 / 60, 1)))
    charts.append((view.t("chart_ack"), bar_chart(ack, title=view.t("chart_ack"), empty=empty), why))

    recon = await console.gql(request, session, documents.RECONCILIATIONS)
    by_day = {run["day"]: run["ordersDiffering"] for run in ((recon.data or {}).get("reconciliations") or [])
              if run["status"] in ("DONE", "PARTIAL")}
    recon_points = [(label, by_day.get(day.isoformat())) for label, (day, _, _) in zip(labels, days, strict=True)]
    why = recon.problems[0].message if recon.problems else ""
    charts.append((view.t("chart_recon"), bar_chart(recon_points, title=view.t("chart_recon"), empty=empty), why))

    now = await console.gql(request, session, NOW_STATS)
    total = ((now.data or {}).get("alertStats") or {}).get("total")
    return console.page(request, "report.html", view, charts=charts, days=count, choices=DAYS, now=total,
                        missing=("figure_stock", "figure_ontime", "figure_webhooks"))
