"""Writing one order inside a use case: who may, the row lock, the save that leaves lineage.

    async with unit_of_work():
        order = await lock_order(actor, order_id)      # FOR UPDATE, tenant-scoped
        before = order_state(order)
        order.priority = 2
        await save_with_event(actor, order, before, "order.priority_set", reason)

Every capability that changes an order (allocation, holds, shipping, returns,
intake) builds on these three, so they live in the kernel, below all of them.
"""

from __future__ import annotations

from domain.actor import Actor
from domain.errors import Forbidden, NotFound
from domain.snapshots import order_state
from events import log
from models import Order


def require_writer(actor: Actor) -> None:
    if not actor.may_write:
        raise Forbidden(f"role {actor.role} may not change orders")


async def lock_order(actor: Actor, order_id: int) -> Order:
    """Load an order of the caller's tenant FOR UPDATE (inside a transaction)."""
    order = await Order.filter(id=order_id, tenant_id=actor.tenant_id).select_for_update().first()
    if order is None:
        raise NotFound("no such order", field="id")
    return order


async def save_with_event(actor: Actor, order: Order, before: dict, type: str, reason: str) -> None:
    order.version += 1
    await order.save()
    await log.append(
        tenant_id=actor.tenant_id,
        order_id=order.id,
        type=type,
        actor=actor.name,
        source=actor.source,
        reason=reason,
        before=before,
        after=order_state(order),
    )
