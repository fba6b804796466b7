"""The report: health figures per day as server-drawn bar charts, only from what the API exposes.

    GET /console/report?days=14
    GET /console/report.pdf?days=7      the same figures as a PDF (WeasyPrint), a week by default

Orders created per day (``orders(filter: {createdAfter, createdBefore}) { totalCount }``),
alerts raised and their median time to acknowledge (``alertStats``),
orders differing in the daily reconciliation (``reconciliations``), and the
seeds' health figures (``healthFigures``: status credibility, exception close
time, cross-system failure rate, recovery cycle, on-time shipping). A day
without data is a gap, never 0; a figure the API does not give yet is shown as
"not available yet", never invented.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from starlette.requests import Request
from starlette.responses import Response

from console import documents, i18n
from console.charts import bar_chart
from console.i18n import LOCAL_ZONE
from console.pages import signed_in
from console.site import Console
from domain.lineage.pdf import render_pdf
from models import ConsoleSession

DAYS = (7, 14)
ORDERS_PER_DAY = "orders", "filter: {{createdAfter: {s}, createdBefore: {u}}}, first: 0", "totalCount"
ALERTS_PER_DAY = "alertStats", "since: {s}, until: {u}", "total { raised timeToAcknowledge { count p50Seconds } }"
NOW_STATS = "query { alertStats { total { open overdue } } }"
MISSING = ("figure_stock", "figure_webhooks")
HEALTH = ("query($days: Int!) { healthFigures(days: $days) { days { day statusCredibility exceptionCloseP50Seconds "
          "crossSystemFailureRate recoveryCycleP50Seconds onTimeShippingRate } } }")
#: (i18n key of the chart, healthFigures field, factor to the unit shown: percent or minutes)
HEALTH_CHARTS = (("chart_credibility", "statusCredibility", 100), ("chart_close", "exceptionCloseP50Seconds", 1 / 60),
                 ("chart_failure", "crossSystemFailureRate", 100), ("chart_recovery", "recoveryCycleP50Seconds", 1 / 60),
                 ("chart_ontime", "onTimeShippingRate", 100))
CHART_STYLE = ("rect{fill:#0b57d0} .axis{stroke:#b8c0c9} text{font-size:13px;text-anchor:middle;fill:#3d4752;"
               "font-family:sans-serif} .gap{fill:#9aa5b1}")


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


async def figures(console: Console, request: Request, session: ConsoleSession, count: int, lang: str) -> dict[str, Any]:
    """Everything the report shows for the last ``count`` days, in ``lang``: charts (title, svg, why), alerts now."""
    days = _days(count)
    labels = [day.strftime("%m-%d") for day, _, _ in days]
    say = partial(i18n.t, lang)
    empty = say("not_available")
    charts: list[tuple[str, Any, str]] = []

    orders, why = await _per_day(console, request, session, ORDERS_PER_DAY, days)
    points = list(zip(labels, [o["totalCount"] for o in orders], strict=True)) if orders else []
    charts.append((say("chart_orders"), bar_chart(points, title=say("chart_orders"), empty=empty), why))

    alerts, why = await _per_day(console, request, session, ALERTS_PER_DAY, days)
    raised = list(zip(labels, [a["total"]["raised"] for a in alerts], strict=True)) if alerts else []
    charts.append((say("chart_alerts"), bar_chart(raised, title=say("chart_alerts"), empty=empty), why))
    ack: list[tuple[str, float | None]] = []
    for label, figures in zip(labels, alerts or [], strict=False):
        p50 = figures["total"]["timeToAcknowledge"]["p50Seconds"]
        ack.append((label, None if p50 is None else round(p50 / 60, 1)))
    charts.append((say("chart_ack"), bar_chart(ack, title=say("chart_ack"), empty=empty), why))

    recon = await console.gql(request, session, documents.RECONCILIATIONS)
    runs = ((recon.data or {}).get("reconciliations") or {}).get("nodes") or []
    by_day = {run["day"]: run["ordersDiffering"] for run in runs if run["status"] in ("DONE", "PARTIAL")}
    recon_points = [(label, by_day.get(day.isoformat())) for label, (day, _, _) in zip(labels, days, strict=True)]
    why = recon.problems[0].message if recon.problems else ""
    charts.append((say("chart_recon"), bar_chart(recon_points, title=say("chart_recon"), empty=empty), why))

    charts += await _health(console, request, session, days, labels, lang)

    now = await console.gql(request, session, NOW_STATS)
    total = ((now.data or {}).get("alertStats") or {}).get("total")
    return {"charts": charts, "days": count, "now": total, "missing": MISSING,
            "first": days[0][0].isoformat(), "last": days[-1][0].isoformat()}


async def _health(console: Console, request: Request, session: ConsoleSession, days: list[tuple[date, datetime, datetime]],
                  labels: list[str], lang: str) -> list[tuple[str, Any, str]]:
    """The five health charts, one query: a day the API gives no figure for (null, or outside its days) is a gap."""
    result = await console.gql(request, session, HEALTH, {"days": len(days)})
    rows = ((result.data or {}).get("healthFigures") or {}).get("days") or []
    by_day = {row["day"]: row for row in rows}
    why = result.problems[0].message if result.problems else ""
    empty = i18n.t(lang, "not_available")
    charts = []
    for key, field, factor in HEALTH_CHARTS:
        points: list[tuple[str, float | None]] = []
        for label, (day, _, _) in zip(labels, days, strict=True):
            value = (by_day.get(day.isoformat()) or {}).get(field)
            points.append((label, None if value is None else round(value * factor, 1)))
        title = i18n.t(lang, key)
        charts.append((title, bar_chart(points if rows else [], title=title, empty=empty), why))
    return charts


def _count(request: Request, default: int) -> int:
    asked = request.query_params.get("days", "")
    return int(asked) if asked.isdigit() and int(asked) in DAYS else default


@signed_in
async def report(console: Console, request: Request, session: ConsoleSession) -> Response:
    view = console.view(request, session, "report")
    shown = await figures(console, request, session, _count(request, 14), view.lang)
    return console.page(request, "report.html", view, choices=DAYS, **shown)


@signed_in
async def report_pdf(console: Console, request: Request, session: ConsoleSession) -> Response:
    """The report as a PDF (a week unless ``?days=14``), drawn by WeasyPrint off the event loop."""
    view = console.view(request, session, "report")
    shown = await figures(console, request, session, _count(request, 7), view.lang)
    html = console.templates.get_template("report_pdf.html").render(v=view, with_style=_with_style, **shown)
    data = await run_in_threadpool(render_pdf, html)
    name = f"ordergraph-report-{shown['last']}-{shown['days']}d.pdf"
    return console.finish(request, Response(data, media_type="application/pdf",
                                            headers={"content-disposition": f'attachment; filename="{name}"'}))


def _with_style(svg: Any) -> Markup:
    """Inline SVG carrying its own style: WeasyPrint draws it without the page's stylesheet."""
    text = str(svg)
    if not text.startswith("<svg"):
        return Markup(text)
    head, rest = text.split(">", 1)
    return Markup(f"{head}><style>{CHART_STYLE}</style>{rest}")
