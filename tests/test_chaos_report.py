"""The chaos report as its readers meet it: the verdict and why, every fault, every disagreeing order.

Runs are built by hand (no simulator): one that meets the issue's bar and one that
misses it on every count, with the unknowns a real run can have (a fault never
detected, a window without latency, a metric the run could not compute).
"""

from __future__ import annotations

import re
from pathlib import Path

from chaos.report import html, load, save, summary
from chaos.result import Disagreement, Fault, RunResult, Sample

HOSTILE = '<script>alert("owned")</script>'


def _samples(count: int = 12) -> list[Sample]:
    samples = []
    for i in range(count):
        minutes = 8 * 60 + i * 80
        samples.append(Sample(at=i * 72.0, business_time=f"{minutes // 60:02d}:{minutes % 60:02d}",
                              placed=30 + 7 * i, known=28 + 7 * i,
                              latency_p50_ms=None if i == 5 else 180.0 + 10 * i,
                              latency_p95_ms=None if i == 5 else 900.0 + 40 * i))
    return samples


def passing_run() -> RunResult:
    return RunResult(
        profile="chaos", seed=7, orders=500, hours=24.0, speed=1000.0, backend="PostgreSQL + Redis, 2 processes",
        wall_seconds=86.4, converged_after_s=4.2,
        dimensions={name: [500, 500] for name in ("exists", "status", "warehouse", "waybill", "tracking")},
        faults=[Fault("wms_outage", "wms SH", 20.0, "13:20", ended_at=32.0, detected_at=31.0, resolved_at=45.5,
                      evidence="wms_unreachable: WMS SH did not answer for 10 s")],
        messages={"sent": 2100, "duplicated": 105, "reordered": 98, "delayed": 210, "dropped": 41},
        seeds={"status_credibility_pct": 100.0, "exception_close_p95_min": 3.5, "update_failure_pct": 0.0},
        samples=_samples(),
    )


def _wrong(i: int) -> Disagreement:
    return Disagreement(channel="tmall", external_id=f"42110{i:02d}", dimension="status", expected="SHIPPED",
                        actual="PAID", why=f"push {i} dropped at 14:{i:02d} and the poller was off")


def failing_run() -> RunResult:
    run = passing_run()
    run.dimensions["status"] = [475, 500]
    run.dimensions["exists"] = [499, 500]
    run.disagreements = [_wrong(i) for i in range(25)] + [Disagreement(
        "douyin", "DY-77", "exists", "exists", "missing", "dropped push 淘宝 订单 never polled")]
    run.faults += [
        Fault("erp_drift", "erp SH stock", 40.0, "15:30", detected_at=112.5, evidence="stock_drift: 40 units"),
        Fault("dropped_push", "tmall 4211003", 50.0, "16:10"),
        Fault("process_kill", "worker 2", 60.0, "17:00", detected_at=70.0, resolved_at=75.0,
              evidence="process_down: worker 2 stopped answering"),
    ]
    run.lost_events, run.lost_detail = 3, ["tmall 4211003 paid", "tmall 4211007 shipped", "DY-77 created"]
    run.duplicates_applied, run.duplicate_detail = 1, ["jd 9001 shipped applied twice"]
    run.not_injected = ["redis_restart: the run has no Redis (embedded backend)"]
    run.seeds["recovery_cycle_min"] = None
    return run


