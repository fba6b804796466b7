"""Bar charts as inline SVG, drawn on the server: no script, no chart library, readable without colour.

    svg = bar_chart([("11-24", 12), ("11-25", None), ("11-26", 30)], title="Orders per day", empty="no data")

``None`` is a day the API has no figure for: drawn as a gap marked "–",
never as zero.
"""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, HEIGHT, TOP, BOTTOM, LEFT = 640, 220, 18, 34, 8


def _number(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or float(value).is_integer() else f"{value:.1f}"


def bar_chart(points: list[tuple[str, float | None]], *, title: str, empty: str) -> Markup:
    known = [v for _, v in points if v is not None]
    if not points or not known:
        return Markup('<p class="empty">{}</p>').format(empty)
    top = max(max(known), 1)
    slot = (WIDTH - 2 * LEFT) / len(points)
    bar = max(slot * 0.62, 2)
    plot = HEIGHT - TOP - BOTTOM
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
             f'<line class="axis" x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - LEFT}" y2="{HEIGHT - BOTTOM}"/>']
    every = max(1, round(len(points) / 7))
    for i, (label, value) in enumerate(points):
        x = LEFT + i * slot + (slot - bar) / 2
        centre = x + bar / 2
        if value is None:
            parts.append(f'<text class="gap" x="{centre:.1f}" y="{HEIGHT - BOTTOM - 4}">–</text>')
        else:
            height = plot * value / top
            y = HEIGHT - BOTTOM - height
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}" rx="2">'
                         f'<title>{escape(label)}: {_number(value)}</title></rect>')
            if value:
                parts.append(f'<text class="val" x="{centre:.1f}" y="{y - 4:.1f}">{_number(value)}</text>')
        if i % every == 0 or i == len(points) - 1:
            parts.append(f'<text class="lbl" x="{centre:.1f}" y="{HEIGHT - BOTTOM + 18}">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
