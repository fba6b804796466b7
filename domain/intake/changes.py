"""What a channel update may change on a known order besides its status: contact, lines, amounts, the buyer's email.

The rules, each visible in lineage (field names only: lineage is readable by
roles that may not see personal data):

- the receiver (clear fields, the platform's masked forms, sealed contact)
  follows the channel until the parcel leaves; after that a change needs a
  person (critical alert, nothing applied). A blank value in the update
  never erases what we hold (a source that does not state a field is not
  clearing it), and filling in what we did not have is not a change;
- lines and total follow the channel only before payment; afterwards stock
  may be committed, so a person decides;
- the amount parts and the pay time are what the channel states, kept in
  step whenever the total is the one we hold;
- a returning buyer's email fills an empty one, never replaces one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from tortoise.expressions import Q

from domain.actor import Actor
from domain.alerts.raising import raise_alert
from domain.inbound.normalized import InboundOrder
from domain.intake.amounts import stated_parts
from domain.intake.contact import address_digest, contact_fields, customer_of, sealed_of, sealed_row_values
from domain.intake.lookup import Aliases
from domain.intake.plan import line_rows, lines_digest
from domain.statuses import OrderStatus
from events import log
from models import ChannelOrderState, Customer, Order, OrderLine, SealedContact

O = OrderStatus
SHIPPED_OR_LATER = frozenset({O.PARTIALLY_SHIPPED, O.SHIPPED, O.DELIVERED, O.COMPLETED})


@dataclass(slots=True)
class Sync:
    """What one update changed or refused, for the summary lineage row."""

    changes: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def effective_status(order: Order) -> OrderStatus:
    """The status an order has under its hold, if held."""
    if order.status == O.ON_HOLD and order.status_before_hold:
        return OrderStatus(order.status_before_hold)
    return OrderStatus(order.status)


def _stated(value: Any) -> bool:
    return value not in ("", None, {})


async def sync_contact(
    actor: Actor, order: Order, state: ChannelOrderState | None, inbound: InboundOrder, sync: Sync, ref: str | None
) -> None:
    """A receiver change applies until the parcel leaves; after that it needs a person."""
    if state is None or state.address_digest == address_digest(inbound):
        return
    wanted = contact_fields(inbound, [])
    changed = sorted(name for name, value in wanted.items() if _stated(value) and getattr(order, name) != value)
    if not changed:
        return
    replaced = [name for name in changed if _stated(getattr(order, name))]
    effective = effective_status(order)
    if replaced and (effective in SHIPPED_OR_LATER or effective == O.CANCELLED):
        await raise_alert(
            tenant_id=actor.tenant_id, order_id=order.id, kind="intake.address_changed_after_shipping",
            severity="critical", message=f"the channel changed the delivery address ({', '.join(replaced)}) "
                                         f"but the order is {effective}: contact the carrier",
            details={"fields": replaced}, actor=actor.name, source=actor.source,
        )
        sync.kept.append(f"address change not applied ({effective})")
        return
    for name in changed:
        setattr(order, name, wanted[name])
    order.version += 1
    await order.save(update_fields=[*changed, "version", "updated_at"])
    sealed = sealed_of(inbound)
    if sealed is not None:
        await SealedContact.update_or_create(defaults=sealed_row_values(sealed), order_id=order.id)
    await log.append(tenant_id=actor.tenant_id, order_id=order.id, type="order.address_changed", actor=actor.name,
                     source=actor.source, reason="the channel reports a new delivery address",
                     after={"fields": changed}, payload_ref=ref)
    sync.changes.append(f"address changed ({', '.join(changed)})")


def _line_key(sku: str, quantity: int, price: Decimal) -> tuple[str, int, str]:
    return sku, quantity, str(price)


async def sync_lines(
    actor: Actor, order: Order, state: ChannelOrderState | None, inbound: InboundOrder, sync: Sync, ref: str | None,
    aliases: Aliases,
) -> None:
    """Lines and total follow the channel only before payment (compared as the channel names its SKUs)."""
    if state is None or state.lines_digest == lines_digest(inbound):
        return
    stored = await OrderLine.filter(order_id=order.id).order_by("id")
    before = [_line_key(line.channel_sku or line.sku, line.quantity, line.unit_price) for line in stored]
    after = [_line_key(line.sku, line.quantity, line.unit_price) for line in inbound.lines]
    if sorted(before) == sorted(after) and order.total_amount == inbound.total_amount:
        return
    if order.status in (O.PENDING_PAYMENT, O.DEPOSIT_PAID):
        await OrderLine.filter(order_id=order.id).delete()
        await OrderLine.bulk_create([OrderLine(order_id=order.id, **row) for row in line_rows(inbound, aliases)])
        old_total = order.total_amount
        order.total_amount = inbound.total_amount
        order.version += 1
        await order.save(update_fields=["total_amount", "version", "updated_at"])
        await log.append(tenant_id=actor.tenant_id, order_id=order.id, type="order.lines_changed", actor=actor.name,
                         source=actor.source, reason="the channel changed the order before payment",
                         before={"lines": before, "total": str(old_total)},
                         after={"lines": after, "total": str(inbound.total_amount)}, payload_ref=ref)
        sync.changes.append("lines changed")
        return
    await raise_alert(
        tenant_id=actor.tenant_id, order_id=order.id, kind="intake.lines_changed", severity="warning",
        message=f"the channel changed the lines or total of a {order.status} order; not applied, please review",
        details={"ours": before, "channel": after, "channel_total": str(inbound.total_amount)},
        actor=actor.name, source=actor.source,
    )
    sync.kept.append("line change not applied")


def _text(value: Decimal | datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime) else str(value)


async def sync_amounts(actor: Actor, order: Order, inbound: InboundOrder, sync: Sync, ref: str | None) -> None:
    """The amount parts (when the total is the one we hold) and the pay time, as the channel states them."""
    updates: dict[str, Any] = {}
    if order.total_amount == inbound.total_amount:
        updates = {name: value for name, value in stated_parts(inbound).items() if getattr(order, name) != value}
    if inbound.paid_at is not None and order.paid_at != inbound.paid_at:
        updates["paid_at"] = inbound.paid_at
    if not updates:
        return
    before = {name: _text(getattr(order, name)) for name in updates}
    for name, value in updates.items():
        setattr(order, name, value)
    order.version += 1
    await order.save(update_fields=[*updates, "version", "updated_at"])
    await log.append(tenant_id=actor.tenant_id, order_id=order.id, type="order.amounts_reported", actor=actor.name,
                     source=actor.source, reason="the channel states the amount parts or the pay time",
                     before=before, after={name: _text(value) for name, value in updates.items()}, payload_ref=ref)
    sync.changes.append(f"amounts reported ({', '.join(sorted(updates))})")


async def sync_customer_email(order: Order, inbound: InboundOrder) -> None:
    """A clear email fills the order's customer's empty one."""
    if order.customer_id is None or not inbound.customer_email:  # type: ignore[attr-defined]
        return
    buyer = customer_of(inbound, [])
    if buyer is None or not buyer.email:
        return
    await Customer.filter(id=order.customer_id).filter(Q(email__isnull=True) | Q(email="")).update(email=buyer.email)  # type: ignore[attr-defined]
