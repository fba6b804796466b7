"""Turning a first-seen channel order into the rows that record it — planned purely, written once or in bulk.

A channel order is materialised in the state the channel reports: it may be
first seen paid, shipped (with the channel's waybills), cancelled, held by
the platform or because the buyer asked to cancel, or as a deposit order
paid below its total. Everything the normalised order carries is kept:
the amount parts and pay time, the full address, per-line ids, the SKU as
the channel wrote it, sealed contacts apart from the order (see
``domain.intake.contact``). What would not fit a column exactly is refused
with the field named (:func:`check_storable`), never cut.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.inbound.normalized import InboundOrder, PayloadError
from domain.intake import buyer_requests
from domain.intake.amounts import amount_fields, amount_issues, check_amounts
from domain.intake.contact import address_digest, contact_fields, customer_of, sealed_of, sealed_row_values
from domain.intake.lookup import Aliases, resolve
from domain.intake.reading import CHANNEL_HOLD, Reading, base_status
from domain.intake.waybills import Waybill, check_waybills, waybills_of
from domain.order_machine import HOLDABLE
from domain.orders.create import NewCustomer
from domain.payments import presale
from domain.payments.kinds import PaymentKind
from domain.statuses import OrderStatus, PaymentStatus

#: Hold reasons about the content of a payload (not its codes) start with this.
CONTENT_HOLD = "intake: "
NO_SKU_HOLD = f"{CONTENT_HOLD}a line has no merchant SKU"


def check_storable(inbound: InboundOrder) -> None:
    """Refuse what the tables cannot hold exactly (a long id, a sub-cent amount) instead of cutting it."""
    if len(inbound.external_id) > 64:
        raise PayloadError("external id is longer than 64 characters", field="external_id")
    check_amounts(inbound)
    for index, line in enumerate(inbound.lines):
        if len(line.sku) > 64:
            raise PayloadError("SKU is longer than 64 characters", field=f"lines[{index}].sku")
        if len(line.external_line_id) > 64:
            raise PayloadError("line id is longer than 64 characters", field=f"lines[{index}].external_line_id")
        if line.quantity > 1_000_000:
            raise PayloadError(f"quantity {line.quantity} is implausible", field=f"lines[{index}].quantity")
    if inbound.currency and (len(inbound.currency) != 3 or not inbound.currency.isalpha()):
        raise PayloadError(f"currency {inbound.currency!r} is not a 3-letter code", field="currency")
    check_waybills(inbound)
    if inbound.sealed is not None:
        if len(inbound.sealed.platform) > 32:
            raise PayloadError("platform name is longer than 32 characters", field="sealed.platform")
        if len(inbound.sealed.open_id) > 128:
            raise PayloadError("open id is longer than 128 characters", field="sealed.open_id")


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()


def lines_digest(inbound: InboundOrder) -> str:
    """Fingerprint of what was ordered as the channel states it (SKU, quantity, price, total, currency), titles aside."""
    lines = sorted((line.sku, line.quantity, str(line.unit_price)) for line in inbound.lines)
    return _digest([lines, str(inbound.total_amount), inbound.currency])


def content_digest(inbound: InboundOrder) -> str:
    """Fingerprint of everything the normalised order says, in a stable order.

    Two deliveries with the same source time and the same digest are one
    delivery; the same time with another digest is a real change. The
    parser's ``issues`` are left out: they name payload paths, which differ
    between wrappings of the same order (webhook vs poller). Built from the
    frozen dataclasses' ``repr`` (every field, exact Decimal and datetime
    values): it runs for every order on the hot path.
    """
    parts: list[tuple[str, object]] = []
    for name in _CONTENT_FIELDS:
        value = getattr(inbound, name)
        if name in ("lines", "shipments"):
            value = sorted(map(repr, value))
        elif name in ("tags", "buyer_requests"):
            value = sorted(value)
        elif name == "extra_codes":
            value = sorted(value.items())
        elif name == "refunds":
            if not value:
                continue  # orders without refunds keep the fingerprints they had before refunds were read
            value = sorted(map(repr, value))
        parts.append((name, value))
    return hashlib.sha256(repr(parts).encode()).hexdigest()


_CONTENT_FIELDS = tuple(f.name for f in dataclasses.fields(InboundOrder) if f.name != "issues")


def line_rows(inbound: InboundOrder, aliases: Aliases) -> list[dict[str, Any]]:
    """The ``OrderLine`` columns of each line: the tenant's SKU, the channel's where an alias mapped it, the line id."""
    rows = []
    for line in inbound.lines:
        sku, channel_sku = resolve(line.sku, aliases)
        rows.append({"sku": sku, "channel_sku": channel_sku, "title": line.title[:200], "quantity": line.quantity,
                     "unit_price": line.unit_price, "external_line_id": line.external_line_id})
    return rows


def content_holds(inbound: InboundOrder) -> list[str]:
    """Holds the payload's content calls for: a line without SKU, a buyer's open request."""
    holds = [NO_SKU_HOLD] if any(not line.sku for line in inbound.lines) else []
    return holds + buyer_requests.hold_reasons(inbound)


def is_content_hold(reason: str) -> bool:
    """A hold reason placed (and lifted) on the content's behalf."""
    return reason.startswith(CONTENT_HOLD) or buyer_requests.is_managed(reason)


