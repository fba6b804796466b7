"""Confirming one payment with a gateway notice: the money is in, at this transaction, for this amount.

Called inside the applying transaction, with the payment locked, by
``domain.payments.notices`` (a notice that matched exactly one payment) and
``domain.payments.review`` (a person's match). It sets the payment ``PAID``
(unless a refund already moved it on), its ``gateway_reference`` and
``confirmed_at``, compares the amounts — less than expected flags ``partial``,
more flags ``over``, each with an alert — and appends ``payment.confirmed``
to the order's lineage. The expected amount is never overwritten: what the
gateway reported stays on the notice, so nothing is counted twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from domain.alerts.kinds import AlertKind
from domain.alerts.raising import raise_alert
from domain.payments.kinds import PaymentFlag
from domain.statuses import PaymentStatus
from events import log
from models import Payment
from models.order import order_no

#: Statuses a confirmation moves to PAID; a payment already refunded or voided keeps its status.
CONFIRMABLE = frozenset({PaymentStatus.PENDING, PaymentStatus.AUTHORIZED, PaymentStatus.PAID})


def amount_flag(expected: Decimal, received: Decimal | None) -> PaymentFlag | None:
    """``partial`` below the expected amount, ``over`` above it, ``None`` when equal or not stated."""
    if received is None or received == expected:
        return None
    return PaymentFlag.PARTIAL if received < expected else PaymentFlag.OVER


def _state(payment: Payment) -> dict[str, Any]:
    return {"payment_id": payment.id, "kind": payment.kind, "status": payment.status, "amount": str(payment.amount),
            "gateway_reference": payment.gateway_reference, "flags": list(payment.flags or []),
            "confirmed_at": payment.confirmed_at.isoformat() if payment.confirmed_at else None}


async def confirm_payment(
    tenant_id: int, payment: Payment, *, gateway: str, notice_id: str, transaction_id: str, amount: Decimal | None,
    paid_at: datetime | None, actor: str, source: str, reason: str, payload_ref: str | None = None,
) -> PaymentFlag | None:
    """Confirm ``payment`` (locked) with what a notice says; returns the amount flag raised, if any."""
    before = _state(payment)
    now = datetime.now(UTC)
    flag = amount_flag(payment.amount, amount)
    flags = [item for item in payment.flags or [] if item not in (PaymentFlag.PARTIAL, PaymentFlag.OVER)]
    if flag is not None:
        flags.append(flag.value)
    if payment.status in CONFIRMABLE:
        payment.status = PaymentStatus.PAID
    payment.gateway_reference = transaction_id[:64]
    payment.confirmed_at = now
    payment.paid_at = payment.paid_at or paid_at or now
    payment.flags = flags
    await payment.save(update_fields=["status", "gateway_reference", "confirmed_at", "paid_at", "flags"])
    order_id: int = payment.order_id  # type: ignore[attr-defined]
    await log.append(
        tenant_id=tenant_id, order_id=order_id, type="payment.confirmed", actor=actor, source=source, reason=reason,
        before=before, after={**_state(payment), "gateway": gateway, "notice_id": notice_id,
                              "notice_amount": str(amount) if amount is not None else None},
        payload_ref=payload_ref,
    )
    if flag is not None:
        word = "less" if flag == PaymentFlag.PARTIAL else "more"
        await raise_alert(
            tenant_id=tenant_id, order_id=order_id, subject=f"payment:{payment.id}", severity="warning", actor=actor,
            kind=AlertKind.PAYMENT_PARTIAL if flag == PaymentFlag.PARTIAL else AlertKind.PAYMENT_OVER, source=source,
            message=f"{gateway} reports {amount} {payment.currency} for order {order_no(order_id)}'s "
                    f"{payment.kind} of {payment.amount}: {word} than expected",
            details={"payment_id": payment.id, "expected": str(payment.amount), "received": str(amount),
                     "notice_id": notice_id, "transaction_id": transaction_id},
        )
    return flag
