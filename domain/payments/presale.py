"""A pre-sale order's money as the channel tells it: a deposit payment, then a separate balance payment.

Pure rules, no database. The channel's codes say "deposit paid, balance not"
(Taobao ``step_trade_status`` ``FRONT_PAID_FINAL_NOPAID``, Douyin
``main_status`` 103, Shopify ``partially_paid``: the reading's forward
status is ``DEPOSIT_PAID``); its ``paid_amount`` is what the buyer paid so far.
So:

- while the deposit phase lasts, the order has one ``deposit`` payment of the
  paid amount (written only when the channel states it: a guessed deposit
  would not reconcile);
- when the channel reports the order paid, the balance is a new ``balance``
  payment of ``paid_amount − the deposits`` (the order total when the channel
  does not state what was paid);
- a channel "paid" for an order with no deposit is one ``payment``, as before.

    stage = channel_stage(reading.forward, reading.payment)     # PAID while the deposit phase lasts
    balance_amount(Decimal("118.00"), [Decimal("20.00")])       # Decimal("98.00")
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from domain.payments.kinds import PaymentKind
from domain.statuses import OrderStatus, PaymentStatus

#: Payment stages that mean the balance arrived (a captured or authorised full payment).
BALANCE_STAGES = frozenset({PaymentStatus.PAID, PaymentStatus.AUTHORIZED})
#: Stages that end every incoming payment of the order at once (all of it went back, or never happened).
WHOLE_ORDER_STAGES = frozenset({PaymentStatus.REFUNDED, PaymentStatus.VOIDED})


def deposit_phase(forward: OrderStatus | None) -> bool:
    """The channel says the deposit is paid and the balance is not."""
    return forward == OrderStatus.DEPOSIT_PAID


def channel_stage(forward: OrderStatus | None, payment: PaymentStatus | None) -> PaymentStatus | None:
    """The payment stage to record: in the deposit phase the deposit is paid, whatever the main code's stage."""
    if deposit_phase(forward) and payment in (None, PaymentStatus.PENDING):
        return PaymentStatus.PAID
    return payment


def first_kind(forward: OrderStatus | None) -> PaymentKind:
    """The kind of the first payment an order gets: a deposit in the deposit phase, else the whole payment."""
    return PaymentKind.DEPOSIT if deposit_phase(forward) else PaymentKind.PAYMENT


def needs_balance(forward: OrderStatus | None, stage: PaymentStatus | None, kinds: Iterable[str]) -> bool:
    """The order has a deposit, no balance yet, and the channel now reports it paid in full."""
    kinds = list(kinds)
    return (not deposit_phase(forward) and stage in BALANCE_STAGES
            and PaymentKind.DEPOSIT in kinds and PaymentKind.BALANCE not in kinds)


def balance_amount(paid_total: Decimal, earlier: Iterable[Decimal]) -> Decimal:
    """What the balance is: what the buyer paid in all, less the payments already recorded."""
    return paid_total - sum(earlier, Decimal("0"))


def latest_share(paid_total: Decimal | None, earlier: Iterable[Decimal]) -> Decimal | None:
    """The amount the latest payment should have for the channel's ``paid_total`` (``None``: not stated)."""
    return None if paid_total is None else balance_amount(paid_total, earlier)
