"""The pick queue of a warehouse: urgent tiers first, then the promised ship-by time.

An entry is an order with unclaimed active reservations in that warehouse
(a split order has one entry per warehouse). Claiming an entry is one
conditional UPDATE on its reservations, so two pickers can never take the
same entry: the second finds nothing left to claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.expressions import Q, Subquery

from domain.actor import Actor, Role
from domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from domain.order_machine import MoveContext, check_transition
from domain.order_writes import lock_order, require_writer, save_with_event
from domain.snapshots import order_state
from domain.statuses import OrderStatus
from domain.unit_of_work import unit_of_work
from events import log
from models import Order, Reservation, Warehouse


@dataclass(frozen=True, slots=True)
class Tier:
    rank: int
    promise: timedelta
    label: str


#: Priority tiers as data: lower rank is picked first; ``promise`` sets the default ship-by.
TIERS: dict[str, Tier] = {
    "URGENT_4H": Tier(10, timedelta(hours=4), "ship within 4 hours"),
    "URGENT_24H": Tier(20, timedelta(hours=24), "ship within 24 hours"),
    "OEM_DIRECT": Tier(30, timedelta(hours=48), "OEM direct shipment"),
    "STANDARD": Tier(50, timedelta(hours=72), "standard"),
}
DEFAULT_TIER = "STANDARD"
#: Order statuses whose reservations wait in (or are being worked from) the queue.
QUEUED = (OrderStatus.ALLOCATED, OrderStatus.PICKING)
_PRE_SHIP = frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.DEPOSIT_PAID, OrderStatus.PAID, OrderStatus.ALLOCATED,
                       OrderStatus.PICKING, OrderStatus.PACKED, OrderStatus.ON_HOLD})
PICK_ROLES = frozenset({Role.ADMIN, Role.OPS, Role.WAREHOUSE, Role.SERVICE})


def default_ship_by(order: Order) -> datetime:
    return order.placed_at + TIERS.get(order.priority, TIERS[DEFAULT_TIER]).promise


async def set_priority(actor: Actor, order_id: int, tier: str, reason: str, ship_by: datetime | None = None) -> Order:
    """Change an order's tier (and ship-by); the queue re-orders and the lineage says who and why."""
    require_writer(actor)
    if tier not in TIERS:
        raise ValidationFailed(f"unknown priority tier {tier!r}; one of {', '.join(TIERS)}", field="tier")
    if not reason.strip():
        raise ValidationFailed("say why the priority changes", field="reason")
    if ship_by is not None and ship_by.tzinfo is None:
        raise ValidationFailed("ship-by needs a time zone", field="shipBy")
    async with unit_of_work():
        order = await lock_order(actor, order_id)
        if order.status not in _PRE_SHIP:
            raise Conflict(f"the order is {order.status}; its priority no longer matters", field="id")
        before = {"priority": order.priority, "ship_by": order.ship_by.isoformat() if order.ship_by else None}
        order.priority, order.priority_rank = tier, TIERS[tier].rank
        if ship_by is None:
            promised = datetime.now(UTC) + TIERS[tier].promise
            ship_by = min(order.ship_by, promised) if order.ship_by else promised
        order.ship_by = ship_by
        order.version += 1
        await order.save(update_fields=["priority", "priority_rank", "ship_by", "version", "updated_at"])
        await log.append(
            tenant_id=actor.tenant_id, order_id=order.id, type="order.priority_changed", actor=actor.name,
            source=actor.source, reason=reason, before=before,
            after={"priority": tier, "ship_by": ship_by.isoformat()},
        )
    return order


def waiting(tenant_id: int, warehouse_id: int):  # noqa: ANN202 - a Tortoise QuerySet of orders
    """Orders with unclaimed reservations in the warehouse, in queue order."""
    unclaimed = Reservation.filter(
        tenant_id=tenant_id, warehouse_id=warehouse_id, status="ACTIVE", kind="ORDER", picker__isnull=True
    ).values("order_id")
    return Order.filter(tenant_id=tenant_id, status__in=list(QUEUED), id__in=Subquery(unclaimed)).order_by("priority_rank", "ship_by", "id")


async def queue(tenant_id: int, warehouse_id: int, first: int, after: tuple[int, datetime, int] | None = None) -> tuple[list[Order], bool]:
    """One page of the queue (keyset on rank, ship-by, id) and whether more follow."""
    query = waiting(tenant_id, warehouse_id)
    if after is not None:
        rank, ship_by, pk = after
        query = query.filter(
            Q(priority_rank__gt=rank)
            | Q(priority_rank=rank, ship_by__gt=ship_by)
            | Q(priority_rank=rank, ship_by=ship_by, id__gt=pk)
        )
    rows = list(await query.limit(first + 1))
    return rows[:first], len(rows) > first


async def claim(actor: Actor, warehouse_id: int, order_id: int | None = None) -> Order:
    """Take an entry (the given order, or the head of the queue) for picking; the order moves to PICKING."""
    if actor.role not in PICK_ROLES:
        raise Forbidden(f"role {actor.role} may not pick")
    if not await Warehouse.exists(id=warehouse_id, tenant_id=actor.tenant_id):
        raise NotFound("no such warehouse", field="warehouseId")
    candidates = [order_id] if order_id is not None else [o.id for o in (await queue(actor.tenant_id, warehouse_id, 10))[0]]
    for candidate in candidates:
        async with unit_of_work():
            order = await _claim_locked(actor, candidate, warehouse_id)
            if order is not None:
                return order
    if order_id is not None:
        raise Conflict("the order has nothing left to pick in this warehouse (already claimed, or not allocated here)", field="orderId")
    raise NotFound("the pick queue is empty", field="warehouseId")


async def _claim_locked(actor: Actor, order_id: int, warehouse_id: int) -> Order | None:
    """Claim the order's reservations in the warehouse if nobody has; None if there is nothing to claim."""
    order = await lock_order(actor, order_id)
    if order.status not in QUEUED:
        return None
    claimed = await Reservation.filter(
        order_id=order.id, warehouse_id=warehouse_id, status="ACTIVE", kind="ORDER", picker__isnull=True
    ).update(picker=actor.name, pick_claimed_at=datetime.now(UTC))
    if not claimed:
        return None
    warehouse = await Warehouse.get(id=warehouse_id)
    before = order_state(order)
    if order.status == OrderStatus.ALLOCATED:
        check_transition(OrderStatus.ALLOCATED, OrderStatus.PICKING, MoveContext(actor.role, actor.source, ""))
        order.status = OrderStatus.PICKING
    await save_with_event(actor, order, before, "order.pick_claimed", f"picking in {warehouse.code} by {actor.name}")
    return order
