"""The chaos report: a terminal summary and one self-contained HTML page, rendered from a :class:`RunResult`.

    print(summary(result, color=sys.stdout.isatty()))
    page, data = save(result, Path("var/chaos/report.html"))   # report.html and report.json
    again = load(data)                                          # renders the same page later

The page makes no request at all (no CDN, no font, no script): charts are inline
SVG drawn by :mod:`chaos.charts`, styles are inline, every string from the run is
escaped. It reads on a phone and prints. The verdict comes first, with the reasons a
run misses the bar (:attr:`RunResult.passed`), so a reader knows in one line what to
look for below.
"""

from __future__ import annotations

import json
import re
import unicodedata
from html import escape
from pathlib import Path

from chaos.charts import Line, Span, bar_rows, line_chart, timeline
from chaos.result import DETECT_WITHIN_S, DIMENSIONS, Fault, RunResult

#: How many disagreeing orders (and lost or duplicate details) the terminal shows; the page shows all.
TERMINAL_ROWS = 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_RED, _GREEN, _BOLD, _RESET = "\x1b[31m", "\x1b[32m", "\x1b[1m", "\x1b[0m"
#: figure name -> (what a reader calls it, the issue's target)
_FIGURES = {
    "agreement_pct": ("agreement with the truth", "target 100 %"),
    "faults_detected_pct": ("faults detected in time", f"target 100 % within {DETECT_WITHIN_S:.0f} s"),
    "detect_p95_s": ("detection p95", f"target < {DETECT_WITHIN_S:.0f} s"),
    "lost_events": ("events lost", "target 0"),
    "duplicates_applied": ("duplicates applied", "target 0"),
    "orders_per_s": ("throughput", "orders per wall second"),
}


# --- shared wording ---------------------------------------------------------------------------------------


def shortfalls(result: RunResult) -> list[str]:
    """Why the run misses the issue's bar, one reason per failed target; empty when it passed."""
    reasons = []
    wrong = sum(total - agree for agree, total in result.dimensions.values())
    if wrong:
        reasons.append(f"agreement {_num(result.agreement_pct)} % (target 100 %): "
                       f"{_count(wrong, 'order dimension')} wrong")
    missed = [fault for fault in result.faults if not fault.detected_in_time]
    if missed:
        never = sum(fault.detected_at is None for fault in missed)
        reasons.append(f"{len(missed)} of {len(result.faults)} faults not detected within {DETECT_WITHIN_S:.0f} s"
                       f" ({never} never, {len(missed) - never} late)")
    if result.lost_events:
        reasons.append(f"{_count(result.lost_events, 'event')} lost (target 0)")
    if result.duplicates_applied:
        reasons.append(f"{_count(result.duplicates_applied, 'duplicate')} applied (target 0)")
    return reasons


def verdict(result: RunResult) -> str:
    """One line: PASSED with what that means, or FAILED with every reason."""
    if result.passed:
        return (f"PASSED: 100 % agreement, every fault detected within {DETECT_WITHIN_S:.0f} s, "
                "0 events lost, 0 duplicates applied")
    return "FAILED: " + "; ".join(shortfalls(result))


def _count(n: int, thing: str) -> str:
    return f"{n:,} {thing}{'' if n == 1 else 's'}"


def _num(value: float | int | None) -> str:
    """A figure with thousands separators and no trailing zeros; "–" for unknown."""
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 120:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _detected(fault: Fault) -> str:
    if fault.detect_s is None:
        return "not detected"
    return f"{fault.detect_s:.1f} s" + ("" if fault.detected_in_time else " (late)")


def _resolved(fault: Fault) -> str:
    return "not resolved" if fault.resolve_s is None else f"{fault.resolve_s:.1f} s"


def _dimension_rows(result: RunResult) -> list[tuple[str, int, int]]:
    """(dimension, agree, total) in the report's order, known dimensions first."""
    names = [name for name in DIMENSIONS if name in result.dimensions]
    names += sorted(name for name in result.dimensions if name not in DIMENSIONS)
    return [(name, *result.dimensions[name]) for name in names]


