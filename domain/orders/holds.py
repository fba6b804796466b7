"""Holding an order for one or more reasons, and lifting them; the last one lifted restores its status.

    await hold_order(actor, order_id, ["address check", "fraud review"])
    await release_hold(actor, order_id, ["address check"])   # still held for fraud review

A held order is on the exception board: holding raises an ``order.held``
alert listing the reasons (kept current as reasons come and go), and lifting
the last reason clears it, all in the same transaction.
"""

from __future__ import annotations

from domain.actor import Actor
from domain.alerts.kinds import AlertKind
from domain.alerts.raising import clear_alerts, raise_alert
from domain.errors import IllegalTransition, ValidationFailed
from domain.order_machine import HOLDABLE
from domain.order_writes import lock_order, require_writer, save_with_event
from domain.snapshots import order_state
from domain.statuses import OrderStatus
from domain.unit_of_work import unit_of_work
from models import Order
from models.order import order_no


def _clean_reasons(reasons: list[str]) -> list[str]:
    cleaned = [reason.strip() for reason in reasons if reason.strip()]
    if not cleaned:
        raise ValidationFailed("give at least one non-empty hold reason", field="reasons")
    return cleaned


async def hold_order(actor: Actor, order_id: int, reasons: list[str]) -> Order:
    """Put an order on hold (or add reasons to an existing hold)."""
    require_writer(actor)
    new_reasons = _clean_reasons(reasons)
    async with unit_of_work():
        order = await lock_order(actor, order_id)
        status = OrderStatus(order.status)
        if status != OrderStatus.ON_HOLD and status not in HOLDABLE:
            raise IllegalTransition(status, OrderStatus.ON_HOLD, "only orders not yet shipped can be held")
        before = order_state(order)
        if status != OrderStatus.ON_HOLD:
            order.status_before_hold = status
            order.status = OrderStatus.ON_HOLD
        current = list(order.hold_reasons or [])
        order.hold_reasons = current + [reason for reason in new_reasons if reason not in current]
        await save_with_event(actor, order, before, "order.hold_added", "; ".join(new_reasons))
        await hold_alert(actor, order)
    return order


async def release_hold(actor: Actor, order_id: int, reasons: list[str] | None = None, *, reason: str = "") -> Order:
    """Lift some hold reasons (all if ``reasons`` is None); the last one restores the status.

    ``reason`` is why a person lifted it (the lineage records it next to the lifted holds); automatic
    releases (rules, intake) may leave it empty.
    """
    require_writer(actor)
    async with unit_of_work():
        order = await lock_order(actor, order_id)
        if order.status != OrderStatus.ON_HOLD:
            raise ValidationFailed("the order is not on hold", field="id")
        current = list(order.hold_reasons or [])
        lifting = current if reasons is None else _clean_reasons(reasons)
        unknown = [reason for reason in lifting if reason not in current]
        if unknown:
            raise ValidationFailed(f"the order is not held for: {', '.join(unknown)}", field="reasons")
        before = order_state(order)
        order.hold_reasons = [reason for reason in current if reason not in lifting]
        if not order.hold_reasons:
            order.status = order.status_before_hold or OrderStatus.PAID
            order.status_before_hold = None
        why = reason.strip()
        lifted = "; ".join(lifting)
        await save_with_event(actor, order, before, "order.hold_released", f"{why} (lifted: {lifted})" if why else lifted)
        await hold_alert(actor, order)
    return order


async def hold_alert(actor: Actor, order: Order) -> None:
    """Bring the order's ``order.held`` alert in line with its hold reasons (call in the changing transaction)."""
    reasons = list(order.hold_reasons or []) if order.status == OrderStatus.ON_HOLD else []
    if not reasons:
        await clear_alerts(tenant_id=actor.tenant_id, order_id=order.id, kind=AlertKind.ORDER_HELD, actor=actor.name,
                           reason="the hold was released")
        return
    await raise_alert(
        tenant_id=actor.tenant_id, order_id=order.id, kind=AlertKind.ORDER_HELD, severity="warning",
        message=f"Order {order_no(order.id)} is on hold: {'; '.join(reasons)}",
        details={"reasons": reasons}, actor=actor.name, source=actor.source,
        channel_id=order.channel_id, warehouse_id=order.warehouse_id,  # type: ignore[attr-defined]
    )
