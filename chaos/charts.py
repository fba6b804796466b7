"""Charts of a simulated day as inline SVG, drawn in Python: no script, no chart library, no request.

    svg = line_chart([Line("placed", [40, 52, None, 61]), Line("known", [38, 50, 12, 70], dashed=True)],
                     xs=[0.0, 10.0, 20.0, 30.0], labels=["08:00", "08:16", "08:33", "08:50"],
                     title="Orders per window", unit="orders")

The page (:mod:`chaos.report`) styles the classes used here (``axis``, ``s0``, ``s1``,
``ok``, ``bad``, ``late``, ``missing`` …); the shapes alone stay readable without colour (dashed
lines, markers and words say what colour would). ``None`` is a value the run has no
figure for: a gap in a line, never a zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

WIDTH = 640
LEFT, RIGHT, TOP, BOTTOM = 58, 14, 34, 30
#: The fault timeline writes each row's words up to this many faults; beyond, rows are bare lines with tooltips.
WORDED_ROWS = 40


@dataclass
class Line:
    """One series of a line chart: its name in the legend and one value (or None) per x."""

    name: str
    values: list[float | None]
    dashed: bool = False


@dataclass
class Span:
    """One row of the fault timeline, in seconds since the fault was injected (None: never happened)."""

    label: str
    active_s: float | None  # how long the fault was injected (None: a single blow, like kill -9)
    detect_s: float | None
    resolve_s: float | None
    in_time: bool


def number(value: float) -> str:
    """A figure as a person reads it: whole numbers plain, small ones with one decimal."""
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:.1f}"


def nice_ticks(top: float, most: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``top`` (steps of 1, 2 or 5 times a power of ten)."""
    top = max(top, 1e-9)
    raw = top / most
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [step * i for i in range(math.ceil(top / step - 1e-9) + 1)]


def _svg_open(height: float, title: str) -> str:
    return (f'<svg class="chart" viewBox="0 0 {WIDTH} {height:.0f}" role="img" aria-label="{escape(title)}">'
            f"<title>{escape(title)}</title>")


def _legend(lines: list[Line]) -> list[str]:
    parts, x = [], LEFT
    for i, line in enumerate(lines):
        dash = ' stroke-dasharray="6 4"' if line.dashed else ""
        parts.append(f'<line class="s{i}" x1="{x}" y1="14" x2="{x + 24}" y2="14"{dash}/>'
                     f'<text class="lbl" x="{x + 30}" y="18">{escape(line.name)}</text>')
        x += 44 + 10 * len(line.name)
    return parts


def _y_axis(ticks: list[float], y_of: Callable[[float], float], unit: str) -> list[str]:
    parts = []
    for tick in ticks:
        y = y_of(tick)
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}"/>'
                     f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{number(tick)}</text>')
    parts.append(f'<text class="tick" x="{LEFT - 6}" y="18" text-anchor="end">{escape(unit)}</text>')
    return parts


def _x_labels(xs: list[float], labels: list[str], x_of: Callable[[float], float],
              baseline: float) -> list[str]:
    every = max(1, math.ceil(len(xs) / 7))
    return [f'<text class="tick" x="{x_of(x):.1f}" y="{baseline + 18:.1f}" text-anchor="middle">{escape(label)}</text>'
            for i, (x, label) in enumerate(zip(xs, labels)) if i % every == 0]


