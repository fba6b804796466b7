"""An order's money as after-sales see it: paid, refunded, promised to open requests, and what may still go back.

    money = await money_of(order.id, excluding=sale.id)
    money.refundable      # paid - refunded - what other open after-sales still owe the buyer

Paid is every non-refund payment the source confirmed (PAID, and those since
partly or wholly refunded); refunds are the negative ``kind="refund"``
payments, one per after-sale that paid money back. An open refund-only or
return-and-refund request holds its amount until it is refunded, rejected or
withdrawn, so two requests can never promise the same yuan twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.after_sales.machine import OPEN, REFUNDING_KINDS
from domain.statuses import PaymentStatus
from models import AfterSale, Payment

REFUND = "refund"
#: Payment statuses that mean the buyer's money arrived.
PAID_STATUSES = frozenset({PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED})
ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Money:
    paid: Decimal
    refunded: Decimal
    committed: Decimal

    @property
    def refundable(self) -> Decimal:
        return max(self.paid - self.refunded - self.committed, ZERO)

    def describe(self) -> str:
        return f"paid {self.paid}, refunded {self.refunded}, held by open requests {self.committed}"


async def money_of(order_id: int, *, excluding: int | None = None) -> Money:
    """The order's money; ``excluding`` leaves one after-sale's own promise out (the one being decided)."""
    paid = refunded = ZERO
    for kind, amount, status in await Payment.filter(order_id=order_id).values_list("kind", "amount", "status"):
        if kind == REFUND:
            if status != PaymentStatus.VOIDED:
                refunded += -amount if amount < 0 else amount
        elif amount > 0 and status in PAID_STATUSES:
            paid += amount
    committed = ZERO
    query = AfterSale.filter(order_id=order_id, status__in=list(OPEN), kind__in=list(REFUNDING_KINDS))
    if excluding is not None:
        query = query.exclude(id=excluding)
    for requested, approved, done in await query.values_list("requested_amount", "approved_amount", "refunded_amount"):
        committed += max((approved if approved is not None else requested) - done, ZERO)
    return Money(paid=paid, refunded=refunded, committed=committed)


async def gateway_of(order_id: int) -> str:
    """Where the buyer paid (the first confirmed payment's gateway): a refund goes back the same way."""
    gateway = await Payment.filter(order_id=order_id, amount__gt=0).exclude(kind=REFUND).order_by("id") \
        .first().values_list("gateway", flat=True)
    return str(gateway) if gateway else "channel"
