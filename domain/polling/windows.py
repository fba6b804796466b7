"""Cutting a time range into the windows a platform's list API accepts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from domain.inbound.channel_api import Window


def windows(start: datetime, end: datetime, longest: timedelta) -> Iterator[Window]:
    """Consecutive windows from ``start`` to ``end``, none longer than ``longest``; each starts where the last ended.

    The boundary instant is in both (the APIs read both ends inclusively): an
    order modified exactly then is read twice, never missed.

    >>> from datetime import UTC
    >>> t = datetime(2026, 11, 30, tzinfo=UTC)
    >>> [(w.start.hour, w.end.hour) for w in windows(t, t + timedelta(hours=5), timedelta(hours=2))]
    [(0, 2), (2, 4), (4, 5)]
    """
    if longest <= timedelta(0):
        raise ValueError("a window must be longer than zero")
    while start < end:
        stop = min(start + longest, end)
        yield Window(start, stop)
        start = stop
