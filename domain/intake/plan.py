"""Turning a first-seen channel order into the rows that record it — planned purely, written once or in bulk.

A channel order is materialised in the state the channel reports: it may be
first seen paid, shipped, cancelled, held by the platform, or paid below its
total after a platform subsidy. Personal data that arrives masked or as
platform ciphertext is stored as given but never used to match a customer.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.inbound.normalized import InboundAddress, InboundOrder, PayloadError
from domain.intake.reading import CHANNEL_HOLD, Reading, base_status
from domain.orders.create import NewCustomer
from domain.statuses import OrderStatus, PaymentStatus

#: Hold reasons about the content of a payload (not its codes) start with this.
CONTENT_HOLD = "intake: "
NO_SKU_HOLD = f"{CONTENT_HOLD}a line has no merchant SKU"
PII_TAGS = frozenset({"pii:masked", "pii:ciphertext"})
_MAX_AMOUNT = Decimal("999999999999.99")


def check_storable(inbound: InboundOrder) -> None:
    """Refuse what the tables cannot hold exactly (a long id, a sub-cent amount) instead of cutting it."""
    if len(inbound.external_id) > 64:
        raise PayloadError("external id is longer than 64 characters", field="external_id")
    amounts = [("total_amount", inbound.total_amount), ("paid_amount", inbound.paid_amount)]
    amounts += [(f"lines[{i}].unit_price", line.unit_price) for i, line in enumerate(inbound.lines)]
    for name, amount in amounts:
        if amount is None:
            continue
        if amount.as_tuple().exponent < -2 and amount != amount.quantize(Decimal("0.01")):  # type: ignore[operator]
            raise PayloadError(f"amount {amount} has more than 2 decimal places", field=name)
        if amount > _MAX_AMOUNT:
            raise PayloadError(f"amount {amount} is too large", field=name)
    for index, line in enumerate(inbound.lines):
        if len(line.sku) > 64:
            raise PayloadError("SKU is longer than 64 characters", field=f"lines[{index}].sku")
        if line.quantity > 1_000_000:
            raise PayloadError(f"quantity {line.quantity} is implausible", field=f"lines[{index}].quantity")
    if inbound.currency and (len(inbound.currency) != 3 or not inbound.currency.isalpha()):
        raise PayloadError(f"currency {inbound.currency!r} is not a 3-letter code", field="currency")


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()


def lines_digest(inbound: InboundOrder) -> str:
    """Fingerprint of what was ordered (SKU, quantity, price, total, currency), titles aside."""
    lines = sorted((line.sku, line.quantity, str(line.unit_price)) for line in inbound.lines)
    return _digest([lines, str(inbound.total_amount), inbound.currency])


def address_digest(address: InboundAddress) -> str:
    return _digest([address.name, address.phone, address.province, address.city, address.district,
                    address.street, address.address, address.postal_code, address.country_code])


def _fit(value: str, size: int, notes: list[str], what: str) -> str:
    """A value that fits its column; an over-long ciphertext is left out (the raw payload keeps it)."""
    if len(value) <= size:
        return value
    notes.append(f"{what} longer than {size} characters: kept only in the raw payload")
    return ""


def address_fields(address: InboundAddress, notes: list[str]) -> dict[str, str]:
    street_line = address.address
    if address.street and address.street not in street_line:
        street_line = f"{address.street} {street_line}".strip()
    return {
        "ship_name": _fit(address.name, 100, notes, "receiver name"),
        "ship_phone": _fit(address.phone, 32, notes, "receiver phone"),
        "ship_province": _fit(address.province, 50, notes, "province"),
        "ship_city": _fit(address.city, 50, notes, "city"),
        "ship_district": _fit(address.district, 50, notes, "district"),
        "ship_address": _fit(street_line, 300, notes, "street address"),
    }


def customer_of(inbound: InboundOrder) -> NewCustomer | None:
    """The buyer to match or create, only when the contact is in clear (masked values would merge strangers)."""
    if PII_TAGS & set(inbound.tags):
        return None
    phone = inbound.customer_phone.strip()
    if len(phone) > 32:
        phone = ""
    name = inbound.customer_name.strip()[:100]
    if not (phone or name):
        return None
    return NewCustomer(name=name, phone=phone or None)


def content_holds(inbound: InboundOrder) -> list[str]:
    return [NO_SKU_HOLD] if any(not line.sku for line in inbound.lines) else []


@dataclass(slots=True)
class PaymentPlan:
    gateway: str
    reference: str
    amount: Decimal
    status: PaymentStatus


def payment_plan(inbound: InboundOrder, reading: Reading, source: str) -> PaymentPlan | None:
    """A payment row when the channel says money moved; the amount paid is the channel's, not the total."""
    if reading.payment in (None, PaymentStatus.PENDING):
        return None
    amount = inbound.paid_amount if inbound.paid_amount is not None else inbound.total_amount
    return PaymentPlan(
        gateway=(inbound.payment_gateway or source)[:32],
        reference=inbound.payment_reference[:64],
        amount=amount,
        status=reading.payment,  # type: ignore[arg-type]
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


def plan_new_order(
    inbound: InboundOrder, reading: Reading, *, channel_id: int, source: str, payload_sha256: str, received_at: datetime
) -> OrderPlan:
    """The rows, status and alerts for an order the channel reports for the first time."""
    notes: list[str] = []
    holds = reading.channel_holds() + content_holds(inbound)
    base = base_status(reading)
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
        "total_amount": inbound.total_amount,
        "placed_at": inbound.placed_at or inbound.updated_at or received_at,
        "source_updated_at": inbound.updated_at,
        **address_fields(inbound.address, notes),
    }
    lines = [
        {"sku": line.sku, "title": line.title[:200], "quantity": line.quantity, "unit_price": line.unit_price}
        for line in inbound.lines
    ]
    tags = sorted({tag.strip()[:64] for tag in inbound.tags if tag.strip()})
    state = {
        "source": inbound.source[:64],
        "status_code": inbound.status_code[:64],
        "extra_codes": dict(inbound.extra_codes),
        "mapped": {"labels": reading.labels, "versions": reading.versions},
        "unmapped": list(reading.unmapped),
        "after_sale": dict(reading.after_sale),
        "lines_digest": lines_digest(inbound),
        "address_digest": address_digest(inbound.address),
        "source_updated_at": inbound.updated_at,
        "payload_sha256": payload_sha256,
    }
    plan = OrderPlan(
        external_id=inbound.external_id,
        status=status,
        status_before_hold=before_hold,
        hold_reasons=holds,
        order_fields=fields,
        lines=lines,
        tags=tags,
        customer=customer_of(inbound),
        payment=payment_plan(inbound, reading, source),
        state=state,
        notes=notes,
    )
    plan.alerts = creation_alerts(inbound, reading, notes)
    return plan


def creation_alerts(inbound: InboundOrder, reading: Reading, notes: list[str]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(kind, severity, message, details) for what a person must look at on a new order."""
    alerts: list[tuple[str, str, str, dict[str, Any]]] = []
    if reading.unmapped:
        alerts.append(unmapped_alert(reading))
    issues = list(inbound.issues) + notes
    if issues:
        alerts.append(("intake.payload_issues", "warning", "the channel payload has problems: " + "; ".join(issues),
                       {"issues": issues}))
    open_after_sale = open_after_sales(reading.after_sale)
    if open_after_sale:
        alerts.append(after_sale_alert(open_after_sale))
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