def _pct(agree: int, total: int) -> float:
    return 100.0 if total == 0 else 100.0 * agree / total


def _run_line(result: RunResult) -> str:
    return (f"profile {result.profile} · seed {result.seed} · {result.orders:,} orders · "
            f"{_num(result.hours)} h at ×{_num(result.speed)} · {result.backend}")


def _converged(result: RunResult) -> str:
    if result.converged_after_s is None:
        return "never converged within the wait"
    return f"converged {_duration(result.converged_after_s)} after the day ended"


# --- terminal ---------------------------------------------------------------------------------------------


def _plain(text: object) -> str:
    """Text safe for a terminal line: control characters (escape codes, newlines) become spaces."""
    return _CONTROL.sub(" ", str(text))


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    """Aligned columns (wide CJK characters count twice), two spaces apart; the last column is not padded."""
    cells = [[_plain(cell) for cell in row] for row in [headers, *rows]]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        padded = [cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row[:-1])]
        lines.append(("  " + "  ".join([*padded, row[-1]])).rstrip())
    return lines


def _paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color else text


def _more(shown: int, total: int) -> list[str]:
    return [f"  … and {total - shown:,} more in the HTML report"] if total > shown else []


def summary(result: RunResult, *, color: bool = False) -> str:
    """The terminal summary: verdict first, then figures, agreement, faults, seeds, messages and misses."""
    head = _paint(_plain(verdict(result)), (_GREEN if result.passed else _RED) + _BOLD, color)
    lines = [head, _plain(_run_line(result)),
             f"wall time {_duration(result.wall_seconds)} · {_converged(result)}", ""]
    sections = [_summary_figures, _summary_dimensions, _summary_faults, _summary_seeds, _summary_messages,
                _summary_lost, _summary_not_injected, _summary_disagreements]
    for section in sections:
        lines += section(result, color) + [""]
    return "\n".join(lines).rstrip() + "\n"


def _summary_figures(result: RunResult, color: bool) -> list[str]:
    rows = [[figure["name"], _num(figure["value"]), figure["unit"], _FIGURES[figure["name"]][1]]
            for figure in result.figures()]
    return ["Figures", *_table(["figure", "value", "unit", "target"], rows)]


def _summary_dimensions(result: RunResult, color: bool) -> list[str]:
    rows = [[name, f"{agree:,} / {total:,}", f"{_num(round(_pct(agree, total), 3))} %"]
            for name, agree, total in _dimension_rows(result)]
    if not rows:
        return ["Agreement per dimension: no order was judged"]
    return ["Agreement per dimension", *_table(["dimension", "agree / total", "agreement"], rows)]


def _summary_faults(result: RunResult, color: bool) -> list[str]:
    if not result.faults:
        return ["Faults: none injected"]
    rows = [[f.kind, f.subject, f.business_time, _detected(f), _resolved(f), f.evidence or "–"] for f in result.faults]
    lines = _table(["kind", "subject", "business time", "detected after", "resolved after", "evidence"], rows)
    painted = [lines[0]]
    for fault, line in zip(result.faults, lines[1:]):
        painted.append(line if fault.detected_in_time else _paint(line, _RED, color))
    return [f"Faults ({len(result.faults)})", *painted]


def _summary_seeds(result: RunResult, color: bool) -> list[str]:
    if not result.seeds:
        return ["Seeds' metrics: none computed"]
    rows = [[name, _num(value)] for name, value in result.seeds.items()]
    return ["Seeds' metrics", *_table(["metric", "value"], rows)]


def _summary_messages(result: RunResult, color: bool) -> list[str]:
    if not result.messages:
        return ["Messages: none counted"]
    rows = [[name, _num(value)] for name, value in result.messages.items()]
    return ["Messages", *_table(["pushes", "count"], rows)]