@dataclass(slots=True)
class PaymentPlan:
    gateway: str
    reference: str
    amount: Decimal
    status: PaymentStatus
    paid_at: datetime | None = None
    kind: str = PaymentKind.PAYMENT.value


def payment_plan(inbound: InboundOrder, reading: Reading, source: str) -> PaymentPlan | None:
    """A payment row when the channel says money moved: the amount paid is the channel's, paid when it says.

    In a pre-sale's deposit phase it is the ``deposit`` payment, written only when
    the channel states the amount paid (``domain.payments.presale``).
    """
    stage = presale.channel_stage(reading.forward, reading.payment)
    if stage in (None, PaymentStatus.PENDING):
        return None
    deposit = presale.deposit_phase(reading.forward)
    if deposit and inbound.paid_amount is None:
        return None
    amount = inbound.paid_amount if inbound.paid_amount is not None else inbound.total_amount
    return PaymentPlan(
        gateway=(inbound.payment_gateway or source)[:32],
        reference=inbound.payment_reference[:64],
        amount=amount,
        status=stage,  # type: ignore[arg-type]
        paid_at=inbound.paid_at,
        kind=presale.first_kind(reading.forward).value,
    )


@dataclass(slots=True)
class OrderPlan:
    """Everything a first-seen order becomes, computed before any write."""

    external_id: str
    status: OrderStatus
    status_before_hold: OrderStatus | None
    hold_reasons: list[str]
    order_fields: dict[str, Any]
    lines: list[dict[str, Any]]
    tags: list[str]
    customer: NewCustomer | None
    payment: PaymentPlan | None
    state: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    alerts: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)
    sealed: dict[str, str] | None = None
    waybills: list[Waybill] = field(default_factory=list)


