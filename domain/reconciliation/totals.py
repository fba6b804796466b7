"""A run's totals: per source sums of quantities and amounts (per currency), counts, and the differing orders.

    totals = Totals()
    totals.add(figures, differences)              # per order, as batches go
    run.totals = totals.shown(sources=…, skipped=…)

Sums of a source cover the orders that source has a figure for (``compared``
says how many), so a partial run's ERP sum is over the orders the ERP answered
for. The first ``SAMPLE`` differing orders are kept for the alert.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from domain.reconciliation.compare import AMOUNT, QUANTITY, Difference
from domain.reconciliation.figures import CHANNEL, ERP, GATEWAY, WMS, OrderFigures

SAMPLE = 20
_CENT = Decimal("0.01")


def _cents(value: Decimal) -> str:
    return format(value.quantize(_CENT), "f")


def _zero() -> dict[str, Decimal]:
    return {CHANNEL: Decimal(0), GATEWAY: Decimal(0), ERP: Decimal(0)}


@dataclass(slots=True)
class Totals:
    orders: int = 0
    shipped: int = 0
    units: dict[str, int] = field(default_factory=lambda: {CHANNEL: 0, ERP: 0, WMS: 0})
    compared: dict[str, int] = field(default_factory=lambda: {ERP: 0, WMS: 0, GATEWAY: 0})
    amounts: dict[str, dict[str, Decimal]] = field(default_factory=lambda: defaultdict(_zero))
    refunded: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    differing: int = 0
    by_dimension: dict[str, int] = field(default_factory=lambda: {QUANTITY: 0, AMOUNT: 0})
    sample: list[dict[str, str]] = field(default_factory=list)

    def add(self, figures: OrderFigures, differences: Sequence[Difference]) -> None:
        self.orders += 1
        self.shipped += figures.shipped
        self.units[CHANNEL] += figures.channel_quantity
        money = self.amounts[figures.currency]
        money[CHANNEL] += figures.channel_amount
        self.refunded[figures.currency] += figures.refunded
        if figures.erp_quantity is not None:
            self.compared[ERP] += 1
            self.units[ERP] += figures.erp_quantity
            money[ERP] += figures.erp_amount or Decimal(0)
        if figures.wms_quantity is not None:
            self.compared[WMS] += 1
            self.units[WMS] += figures.wms_quantity
        if figures.gateway_amount is not None:
            self.compared[GATEWAY] += 1
            money[GATEWAY] += figures.gateway_amount
        if differences:
            self.differing += 1
            for difference in differences:
                self.by_dimension[difference.dimension] += 1
            if len(self.sample) < SAMPLE:
                self.sample.append({"order": figures.number, "order_id": str(figures.order_id),
                                    **{d.dimension: _cents(d.difference) if d.dimension == AMOUNT
                                       else str(int(d.difference)) for d in differences}})

    def shown(self, *, sources: Mapping[str, Any], skipped: Mapping[str, int], threshold: Decimal, zone: str,
              window: tuple[str, str], elapsed: float) -> dict[str, Any]:
        """The run's ``totals`` JSON (amounts as decimal text)."""
        return {
            "orders": self.orders, "shipped_orders": self.shipped, "skipped": dict(skipped),
            "differing_orders": self.differing, "differences": dict(self.by_dimension),
            "quantity": dict(self.units), "compared": dict(self.compared),
            "amount": {currency: {name: _cents(value) for name, value in sums.items()}
                       for currency, sums in sorted(self.amounts.items())},
            "refunded": {currency: _cents(value) for currency, value in sorted(self.refunded.items()) if value},
            "sources": dict(sources), "threshold": format(threshold, "f"), "time_zone": zone,
            "window": list(window), "elapsed_seconds": round(elapsed, 3),
            "first_differing": list(self.sample),
        }
