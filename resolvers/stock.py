"""Stock reads (levels, ledger, pick queue, allocation) and the stock mutations' glue to ``domain/``."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from strawberry.dataloader import DataLoader
from tortoise.expressions import Q

from domain.allocation import allocate, order_stock, pick_queue
from domain.allocation import policy as allocation_policy
from domain.stock import levels as stock
from domain.stock import returns
from domain.stock.low_stock import DEFAULT_FACTOR, threshold
from models import (
    Alert,
    AllocationDecision,
    AllocationPolicy,
    Order,
    Quarantine,
    Reservation,
    SkuStockPolicy,
    Stock,
    StockMovement,
)
from resolvers.context import Context
from resolvers.loaders import _grouped
from resolvers.orders import actor_of, pk_of
from resolvers.pagination import BadCursor, Page, check_page_size, keyset_page


class StockLoaders:
    """Per-request batches for what the order graph shows about stock, keyed by order id."""

    def __init__(self, tenant_id: int) -> None:
        def by_order(model: Any, *order_by: str) -> DataLoader[int, list[Any]]:
            async def load(ids: list[int]) -> list[list[Any]]:
                rows = await model.filter(tenant_id=tenant_id, order_id__in=ids).order_by(*order_by)
                return _grouped(rows, ids, "order_id")

            return DataLoader(load_fn=load)

        self.decisions = by_order(AllocationDecision, "id")
        self.reservations = by_order(Reservation, "id")
        self.movements = by_order(StockMovement, "id")


def stock_loaders(ctx: Context) -> StockLoaders:
    """Kept on the request's ``Loaders`` so they are renewed with them (per request, per subscription event)."""
    loaders = ctx.loaders
    found = getattr(loaders, "stock_area", None)
    if found is None:
        found = StockLoaders(actor_of(ctx).tenant_id)
        loaders.stock_area = found  # type: ignore[attr-defined]
    return found


# --- levels and ledger -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LevelRow:
    """A stock row with what its page needs besides the row: quarantine and the low-stock threshold."""

    stock: Stock
    quarantine: int
    threshold: int | None


async def _with_extras(tenant_id: int, rows: list[Stock]) -> list[LevelRow]:
    ids = [row.id for row in rows]
    quarantine = dict(await Quarantine.filter(stock_id__in=ids).values_list("stock_id", "quantity")) if ids else {}
    skus = {row.sku for row in rows}
    factors = dict(await SkuStockPolicy.filter(tenant_id=tenant_id, sku__in=skus).values_list("sku", "low_stock_factor")) if skus else {}
    return [LevelRow(row, quarantine.get(row.id, 0), threshold(row.safety, factors.get(row.sku, DEFAULT_FACTOR))) for row in rows]


async def levels_page(ctx: Context, sku: str | None, warehouse: str | None, low_only: bool, first: int, after: str | None) -> tuple[list[LevelRow], Page]:
    check_page_size(first, ctx.max_page_size)
    tenant_id = actor_of(ctx).tenant_id
    query = Stock.filter(tenant_id=tenant_id)
    if sku:
        query = query.filter(sku=sku.strip())
    if warehouse:
        query = query.filter(warehouse_id=pk_of(warehouse, "Warehouse"))
    if low_only:
        alerted = await _low_stock_ids(tenant_id)
        query = query.filter(id__in=alerted)
    page = await keyset_page(query, "id", descending=False, first=first, after=after)
    return await _with_extras(tenant_id, page.rows), page


async def _low_stock_ids(tenant_id: int) -> list[int]:
    """Rows with an open low-stock alert: the alert is the single source of "low"."""
    subjects = await Alert.filter(tenant_id=tenant_id, kind="low_stock", cleared_at__isnull=True).values_list("subject", flat=True)
    return [int(subject.split(":", 1)[1]) for subject in subjects]


async def level_of(ctx: Context, row: Stock) -> LevelRow:
    return (await _with_extras(actor_of(ctx).tenant_id, [row]))[0]


async def movements_page(ctx: Context, warehouse: str | None, sku: str | None, order: str | None, first: int, after: str | None) -> Page:
    check_page_size(first, ctx.max_page_size)
    query = StockMovement.filter(tenant_id=actor_of(ctx).tenant_id)
    if warehouse:
        query = query.filter(warehouse_id=pk_of(warehouse, "Warehouse"))
    if sku:
        query = query.filter(sku=sku.strip())
    if order:
        query = query.filter(order_id=pk_of(order, "Order"))
    return await keyset_page(query, "id", descending=True, first=first, after=after)


async def movements_of_stock(ctx: Context, stock_id: int, first: int, after: str | None) -> Page:
    """A page of one (warehouse, SKU)'s ledger, newest first (the stock row was read through the caller's tenant)."""
    check_page_size(first, ctx.max_page_size)
    return await keyset_page(StockMovement.filter(stock_id=stock_id), "id", descending=True, first=first, after=after)


# --- pick queue --------------------------------------------------------------------------------


def _queue_cursor(order: Order) -> str:
    raw = [order.priority_rank, order.ship_by.isoformat() if order.ship_by else None, order.id]
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode()


def _queue_after(cursor: str | None) -> tuple[int, datetime, int] | None:
    if not cursor:
        return None
    try:
        rank, ship_by, pk = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return int(rank), datetime.fromisoformat(ship_by), int(pk)
    except (ValueError, TypeError):
        raise BadCursor(f"{cursor!r} is not a pick-queue cursor") from None


