"""Applying a gateway's payment notice: kept whatever happens, applied at most once, money never counted twice.

    result = await apply_notice(tenant_id, notice, payload_ref="sha256:…")
    result.outcome          # applied | duplicate | unmatched | ambiguous | refused | ignored

One transaction per notice:

1. the notice is claimed by (tenant, gateway, notice id) — a ``PaymentNotice``
   row; the same id again (gateways retry until answered) is ``duplicate``
   and nothing is re-applied;
2. a notice that is not a completed payment (a closed trade, a refund
   notice: after-sales' business) is kept as ``ignored``;
3. the tenant's incoming payments with the notice's normalised reference or
   transaction id are locked (``domain.payments.matching``):
   - one already confirmed by this transaction → ``duplicate`` (e.g. Alipay's
     later ``TRADE_FINISHED``);
   - exactly one unconfirmed → confirmed (``domain.payments.confirm``): ``applied``;
   - several unconfirmed of one order (a pre-sale's deposit and balance may
     share the trade's reference) → the one whose amount is the notice's;
   - otherwise several unconfirmed → ``ambiguous`` with the candidates and a
     ``payment.ambiguous`` alert: a person picks one (``domain.payments.review``);
   - none → ``unmatched`` and a ``payment.unmatched`` alert;
   - only payments confirmed by other transactions → ``refused``: a second
     payment for one already in would count the money twice (alerted as
     ``payment.over``: the buyer may have paid twice).

A notice that fails verification never gets here as a notice: :func:`refuse_notice`
keeps it with the reason under an id of its own (its claimed id is not trusted,
so a forgery cannot block the real notice).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain.alerts.kinds import AlertKind
from domain.alerts.raising import raise_alert
from domain.inbound import payloads
from domain.payments import matching
from domain.payments.confirm import confirm_payment
from domain.payments.kinds import NoticeOutcome
from domain.payments.ports import GatewayNotice
from domain.payments.references import normalize
from domain.unit_of_work import unit_of_work
from models import Payment, PaymentNotice
from models.order import order_no

#: Prefix of the notice id a refused (unverified) notice is kept under, followed by its body's SHA-256.
REFUSED_PREFIX = "refused:"


@dataclass(slots=True)
class NoticeResult:
    outcome: NoticeOutcome
    notice_pk: int | None = None
    payment_id: int | None = None
    reason: str = ""
    candidates: list[int] = field(default_factory=list)


def actor_for(gateway: str) -> str:
    """Who lineage shows for what a gateway's notice changed."""
    return f"gateway:{gateway}"


def _columns(tenant_id: int, notice: GatewayNotice, payload_ref: str | None) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id, "gateway": notice.gateway[:32], "notice_id": notice.notice_id[:64],
        "reference": notice.reference[:64], "normalized_reference": normalize(notice.reference, notice.gateway),
        "transaction_id": notice.transaction_id[:64], "amount": notice.amount, "currency": notice.currency[:3],
        "status": notice.status[:24], "payload_ref": payload_ref,
    }


async def _claim(columns: dict[str, Any], outcome: NoticeOutcome, reason: str = "") -> PaymentNotice | None:
    """Insert the notice row in a savepoint; ``None`` when (tenant, gateway, notice id) is already kept."""
    try:
        async with in_transaction():
            return await PaymentNotice.create(**columns, outcome=outcome, reason=reason[:500])
    except IntegrityError:
        return None


async def apply_notice(tenant_id: int, notice: GatewayNotice, *, payload_ref: str | None = None) -> NoticeResult:
    """Keep and apply one verified notice (see module doc)."""
    async with unit_of_work():
        row = await _claim(_columns(tenant_id, notice, payload_ref), NoticeOutcome.APPLIED)
        if row is None:
            kept = await PaymentNotice.filter(tenant_id=tenant_id, gateway=notice.gateway,
                                              notice_id=notice.notice_id[:64]).first()
            return NoticeResult(NoticeOutcome.DUPLICATE, kept.id if kept else None,
                                kept.payment_id if kept else None,  # type: ignore[attr-defined]
                                reason="notice already received")
        result = await _decide(tenant_id, notice, row, payload_ref)
        row.outcome, row.reason = result.outcome, result.reason[:500]
        row.candidates, row.payment_id = result.candidates, result.payment_id  # type: ignore[attr-defined]
        await row.save(update_fields=["outcome", "reason", "candidates", "payment_id"])
        result.notice_pk = row.id
        return result


async def _decide(tenant_id: int, notice: GatewayNotice, row: PaymentNotice, payload_ref: str | None) -> NoticeResult:
    label = f"{notice.gateway} notice {notice.notice_id}"
    if notice.kind != "payment":
        return NoticeResult(NoticeOutcome.IGNORED, reason=f"a {notice.kind} notice ({notice.status}): after-sales records refunds")
    if not notice.paid:
        return NoticeResult(NoticeOutcome.IGNORED, reason=f"status {notice.status or 'none'} is not a completed payment")
    found = await matching.candidates(tenant_id, notice)
    same = [p for p in found if p.confirmed_at is not None and notice.transaction_id
            and p.gateway_reference == notice.transaction_id[:64]]
    if same:
        return NoticeResult(NoticeOutcome.DUPLICATE, payment_id=same[0].id,
                            reason=f"payment {same[0].id} was already confirmed by transaction {notice.transaction_id}")
    open_ = [p for p in found if p.confirmed_at is None]
    if len(open_) > 1 and len({p.order_id for p in open_}) == 1:  # type: ignore[attr-defined]
        exact = [p for p in open_ if p.amount == notice.amount]
        open_ = exact if len(exact) == 1 else open_  # one order's deposit and balance under one trade reference
    if len(open_) == 1:
        return await _apply(tenant_id, notice, open_[0], label, payload_ref)
    if len(open_) > 1:
        return await _ambiguous(tenant_id, notice, row, open_)
    if found:
        return await _counted_already(tenant_id, notice, found[0])
    return await _unmatched(tenant_id, notice, row)


