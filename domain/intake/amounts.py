"""What a channel order costs, in its parts: checked before storing, compared after.

``total_amount`` has one meaning on every channel: what the buyer pays for
the order, goods - discounts + shipping + tax (a platform subsidy is a
discount to the buyer). The parts are kept as the channel states them
(``None``: not stated), never corrected: whether they add up depends on the
platform (tax included in prices or not), so each parser reports parts that
do not as a payload issue. What the domain checks is the meaning of the
total: a fully paid order whose paid amount differs from it needs a person
(it used to be "paid below the total after a platform subsidy"; a subsidy is
now a discount, inside the total). A deposit (pre-sale) order is paid below
its total until the balance is paid; that is expected.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.inbound.normalized import InboundOrder, PayloadError
from domain.intake.reading import Reading
from domain.statuses import OrderStatus, PaymentStatus

MAX_AMOUNT = Decimal("999999999999.99")
PARTS = ("goods_total", "discount_total", "shipping_fee", "tax_total")


def check_amount(name: str, amount: Decimal | None, *, signed: bool = True) -> None:
    """Refuse an amount the columns cannot hold exactly (sub-cent, too large) or, unless ``signed``, a negative one."""
    if amount is None:
        return
    if not amount.is_finite():
        raise PayloadError(f"amount {amount} is not a number", field=name)
    if amount.as_tuple().exponent < -2 and amount != amount.quantize(Decimal("0.01")):  # type: ignore[operator]
        raise PayloadError(f"amount {amount} has more than 2 decimal places", field=name)
    if abs(amount) > MAX_AMOUNT:
        raise PayloadError(f"amount {amount} is too large", field=name)
    if not signed and amount < 0:
        raise PayloadError(f"amount {amount} must not be negative", field=name)


def check_amounts(inbound: InboundOrder) -> None:
    check_amount("total_amount", inbound.total_amount, signed=False)
    check_amount("paid_amount", inbound.paid_amount, signed=False)
    for name in PARTS:
        check_amount(name, getattr(inbound, name), signed=False)
    for index, line in enumerate(inbound.lines):
        check_amount(f"lines[{index}].unit_price", line.unit_price)


def amount_fields(inbound: InboundOrder) -> dict[str, Any]:
    """The order's money columns (parts left ``None`` when the channel did not state them)."""
    return {"total_amount": inbound.total_amount, **stated_parts(inbound, keep_unstated=True), "paid_at": inbound.paid_at}


def stated_parts(inbound: InboundOrder, *, keep_unstated: bool = False) -> dict[str, Decimal | None]:
    return {name: getattr(inbound, name) for name in PARTS if keep_unstated or getattr(inbound, name) is not None}


def amount_issues(inbound: InboundOrder, reading: Reading) -> list[str]:
    """What about the money a person should look at (the order is stored all the same)."""
    issues: list[str] = []
    fully_paid = reading.payment == PaymentStatus.PAID and reading.forward != OrderStatus.DEPOSIT_PAID
    if fully_paid and inbound.paid_amount is not None and inbound.paid_amount != inbound.total_amount:
        issues.append(f"paid_amount {inbound.paid_amount} differs from total_amount {inbound.total_amount} "
                      "(what the buyer pays) on a paid order")
    return issues
