"""Which delivery orders the WMS should hold, decided from the lineage: queued once, withdrawn when the order is not going.

An outbox consumer (``events.dispatcher``) run by the leader, with its own
persisted cursor (``wms_delivery_orders``). The rows it writes and the cursor
move in ONE transaction, so after a crash a batch is either wholly recorded
or wholly redone, and the unique ``(tenant, code)`` turns a second leader's
attempt into ``CursorMoved`` instead of a duplicate.

- An order becomes ALLOCATED: one ``DeliveryOrder`` per warehouse holding its
  reservations that runs on a WMS, code ``OG000000042-SH`` (the WMS's
  idempotency key), ``pending`` and due now. A warehouse that already has a
  live one gets none; after a withdrawal the next one is ``OG000000042-SH-2``
  (the WMS keeps the cancelled code).
- The order is cancelled, de-allocated (back to PAID) or has lines moved: its
  live delivery orders are withdrawn — never sent ones end ``cancelled`` at
  once, anything that may have reached the WMS becomes ``cancel_pending`` for
  the pusher (``delivery_push``) to send ``order.cancel``. Moved lines then
  get fresh delivery orders where they now are.

Every row queued or withdrawn leaves a lineage row on its order.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from domain.statuses import OrderStatus
from domain.stock.reservations import ReservationKind, ReservationStatus
from domain.unit_of_work import unit_of_work
from events import cursor as cursors
from events import log, signals
from events.cursor import CursorMoved
from events.outbox import newest_id
from models import DeliveryOrder, OrderEvent, Reservation, SystemConnection, Warehouse, WarehouseSystems
from models.order import order_no

CURSOR = "wms_delivery_orders"
#: The doorbell the pusher listens on.
WMS_PUSH = "wms-push"
ACTOR = "ordergraph"
SOURCE = "wms"

PENDING, PUSHED, CONFIRMED = "pending", "pushed", "confirmed"
CANCEL_PENDING, CANCELLED, CANCEL_REFUSED, FAILED = "cancel_pending", "cancelled", "cancel_refused", "failed"
#: Rows standing for the WMS's copy of the order: while one exists, no second is queued for that warehouse.
LIVE = (PENDING, PUSHED, CONFIRMED, FAILED)
#: Rows a withdrawal acts on.
WITHDRAWABLE = (PENDING, PUSHED, FAILED)


def delivery_code(order_id: int, warehouse_code: str, generation: int = 1) -> str:
    """``OG000000042-SH``, then ``OG000000042-SH-2`` for the next one after a withdrawal."""
    base = f"{order_no(order_id)}-{warehouse_code}"
    return (base if generation == 1 else f"{base}-{generation}")[:64]


def _reading(row: OrderEvent) -> str | None:
    """What an event means for the WMS: ``queue``, ``withdraw`` (order not going), ``move`` (lines moved)."""
    after = row.after if isinstance(row.after, dict) else {}
    before = row.before if isinstance(row.before, dict) else {}
    if row.type == "order.cancelled" or after.get("status") == OrderStatus.CANCELLED:
        return "withdraw"
    if after.get("status") == OrderStatus.PAID and before.get("status") == OrderStatus.ALLOCATED:
        return "withdraw"
    if row.type == "order.line_moved":
        return "move"
    if after.get("status") == OrderStatus.ALLOCATED and before.get("status") != OrderStatus.ALLOCATED:
        return "queue"
    return None


class DeliveryOrderFeed:
    """The consumer (see the module docstring)."""

    name = CURSOR

    #: With nothing to do, the stored cursor is advanced at most this often (re-reading is harmless: queueing is
    #: idempotent by code), so the feed costs no write per commit that does not concern a WMS.
    LAZY_SECONDS = 5.0

    def __init__(self) -> None:
        self._stored: int | None = None
        self._saved_at = 0.0

    async def start_position(self) -> int:
        self._stored = await cursors.load_or_start(CURSOR, await newest_id())
        self._saved_at = time.monotonic()
        return self._stored

    async def consume(self, rows: list[OrderEvent], previous: int) -> None:
        work: dict[int, list[tuple[str, OrderEvent]]] = defaultdict(list)
        for row in rows:
            meaning = _reading(row) if row.order_id is not None else None  # type: ignore[attr-defined]
            if meaning:
                work[row.order_id].append((meaning, row))  # type: ignore[attr-defined]
        if not work and time.monotonic() - self._saved_at < self.LAZY_SECONDS:
            return
        self._saved_at = time.monotonic()
        changed = False
        try:
            async with unit_of_work():
                for order_id, steps in work.items():
                    for meaning, event in steps:
                        changed |= await _apply(meaning, order_id, event)
                await cursors.advance(CURSOR, self._stored, rows[-1].id)
        except IntegrityError:
            raise CursorMoved(CURSOR) from None
        self._stored = rows[-1].id
        if changed:
            signals.ring(WMS_PUSH)


async def _apply(meaning: str, order_id: int, event: OrderEvent) -> bool:
    if meaning == "queue":
        return bool(await queue_for_order(order_id, event.tenant_id, event.id))  # type: ignore[attr-defined]
    why = "order cancelled" if event.type == "order.cancelled" else (
        "lines moved to another warehouse" if meaning == "move" else "order de-allocated")
    if event.reason:
        why = f"{why}: {event.reason}"
    withdrawn = await withdraw_for_order(order_id, event.tenant_id, why, moved_only=meaning == "move")  # type: ignore[attr-defined]
    queued = await queue_for_order(order_id, event.tenant_id, event.id) if meaning == "move" else []  # type: ignore[attr-defined]
    return bool(withdrawn or queued)


async def _wms_warehouses(warehouse_ids: list[int]) -> dict[int, tuple[int, str, str]]:
    """warehouse id -> (connection id, connection code, warehouse code) for those run by an active WMS."""
    links = await WarehouseSystems.filter(warehouse_id__in=warehouse_ids, wms_id__isnull=False).values(
        "warehouse_id", "wms_id")
    if not links:
        return {}
    active = dict(await SystemConnection.filter(id__in=[link["wms_id"] for link in links], active=True)
                  .values_list("id", "code"))
    codes = dict(await Warehouse.filter(id__in=warehouse_ids).values_list("id", "code"))
    return {link["warehouse_id"]: (link["wms_id"], active[link["wms_id"]], codes[link["warehouse_id"]])
            for link in links if link["wms_id"] in active}


async def queue_for_order(order_id: int, tenant_id: int, event_id: int | None) -> list[DeliveryOrder]:
    """Create the missing delivery orders of an allocated order (call in a transaction); the new rows."""
    held = await Reservation.filter(order_id=order_id, status=ReservationStatus.ACTIVE,
                                    kind=ReservationKind.ORDER).values_list("warehouse_id", flat=True)
    by_warehouse = await _wms_warehouses(sorted(set(held)))
    if not by_warehouse:
        return []
    existing = await DeliveryOrder.filter(order_id=order_id).values("warehouse_id", "status", "code")
    now = datetime.now(UTC)
    created = []
    for warehouse_id, (connection_id, connection_code, warehouse_code) in sorted(by_warehouse.items()):
        mine = [row for row in existing if row["warehouse_id"] == warehouse_id]
        if any(row["status"] in LIVE for row in mine):
            continue
        taken = {row["code"] for row in mine}
        generation = 1
        while delivery_code(order_id, warehouse_code, generation) in taken:
            generation += 1
        row = await DeliveryOrder.create(
            tenant_id=tenant_id, order_id=order_id, warehouse_id=warehouse_id, connection_id=connection_id,
            code=delivery_code(order_id, warehouse_code, generation), status=PENDING, next_attempt_at=now,
            event_id=event_id)
        await _lineage(row, "wms.delivery_queued", f"delivery order {row.code} queued for {connection_code}",
                       {"code": row.code, "warehouse": warehouse_code, "wms": connection_code})
        created.append(row)
    return created


async def withdraw_for_order(order_id: int, tenant_id: int, why: str, *, moved_only: bool = False) -> list[DeliveryOrder]:
    """Withdraw the order's live delivery orders (only those whose lines moved away, or all); the rows changed."""
    rows = await DeliveryOrder.filter(order_id=order_id, status__in=WITHDRAWABLE).select_for_update().order_by("id")
    if moved_only:
        # A pushed delivery order lists the lines it was pushed with; once any moved, it is withdrawn and re-queued.
        # Never sent ones read the current lines when they go, so they stay.
        rows = [row for row in rows if not never_sent(row)]
    now = datetime.now(UTC)
    changed = []
    for row in rows:
        if never_sent(row):
            await DeliveryOrder.filter(id=row.id).update(status=CANCELLED, cancelled_at=now, last_error=why[:500])
            await _lineage(row, "wms.delivery_withdrawn", f"{row.code} withdrawn before it was sent: {why}",
                           {"code": row.code, "status": CANCELLED})
        else:
            await DeliveryOrder.filter(id=row.id).update(status=CANCEL_PENDING, next_attempt_at=now, last_error="")
            await _lineage(row, "wms.delivery_cancel_queued", f"order.cancel queued for {row.code}: {why}",
                           {"code": row.code, "status": CANCEL_PENDING, "was": row.status})
        changed.append(row)
    return changed


def never_sent(row: DeliveryOrder) -> bool:
    """No attempt was ever made and the WMS never answered: it cannot hold this code."""
    return row.status == PENDING and row.attempts == 0 and row.pushed_at is None and not row.wms_order_id


async def _lineage(row: DeliveryOrder, type: str, reason: str, after: dict[str, Any]) -> None:
    await log.append(tenant_id=row.tenant_id, order_id=row.order_id, type=type, actor=ACTOR,  # type: ignore[attr-defined]
                     source=SOURCE, reason=reason, after=after)
