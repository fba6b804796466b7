"""Live updates for an open tracking page: server-sent events from the app's bus.

A stream carries only the visitor's own orders (their tenant, the order ids
their session covers). Each change arrives as a freshly rendered card, so the
page needs no client-side templates. On (re)connect, cards changed since the
id the page was rendered at (``?after=``, or ``Last-Event-ID``) are sent first,
then live ones; bursts (a scan and the status it causes) are coalesced.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from tortoise.expressions import Q

from domain.tracking.customer_view import MAX_ORDERS, OrderView, Scope, orders_for
from models import Order, OrderEvent

HEARTBEAT = 20.0
MAX_STREAM = 15 * 60.0  # the browser reconnects by itself, with a fresh scope
COALESCE = 0.15


def relevant(message: dict[str, Any], tenant_id: int, order_ids: set[int]) -> bool:
    kind = message.get("type", "")
    return (
        message.get("tenant_id") == tenant_id
        and message.get("order_id") in order_ids
        and kind.startswith(("order.", "shipment.", "after_sale."))
    )


async def scope_order_ids(scope: Scope) -> set[int]:
    ids = await Order.filter(tenant_id=scope.tenant_id).filter(scope.query()).order_by("-placed_at", "-id").limit(
        MAX_ORDERS
    ).values_list("id", flat=True)
    return set(ids)


def sse(event: str, data: dict[str, Any], event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def card_stream(
    bus: Any,
    scope: Scope,
    after: int,
    render: Callable[[OrderView], str],
    say: Callable[[OrderView], str],
    *,
    disconnected: Callable[[], Awaitable[bool]] | None = None,
) -> AsyncIterator[str]:
    """The event stream body: a retry hint, the catch-up, then live cards and heartbeats."""
    order_ids = await scope_order_ids(scope)
    # only this page's orders' events reach its queue: ten thousand open pages cost nothing per unrelated event
    async with bus.subscribe(orders=frozenset(order_ids)) as subscription:
        yield "retry: 3000\n\n"
        if after and order_ids:
            missed = await OrderEvent.filter(order_id__in=list(order_ids), id__gt=after).filter(
                Q(type__startswith="order.") | Q(type__startswith="shipment.") | Q(type__startswith="after_sale.")
            ).values_list("order_id", "id")
            latest: dict[int, int] = {}
            for order_id, event_id in missed:
                latest[order_id] = max(event_id, latest.get(order_id, 0))
            for chunk in await _cards(scope, latest, render, say):
                yield chunk
        ends = time.monotonic() + MAX_STREAM
        while time.monotonic() < ends:
            try:
                message = await asyncio.wait_for(anext(subscription), timeout=HEARTBEAT)
            except TimeoutError:
                if disconnected and await disconnected():
                    return
                yield ": ping\n\n"
                continue
            except Exception:  # dropped as a slow subscriber, or the bus closed: the browser reconnects and catches up
                return
            batch = [message]
            while len(batch) < 200:  # let the rest of a burst arrive
                try:
                    batch.append(await asyncio.wait_for(anext(subscription), timeout=COALESCE))
                except TimeoutError:
                    break
                except Exception:
                    break
            latest = {}
            for item in batch:
                if relevant(item, scope.tenant_id, order_ids):
                    latest[item["order_id"]] = max(item["id"], latest.get(item["order_id"], 0))
            for chunk in await _cards(scope, latest, render, say):
                yield chunk


async def _cards(
    scope: Scope, latest: dict[int, int], render: Callable[[OrderView], str], say: Callable[[OrderView], str]
) -> list[str]:
    chunks = []
    for order_id, event_id in sorted(latest.items(), key=lambda item: item[1]):
        views = await orders_for(scope, only=order_id)
        if views:
            view = views[0]
            chunks.append(sse("card", {"number": view.number, "html": render(view), "say": say(view)}, event_id))
    return chunks