def plan_new_order(
    inbound: InboundOrder, reading: Reading, *, channel_id: int, source: str, payload_sha256: str, received_at: datetime,
    aliases: Aliases | None = None,
) -> OrderPlan:
    """The rows, status and alerts for an order the channel reports for the first time."""
    notes: list[str] = []
    base = base_status(reading)
    holds = reading.channel_holds()
    if any(not line.sku for line in inbound.lines):
        holds.append(NO_SKU_HOLD)
    if base in HOLDABLE:  # a shipped order cannot be held: its alert says to intercept instead
        holds += buyer_requests.hold_reasons(inbound)
    if reading.forward is None and reading.payment in (PaymentStatus.REFUNDED, PaymentStatus.VOIDED) and not reading.cancelled:
        holds.append(f"{CHANNEL_HOLD}payment {reading.payment} with no order status")
    if reading.cancelled:
        status, before_hold, holds = OrderStatus.CANCELLED, None, []
    elif holds:
        status, before_hold = OrderStatus.ON_HOLD, base
    else:
        status, before_hold = base, None
    fields = {
        "external_id": inbound.external_id,
        "currency": (inbound.currency or "").upper(),
        **amount_fields(inbound),
        "placed_at": inbound.placed_at or inbound.updated_at or received_at,
        "source_updated_at": inbound.updated_at,
        **contact_fields(inbound, notes),
    }
    tags = sorted({tag.strip()[:64] for tag in inbound.tags if tag.strip()})
    sealed = sealed_of(inbound)
    plan = OrderPlan(
        external_id=inbound.external_id,
        status=status,
        status_before_hold=before_hold,
        hold_reasons=holds,
        order_fields=fields,
        lines=line_rows(inbound, aliases or {}),
        tags=tags,
        customer=customer_of(inbound, notes),
        payment=payment_plan(inbound, reading, source),
        state=state_values(inbound, reading, payload_sha256),
        notes=notes,
        sealed=sealed_row_values(sealed) if sealed is not None else None,
        waybills=waybills_of(inbound),
    )
    plan.alerts = creation_alerts(inbound, reading, notes, OrderStatus.CANCELLED if reading.cancelled else base)
    return plan


def state_values(inbound: InboundOrder, reading: Reading, payload_sha256: str) -> dict[str, Any]:
    """The ``ChannelOrderState`` columns: what the channel said, raw and mapped, and its fingerprints."""
    return {
        "source": inbound.source[:64],
        "status_code": inbound.status_code[:64],
        "extra_codes": dict(inbound.extra_codes),
        "mapped": {"labels": reading.labels, "versions": reading.versions},
        "unmapped": list(reading.unmapped),
        "after_sale": dict(reading.after_sale),
        "lines_digest": lines_digest(inbound),
        "address_digest": address_digest(inbound),
        "content_digest": content_digest(inbound),
        "source_updated_at": inbound.updated_at,
        "payload_sha256": payload_sha256,
    }


def creation_alerts(
    inbound: InboundOrder, reading: Reading, notes: list[str], status: OrderStatus
) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(kind, severity, message, details) for what a person must look at on a new order."""
    alerts: list[tuple[str, str, str, dict[str, Any]]] = []
    if reading.unmapped:
        alerts.append(unmapped_alert(reading))
    issues = list(inbound.issues) + notes + amount_issues(inbound, reading)
    if issues:
        alerts.append(("intake.payload_issues", "warning", "the channel payload has problems: " + "; ".join(issues),
                       {"issues": issues}))
    open_after_sale = open_after_sales(reading.after_sale)
    if open_after_sale:
        alerts.append(after_sale_alert(open_after_sale))
    request = buyer_requests.alert_for(inbound, status)
    if request is not None:
        alerts.append(request)
    return alerts


def unmapped_alert(reading: Reading) -> tuple[str, str, str, dict[str, Any]]:
    codes = ", ".join(reading.unmapped)
    return ("intake.unmapped_code", "warning",
            f"no mapping for {codes}: the order is kept and held, nothing was guessed; map the code to release it",
            {"codes": list(reading.unmapped)})


OPEN_AFTER_SALE = frozenset({"REQUESTED", "APPROVED", "AWAITING_RETURN", "RECEIVED"})


def open_after_sales(after_sale: dict[str, str]) -> dict[str, str]:
    return {key: status for key, status in after_sale.items() if status in OPEN_AFTER_SALE}


def after_sale_alert(open_items: dict[str, str]) -> tuple[str, str, str, dict[str, Any]]:
    listed = ", ".join(f"{key} {status}" for key, status in sorted(open_items.items()))
    return ("after_sale.open", "warning", f"the channel reports an open after-sale: {listed}", {"after_sale": open_items})
