"""When to try a failed delivery again: the widely used ~3-day schedule, with jitter and Retry-After.

Attempt 1 is immediate; after each failure wait 5 s, 5 min, 30 min, 2 h, 5 h,
10 h, 14 h, 20 h, 24 h (ten attempts over about three days), each +/-20 %.
A ``Retry-After`` from the receiver is honoured when it asks for longer.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

DELAYS: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
JITTER = 0.2
MAX_RETRY_AFTER = 86400.0


def next_delay(
    retry_index: int,
    retry_after: float | None = None,
    *,
    delays: tuple[float, ...] = DELAYS,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds to wait after the failure of attempt ``retry_index`` (0-based); None: give up."""
    if retry_index >= len(delays):
        return None
    base = delays[retry_index]
    delay = base * (1 + (rng or random).uniform(-JITTER, JITTER))
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), or None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
