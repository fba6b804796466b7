"""An exchange's replacement: a new zero-priced order of the same channel and buyer, allocated like any paid order.

    replacement = await send_replacement(actor, sale, order)     # inside the caller's transaction

The replacement's external id is the original's with ``-EX1`` (``-EX2`` for the
next exchange of the same order); its lines are the returned lines' units, of
the replacement SKU the request named or else the same SKU, at price 0. It
is PAID at once and allocated through ``domain.allocation``, so its stock is
reserved the normal way; when no warehouse can fill it, it waits as a
backorder (decision stored, ``allocation_failed`` alert), as any paid order.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tortoise.transactions import in_transaction

from domain.actor import Actor
from domain.alerts.raising import raise_alert
from domain.allocation.allocate import ALLOCATION_FAILED, AllocationFailed, allocate_locked, record_decision
from domain.allocation.policy import policy_for
from domain.snapshots import order_state
from domain.statuses import OrderStatus
from events import log
from models import AfterSale, AfterSaleLine, Order, OrderLine, SealedContact
from models.order import order_no

_COPIED = ("ship_name", "ship_phone", "ship_province", "ship_city", "ship_district", "ship_address",
           "ship_postal_code", "ship_country_code", "ship_company", "contact_masked", "priority", "priority_rank")


async def _external_id(order: Order) -> str:
    """``<original>-EX<n>``: n counts this order's replacements so far (kept within 64 characters)."""
    sent = await Order.filter(tenant_id=order.tenant_id, channel_id=order.channel_id,  # type: ignore[attr-defined]
                              external_id__startswith=f"{order.external_id}-EX").count()
    suffix = f"-EX{sent + 1}"
    return order.external_id[: 64 - len(suffix)] + suffix


async def send_replacement(actor: Actor, sale: AfterSale, order: Order) -> tuple[Order, bool]:
    """Create and allocate the replacement order; (the order, whether it is reserved now)."""
    now = datetime.now(UTC)
    replacement = await Order.create(
        tenant_id=order.tenant_id, channel_id=order.channel_id, customer_id=order.customer_id,  # type: ignore[attr-defined]
        external_id=await _external_id(order), status=OrderStatus.PAID, currency=order.currency,
        total_amount=Decimal("0.00"), goods_total=Decimal("0.00"), paid_at=now, placed_at=now,
        **{name: getattr(order, name) for name in _COPIED},
    )
    sealed = await SealedContact.filter(order_id=order.id).first()
    if sealed is not None:
        await SealedContact.create(order_id=replacement.id, platform=sealed.platform, name_cipher=sealed.name_cipher,
                                   phone_cipher=sealed.phone_cipher, address_cipher=sealed.address_cipher,
                                   open_id=sealed.open_id)
    for line in await AfterSaleLine.filter(after_sale_id=sale.id).order_by("id").select_related("order_line"):
        original = line.order_line
        new_line = await OrderLine.create(order_id=replacement.id, sku=line.replacement_sku or original.sku,
                                          title=original.title if not line.replacement_sku else "",
                                          quantity=line.quantity, unit_price=Decimal("0.00"))
        line.replacement_line_id = new_line.id  # type: ignore[attr-defined]
        await line.save(update_fields=["replacement_line_id"])
    reason = f"replacement for {order_no(order.id)} (after-sale {sale.id})"
    await log.append(tenant_id=order.tenant_id, order_id=replacement.id, type="order.created",  # type: ignore[attr-defined]
                     actor=actor.name, source=actor.source, reason=reason,
                     after={**order_state(replacement), "total": "0.00", "exchange_for": order.id,
                            "after_sale_id": sale.id})
    return replacement, await _allocate(actor, replacement, reason)


async def _allocate(actor: Actor, replacement: Order, reason: str) -> bool:
    """Reserve the replacement by the tenant's allocation policy; a shortage leaves it a backorder, visibly."""
    try:
        async with in_transaction():  # a savepoint: a failed attempt leaves the paid replacement as it was
            await allocate_locked(actor, replacement, reason=reason)
        return True
    except AllocationFailed as failure:
        policy = await policy_for(replacement.tenant_id, replacement.channel_id)  # type: ignore[attr-defined]
        await record_decision(actor, replacement, failure.plan, policy)
        await raise_alert(tenant_id=replacement.tenant_id, order_id=replacement.id,  # type: ignore[attr-defined]
                          kind=ALLOCATION_FAILED, message=f"{reason}: {failure.message}",
                          details={"strategy": failure.plan.strategy}, actor=actor.name)
        await replacement.refresh_from_db()
        return False
