"""What a simulated day found: the figures, every injected fault with its detection, every disagreeing order.

    result = RunResult(profile="chaos", seed=7, orders=20000, ...)
    for line in result.figures():
        print(json.dumps(line))          # {"name": "agreement_pct", "value": 100.0, "unit": "%"}

Times are wall-clock seconds since the run started (``at``), with the simulated
day's clock beside them where it helps a reader (``business_time``, "HH:MM").
The report (:mod:`chaos.report`) renders this and nothing else, so a result
saved as JSON (:meth:`RunResult.as_json`) can be rendered again later.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

#: The dimensions an order is judged on, in the order the report lists them.
DIMENSIONS = ("exists", "status", "warehouse", "waybill", "tracking")
#: A fault counts as detected only within this many seconds of being injected.
DETECT_WITHIN_S = 60.0


@dataclass
class Fault:
    """One injected fault and what OrderGraph did about it."""

    kind: str  # wms_outage, erp_drift, channel_throttle, process_kill, redis_restart, dropped_push
    subject: str  # what it hit: "wms SH", "tmall", "worker 2", "tmall 4211007"
    injected_at: float
    business_time: str
    ended_at: float | None = None  # when the simulator stopped injecting it (outages, throttling)
    detected_at: float | None = None  # when OrderGraph raised its alert (or, for a dropped push, had the order)
    resolved_at: float | None = None  # when that alert was resolved (or the order was whole again)
    evidence: str = ""  # the alert's kind and message, or how the order came back

    @property
    def detect_s(self) -> float | None:
        return None if self.detected_at is None else max(0.0, self.detected_at - self.injected_at)

    @property
    def resolve_s(self) -> float | None:
        return None if self.resolved_at is None else max(0.0, self.resolved_at - self.injected_at)

    @property
    def detected_in_time(self) -> bool:
        return self.detect_s is not None and self.detect_s <= DETECT_WITHIN_S


@dataclass
class Disagreement:
    """One order whose OrderGraph view differs from the truth on one dimension after convergence."""

    channel: str
    external_id: str
    dimension: str
    expected: str
    actual: str
    why: str  # the simulator's explanation: which fault hit this order, and what OrderGraph lacks


@dataclass
class Sample:
    """The run seen through a window of wall time (one point of the throughput and latency charts)."""

    at: float
    business_time: str
    placed: int  # orders the channels placed in this window
    known: int  # orders OrderGraph first had in this window
    latency_p50_ms: float | None  # placed on the channel -> visible in OrderGraph, for orders known in the window
    latency_p95_ms: float | None


@dataclass
class RunResult:
    profile: str
    seed: int
    orders: int
    hours: float
    speed: float
    backend: str  # "PostgreSQL + Redis, 2 processes"
    wall_seconds: float = 0.0
    converged_after_s: float | None = None  # after the day ended; None: it never converged within the wait
    dimensions: dict[str, list[int]] = field(default_factory=dict)  # name -> [agree, total]
    faults: list[Fault] = field(default_factory=list)
    not_injected: list[str] = field(default_factory=list)  # faults of the profile this run could not inject, why
    lost_events: int = 0
    lost_detail: list[str] = field(default_factory=list)
    duplicates_applied: int = 0
    duplicate_detail: list[str] = field(default_factory=list)
    messages: dict[str, int] = field(default_factory=dict)  # pushes sent, duplicated, reordered, delayed, dropped
    seeds: dict[str, float | None] = field(default_factory=dict)  # the seeds' metrics computed from the run
    samples: list[Sample] = field(default_factory=list)
    disagreements: list[Disagreement] = field(default_factory=list)

    @property
    def agreement_pct(self) -> float:
        agree = sum(pair[0] for pair in self.dimensions.values())
        total = sum(pair[1] for pair in self.dimensions.values())
        return 100.0 if total == 0 else round(100.0 * agree / total, 3)

    @property
    def faults_detected_pct(self) -> float:
        if not self.faults:
            return 100.0
        return round(100.0 * sum(f.detected_in_time for f in self.faults) / len(self.faults), 2)

    @property
    def detect_p95_s(self) -> float | None:
        return percentile([f.detect_s for f in self.faults if f.detect_s is not None], 95)

    @property
    def orders_per_s(self) -> float:
        return 0.0 if self.wall_seconds <= 0 else round(self.orders / self.wall_seconds, 2)

    @property
    def passed(self) -> bool:
        """The issue's bar: full agreement, every fault detected within a minute, nothing lost or applied twice."""
        everything_agrees = all(agree == total for agree, total in self.dimensions.values())  # not the rounded share
        return (everything_agrees and all(f.detected_in_time for f in self.faults)
                and self.lost_events == 0 and self.duplicates_applied == 0)

    def figures(self) -> list[dict[str, Any]]:
        """The JSON lines a run prints (one per figure), as every bench script does."""
        return [
            {"name": "agreement_pct", "value": self.agreement_pct, "unit": "%"},
            {"name": "faults_detected_pct", "value": self.faults_detected_pct, "unit": "%"},
            {"name": "detect_p95_s", "value": self.detect_p95_s, "unit": "s"},
            {"name": "lost_events", "value": self.lost_events, "unit": "events"},
            {"name": "duplicates_applied", "value": self.duplicates_applied, "unit": "events"},
            {"name": "orders_per_s", "value": self.orders_per_s, "unit": "orders/s"},
        ]

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"figures": self.figures(), "passed": self.passed}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunResult:
        data = {key: value for key, value in data.items() if key not in ("figures", "passed")}
        data["faults"] = [Fault(**item) for item in data.get("faults", [])]
        data["disagreements"] = [Disagreement(**item) for item in data.get("disagreements", [])]
        data["samples"] = [Sample(**item) for item in data.get("samples", [])]
        return cls(**data)


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return round(ordered[rank - 1], 3)