def _summary_lost(result: RunResult, color: bool) -> list[str]:
    lines = []
    for title, count, detail in (("Lost events", result.lost_events, result.lost_detail),
                                 ("Duplicates applied", result.duplicates_applied, result.duplicate_detail)):
        lines.append(_paint(f"{title}: {count:,}", _RED, color) if count else f"{title}: 0")
        shown = detail[:TERMINAL_ROWS]
        lines += [f"  - {_plain(item)}" for item in shown] + _more(len(shown), len(detail))
    return lines


def _summary_not_injected(result: RunResult, color: bool) -> list[str]:
    if not result.not_injected:
        return ["Faults not injected: none (the whole profile ran)"]
    return [f"Faults not injected ({len(result.not_injected)})", *(f"  - {_plain(why)}" for why in result.not_injected)]


def _summary_disagreements(result: RunResult, color: bool) -> list[str]:
    wrong = result.disagreements
    if not wrong:
        return ["Disagreeing orders: none"]
    shown = wrong[:TERMINAL_ROWS]
    rows = [[d.channel, d.external_id, d.dimension, d.expected, d.actual, d.why] for d in shown]
    return [_paint(f"Disagreeing orders ({len(wrong):,})", _RED, color),
            *_table(["channel", "external id", "dimension", "expected", "actual", "why"], rows),
            *_more(len(shown), len(wrong))]


# --- HTML -------------------------------------------------------------------------------------------------

_CSS = """
:root{--ok:#1a7f37;--bad:#c62828;--late:#b35c00;--ink:#1f2328;--mute:#59636e;--line:#d0d7de;--bg:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","PingFang SC",sans-serif;color:var(--ink)}
main{max-width:1000px;margin:0 auto;padding:16px}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.15em;margin:1.6em 0 .5em;border-bottom:1px solid var(--line)}
.verdict{padding:12px 16px;border-radius:8px;border:2px solid}.passed{border-color:var(--ok)}.failed{border-color:var(--bad)}
.verdict h1 span{color:var(--ok)}.failed h1 span{color:var(--bad)}.verdict ul{margin:.3em 0 0;padding-left:1.2em}
dl.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:4px 16px;margin:12px 0}
dl.facts div{min-width:0}dt{color:var(--mute);font-size:.85em}dd{margin:0;overflow-wrap:anywhere}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px}
.tile{background:var(--bg);border-radius:8px;padding:10px 12px;border-left:5px solid var(--line)}
.tile.ok{border-left-color:var(--ok)}.tile.bad{border-left-color:var(--bad)}
.tile b{display:block;font-size:1.6em}.tile small{color:var(--mute)}.tile .mark{display:block;font-weight:bold;font-size:.85em}
.tile.ok .mark{color:var(--ok)}.tile.bad .mark{color:var(--bad)}
svg.chart{width:100%;max-width:760px;height:auto;display:block;margin:6px 0}
svg .axis{stroke:var(--ink)}svg .grid{stroke:var(--line);stroke-width:.6}
svg text{font:12px system-ui,sans-serif;fill:var(--ink)}svg .tick{fill:var(--mute);font-size:11px}
svg .s0,svg .s1{stroke-width:2}svg .s0{stroke:#0969da}svg .s1{stroke:#bf8700}svg .d0{fill:#0969da}svg .d1{fill:#bf8700}
svg .track{fill:var(--bg)}svg rect.ok{fill:var(--ok)}svg rect.bad{fill:var(--bad)}
svg .ok-text{fill:var(--ok)}svg .late-text{fill:var(--late)}svg .bad-text{fill:var(--bad)}svg .missing-text{fill:var(--bad);font-weight:bold}
svg .active{fill:#d0d7de}svg .inject{stroke:var(--ink);stroke-width:2}svg .target{stroke:var(--bad);stroke-dasharray:4 3}
svg .missing{stroke:var(--bad);stroke-width:2;stroke-dasharray:6 4}svg .fix{stroke:var(--ok);stroke-width:3}
svg .fix-end{fill:var(--ok)}svg .ok-dot{fill:var(--ok)}svg .late-dot{fill:#fff;stroke:var(--late);stroke-width:2.5}
table{border-collapse:collapse;width:100%;font-size:.9em}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--bg)}td.n{text-align:right;font-variant-numeric:tabular-nums}
td.bad,.bad-text{color:var(--bad);font-weight:600}td.late{color:var(--late)}
.empty{color:var(--mute);font-style:italic}.count{color:var(--mute);font-weight:normal}
footer{color:var(--mute);font-size:.85em;margin:2em 0 1em}
@media (max-width:600px){svg text{font-size:18px}svg .tick{font-size:16px}
 table.records thead{display:none}table.records,table.records tbody,table.records tr,table.records td{display:block}
 table.records tr{border-bottom:1px solid var(--line);padding:6px 0}
 table.records td{display:inline-block;border:0;padding:1px 0;margin-right:.9em}
 table.records td::before{content:attr(data-label) ": ";color:var(--mute);font-weight:normal}}
@media print{main{max-width:none;padding:0}body{font-size:11px;print-color-adjust:exact;-webkit-print-color-adjust:exact}
 svg.chart{max-width:560px}
 section.chart-box,.tiles,.verdict{break-inside:avoid}tr{break-inside:avoid}}
"""


