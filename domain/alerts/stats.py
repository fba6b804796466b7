"""How fast the board is worked: time to acknowledge and time to close, per kind and severity.

    report = await alert_stats(tenant_id, since=now - timedelta(days=7), until=now)
    report.total.tta.p50          # seconds from raised to the first acknowledgement, median
    [(g.kind, g.severity, g.ttc.p90, g.overdue) for g in report.groups]

Over the alerts RAISED in [since, until): time to acknowledge (raised ->
acknowledged_at) of those acknowledged, time to close (raised -> cleared_at)
of those resolved (by a person or because the condition cleared), how many are
still unresolved, and how many of those are overdue (their SLA ``due_at`` has
passed, snoozed or not). Percentiles are nearest-rank. One bounded query: at
most ``MAX_ALERTS`` alerts (the newest) are read; ``truncated`` says when the
period held more.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain.errors import ValidationFailed
from models import Alert

MAX_ALERTS = 50_000
MAX_PERIOD = timedelta(days=366)
DEFAULT_PERIOD = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Durations:
    """How many, and the 50th / 90th percentile in seconds (None when there are none)."""

    count: int
    p50: float | None
    p90: float | None

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Durations:
        ordered = sorted(seconds)
        return cls(count=len(ordered), p50=percentile(ordered, 50), p90=percentile(ordered, 90))


@dataclass(frozen=True, slots=True)
class Figures:
    """One group's figures (``kind``/``severity`` None in the total)."""

    kind: str | None
    severity: str | None
    raised: int
    open: int
    overdue: int
    tta: Durations
    ttc: Durations


@dataclass(frozen=True, slots=True)
class AlertStats:
    since: datetime
    until: datetime
    total: Figures
    groups: list[Figures]
    truncated: bool
    cap: int = MAX_ALERTS


def percentile(ordered: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile of sorted values: the smallest value with at least p% at or below it."""
    if not ordered:
        return None
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def period(since: datetime | None, until: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """The period asked for, defaulting to the last 7 days; refused if backwards or longer than a year."""
    until = until or now
    since = since or until - DEFAULT_PERIOD
    if since.tzinfo is None or until.tzinfo is None:
        raise ValidationFailed("give times with their UTC offset", field="since" if since.tzinfo is None else "until")
    if since >= until:
        raise ValidationFailed("since must be before until", field="since")
    if until - since > MAX_PERIOD:
        raise ValidationFailed(f"a period is at most {MAX_PERIOD.days} days", field="since")
    return since, until


Row = tuple[str, str, datetime, datetime | None, datetime | None, datetime | None]


def _figures(kind: str | None, severity: str | None, rows: Iterable[Row], now: datetime) -> Figures:
    raised = unresolved = overdue = 0
    tta: list[float] = []
    ttc: list[float] = []
    for _, _, raised_at, acknowledged_at, cleared_at, due_at in rows:
        raised += 1
        if acknowledged_at is not None:
            tta.append(max(0.0, (acknowledged_at - raised_at).total_seconds()))
        if cleared_at is not None:
            ttc.append(max(0.0, (cleared_at - raised_at).total_seconds()))
        else:
            unresolved += 1
            overdue += due_at is not None and due_at < now
    return Figures(kind=kind, severity=severity, raised=raised, open=unresolved, overdue=overdue,
                   tta=Durations.of(tta), ttc=Durations.of(ttc))


async def alert_stats(tenant_id: int, since: datetime | None = None, until: datetime | None = None,
                      now: datetime | None = None) -> AlertStats:
    """TTA/TTC figures of the tenant's alerts raised in [since, until), per (kind, severity) and in total."""
    now = now or datetime.now(UTC)
    since, until = period(since, until, now)
    rows: list[Row] = await Alert.filter(tenant_id=tenant_id, raised_at__gte=since, raised_at__lt=until) \
        .order_by("-id").limit(MAX_ALERTS + 1) \
        .values_list("kind", "severity", "raised_at", "acknowledged_at", "cleared_at", "due_at")  # type: ignore[assignment]
    truncated = len(rows) > MAX_ALERTS
    rows = rows[:MAX_ALERTS]
    grouped: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in rows:
        grouped[(row[0], row[1])].append(row)
    groups = [_figures(kind, severity, members, now) for (kind, severity), members in sorted(grouped.items())]
    return AlertStats(since=since, until=until, total=_figures(None, None, rows, now), groups=groups,
                      truncated=truncated)