@dataclass(frozen=True, slots=True)
class QueuePage:
    warehouse_id: int
    orders: list[Order]
    lines: dict[int, list[Reservation]]
    has_next: bool
    offset: int

    def cursor_of(self, order: Order) -> str:
        return _queue_cursor(order)


async def queue_page(ctx: Context, warehouse: str, first: int, after: str | None) -> QueuePage:
    check_page_size(first, ctx.max_page_size)
    actor = actor_of(ctx)
    warehouse_id = pk_of(warehouse, "Warehouse")
    await stock.warehouse_of(actor, warehouse_id, "warehouse")
    position = _queue_after(after)
    orders, has_next = await pick_queue.queue(actor.tenant_id, warehouse_id, first, position)
    rows = await Reservation.filter(
        order_id__in=[o.id for o in orders], warehouse_id=warehouse_id, status="ACTIVE", picker__isnull=True
    ).order_by("id")
    lines: dict[int, list[Reservation]] = {}
    for row in rows:
        lines.setdefault(row.order_id, []).append(row)  # type: ignore[attr-defined]
    offset = 0
    if position is not None:
        offset = await _position(actor.tenant_id, warehouse_id, position)
    return QueuePage(warehouse_id, orders, lines, has_next, offset)


async def _position(tenant_id: int, warehouse_id: int, after: tuple[int, datetime, int]) -> int:
    """How many entries come up to and including the cursor (so positions stay absolute across pages)."""
    rank, ship_by, pk = after
    return await pick_queue.waiting(tenant_id, warehouse_id).filter(
        Q(priority_rank__lt=rank) | Q(priority_rank=rank, ship_by__lt=ship_by) | Q(priority_rank=rank, ship_by=ship_by, id__lte=pk)
    ).count()


# --- policies ----------------------------------------------------------------------------------


async def policies(ctx: Context) -> list[AllocationPolicy]:
    return list(await AllocationPolicy.filter(tenant_id=actor_of(ctx).tenant_id).order_by("id").prefetch_related("channel"))


# --- mutations ---------------------------------------------------------------------------------


async def receive(ctx: Context, data: Any) -> Stock:
    return await stock.receive_stock(actor_of(ctx), pk_of(data.warehouse, "Warehouse"), data.sku, data.quantity,
                                     reason=data.reason or "", safety=data.safety)


async def adjust(ctx: Context, data: Any) -> Stock:
    return await stock.adjust_stock(actor_of(ctx), pk_of(data.warehouse, "Warehouse"), data.sku, data.delta, data.reason)


async def set_safety(ctx: Context, data: Any) -> Stock:
    return await stock.set_safety_stock(actor_of(ctx), pk_of(data.warehouse, "Warehouse"), data.sku, data.safety)


async def set_factor(ctx: Context, sku: str, factor: Decimal) -> SkuStockPolicy:
    return await stock.set_low_stock_factor(actor_of(ctx), sku, factor)


async def sync(ctx: Context, data: Any) -> list[stock.CountResult]:
    counts = [stock.CountLine(pk_of(c.warehouse, "Warehouse"), c.sku, c.on_hand, c.in_transit) for c in data.counts]
    return await stock.sync_counts(actor_of(ctx), counts, data.reason or "WMS count")


async def inspect(ctx: Context, data: Any) -> Stock:
    return await stock.inspect_quarantine(actor_of(ctx), pk_of(data.warehouse, "Warehouse"), data.sku,
                                          accepted=data.accepted, scrapped=data.scrapped, reason=data.reason or "")


async def return_item(ctx: Context, data: Any) -> Order:
    warehouse_id = pk_of(data.warehouse, "Warehouse") if data.warehouse else None
    return await returns.return_to_quarantine(actor_of(ctx), pk_of(data.line, "OrderLine"), data.quantity, data.reason,
                                              warehouse_id=warehouse_id)


async def allocate_by_policy(ctx: Context, order: str, reason: str) -> Order:
    return await allocate.allocate_order(actor_of(ctx), pk_of(order, "Order"), None, reason)


async def move_line(ctx: Context, line: str, warehouse: str, reason: str) -> Order:
    return await allocate.move_line(actor_of(ctx), pk_of(line, "OrderLine"), pk_of(warehouse, "Warehouse"), reason)


async def release(ctx: Context, reservation: str, reason: str) -> Order:
    return await order_stock.force_release(actor_of(ctx), pk_of(reservation, "Reservation"), reason)


async def prioritise(ctx: Context, order: str, tier: str, reason: str, ship_by: datetime | None) -> Order:
    return await pick_queue.set_priority(actor_of(ctx), pk_of(order, "Order"), tier, reason, ship_by)


async def claim(ctx: Context, warehouse: str, order: str | None) -> Order:
    return await pick_queue.claim(actor_of(ctx), pk_of(warehouse, "Warehouse"), pk_of(order, "Order") if order else None)


async def save_policy(ctx: Context, config: Any, channel: str | None) -> AllocationPolicy:
    row = await allocation_policy.save_policy(actor_of(ctx), config, channel)
    await row.fetch_related("channel")
    return row


async def allocate_backorders(ctx: Context, first: int) -> allocate.BackorderRun:
    return await allocate.allocate_backorders(actor_of(ctx), first)


async def expire_presale(ctx: Context) -> int:
    return await order_stock.expire_presale(actor_of(ctx))
