"""Reading the lineage for subscriptions: replay after an id, then live messages, without gap or repeat.

The bus delivers in id order and records its ``position``; a subscription
takes the position at the moment it subscribes (its ``start``). Events up to
``start`` come from the database (``replay``), later ones from the queue. If
the queue overflows while the replay is still running, the catch-up simply
starts over from where it got to; only a subscriber that falls behind on
live events is dropped (``SlowSubscriber``), to resume with its last id.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

from events.bus import SlowSubscriber
from events.messages import to_messages
from models import Alert, Order, OrderEvent, Stock
from resolvers.context import Context

REPLAY_BATCH = 500
MAX_CATCH_UP_ROUNDS = 5


def _type_matches(kind: str, wanted: frozenset[str]) -> bool:
    return kind in wanted or any(w.endswith("*") and kind.startswith(w[:-1]) for w in wanted)


def skus_in(message: dict[str, Any]) -> set[str] | None:
    """SKUs an event is about (from ``sku``, ``skus``, ``reservations`` or ``lines`` in before/after); None: cannot tell."""
    found: set[str] = set()
    seen_any = False
    for side in (message.get("before"), message.get("after")):
        if not isinstance(side, dict):
            continue
        if isinstance(side.get("sku"), str):
            found.add(side["sku"])
            seen_any = True
        if isinstance(side.get("skus"), list):
            found.update(s for s in side["skus"] if isinstance(s, str))
            seen_any = True
        for key in ("reservations", "lines", "movements"):
            items = side.get(key)
            if isinstance(items, list):
                seen_any = True
                found.update(i["sku"] for i in items if isinstance(i, dict) and isinstance(i.get("sku"), str))
    return found if seen_any else None


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events a subscriber wants; empty sets mean "any". Types may end in ``*`` (``stock.*``)."""

    tenant_id: int
    order_ids: frozenset[int] = frozenset()
    types: frozenset[str] = frozenset()
    channel_ids: frozenset[int] = frozenset()
    warehouse_ids: frozenset[int] = frozenset()
    statuses: frozenset[str] = frozenset()
    skus: frozenset[str] = frozenset()

    def matches(self, message: dict[str, Any]) -> bool:
        return (
            message["tenant_id"] == self.tenant_id
            and (not self.order_ids or message["order_id"] in self.order_ids)
            and (not self.types or _type_matches(message["type"], self.types))
            and (not self.channel_ids or message["channel_id"] in self.channel_ids)
            and (not self.warehouse_ids or message["warehouse_id"] in self.warehouse_ids)
            and (not self.statuses or message["order_status"] in self.statuses)
            and (not self.skus or self._sku_matches(message))
        )

    def _sku_matches(self, message: dict[str, Any]) -> bool:
        mentioned = skus_in(message)
        return mentioned is None or bool(mentioned & self.skus)


async def replay(wanted: EventFilter, after: int, upto: int | None = None) -> AsyncIterator[dict[str, Any]]:
    """Committed events in (``after``, ``upto``] of this tenant that match, oldest first."""
    cursor = after
    exact = [t for t in wanted.types if not t.endswith("*")]
    while True:
        query = OrderEvent.filter(tenant_id=wanted.tenant_id, id__gt=cursor)
        if upto is not None:
            query = query.filter(id__lte=upto)
        if wanted.order_ids:
            query = query.filter(order_id__in=list(wanted.order_ids))
        if wanted.types and len(exact) == len(wanted.types):
            query = query.filter(type__in=exact)
        rows = await query.order_by("id").limit(REPLAY_BATCH)
        if not rows:
            return
        for message in await to_messages(rows):
            if wanted.matches(message):
                yield message
        cursor = rows[-1].id


async def event_stream(ctx: Context, wanted: EventFilter, after: int | None) -> AsyncIterator[dict[str, Any]]:
    """Replay (if ``after`` is given) then live events, with no gap and no repeat."""
    last = after
    for _ in range(MAX_CATCH_UP_ROUNDS):
        async with ctx.bus.subscribe() as live:
            if last is not None and last < live.start:
                async for message in replay(wanted, last, live.start):
                    last = message["id"]
                    yield message
                if live.overflowed:
                    last = live.start  # everything up to start is sent; catch up again from there
                    continue
            last = max(last or 0, live.start)
            async for message in live:
                if message["id"] > last and wanted.matches(message):
                    last = message["id"]
                    yield message
    raise SlowSubscriber("could not catch up with the live events; resume with the last event id seen")


async def order_snapshot(tenant_id: int, order_id: int) -> Order | None:
    return await Order.filter(id=order_id, tenant_id=tenant_id).first()


async def stock_levels(tenant_id: int, skus: Iterable[str], warehouse_ids: Iterable[int] = ()) -> list[Stock]:
    query = Stock.filter(tenant_id=tenant_id, sku__in=list(skus))
    warehouses = list(warehouse_ids)
    if warehouses:
        query = query.filter(warehouse_id__in=warehouses)
    return await query.order_by("sku", "warehouse_id")


async def alert_of(tenant_id: int, message: dict[str, Any]) -> Alert | None:
    after = message.get("after") or {}
    alert_id = after.get("alert_id") if isinstance(after, dict) else None
    if alert_id is None:
        return None
    return await Alert.filter(id=alert_id, tenant_id=tenant_id).first()


async def snapshot_then_events(ctx: Context, wanted: EventFilter) -> AsyncIterator[tuple[int, dict[str, Any] | None]]:
    """``(position, None)`` once (read the snapshot then), then ``(id, message)`` for each later matching event.

    The subscription exists before the caller reads its snapshot, so no change
    can fall between the two; a change already in the snapshot may be seen
    again, which is harmless for state (the caller re-reads the current state).
    """
    async with ctx.bus.subscribe() as live:
        yield live.start, None
        last = live.start
        async for message in live:
            if message["id"] > last and wanted.matches(message):
                last = message["id"]
                yield last, message