def html(result: RunResult) -> str:
    """The whole report as one self-contained HTML page."""
    sections = [_html_verdict(result), _html_tiles(result), _html_dimensions(result), _html_throughput(result),
                _html_latency(result), _html_faults(result), _html_seeds(result), _html_lost(result),
                _html_disagreements(result), _html_not_injected(result)]
    state = "PASSED" if result.passed else "FAILED"
    title = escape(f"OrderGraph chaos report: {state}, {result.profile}, seed {result.seed}")
    return ('<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title}</title><style>{_CSS}</style></head>\n<body><main>\n"
            + "\n".join(sections)
            + "\n<footer>Rendered by <code>ordergraph simulate</code> from the run's JSON "
              "(<code>chaos.report.load</code> renders it again).</footer>\n</main></body></html>\n")


def _section(title: str, body: str, *, count: int | None = None, css: str = "") -> str:
    counted = "" if count is None else f' <span class="count">({count:,})</span>'
    klass = f' class="{css}"' if css else ""
    return f"<section{klass}><h2>{escape(title)}{counted}</h2>\n{body}\n</section>"


def _html_verdict(result: RunResult) -> str:
    state = "passed" if result.passed else "failed"
    if result.passed:
        detail = f"<p>{escape(verdict(result).removeprefix('PASSED: '))}</p>"
    else:
        detail = "<ul>" + "".join(f"<li>{escape(reason)}</li>" for reason in shortfalls(result)) + "</ul>"
    facts = [("profile", result.profile), ("seed", str(result.seed)), ("backend", result.backend),
             ("orders", f"{result.orders:,}"), ("business hours", f"{_num(result.hours)} h"),
             ("speed", f"×{_num(result.speed)}"), ("wall time", _duration(result.wall_seconds)),
             ("convergence", _converged(result))]
    listed = "".join(f"<div><dt>{escape(name)}</dt><dd>{escape(value)}</dd></div>" for name, value in facts)
    return (f'<header class="verdict {state}"><h1>A simulated day: <span>{state.upper()}</span></h1>'
            f'{detail}</header>\n<dl class="facts">{listed}</dl>')


def _tile_state(result: RunResult, name: str, value: float | None) -> str:
    """The tile's class against the figure's target: ok, bad, or empty for a figure without one."""
    if name in ("agreement_pct", "faults_detected_pct"):
        return "ok" if value == 100.0 else "bad"
    if name == "detect_p95_s":
        if not result.faults:
            return ""
        return "ok" if value is not None and value <= DETECT_WITHIN_S else "bad"
    if name in ("lost_events", "duplicates_applied"):
        return "ok" if value == 0 else "bad"
    return ""