def _table_rows(page: str, css: str) -> list[str]:
    table = page.split(f'<table class="records {css}">', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", table)[1:]


def _cells(row: str) -> list[str]:
    return re.findall(r"<td[^>]*>(.*?)</td>", row)


def test_a_passing_run_says_so_first() -> None:
    text = summary(passing_run())
    first = text.splitlines()[0]
    assert first.startswith("PASSED") and "every fault detected within 60 s" in first
    assert "FAILED" not in text and "\x1b" not in text
    assert "Disagreeing orders: none" in text
    page = html(passing_run())
    assert "<span>PASSED</span>" in page and "FAILED" not in page


def test_a_failing_run_gives_every_reason_in_the_verdict() -> None:
    first = summary(failing_run()).splitlines()[0]
    assert first.startswith("FAILED: ")
    assert "agreement 98.96 % (target 100 %): 26 order dimensions wrong" in first
    assert "2 of 4 faults not detected within 60 s (1 never, 1 late)" in first
    assert "3 events lost (target 0)" in first and "1 duplicate applied (target 0)" in first
    page = html(failing_run())
    assert "<span>FAILED</span>" in page
    assert "<li>2 of 4 faults not detected within 60 s (1 never, 1 late)</li>" in page


def test_the_summary_shows_figures_dimensions_seeds_messages_and_what_was_not_injected() -> None:
    text = summary(failing_run())
    assert "profile chaos · seed 7 · 500 orders · 24 h at ×1,000 · PostgreSQL + Redis, 2 processes" in text
    assert re.search(r"agreement_pct\s+98\.96\s+%", text)
    assert re.search(r"detect_p95_s\s+72\.5\s+s", text)
    assert re.search(r"status\s+475 / 500\s+95 %", text)
    assert re.search(r"recovery_cycle_min\s+–", text)  # a metric the run could not compute is unknown, not 0
    assert re.search(r"dropped\s+41", text)
    assert "  - redis_restart: the run has no Redis (embedded backend)" in text
    assert "Lost events: 3" in text and "  - tmall 4211007 shipped" in text


def test_the_summary_lists_each_fault_in_aligned_columns() -> None:
    lines = summary(failing_run()).splitlines()
    start = lines.index("Faults (4)")
    header, *rows = lines[start + 1:start + 6]
    column = header.index("detected after")
    assert [row[column:].split("  ")[0] for row in rows] == ["11.0 s", "72.5 s (late)", "not detected", "10.0 s"]
    evidence = header.index("evidence")
    assert rows[0][evidence:] == "wms_unreachable: WMS SH did not answer for 10 s"
    assert rows[2][evidence:] == "–"


def test_the_summary_shows_twenty_disagreements_and_sends_the_reader_to_the_page() -> None:
    text = summary(failing_run())
    assert "Disagreeing orders (26)" in text
    assert text.count("poller was off") == 20
    assert "  … and 6 more in the HTML report" in text


def test_colour_only_when_asked_and_hostile_text_cannot_drive_the_terminal() -> None:
    run = failing_run()
    run.disagreements[0].why = "cleared\x1b[2J\nfake line"
    assert "\x1b" not in summary(run, color=False)
    coloured = summary(run, color=True)
    assert coloured.startswith("\x1b[31m\x1b[1mFAILED")
    assert "\x1b[2J" not in coloured and "cleared [2J fake line" in coloured  # one row still, escape defused


def test_the_page_lists_every_disagreeing_order_with_why() -> None:
    run = failing_run()
    page = html(run)
    assert 'Disagreeing orders <span class="count">(26)</span>' in page
    rows = _table_rows(page, "wrong")
    assert len(rows) == 26
    for wrong, row in zip(run.disagreements, rows):
        assert _cells(row) == [wrong.channel, wrong.external_id, wrong.dimension, wrong.expected, wrong.actual, wrong.why]


def test_the_page_shows_each_fault_on_the_timeline_and_in_the_table() -> None:
    page = html(failing_run())
    rows = _table_rows(page, "faults")
    assert len(rows) == 4
    assert _cells(rows[0]) == ["wms_outage", "wms SH", "13:20", "20.0 s", "11.0 s", "25.5 s",
                               "wms_unreachable: WMS SH did not answer for 10 s"]
    assert '<td data-label="detected after" class="late">72.5 s (late)</td>' in rows[1]
    assert '<td data-label="detected after" class="bad">not detected</td>' in rows[2]
    assert _cells(rows[2])[5:] == ["not resolved", "–"]
    assert "60 s target" in page
    assert "dropped_push · tmall 4211003 · 16:10" in page and ">not detected</text>" in page
    assert "detected 72.5 s (late)</text>" in page and "detected 11.0 s · resolved 25.5 s</text>" in page


def test_hundreds_of_dropped_pushes_keep_one_row_each_on_a_compact_timeline() -> None:
    run = passing_run()
    run.faults = [Fault("dropped_push", f"tmall {4211000 + i}", 10.0 + i, "12:00", detected_at=40.0 + i,
                        resolved_at=41.0 + i, evidence="polled back") for i in range(299)]
    run.faults.append(Fault("dropped_push", "tmall 9999999", 400.0, "18:00"))
    page = html(run)
    timeline = page.split('aria-label="Each fault from injection to detection and resolution"', 1)[1]
    timeline = timeline.split("</svg>", 1)[0]
    assert timeline.count("<g><title>") == 300
    assert "<title>dropped_push · tmall 9999999 · 18:00: not detected</title>" in timeline
    height = float(re.search(r'viewBox="0 0 640 (\d+)"[^>]*aria-label="Each fault', page).group(1))
    assert height < 300 * 20  # a row a line, not a paragraph
    assert len(_table_rows(page, "faults")) == 300


def test_the_page_has_the_six_figures_dimensions_charts_seeds_and_losses() -> None:
    page = html(failing_run())
    assert re.findall(r'data-figure="(\w+)"', page) == [
        "agreement_pct", "faults_detected_pct", "detect_p95_s", "lost_events", "duplicates_applied", "orders_per_s"]
    assert '<div class="tile bad" data-figure="lost_events"><span class="mark">✗ missed</span>' in page
    assert "<b>5.79 orders/s</b>" in page
    assert "95 % (475 / 500)" in page and "100 % (500 / 500)" in page
    assert page.count('<svg class="chart"') == 4  # dimensions, throughput, latency, faults
    assert "known to OrderGraph" in page and "p95" in page
    assert '<td>recovery_cycle_min</td><td class="n">–</td>' in page
    assert "<li>tmall 4211007 shipped</li>" in page and "<li>jd 9001 shipped applied twice</li>" in page
    assert "<li>redis_restart: the run has no Redis (embedded backend)</li>" in page


def test_a_run_with_nothing_measured_renders_its_unknowns() -> None:
    run = RunResult(profile="tiny", seed=1, orders=0, hours=1.0, speed=10.0, backend="SQLite, 1 process",
                    faults=[Fault("wms_outage", "wms SH", 3.0, "00:10")])
    text = summary(run)
    assert text.startswith("FAILED: 1 of 1 faults not detected within 60 s (1 never, 0 late)")
    assert "never converged within the wait" in text and re.search(r"detect_p95_s\s+–", text)
    page = html(run)
    assert "No samples: the run recorded no windows." in page and "No latency was measured" in page
    assert "No order was judged." in page and "never converged within the wait" in page


def test_hostile_strings_are_escaped_and_the_page_asks_nothing_of_the_network() -> None:
    run = failing_run()
    run.profile = run.backend = HOSTILE
    run.faults[0].subject = run.faults[0].evidence = HOSTILE
    run.disagreements[3].why = run.disagreements[3].external_id = HOSTILE
    run.not_injected.append(HOSTILE)
    run.lost_detail.append(HOSTILE)
    run.seeds[HOSTILE] = 1.0
    run.samples[0].business_time = HOSTILE
    page = html(run)
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;" in page
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"\b(src|href)=|@import|url\(", page)


def test_save_writes_the_page_and_the_json_and_load_gives_the_run_back(tmp_path: Path) -> None:
    run = failing_run()
    page, data = save(run, tmp_path / "reports" / "day.html")
    assert page == tmp_path / "reports" / "day.html" and data == tmp_path / "reports" / "day.json"
    assert page.read_text(encoding="utf-8") == html(run)
    again = load(data)
    assert again == run
    assert html(again) == html(run)
    assert '"passed": false' in data.read_text(encoding="utf-8")
