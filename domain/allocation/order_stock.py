"""How an order's life moves its stock: payment reserves, cancel releases, shipping consumes.

``domain.orders`` calls the hooks inside its own transactions (the order is
locked), so a status change and the stock it commits land together or not at
all. Also here: the operator's forced release and the deadline on pre-sale
(deposit) reservations.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from domain.actor import Actor
from domain.alerts.raising import clear_alerts, raise_alert
from domain.allocation.allocate import (
    ALLOCATION_FAILED,
    AllocationFailed,
    allocate_alone_possible,
    allocate_locked,
    effective_status,
    mark_allocated,
    place,
    presale_deadline,
    primary_warehouse,
    record_decision,
    unallocated_lines,
)
from domain.allocation.pick_queue import default_ship_by
from domain.allocation.policy import policy_for
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.order_writes import lock_order, require_writer, save_with_event
from domain.snapshots import order_state
from domain.statuses import OrderStatus
from domain.stock import reservations
from domain.stock.reservations import ReservationKind, ReservationStatus
from domain.unit_of_work import unit_of_work
from models import Order, Reservation

PRESALE_OVERDUE = "presale_balance_overdue"


async def on_payment(actor: Actor, order: Order) -> None:
    """The order just became PAID or DEPOSIT_PAID: convert pre-sale reservations, or allocate if the policy says so.

    A failed automatic allocation does not undo the payment: the order stays
    PAID, the failed decision is stored and one alert is raised for it.
    """
    if order.status == OrderStatus.PAID:
        converted = await reservations.convert_presale(actor, order)
        if converted and not await unallocated_lines(order):
            await mark_allocated(actor, order, "balance paid: pre-sale reservation kept")
            return
    policy = await policy_for(order.tenant_id, order.channel_id)  # type: ignore[attr-defined]
    if not policy.auto_allocate:
        return
    presale = order.status == OrderStatus.DEPOSIT_PAID
    try:
        if not presale and await allocate_alone_possible(order):
            # After the reservation only one statement (the decision with the move) runs before the commit, so
            # the hot stock rows are held that briefly; a refusal writes nothing, so no savepoint is needed.
            await allocate_locked(actor, order, reason="paid", members=[])
            return
        async with in_transaction():  # a savepoint: a failed attempt leaves the paid order as it was
            plan = await place(
                actor, order, policy=policy,
                kind=ReservationKind.PRESALE if presale else ReservationKind.ORDER,
                expires_at=presale_deadline(order, policy) if presale else None,
                reason="pre-sale deposit paid" if presale else "paid",
            )
    except AllocationFailed as failure:
        await record_decision(actor, order, failure.plan, policy)
        await raise_alert(
            tenant_id=order.tenant_id,  # type: ignore[attr-defined]
            order_id=order.id,
            kind=ALLOCATION_FAILED,
            message=failure.message,
            details={"strategy": failure.plan.strategy},
            actor=actor.name,
        )
        return
    if presale:
        before = order_state(order)
        order.warehouse_id = await primary_warehouse(order.id)  # type: ignore[attr-defined]
        await save_with_event(actor, order, before, "order.presale_reserved", plan.summary)
    else:
        await mark_allocated(actor, order, plan.summary)


async def on_created(actor: Actor, order: Order) -> None:
    if order.status in (OrderStatus.PAID, OrderStatus.DEPOSIT_PAID):
        await on_payment(actor, order)


async def on_transition(actor: Actor, order: Order, previous: OrderStatus) -> None:
    """Keep stock in step with a state-machine move the order just made."""
    target = OrderStatus(order.status)
    if target in (OrderStatus.PAID, OrderStatus.DEPOSIT_PAID) and previous in (OrderStatus.PENDING_PAYMENT, OrderStatus.DEPOSIT_PAID):
        await on_payment(actor, order)
    elif target == OrderStatus.PAID and previous == OrderStatus.ALLOCATED:
        await release_all(actor, order, "de-allocated")
    elif target == OrderStatus.ALLOCATED:
        await _reserve_for_manual_move(actor, order)
    elif target == OrderStatus.SHIPPED:  # a plain move says nothing about which part left: only the last one consumes
        await reservations.consume(actor, order, await _order_reservations(order), f"order {target}")


async def _reserve_for_manual_move(actor: Actor, order: Order) -> None:
    """A plain move to ALLOCATED still has to reserve (by the policy): there is no allocation without stock."""
    if not await unallocated_lines(order):
        return
    policy = await policy_for(order.tenant_id, order.channel_id)  # type: ignore[attr-defined]
    await place(actor, order, policy=policy, reason="moved to ALLOCATED")
    order.warehouse_id = await primary_warehouse(order.id)  # type: ignore[attr-defined]
    order.ship_by = order.ship_by or default_ship_by(order)
    await order.save(update_fields=["warehouse_id", "ship_by", "updated_at"])


async def _order_reservations(order: Order) -> list[Reservation]:
    return [r for r in await reservations.live_for_order(order.id) if r.kind == ReservationKind.ORDER]


async def release_all(actor: Actor, order: Order, reason: str) -> None:
    """Give back everything the order holds (cancel, de-allocation)."""
    await reservations.release(actor, order, await reservations.live_for_order(order.id), reason)
    await clear_alerts(tenant_id=order.tenant_id, order_id=order.id, kind=ALLOCATION_FAILED, actor=actor.name)  # type: ignore[attr-defined]


async def _unallocate(actor: Actor, order: Order, reason: str) -> None:
    """An ALLOCATED order lost a reservation: it is PAID again (a held one returns to PAID)."""
    before = order_state(order)
    if order.status == OrderStatus.ALLOCATED:
        order.status = OrderStatus.PAID
    elif order.status == OrderStatus.ON_HOLD and order.status_before_hold == OrderStatus.ALLOCATED:
        order.status_before_hold = OrderStatus.PAID
    else:
        return
    order.warehouse_id = await primary_warehouse(order.id)  # type: ignore[attr-defined]
    await save_with_event(actor, order, before, "order.status_changed", reason)


async def force_release(actor: Actor, reservation_id: int, reason: str) -> Order:
    """An operator takes stock back from an order line; the order drops back to PAID to be allocated again."""
    require_writer(actor)
    if not reason.strip():
        raise ValidationFailed("say why the reservation is released", field="reason")
    found = await Reservation.filter(id=reservation_id, tenant_id=actor.tenant_id).first()
    if found is None:
        raise NotFound("no such reservation", field="reservationId")
    async with unit_of_work():
        order = await lock_order(actor, found.order_id)  # type: ignore[attr-defined]
        row = await Reservation.get(id=found.id)
        if row.status != ReservationStatus.ACTIVE:
            raise Conflict(f"the reservation is {row.status}, nothing is reserved to release", field="reservationId")
        if row.picker or effective_status(order) in (OrderStatus.PICKING, OrderStatus.PACKED):
            raise Conflict("picking has started; the units are off the shelf", field="reservationId")
        await reservations.release(actor, order, [row], f"force-released: {reason}", type="stock.force_released")
        await _unallocate(actor, order, f"reservation of {row.sku} force-released: {reason}")
    return order


async def expire_presale(actor: Actor, now: datetime | None = None) -> int:
    """Release pre-sale reservations whose balance did not come by the deadline; returns how many orders lost theirs."""
    require_writer(actor)
    now = now or datetime.now(UTC)
    due = await Reservation.filter(
        tenant_id=actor.tenant_id, status=ReservationStatus.ACTIVE, kind=ReservationKind.PRESALE, expires_at__lt=now
    ).values_list("order_id", flat=True)
    expired = 0
    for order_id in sorted(set(due)):
        async with unit_of_work():
            order = await lock_order(actor, order_id)
            rows = [r for r in await reservations.live_for_order(order.id)
                    if r.kind == ReservationKind.PRESALE and r.expires_at and r.expires_at < now]
            if not rows:
                continue  # the balance came in meanwhile
            deadline = min(r.expires_at for r in rows if r.expires_at)
            why = f"deposit balance not paid by {deadline.isoformat()}"
            await reservations.release(actor, order, rows, why, type="stock.presale_expired")
            await raise_alert(tenant_id=actor.tenant_id, order_id=order.id, kind=PRESALE_OVERDUE,
                              message=f"Pre-sale reservation released: {why}", actor=actor.name)
            expired += 1
    return expired