def _html_tiles(result: RunResult) -> str:
    tiles = []
    for figure in result.figures():
        label, target = _FIGURES[figure["name"]]
        state = _tile_state(result, figure["name"], figure["value"])
        mark = {"ok": "✓ met", "bad": "✗ missed"}.get(state, "")
        tiles.append(f'<div class="tile {state}" data-figure="{escape(figure["name"])}">'
                     f'<span class="mark">{mark}</span>{escape(label)}'
                     f"<b>{escape(_num(figure['value']))} {escape(figure['unit'])}</b>"
                     f"<small>{escape(target)}</small></div>")
    return _section("Figures", '<div class="tiles">' + "".join(tiles) + "</div>")


def _html_dimensions(result: RunResult) -> str:
    rows = _dimension_rows(result)
    if not rows:
        return _section("Agreement per dimension", '<p class="empty">No order was judged.</p>')
    bars = [(name, _pct(agree, total), f"{_num(round(_pct(agree, total), 3))} % ({agree:,} / {total:,})")
            for name, agree, total in rows]
    return _section("Agreement per dimension", bar_rows(bars, title="Agreement with the truth per dimension"),
                    css="chart-box")


def _html_throughput(result: RunResult) -> str:
    if not result.samples:
        return _section("Throughput over the day", '<p class="empty">No samples: the run recorded no windows.</p>')
    samples = result.samples
    chart = line_chart([Line("placed on the channels", [float(s.placed) for s in samples]),
                        Line("known to OrderGraph", [float(s.known) for s in samples], dashed=True)],
                       xs=[s.at for s in samples], labels=[s.business_time for s in samples],
                       title="Orders placed and known per window", unit="orders")
    return _section("Throughput over the day", chart, css="chart-box")


def _html_latency(result: RunResult) -> str:
    samples = result.samples
    if not any(s.latency_p50_ms is not None or s.latency_p95_ms is not None for s in samples):
        return _section("Latency over the day", '<p class="empty">No latency was measured in any window.</p>')
    chart = line_chart([Line("p50", [s.latency_p50_ms for s in samples]),
                        Line("p95", [s.latency_p95_ms for s in samples], dashed=True)],
                       xs=[s.at for s in samples], labels=[s.business_time for s in samples],
                       title="Placed on the channel to visible in OrderGraph, per window", unit="ms")
    note = "<p>Placed on the channel → visible in OrderGraph, for the orders OrderGraph first had in each window.</p>"
    return _section("Latency over the day", note + chart, css="chart-box")


def _fault_span(fault: Fault) -> Span:
    active = None if fault.ended_at is None else max(0.0, fault.ended_at - fault.injected_at)
    return Span(label=f"{fault.kind} · {fault.subject} · {fault.business_time}", active_s=active,
                detect_s=fault.detect_s, resolve_s=fault.resolve_s, in_time=fault.detected_in_time)


def _records(css: str, headers: list[str], rows: list[list[tuple[str, str]]]) -> str:
    """A table of records; each cell (text, css class) carries its column's name, so a phone shows it as a card."""
    head = "".join(f"<th>{escape(name)}</th>" for name in headers)
    body = "".join("<tr>" + "".join(_cell(name, *cell) for name, cell in zip(headers, row)) + "</tr>"
                   for row in rows)
    return f'<table class="records {css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _cell(column: str, text: str, css: str) -> str:
    klass = f' class="{css}"' if css else ""
    return f'<td data-label="{escape(column)}"{klass}>{escape(text)}</td>'


