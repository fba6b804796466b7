"""What a channel's raw codes mean, dimension by dimension — pure, no database.

One inbound order carries a main status code and, per source, more codes
(``extra_codes``: Taobao presale step and per-line refund status, Pinduoduo
group confirmation, Douyin ``main_status``, Shopify cancellation). Each goes
through its mapping table; the results are combined:

- any order-level code saying ``CANCELLED`` makes the order cancelled;
- any order-level code saying ``ON_HOLD`` adds a channel hold reason;
- otherwise the furthest forward status wins (Taobao "shipped" plus presale
  "final paid" is shipped);
- payment takes the latest stage of the payment life (refunded over paid);
- per-line codes (``refund_status@<oid>``) only speak for their line's after-sale.

A code its table does not know is *unmapped*: it is listed, never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from domain.inbound import status_maps
from domain.inbound.status_mapping import Mappings
from domain.statuses import OrderStatus, PaymentStatus

O = OrderStatus

#: Position on the forward path; ``ON_HOLD`` and ``CANCELLED`` are off it.
FORWARD_RANK: dict[OrderStatus, int] = {
    O.PENDING_PAYMENT: 0,
    O.DEPOSIT_PAID: 1,
    O.PAID: 2,
    O.ALLOCATED: 3,
    O.PICKING: 4,
    O.PACKED: 5,
    O.PARTIALLY_SHIPPED: 6,
    O.SHIPPED: 7,
    O.DELIVERED: 8,
    O.COMPLETED: 9,
}
#: The steps every order passes; the optional ones (deposit, part shipped) are not "skipped" when missing.
MAIN_PATH = (O.PENDING_PAYMENT, O.PAID, O.ALLOCATED, O.PICKING, O.PACKED, O.SHIPPED, O.DELIVERED, O.COMPLETED)
PAYMENT_RANK: dict[PaymentStatus, int] = {
    PaymentStatus.PENDING: 0,
    PaymentStatus.AUTHORIZED: 1,
    PaymentStatus.PAID: 2,
    PaymentStatus.PARTIALLY_REFUNDED: 3,
    PaymentStatus.REFUNDED: 4,
    PaymentStatus.VOIDED: 4,
}
#: Hold reasons OrderGraph manages on the channel's behalf start with this and are lifted automatically.
CHANNEL_HOLD = "channel: "


@dataclass(slots=True)
class Reading:
    """The meaning of one order's codes. ``labels`` name each mapped code for lineage (``taobao@v2:X``)."""

    forward: OrderStatus | None = None
    cancelled_by: list[str] = field(default_factory=list)
    holds: list[str] = field(default_factory=list)
    payment: PaymentStatus | None = None
    after_sale: dict[str, str] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)

    @property
    def cancelled(self) -> bool:
        return bool(self.cancelled_by)

    def channel_holds(self) -> list[str]:
        """Hold reasons the codes call for, including one per unmapped code."""
        return self.holds + [f"{CHANNEL_HOLD}unmapped code {code}" for code in self.unmapped]

    def describe(self) -> str:
        return ", ".join(self.labels + [f"{code} (unmapped)" for code in self.unmapped])


def tables_for(source: str, extra_codes: Mapping[str, str]) -> set[str]:
    """Names of every table an order of ``source`` with these extra codes may need."""
    return {status_maps.table_for(source)} | {status_maps.table_for(source, key) for key in extra_codes}


def read(source: str, status_code: str, extra_codes: Mapping[str, str], mappings: Mappings) -> Reading:
    """Map and combine an order's codes (see module doc)."""
    reading = Reading()
    codes = [("status", status_code)] + sorted(extra_codes.items())
    for key, code in codes:
        name = status_maps.table_for(source, key)
        table = mappings.table(name)
        line = key.partition("@")[2]
        dimension = key.partition("@")[0]
        if key != "status" and dimension != "status" and not table.exists:
            continue  # informational code (e.g. Amazon fulfilment channel): nothing maps it, nothing expected to
        entry = table.lookup(str(code))
        if entry is None:
            reading.unmapped.append(f"{name}:{code}")
            continue
        reading.versions[name] = table.version
        reading.labels.append(f"{table.label}:{code}")
        after_sale = entry.get("after_sale")
        if after_sale:
            reading.after_sale[f"line:{line}" if line else "order"] = after_sale
        if line:
            continue  # a line's code says nothing about the whole order
        _combine(reading, name, str(code), entry.get("order"), entry.get("payment"))
    return reading


def _combine(reading: Reading, table: str, code: str, order: str | None, payment: str | None) -> None:
    if order == O.CANCELLED:
        reading.cancelled_by.append(f"{table} {code}")
    elif order == O.ON_HOLD:
        reading.holds.append(f"{CHANNEL_HOLD}{table} {code}")
    elif order is not None:
        status = OrderStatus(order)
        if reading.forward is None or FORWARD_RANK[status] > FORWARD_RANK[reading.forward]:
            reading.forward = status
    if payment is not None:
        stage = PaymentStatus(payment)
        if reading.payment is None or PAYMENT_RANK[stage] > PAYMENT_RANK[reading.payment]:
            reading.payment = stage


def base_status(reading: Reading) -> OrderStatus:
    """The fulfilment status to start from when the codes give no forward status (payment decides)."""
    if reading.forward is not None:
        return reading.forward
    paid = reading.payment in (PaymentStatus.PAID, PaymentStatus.AUTHORIZED, PaymentStatus.PARTIALLY_REFUNDED)
    return O.PAID if paid else O.PENDING_PAYMENT


def skipped_steps(current: OrderStatus, target: OrderStatus) -> list[OrderStatus]:
    """Main-path steps strictly between ``current`` and ``target``."""
    low, high = FORWARD_RANK[current], FORWARD_RANK[target]
    return [step for step in MAIN_PATH if low < FORWARD_RANK[step] < high]
