"""The simulated day's judge: when it stops waiting (``chaos.settling``), and how it credits OrderGraph with
noticing a dropped channel push (``api.simulate._judge_dropped``)."""

from __future__ import annotations

from types import SimpleNamespace

from api.simulate import _judge_dropped
from chaos.judge import Verdict
from chaos.result import Disagreement, Fault
from chaos.settling import Settling


def _verdict(created: dict[tuple[str, str], float], wrong: tuple[tuple[str, str], ...] = ()) -> Verdict:
    return Verdict(
        dimensions={}, duplicates=[], orders=len(created), created=created,
        numbers={key: f"OG{n:09d}" for n, key in enumerate(created, 1)},
        disagreements=[Disagreement(channel, external_id, "status", "CANCELLED", "PAID", "") for channel, external_id in wrong],
    )


def test_a_cancellation_is_noticed_when_applied_or_when_the_order_first_arrives_already_cancelled() -> None:
    applied = Fault("dropped_cancel", "taobao 1", injected_at=10.0, business_time="01:00")
    arrived_cancelled = Fault("dropped_cancel", "taobao 2", injected_at=10.0, business_time="01:00")
    still_open = Fault("dropped_cancel", "taobao 3", injected_at=10.0, business_time="01:00")
    held_before = Fault("dropped_cancel", "douyin 4", injected_at=10.0, business_time="01:00")
    day = SimpleNamespace(faults=[applied, arrived_cancelled, still_open, held_before])
    verdict = _verdict({("taobao", "1"): 5.0, ("taobao", "2"): 31.0, ("taobao", "3"): 12.0, ("douyin", "4"): 4.0},
                       wrong=(("taobao", "3"),))

    _judge_dropped(day, verdict, confirmed={}, cancelled={"OG000000001": 25.0})  # type: ignore[arg-type]

    assert (applied.detected_at, applied.evidence) == (25.0, "the poller found the cancellation")
    assert (arrived_cancelled.detected_at, arrived_cancelled.resolved_at) == (31.0, 31.0)
    assert arrived_cancelled.evidence == "the poller found the order, already cancelled"
    assert still_open.detected_at is None  # recorded after the fault, but its status is still wrong
    assert held_before.detected_at is None  # held before the cancel was dropped, and never cancelled since


def test_the_judge_waits_while_a_backlog_drains_and_stops_when_it_stalls_or_at_the_cap() -> None:
    draining = Settling(stall_s=30, max_s=600, started=0)
    assert not any(draining.over(wrong, at) for wrong, at in ((900, 3), (700, 25), (500, 50), (300, 75)))
    assert draining.over(0, 80)  # converged

    stalled = Settling(stall_s=30, max_s=600, started=0)
    assert not stalled.over(40, 3) and not stalled.over(40, 30) and not stalled.over(41, 33)
    assert stalled.over(40, 34)  # 31 s since it last got better

    capped = Settling(stall_s=30, max_s=600, started=0)
    assert not any(capped.over(10_000 - at, at) for at in range(0, 600, 20))
    assert capped.over(9_000, 603)  # still improving, but the cap is reached
