"""A shop's orders sorted by modification time, so a simulated list call costs O(log n + page), not O(n).

    index = platform.index                            # kept current by Platform.place and Platform.touch
    total = index.count(start, end)                   # orders modified in [start, end] (unix seconds, inclusive)
    orders = index.slice(start, end, offset=40, size=20, descending=True)      # offset paging
    orders, more = index.page(start, end, after=None, size=100)                # keyset paging
    orders, more = index.page(start, end, after=key(orders[-1]), size=100)

Keys are ``(updated_at in whole unix seconds, seq)``: unique, so a key names
exactly one position and keyset paging neither skips nor repeats an order
that stays put (an order modified mid-paging moves to its new key, as it does
on the platforms whose cursors are keys: WeChat ``next_key``, SP-API
``NextToken``, Shopify ``page_info``); :func:`cursor` / :func:`read_cursor`
turn a window and a key into their opaque page token. New orders are merged
in batches (a bulk placement of 100,000 orders costs one sort, not 100,000
inserts). An order whose ``updated_at`` was assigned behind ``Platform.touch``
is noticed when it is served, moved, and the read done again.
"""

from __future__ import annotations

import base64
import bisect
import json
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Generic, Protocol, TypeVar

Key = tuple[int, int]
_Entry = tuple[int, int, str]
_BATCH = 64


class Dated(Protocol):
    """What the index reads of an order (``core.SimOrder``; not imported: the core imports this module)."""

    external_id: str
    seq: int
    updated_at: datetime


OrderT = TypeVar("OrderT", bound=Dated)


def key(order: Dated) -> Key:
    """Where ``order`` sits now: its modification time (whole seconds) and placement number."""
    return int(order.updated_at.timestamp()), order.seq


def seconds(start: datetime, end: datetime) -> tuple[int, int]:
    """The whole seconds ``[start, end]`` holds (orders are modified on whole seconds)."""
    return math.ceil(start.timestamp()), math.floor(end.timestamp())


class OrderIndex(Generic[OrderT]):
    """Every order of one shop by ``(updated second, seq)``; see the module docstring."""

    def __init__(self, orders: Mapping[str, OrderT]) -> None:
        self._orders = orders
        self._entries: list[_Entry] = sorted((*key(o), o.external_id) for o in orders.values())
        self._pending: list[_Entry] = []

    def added(self, order: OrderT) -> None:
        """A new order (merged at the next read)."""
        self._pending.append((int(order.updated_at.timestamp()), order.seq, order.external_id))

    def moved(self, order: OrderT, before: Key) -> None:
        """``order`` was at ``before`` and now is at ``key(order)``."""
        if before == key(order):
            return
        self._flush()
        entry = (*before, order.external_id)
        at = bisect.bisect_left(self._entries, entry)
        if at < len(self._entries) and self._entries[at] == entry:
            del self._entries[at]
        entry = (*key(order), order.external_id)
        at = bisect.bisect_left(self._entries, entry)
        if at == len(self._entries) or self._entries[at] != entry:  # already there if a stray was touched
            self._entries.insert(at, entry)

    def count(self, start: int, end: int) -> int:
        """How many orders were last modified within ``[start, end]``."""
        low, high = self._bounds(start, end)
        return max(high - low, 0)

    def slice(self, start: int, end: int, *, offset: int, size: int, descending: bool = False) -> list[OrderT]:
        """Up to ``size`` orders of ``[start, end]`` from ``offset``, oldest first (or newest first)."""
        while True:
            low, high = self._bounds(start, end)
            if descending:
                top = high - offset
                chosen = self._entries[max(low, top - size):max(low, top)][::-1]
            else:
                chosen = self._entries[low + offset:min(high, low + offset + size)]
            if self._settled(chosen):
                return [self._orders[entry[2]] for entry in chosen]

    def page(self, start: int, end: int, *, after: Key | None, size: int) -> tuple[list[OrderT], bool]:
        """Up to ``size`` orders of ``[start, end]`` after the key ``after``, oldest first; and whether more follow."""
        while True:
            low, high = self._bounds(start, end)
            if after is not None:
                low = max(low, bisect.bisect_right(self._entries, (after[0], after[1] + 0.5)))
            stop = min(low + size, high)
            chosen = self._entries[low:stop]
            if self._settled(chosen):
                return [self._orders[entry[2]] for entry in chosen], stop < high

    def _bounds(self, start: int, end: int) -> tuple[int, int]:
        self._flush()
        return bisect.bisect_left(self._entries, (start,)), bisect.bisect_left(self._entries, (end + 1,))

    def _flush(self) -> None:
        if len(self._pending) > _BATCH:
            self._entries.extend(self._pending)
            self._entries.sort()  # two sorted runs: Timsort merges them in O(n)
        else:
            for entry in self._pending:
                bisect.insort(self._entries, entry)
        self._pending.clear()

    def _settled(self, chosen: list[_Entry]) -> bool:
        """Whether every entry served is where its order is; strays (times assigned behind ``touch``) are moved."""
        strays = [entry for entry in chosen if key(self._orders[entry[2]]) != entry[:2]]
        for entry in strays:
            self.moved(self._orders[entry[2]], entry[:2])
        return not strays


def cursor(start: int, end: int, after: Key) -> str:
    """An opaque page token naming the window it belongs to and the last key served."""
    raw = json.dumps([start, end, after[0], after[1]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_cursor(token: str) -> tuple[int, int, Key] | None:
    """``(start, end, after)`` of a token :func:`cursor` made; ``None`` for anything else."""
    try:
        values = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError, RecursionError):
        return None
    if not (isinstance(values, list) and len(values) == 4
            and all(isinstance(v, int) and not isinstance(v, bool) for v in values)):
        return None
    return values[0], values[1], (values[2], values[3])