def _fault_cells(fault: Fault) -> list[tuple[str, str]]:
    detected_css = "" if fault.detected_in_time else ("bad" if fault.detect_s is None else "late")
    return [(fault.kind, ""), (fault.subject, ""), (fault.business_time, ""), (f"{fault.injected_at:.1f} s", ""),
            (_detected(fault), detected_css), (_resolved(fault), ""), (fault.evidence or "–", "")]


def _html_faults(result: RunResult) -> str:
    if not result.faults:
        return _section("Faults", '<p class="empty">No fault was injected.</p>', count=0)
    chart = timeline([_fault_span(fault) for fault in result.faults], target_s=DETECT_WITHIN_S,
                     title="Each fault from injection to detection and resolution")
    legend = ("<p>Seconds since each fault was injected: grey while it was injected, a dot when OrderGraph "
              "raised its alert (hollow if late), green until resolved; the dashed line is the "
              f"{DETECT_WITHIN_S:.0f} s target.</p>")
    table = _records("faults", ["kind", "subject", "business time", "injected at", "detected after",
                                "resolved after", "evidence"], [_fault_cells(fault) for fault in result.faults])
    return _section("Faults", legend + chart + table, count=len(result.faults), css="chart-box")


def _pairs(title: str, values: dict[str, float | None] | dict[str, int], what: str) -> str:
    if not values:
        return f'<h3>{escape(title)}</h3><p class="empty">None {escape(what)}.</p>'
    rows = "".join(f'<tr><td>{escape(name)}</td><td class="n">{escape(_num(value))}</td></tr>'
                   for name, value in values.items())
    return f"<h3>{escape(title)}</h3><table>{rows}</table>"


def _html_seeds(result: RunResult) -> str:
    return _section("The seeds' metrics and the messages",
                    _pairs("Metrics computed from the run", result.seeds, "computed")
                    + _pairs("Channel pushes", result.messages, "counted"))


def _details(title: str, count: int, detail: list[str]) -> str:
    items = "".join(f"<li>{escape(item)}</li>" for item in detail)
    listed = f"<ul>{items}</ul>" if items else ""
    css = ' class="bad-text"' if count else ""
    return f"<h3{css}>{escape(title)}: {count:,}</h3>{listed}"


def _html_lost(result: RunResult) -> str:
    return _section("Lost events and duplicates",
                    _details("Events lost", result.lost_events, result.lost_detail)
                    + _details("Duplicates applied", result.duplicates_applied, result.duplicate_detail))


def _html_disagreements(result: RunResult) -> str:
    wrong = result.disagreements
    if not wrong:
        return _section("Disagreeing orders", "<p>Every judged order agrees with the truth.</p>", count=0)
    rows = [[(d.channel, ""), (d.external_id, ""), (d.dimension, ""), (d.expected, ""), (d.actual, "bad"),
             (d.why, "")] for d in wrong]
    table = _records("wrong", ["channel", "external id", "dimension", "expected", "actual", "why"], rows)
    return _section("Disagreeing orders", table, count=len(wrong))


def _html_not_injected(result: RunResult) -> str:
    if not result.not_injected:
        return _section("Faults not injected", "<p>None: every fault of the profile was injected.</p>", count=0)
    items = "".join(f"<li>{escape(why)}</li>" for why in result.not_injected)
    return _section("Faults not injected", f"<ul>{items}</ul>", count=len(result.not_injected))


# --- files ------------------------------------------------------------------------------------------------


def save(result: RunResult, path_html: Path) -> tuple[Path, Path]:
    """Write the page and the run's JSON beside it (same name, ``.json``); return both paths."""
    path_json = path_html.with_suffix(".json")
    path_html.parent.mkdir(parents=True, exist_ok=True)
    path_html.write_text(html(result), encoding="utf-8")
    path_json.write_text(json.dumps(result.as_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path_html, path_json


def load(path_json: Path) -> RunResult:
    """The run a saved JSON describes, to render again."""
    return RunResult.from_json(json.loads(path_json.read_text(encoding="utf-8")))
