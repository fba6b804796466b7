"""The shop's orders sorted by modification time, so a simulated list call costs O(log n + page), not O(n).

    timeline = attach(platform)                       # once, in a protocol's ``routes``
    total = timeline.count(start, end)                # orders modified in [start, end]
    orders, more = timeline.page(start, end, after=None, size=100)
    orders, more = timeline.page(start, end, after=timeline.key(orders[-1]), size=100)

Keys are ``(updated_at in unix seconds, seq)`` — unique, so a cursor names
exactly one position and keyset paging neither skips nor repeats an order
that stays put (an order modified mid-paging moves to its new key, as it
does on the platforms whose cursors are keys: WeChat ``next_key``, SP-API
``NextToken``, Shopify ``page_info``). :class:`~adapters.channels.sim.core.Platform`
has no change hook, so :func:`attach` wraps that one platform's ``place``
and ``touch`` to keep the index current; new orders are merged in batches
(a bulk placement of 100,000 orders costs one sort, not 100,000 inserts).
"""

from __future__ import annotations

import base64
import bisect
import json
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from adapters.channels.sim.core import Platform, SimOrder

Key = tuple[int, int]
_Entry = tuple[int, int, str]
_BATCH = 64


def key(order: SimOrder) -> Key:
    """Where ``order`` sits now: its modification time (whole seconds) and placement number."""
    return int(order.updated_at.timestamp()), order.seq


class Timeline:
    """Every order of one platform by ``(updated_at, seq)``; see the module docstring."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._entries: list[_Entry] = sorted((*key(o), o.external_id) for o in platform.orders.values())
        self._pending: list[_Entry] = []

    key = staticmethod(key)

    def added(self, order: SimOrder) -> None:
        self._pending.append((*key(order), order.external_id))

    def moved(self, before: Key, order: SimOrder) -> None:
        self._flush()
        entry = (*before, order.external_id)
        index = bisect.bisect_left(self._entries, entry)
        if index < len(self._entries) and self._entries[index] == entry:
            del self._entries[index]
        bisect.insort(self._entries, (*key(order), order.external_id))

    def _flush(self) -> None:
        if len(self._pending) > _BATCH:
            self._entries = sorted(self._entries + self._pending)  # two sorted runs: Timsort merges in O(n)
        else:
            for entry in self._pending:
                bisect.insort(self._entries, entry)
        self._pending.clear()

    def _bounds(self, start: datetime, end: datetime) -> tuple[int, int]:
        self._flush()
        low = bisect.bisect_left(self._entries, (math.ceil(start.timestamp()),))
        high = bisect.bisect_right(self._entries, (math.floor(end.timestamp()), math.inf))
        return low, high

    def count(self, start: datetime, end: datetime) -> int:
        """How many orders were last modified within ``[start, end]``."""
        low, high = self._bounds(start, end)
        return max(high - low, 0)

    def page(self, start: datetime, end: datetime, *, after: Key | None, size: int) -> tuple[list[SimOrder], bool]:
        """Up to ``size`` orders of ``[start, end]`` after the key ``after``, oldest first; and whether more follow."""
        low, high = self._bounds(start, end)
        if after is not None:
            low = max(low, bisect.bisect_right(self._entries, (after[0], after[1] + 0.5)))
        stop = min(low + size, high)
        orders = [self.platform.orders[external_id] for _, _, external_id in self._entries[low:stop]]
        return orders, stop < high


def attach(platform: Platform) -> Timeline:
    """The platform's timeline, created on first use (its ``place`` and ``touch`` then keep it current)."""
    existing = getattr(platform, "_timeline", None)
    if isinstance(existing, Timeline):
        return existing
    timeline = Timeline(platform)
    place: Callable[..., SimOrder] = platform.place
    touch: Callable[..., SimOrder] = platform.touch

    def placed(**options: Any) -> SimOrder:
        order = place(**options)
        timeline.added(order)
        return order

    def touched(external_id: str, **options: Any) -> SimOrder:
        before = key(platform.orders[external_id])
        order = touch(external_id, **options)
        timeline.moved(before, order)
        return order

    platform.place = placed  # type: ignore[method-assign]
    platform.touch = touched  # type: ignore[method-assign]
    platform._timeline = timeline  # type: ignore[attr-defined]
    return timeline


def cursor(start: int, end: int, after: Key) -> str:
    """An opaque page token naming the window it belongs to and the last key served."""
    raw = json.dumps([start, end, after[0], after[1]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_cursor(token: str) -> tuple[int, int, Key] | None:
    """``(start, end, after)`` of a token :func:`cursor` made; ``None`` for anything else."""
    try:
        values = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError):
        return None
    if not (isinstance(values, list) and len(values) == 4
            and all(isinstance(v, int) and not isinstance(v, bool) for v in values)):
        return None
    return values[0], values[1], (values[2], values[3])
