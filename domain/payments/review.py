"""The review queue: notices no payment or several payments matched, and a person's decision.

    page = notice_query(tenant_id, ["ambiguous", "unmatched"])              # a QuerySet, newest first by the caller
    notice = await resolve_notice(finance, notice_pk=7, payment_id=42)     # confirms payment 42 with notice 7

Admins, ops and finance may resolve. Only an ``ambiguous`` or ``unmatched``
notice can be resolved, to an incoming payment of the tenant that no notice
has confirmed yet (so a person cannot count money twice either); the notice
becomes ``resolved`` with their name, the payment is confirmed as a gateway
notice would have (``payment.confirmed`` lineage with the person as actor,
the amount flags), and the queue's alert for the notice is cleared.
"""

from __future__ import annotations

from collections.abc import Iterable

from tortoise.queryset import QuerySet

from domain.actor import Actor, Role
from domain.alerts.kinds import AlertKind
from domain.alerts.raising import clear_alerts
from domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from domain.payments.confirm import confirm_payment
from domain.payments.kinds import INCOMING, NoticeOutcome, TO_REVIEW
from domain.unit_of_work import unit_of_work
from models import Payment, PaymentNotice

#: Who may match a notice to a payment.
RESOLVERS = frozenset({Role.ADMIN, Role.OPS, Role.FINANCE})
#: Who may read the notices.
READERS = frozenset({Role.ADMIN, Role.OPS, Role.FINANCE, Role.AUDITOR})


def notice_query(actor: Actor, outcomes: Iterable[str] | None) -> QuerySet[PaymentNotice]:
    """The tenant's notices with one of ``outcomes`` (all when ``None``)."""
    if actor.role not in READERS:
        raise Forbidden("payment notices are for admins, ops, finance and auditors")
    query = PaymentNotice.filter(tenant_id=actor.tenant_id)
    wanted = list(outcomes) if outcomes is not None else None
    if wanted is not None:
        unknown = sorted(set(wanted) - {outcome.value for outcome in NoticeOutcome})
        if unknown:
            raise ValidationFailed(f"unknown outcome {', '.join(unknown)}", field="outcome")
        query = query.filter(outcome__in=wanted)
    return query


async def resolve_notice(actor: Actor, notice_pk: int, payment_id: int) -> PaymentNotice:
    """A person says which payment a queued notice is about (see module doc)."""
    if actor.role not in RESOLVERS:
        raise Forbidden("only admins, ops and finance may match payment notices")
    async with unit_of_work():
        notice = await PaymentNotice.filter(id=notice_pk, tenant_id=actor.tenant_id).select_for_update().first()
        if notice is None:
            raise NotFound("no such payment notice", field="id")
        if notice.outcome not in TO_REVIEW:
            raise Conflict(f"the notice is {notice.outcome}; only unmatched or ambiguous notices are resolved here",
                           field="id")
        payment = await Payment.filter(id=payment_id, order__tenant_id=actor.tenant_id,
                                       kind__in=[kind.value for kind in INCOMING]).first()
        if payment is None:
            raise NotFound("no such payment", field="paymentId")
        payment = await Payment.filter(id=payment.id).select_for_update().get()
        if payment.confirmed_at is not None:
            raise Conflict(f"payment {payment.id} is already confirmed (transaction {payment.gateway_reference}); "
                           "confirming it again would count the money twice", field="paymentId")
        if notice.currency != payment.currency:
            raise ValidationFailed(f"the notice is in {notice.currency}, the payment in {payment.currency}",
                                   field="paymentId")
        was = notice.outcome
        await confirm_payment(
            actor.tenant_id, payment, gateway=notice.gateway, notice_id=notice.notice_id,
            transaction_id=notice.transaction_id, amount=notice.amount, paid_at=None, actor=actor.name,
            source=actor.source, reason=f"{actor.name} matched {was} {notice.gateway} notice {notice.notice_id} "
                                        f"to this payment", payload_ref=notice.payload_ref,
        )
        notice.outcome, notice.resolved_by = NoticeOutcome.RESOLVED, actor.name[:100]
        notice.payment_id = payment.id  # type: ignore[attr-defined]
        await notice.save(update_fields=["outcome", "resolved_by", "payment_id"])
        kind = AlertKind.PAYMENT_AMBIGUOUS if was == NoticeOutcome.AMBIGUOUS else AlertKind.PAYMENT_UNMATCHED
        await clear_alerts(tenant_id=actor.tenant_id, kind=kind, subject=f"notice:{notice.id}", actor=actor.name,
                           reason=f"{actor.name} matched the notice to payment {payment.id}")
    return notice