def _segments(points: list[tuple[float, float | None]]) -> list[list[tuple[float, float]]]:
    """Runs of consecutive known points: a None breaks the line."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in points:
        if y is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((x, y))
    return [run for run in runs if run]


def line_chart(lines: list[Line], *, xs: list[float], labels: list[str], title: str, unit: str,
               height: int = 240) -> str:
    """Lines over the x values (wall seconds), x labelled with ``labels`` (business time)."""
    known = [v for line in lines for v in line.values if v is not None]
    ticks = nice_ticks(max(known, default=0.0) or 1.0, 4)
    low, high = min(xs, default=0.0), max(xs, default=1.0)
    spread = (high - low) or 1.0
    baseline = height - BOTTOM

    def x_of(x: float) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * ((x - low) / spread if len(xs) > 1 else 0.5)

    def y_of(y: float) -> float:
        return baseline - (baseline - TOP) * y / ticks[-1]

    parts = [_svg_open(height, title), *_legend(lines), *_y_axis(ticks, y_of, unit),
             f'<line class="axis" x1="{LEFT}" y1="{baseline}" x2="{WIDTH - RIGHT}" y2="{baseline}"/>',
             *_x_labels(xs, labels, x_of, baseline)]
    for i, line in enumerate(lines):
        dash = ' stroke-dasharray="6 4"' if line.dashed else ""
        for run in _segments(list(zip(xs, line.values))):
            coords = " ".join(f"{x_of(x):.1f},{y_of(y):.1f}" for x, y in run)
            parts.append(f'<polyline class="s{i}" fill="none" points="{coords}"{dash}/>')
            if len(run) == 1 or len(xs) <= 40:
                parts.extend(f'<circle class="d{i}" cx="{x_of(x):.1f}" cy="{y_of(y):.1f}" r="2.5"/>' for x, y in run)
    parts.append("</svg>")
    return "".join(parts)


def bar_rows(rows: list[tuple[str, float, str]], *, title: str, full: float = 100.0) -> str:
    """Horizontal bars, one row each: (label, value out of ``full``, the text beside the bar)."""
    row_h, label_w = 30, 110
    height = 8 + row_h * len(rows)
    span = WIDTH - label_w - 190
    parts = [_svg_open(height, title)]
    for i, (label, value, text) in enumerate(rows):
        y = 8 + i * row_h
        width = span * max(0.0, min(value, full)) / full
        state = "ok" if value >= full else "bad"
        parts.append(f'<text class="lbl" x="{label_w - 8}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
                     f'<rect class="track" x="{label_w}" y="{y + 3}" width="{span}" height="16" rx="3"/>'
                     f'<rect class="{state}" x="{label_w}" y="{y + 3}" width="{width:.1f}" height="16" rx="3"/>'
                     f'<text class="lbl {state}-text" x="{label_w + span + 8}" y="{y + 15}">{escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def timeline(spans: list[Span], *, target_s: float, title: str) -> str:
    """One row per fault on a shared axis of seconds since injection, the detection target marked.

    A grey band is the time the fault was injected, a dot its detection (hollow and
    marked "late" after the target), a bar from detection to resolution; a red dashed
    line across the row with "not detected" when OrderGraph never noticed. Above
    :data:`WORDED_ROWS` faults the rows lose their words (each keeps a tooltip) and
    shrink, so hundreds of dropped pushes still fit on a page.
    """
    furthest = [s for span in spans for s in (span.active_s, span.detect_s, span.resolve_s) if s is not None]
    ticks = nice_ticks(max([target_s * 1.5, *furthest]), 6)
    worded = len(spans) <= WORDED_ROWS
    row_h = 68 if worded else 14
    height = TOP + row_h * len(spans) + BOTTOM
    baseline = height - BOTTOM
    left = 16

    def x_of(seconds: float) -> float:
        return left + (WIDTH - left - RIGHT) * seconds / ticks[-1]

    parts = [_svg_open(height, title)]
    for tick in ticks:
        anchor = "end" if tick == ticks[-1] else "middle" if tick else "start"
        parts.append(f'<line class="grid" x1="{x_of(tick):.1f}" y1="{TOP}" x2="{x_of(tick):.1f}" y2="{baseline}"/>'
                     f'<text class="tick" x="{x_of(tick):.1f}" y="{baseline + 18}" text-anchor="{anchor}">'
                     f"{number(tick)} s</text>")
    target = x_of(target_s)
    parts.append(f'<line class="target" x1="{target:.1f}" y1="{TOP - 14}" x2="{target:.1f}" y2="{baseline}"/>'
                 f'<text class="lbl" x="{target + 4:.1f}" y="{TOP - 16}">{number(target_s)} s target</text>')
    parts.extend(_timeline_row(span, TOP + i * row_h, x_of, worded=worded) for i, span in enumerate(spans))
    parts.append("</svg>")
    return "".join(parts)


def _span_words(span: Span) -> str:
    if span.detect_s is None:
        return "not detected"
    words = f"detected {span.detect_s:.1f} s" + ("" if span.in_time else " (late)")
    return words if span.resolve_s is None else f"{words} · resolved {span.resolve_s:.1f} s"


def _timeline_row(span: Span, top: float, x_of: Callable[[float], float], *, worded: bool) -> str:
    start, words = x_of(0), _span_words(span)
    mid, reach = (top + 32, 9) if worded else (top + 7, 5)
    parts = [f"<g><title>{escape(span.label)}: {words}</title>"]
    if worded:
        parts.append(f'<text class="lbl" x="{start:.1f}" y="{top + 16}">{escape(span.label)}</text>')
    if span.active_s:
        parts.append(f'<rect class="active" x="{start:.1f}" y="{mid - reach + 2}" '
                     f'width="{x_of(span.active_s) - start:.1f}" height="{2 * reach - 4}"/>')
    parts.append(f'<line class="inject" x1="{start:.1f}" y1="{mid - reach}" x2="{start:.1f}" y2="{mid + reach}"/>')
    if span.detect_s is None:
        parts.append(f'<line class="missing" x1="{start:.1f}" y1="{mid}" x2="{WIDTH - RIGHT}" y2="{mid}"/>')
        state = "missing"
    else:
        detected = x_of(span.detect_s)
        if span.resolve_s is not None and span.resolve_s > span.detect_s:
            resolved = x_of(span.resolve_s)
            parts.append(f'<line class="fix" x1="{detected:.1f}" y1="{mid}" x2="{resolved:.1f}" y2="{mid}"/>'
                         f'<rect class="fix-end" x="{resolved - 4:.1f}" y="{mid - 4}" width="8" height="8"/>')
        state = "ok" if span.in_time else "late"
        parts.append(f'<circle class="{state}-dot" cx="{detected:.1f}" cy="{mid}" r="{reach / 2 + 0.5}"/>')
    if worded:
        parts.append(f'<text class="lbl {state}-text" x="{start:.1f}" y="{top + 56}">{words}</text>')
    parts.append("</g>")
    return "".join(parts)
