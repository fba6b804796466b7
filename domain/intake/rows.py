"""The rows a planned first-seen order becomes, built once for both writers (a webhook's and a file import's).

``apply.insert_order`` writes one order, ``bulk_import`` a batch; both take
these rows to ``fast_insert.insert_all`` so a new column or row kind reaches
both paths at once, in their one round trip.
"""

from __future__ import annotations

from typing import Any

from tortoise.models import Model

from domain.actor import Actor
from domain.alerts.raising import raise_alert
from domain.intake.plan import OrderPlan
from domain.intake.waybills import lineage_row, shipment_row
from domain.payments.references import normalize
from domain.snapshots import order_state
from models import ChannelOrderState, Order, OrderEvent, OrderLine, OrderTag, Payment, SealedContact


def created_after(order: Order, plan: OrderPlan, via: str = "") -> dict[str, Any]:
    """The ``order.created`` lineage picture (no personal data: lineage is readable by every role).

    ``via``: the path that brought the order (webhook, poller, announced, import), when known.
    """
    picture: dict[str, Any] = {
        **order_state(order),
        "lines": len(plan.lines),
        "total": str(plan.order_fields["total_amount"]),
        "status_code": plan.state["status_code"],
        "extra_codes": plan.state["extra_codes"],
        "mapped": plan.state["mapped"]["labels"],
        "unmapped": plan.state["unmapped"],
        "payment": plan.payment.status.value if plan.payment else None,
        "waybills": [f"{waybill.carrier} {waybill.tracking_no}" for waybill in plan.waybills],
        "sealed_contact": plan.sealed is not None,
    }
    if via:
        picture["via"] = via
    return picture


def plan_rows(actor: Actor, order: Order, order_id: int, plan: OrderPlan, *, payload_ref: str | None,
              reason: str, via: str = "") -> list[Model]:
    """Lines, tags, payment, channel state, sealed contact, waybills and their lineage for order ``order_id``."""
    rows: list[Model] = [OrderLine(order_id=order_id, **line) for line in plan.lines]
    rows += [OrderTag(order_id=order_id, tag=tag) for tag in plan.tags]
    if plan.payment:
        rows.append(Payment(order_id=order_id, gateway=plan.payment.gateway, reference=plan.payment.reference,
                            normalized_reference=normalize(plan.payment.reference, plan.payment.gateway),
                            kind=plan.payment.kind, amount=plan.payment.amount, currency=order.currency or "CNY",
                            status=plan.payment.status, paid_at=plan.payment.paid_at))
    rows.append(ChannelOrderState(order_id=order_id, tenant_id=actor.tenant_id, **plan.state))
    if plan.sealed is not None:
        rows.append(SealedContact(order_id=order_id, **plan.sealed))
    rows += [shipment_row(order_id, waybill) for waybill in plan.waybills]
    # Lineage rows as events.log.append writes them, in the same round trip as the rest.
    rows.append(OrderEvent(tenant_id=actor.tenant_id, order_id=order_id, type="order.created", actor=actor.name,
                           source=actor.source, reason=reason[:500], before=None, after=created_after(order, plan, via),
                           payload_ref=payload_ref))
    rows += [lineage_row(actor, order_id, waybill, payload_ref) for waybill in plan.waybills]
    return rows


async def raise_plan_alerts(actor: Actor, order_id: int, plan: OrderPlan) -> None:
    for kind, severity, message, details in plan.alerts:
        await raise_alert(tenant_id=actor.tenant_id, order_id=order_id, kind=kind, severity=severity,
                          message=message, details=details, actor=actor.name, source=actor.source)