async def _apply(tenant_id: int, notice: GatewayNotice, payment: Payment, label: str,
                 payload_ref: str | None) -> NoticeResult:
    if notice.currency != payment.currency:
        reason = f"{label} is in {notice.currency}, payment {payment.id} in {payment.currency}: not applied"
        await raise_alert(tenant_id=tenant_id, kind=AlertKind.PAYMENT_UNMATCHED, subject=f"notice:{notice.notice_id}"[:64],
                          order_id=payment.order_id, severity="warning", message=reason,  # type: ignore[attr-defined]
                          actor=actor_for(notice.gateway), source="gateway",
                          details={"payment_id": payment.id, "notice_id": notice.notice_id})
        return NoticeResult(NoticeOutcome.REFUSED, payment_id=None, reason=reason)
    flag = await confirm_payment(
        tenant_id, payment, gateway=notice.gateway, notice_id=notice.notice_id, transaction_id=notice.transaction_id,
        amount=notice.amount, paid_at=notice.paid_at, actor=actor_for(notice.gateway), source="gateway",
        reason=f"{label} confirms the payment (transaction {notice.transaction_id})", payload_ref=payload_ref,
    )
    note = f"; flagged {flag.value}: {notice.amount} against {payment.amount}" if flag else ""
    return NoticeResult(NoticeOutcome.APPLIED, payment_id=payment.id, reason=f"confirmed payment {payment.id}{note}")


async def _ambiguous(tenant_id: int, notice: GatewayNotice, row: PaymentNotice, found: list[Payment]) -> NoticeResult:
    ids = [payment.id for payment in found]
    orders = sorted({order_no(p.order_id) for p in found})  # type: ignore[attr-defined]
    reason = (f"{len(found)} payments have reference {notice.reference or notice.transaction_id} "
              f"({', '.join(orders)}): pick one with resolvePaymentNotice")
    await raise_alert(tenant_id=tenant_id, kind=AlertKind.PAYMENT_AMBIGUOUS, subject=f"notice:{row.id}",
                      severity="warning", actor=actor_for(notice.gateway), source="gateway",
                      message=f"{notice.gateway} notice for {notice.amount} {notice.currency}: {reason}",
                      details={"notice_pk": row.id, "notice_id": notice.notice_id, "candidates": ids})
    return NoticeResult(NoticeOutcome.AMBIGUOUS, reason=reason, candidates=ids)


async def _unmatched(tenant_id: int, notice: GatewayNotice, row: PaymentNotice) -> NoticeResult:
    reason = (f"no payment has reference {notice.reference!r} or transaction {notice.transaction_id!r}"
              if notice.reference or notice.transaction_id else "the notice names no reference")
    await raise_alert(tenant_id=tenant_id, kind=AlertKind.PAYMENT_UNMATCHED, subject=f"notice:{row.id}",
                      severity="warning", actor=actor_for(notice.gateway), source="gateway",
                      message=f"{notice.gateway} reports {notice.amount} {notice.currency} paid, but {reason}",
                      details={"notice_pk": row.id, "notice_id": notice.notice_id, "reference": notice.reference,
                               "transaction_id": notice.transaction_id})
    return NoticeResult(NoticeOutcome.UNMATCHED, reason=reason)


async def _counted_already(tenant_id: int, notice: GatewayNotice, payment: Payment) -> NoticeResult:
    reason = (f"payment {payment.id} was already confirmed by transaction {payment.gateway_reference}; "
              f"transaction {notice.transaction_id} would count the money twice: not applied")
    order_id: int = payment.order_id  # type: ignore[attr-defined]
    await raise_alert(tenant_id=tenant_id, kind=AlertKind.PAYMENT_OVER, order_id=order_id,
                      subject=f"notice:{notice.notice_id}"[:64], severity="warning", actor=actor_for(notice.gateway),
                      source="gateway", message=f"order {order_no(order_id)} paid again? {reason}",
                      details={"payment_id": payment.id, "notice_id": notice.notice_id,
                               "transaction_id": notice.transaction_id, "amount": str(notice.amount)})
    return NoticeResult(NoticeOutcome.REFUSED, reason=reason)


async def refuse_notice(tenant_id: int, gateway: str, body: bytes, reason: str, *, claimed_id: str = "",
                        payload_ref: str | None = None) -> NoticeResult:
    """Keep a notice that failed verification (or has no account to verify it with); nothing is applied."""
    notice_id = REFUSED_PREFIX + payloads.sha256_hex(body)[:48]
    why = f"{reason} (claims notice id {claimed_id[:64]})" if claimed_id else reason
    async with unit_of_work():
        row = await _claim({"tenant_id": tenant_id, "gateway": gateway[:32], "notice_id": notice_id,
                            "payload_ref": payload_ref}, NoticeOutcome.REFUSED, why)
        if row is None:  # the same body refused before
            row = await PaymentNotice.filter(tenant_id=tenant_id, gateway=gateway[:32], notice_id=notice_id).first()
    return NoticeResult(NoticeOutcome.REFUSED, row.id if row else None, reason=why)
