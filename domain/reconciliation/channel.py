"""The channel's and the gateway's figures for a batch of the day's orders, from our own tables: constant queries.

    counts = await status_counts(tenant_id, start, end)           # {"SHIPPED": 812, "CANCELLED": 4, …}
    rows = await order_batch(tenant_id, start, end, after_id=0, size=1000)
    figures = await channel_figures(rows)                        # [OrderFigures], channel and gateway filled in

Which orders: placed in the day's window, except those never paid
(``PENDING_PAYMENT``) and ``CANCELLED`` ones: the totals count them as
skipped. Channel quantity is the sum of the order lines; channel amount is
``total_amount`` (what the buyer paid) less the refunds recorded against the
order (``Payment`` rows of kind ``refund``, negative, unless voided or
failed), so a refunded order reconciles against the ERP's credit note. The
gateway amount is the sum of the order's incoming payments the gateway itself
confirmed (``Payment.confirmed_at``, set by ``domain.payments`` when its
notice is applied, or a person resolves one: chosen over the notices table as
it is one column on the rows already read), less the same refunds: after-sales
executes a refund through the gateway that took the payment and records it
then (refund notices are not awaited), so a refund moves both figures alike.
An order with no confirmed payment has no gateway figure (platform-settled
orders never get a notice).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from tortoise.functions import Count

from domain.reconciliation.figures import OrderFigures
from domain.statuses import OrderStatus, PaymentStatus
from models import Order, OrderLine, Payment
from models.order import order_no

#: Orders placed that day but not reconciled (counted in the totals as skipped).
SKIPPED = frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED})
#: Orders that left in full: the WMS must have shipped every unit. A partly shipped order is not compared with the WMS.
SHIPPED = frozenset({OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED})
#: Payment rows that never moved money.
VOID = frozenset({PaymentStatus.VOIDED, "FAILED", "CANCELLED", "REFUSED"})
REFUND = "refund"


async def status_counts(tenant_id: int, start: datetime, end: datetime) -> dict[str, int]:
    """Orders placed in ``[start, end)`` per status: one grouped query."""
    rows = await Order.filter(tenant_id=tenant_id, placed_at__gte=start, placed_at__lt=end) \
        .annotate(n=Count("id")).group_by("status").values("status", "n")
    return {row["status"]: row["n"] for row in rows}


async def order_batch(tenant_id: int, start: datetime, end: datetime, *, after_id: int, size: int) -> list[dict[str, Any]]:
    """The next ``size`` reconciled orders of the window after ``after_id``, by id (a keyset page)."""
    return await Order.filter(tenant_id=tenant_id, placed_at__gte=start, placed_at__lt=end, id__gt=after_id,
                              status__not_in=list(SKIPPED)).order_by("id").limit(size) \
        .values("id", "status", "currency", "total_amount")


async def channel_figures(rows: Sequence[dict[str, Any]]) -> list[OrderFigures]:
    """The channel's and the gateway's figures of a batch: two queries, whatever its size."""
    ids = [row["id"] for row in rows]
    units: dict[int, int] = defaultdict(int)
    for order_id, quantity in await OrderLine.filter(order_id__in=ids).values_list("order_id", "quantity"):
        units[order_id] += quantity
    refunded: dict[int, Decimal] = defaultdict(Decimal)
    confirmed: dict[int, Decimal] = {}
    for order_id, amount, kind, status, confirmed_at in await Payment.filter(order_id__in=ids).values_list(
            "order_id", "amount", "kind", "status", "confirmed_at"):
        if status in VOID:
            continue
        if kind == REFUND:
            refunded[order_id] += abs(amount)
        elif confirmed_at is not None:
            confirmed[order_id] = confirmed.get(order_id, Decimal(0)) + amount
    return [OrderFigures(order_id=row["id"], number=order_no(row["id"]), status=row["status"], currency=row["currency"],
                         channel_quantity=units[row["id"]], channel_amount=row["total_amount"] - refunded[row["id"]],
                         refunded=refunded[row["id"]], shipped=row["status"] in SHIPPED,
                         gateway_amount=confirmed[row["id"]] - refunded[row["id"]] if row["id"] in confirmed else None)
            for row in rows]
