"""An order's timeline as a PDF a person can read: every event with its source, and a chart of state over time.

    data = await order_pdf(actor, scope)          # bytes, starting b"%PDF"

Rendered from HTML (jinja2) by WeasyPrint, which draws the inline SVG chart
too; WeasyPrint needs pango from the system (present on Debian/Ubuntu
images with ``libpango-1.0-0``). The PDF carries the order number as its
title. Personal data appears only as the lineage holds it (masked unless the
caller's role sees it in clear).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, select_autoescape

from domain.errors import ValidationFailed
from domain.lineage.export import iter_batches, payloads_for
from domain.lineage.records import to_record
from domain.lineage.scope import Scope
from domain.order_numbers import order_number
from domain.actor import Actor

_TEMPLATE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{{ number }}</title>
<style>
 @page { size: A4; margin: 16mm; @bottom-right { content: "{{ number }} · " counter(page) "/" counter(pages); font-size: 8pt; } }
 body { font-family: sans-serif; font-size: 9pt; color: #222; }
 h1 { font-size: 16pt; margin: 0 0 2mm; } .meta { color: #666; margin-bottom: 4mm; }
 table { width: 100%; border-collapse: collapse; } th, td { border-bottom: 0.5pt solid #ccc; padding: 1.2mm; vertical-align: top; text-align: left; }
 th { background: #f2f2f2; } td.change { font-family: monospace; font-size: 7pt; word-break: break-all; }
</style></head><body>
<h1>Order {{ number }} — lineage</h1>
<div class="meta">{{ count }} events · times in {{ zone }} (UTC in brackets) · exported {{ exported_at }} by {{ who }}</div>
<h2>State over time</h2>
{{ chart | safe }}
<h2>Timeline</h2>
<table><thead><tr><th>#</th><th>When</th><th>What</th><th>Who</th><th>Source</th><th>Reason</th><th>Change</th></tr></thead>
<tbody>
{% for e in events %}<tr><td>{{ e.id }}</td><td>{{ e.local }}<br><small>({{ e.utc }})</small></td><td>{{ e.type }}</td>
<td>{{ e.who }}</td><td>{{ e.source }}</td><td>{{ e.reason }}</td><td class="change">{{ e.change }}</td></tr>
{% endfor %}</tbody></table>
</body></html>"""

_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))


def state_chart(points: list[tuple[datetime, str]]) -> str:
    """An SVG step chart: one lane per state, a step at each change (in order of first appearance)."""
    if not points:
        return "<p>No state changes recorded.</p>"
    states: list[str] = []
    for _, state in points:
        if state not in states:
            states.append(state)
    width, lane, left = 480, 16, 110
    height = lane * len(states) + 24
    start, end = points[0][0], points[-1][0]
    span = max((end - start).total_seconds(), 1.0)

    def x(at: datetime) -> float:
        return left + (width - left - 10) * (at - start).total_seconds() / span

    def y(state: str) -> float:
        return 10 + lane * states.index(state) + lane / 2

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">']
    for state in states:
        parts.append(f'<text x="2" y="{y(state) + 3:.1f}" font-size="8">{_ENV.from_string("{{ s }}").render(s=state)}</text>')
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y(state):.1f}" y2="{y(state):.1f}" stroke="#eee"/>')
    path = [f"M {x(points[0][0]):.1f} {y(points[0][1]):.1f}"]
    for (_, before), (at, state) in zip(points, points[1:]):
        path.append(f"L {x(at):.1f} {y(before):.1f} L {x(at):.1f} {y(state):.1f}")
    path.append(f"L {width - 10} {y(points[-1][1]):.1f}")
    parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="#2a6fdb" stroke-width="1.5"/>')
    for at, state in points:
        parts.append(f'<circle cx="{x(at):.1f}" cy="{y(state):.1f}" r="2" fill="#2a6fdb"/>')
    parts.append(f'<text x="{left}" y="{height - 2}" font-size="7">{start:%Y-%m-%d %H:%M}</text>')
    parts.append(f'<text x="{width - 10}" y="{height - 2}" font-size="7" text-anchor="end">{end:%Y-%m-%d %H:%M}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _change(record: dict[str, Any]) -> str:
    text = json.dumps({"before": record["before"], "after": record["after"]}, ensure_ascii=False, default=str)
    return text if len(text) <= 600 else text[:600] + "…"


async def order_html(actor: Actor, scope: Scope) -> str:
    if scope.order_id is None:
        raise ValidationFailed("a PDF is of one order: give --order", field="order")
    rows: list[dict[str, Any]] = []
    points: list[tuple[datetime, str]] = []
    async for batch in iter_batches(scope):
        payloads = await payloads_for(scope.tenant_id, batch, actor.sees_personal_data)
        for row in batch:
            record = to_record(row, scope.zone, payloads, False)
            after = record["after"] if isinstance(record["after"], dict) else {}
            state = after.get("status")
            if isinstance(state, str) and (not points or points[-1][1] != state):
                points.append((datetime.fromisoformat(record["recorded_local"]), state))
            rows.append({"id": record["id"], "local": record["recorded_local"][:19].replace("T", " "),
                         "utc": record["recorded_utc"][:19].replace("T", " "), "type": record["type"],
                         "who": record["who"], "source": record["source"], "reason": record["reason"],
                         "change": _change(record)})
    return _ENV.from_string(_TEMPLATE).render(
        number=order_number(scope.order_id), count=len(rows), zone=scope.zone.key, events=rows,
        chart=state_chart(points), who=actor.name, exported_at=datetime.now(UTC).isoformat(timespec="seconds"))


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported here: pango loads only when a PDF is made

    return HTML(string=html).write_pdf()


async def order_pdf(actor: Actor, scope: Scope) -> bytes:
    return render_pdf(await order_html(actor, scope))
