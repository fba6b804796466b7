"""Moving an order along the state machine, and cancelling it; stock follows in the same transaction.

    order = await transition_order(actor, order_id, OrderStatus.PICKING, reason="wave 7")
    order = await cancel_order(actor, order_id, "buyer asked")   # reservations released

A move the table does not allow raises ``IllegalTransition`` with nothing changed.
"""

from __future__ import annotations

from domain.actor import Actor
from domain.allocation import order_stock
from domain.errors import ValidationFailed
from domain.order_machine import MoveContext, check_transition
from domain.order_writes import lock_order, require_writer, save_with_event
from domain.orders.holds import hold_alert
from domain.snapshots import order_state
from domain.statuses import OrderStatus
from domain.unit_of_work import unit_of_work
from models import Order


async def transition_order(actor: Actor, order_id: int, target: OrderStatus, reason: str = "") -> Order:
    """Move an order along the state machine, or refuse with ``IllegalTransition``."""
    require_writer(actor)
    if target in (OrderStatus.ON_HOLD, OrderStatus.CANCELLED):
        raise ValidationFailed(f"use the {target.lower()} operation for {target}", field="status")
    async with unit_of_work():
        order = await lock_order(actor, order_id)
        check_transition(OrderStatus(order.status), target, MoveContext(actor.role, actor.source, reason))
        before = order_state(order)
        order.status = target
        await save_with_event(actor, order, before, "order.status_changed", reason)
        await order_stock.on_transition(actor, order, OrderStatus(before["status"]))
    return order


async def cancel_order(actor: Actor, order_id: int, reason: str) -> Order:
    """Cancel an order that has not shipped. A held order can be cancelled; its holds end."""
    require_writer(actor)
    async with unit_of_work():
        order = await lock_order(actor, order_id)
        status = OrderStatus(order.status)
        effective = OrderStatus(order.status_before_hold) if status == OrderStatus.ON_HOLD else status
        check_transition(effective, OrderStatus.CANCELLED, MoveContext(actor.role, actor.source, reason))
        before = order_state(order)
        order.status = OrderStatus.CANCELLED
        order.status_before_hold = None
        order.hold_reasons = []
        await save_with_event(actor, order, before, "order.cancelled", reason)
        await order_stock.release_all(actor, order, f"order cancelled: {reason}")
        if status == OrderStatus.ON_HOLD:
            await hold_alert(actor, order)  # its holds ended: so does their alert
    return order
