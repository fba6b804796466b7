"""The payments' vocabulary: kinds of payment, flags on one, and what became of a gateway notice.

Stored as these values (``Payment.kind``, ``Payment.flags``, ``PaymentNotice.outcome``).

    PaymentKind.DEPOSIT.value       # "deposit"
"""

from __future__ import annotations

from enum import StrEnum


class PaymentKind(StrEnum):
    PAYMENT = "payment"  # the whole order at once
    DEPOSIT = "deposit"  # a pre-sale order's first part
    BALANCE = "balance"  # the rest of a pre-sale order, paid later
    REFUND = "refund"  # negative, tied to an after-sale (written by domain.after_sales)


#: The kinds that bring money in (a refund gives it back): what channels and gateways confirm.
INCOMING = (PaymentKind.PAYMENT, PaymentKind.DEPOSIT, PaymentKind.BALANCE)


class PaymentFlag(StrEnum):
    PARTIAL = "partial"  # the gateway says less arrived than the payment expects
    OVER = "over"  # more arrived than expected


class NoticeOutcome(StrEnum):
    APPLIED = "applied"  # matched one payment and confirmed it
    DUPLICATE = "duplicate"  # seen before (same notice id, or the same transaction again): nothing re-applied
    UNMATCHED = "unmatched"  # no payment of the tenant has this reference: a person looks
    AMBIGUOUS = "ambiguous"  # several could be it: a person picks one (resolvePaymentNotice)
    REFUSED = "refused"  # bad signature, malformed, unknown account, or would count money twice
    IGNORED = "ignored"  # authentic but not a payment (a closed trade, a refund notice): kept, nothing to do
    RESOLVED = "resolved"  # a person matched it to a payment


#: Outcomes waiting for a person (the review queue's default).
TO_REVIEW = (NoticeOutcome.UNMATCHED, NoticeOutcome.AMBIGUOUS)
