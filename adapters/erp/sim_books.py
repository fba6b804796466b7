"""The simulated ERP's books: sales orders (with what was shipped and invoiced, and the receivable's total) and on-hand.

While a stale replica is simulated (the ``stale_s`` fault), every change is
remembered with its time, so queries can answer from the books as they were a
while ago; otherwise nothing is copied.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

#: Kingdee's document statuses (FDocumentStatus).
STATUSES = ("A", "B", "C", "D", "Z")
_HISTORY = 500


@dataclass
class Line:
    sku: str
    qty: int
    price: Decimal = Decimal(0)
    warehouse: str = ""
    shipped: int = 0
    invoiced: int = 0


@dataclass
class Order:
    fid: int
    bill_no: str
    customer: str
    lines: list[Line]
    status: str = "A"
    date: datetime = field(default_factory=lambda: datetime.now(UTC))
    modified: datetime = field(default_factory=lambda: datetime.now(UTC))
    currency: str = "PRE001"
    fields: dict[str, str] = field(default_factory=dict)   # custom header fields (F_…), e.g. our order number
    invoice_amount: Decimal | None = None   # what its receivable says, when set apart from invoiced x price

    @property
    def amount(self) -> Decimal:
        return sum((line.price * line.qty for line in self.lines), Decimal(0))

    @property
    def invoiced_amount(self) -> Decimal:
        """The receivable's total: as set, or the invoiced units at their prices."""
        if self.invoice_amount is not None:
            return self.invoice_amount
        return sum((line.price * line.invoiced for line in self.lines), Decimal(0))

    def shown(self) -> dict[str, Any]:
        return {"fid": self.fid, "bill_no": self.bill_no, "customer": self.customer, "status": self.status,
                "currency": self.currency, "fields": dict(self.fields), "amount": format(self.amount, "f"),
                "modified": self.modified.isoformat(), "invoiced_amount": format(self.invoiced_amount, "f"),
                "lines": [{"sku": line.sku, "qty": line.qty, "price": format(line.price, "f"),
                           "warehouse": line.warehouse, "shipped": line.shipped, "invoiced": line.invoiced}
                          for line in self.lines]}


@dataclass
class Snapshot:
    orders: dict[str, Order] = field(default_factory=dict)       # bill number -> order
    stock: dict[str, dict[str, int]] = field(default_factory=dict)  # warehouse -> sku -> on hand
    refs: dict[str, str] = field(default_factory=dict)           # a custom field's value -> bill number

    def find(self, number: str) -> Order | None:
        """An order by its bill number or by any custom field holding ``number`` (our order number)."""
        order = self.orders.get(number)
        if order is not None:
            return order
        bill = self.refs.get(number)
        return self.orders.get(bill) if bill is not None else None


class Books:
    """The truth, changed only through these methods, each remembered for stale reads."""

    def __init__(self) -> None:
        self.now = Snapshot()
        self.materials: set[str] | None = None    # None: any material code is known
        self._next = 100001
        self._history: list[tuple[float, Snapshot]] = []

    def remember(self, on: bool) -> None:
        """Start (from the books as they are now) or stop keeping the history stale reads need."""
        if on and not self._history:
            self._history = [(time.monotonic(), copy.deepcopy(self.now))]
        elif not on:
            self._history = []

    def as_of(self, seconds_ago: float) -> Snapshot:
        """The books as they were ``seconds_ago`` (now when 0, or when no history is kept)."""
        if seconds_ago <= 0 or not self._history:
            return self.now
        cutoff = time.monotonic() - seconds_ago
        older = [snapshot for at, snapshot in self._history if at <= cutoff]
        return older[-1] if older else self._history[0][1]

    def _changed(self) -> None:
        if self._history:
            self._history.append((time.monotonic(), copy.deepcopy(self.now)))
            del self._history[1:-_HISTORY]

    # -------------------------------------------------------------- changes

    def add_order(self, customer: str, lines: list[Line], *, bill_no: str = "", status: str = "A",
                  date: datetime | None = None, currency: str = "PRE001",
                  fields: Mapping[str, str] | None = None) -> Order:
        if status not in STATUSES:
            raise ValueError(f"status: one of {', '.join(STATUSES)}")
        fid = self._next
        self._next += 1
        number = bill_no or f"XSDD{fid:08d}"
        if number in self.now.orders:
            raise KeyError(number)
        order = Order(fid=fid, bill_no=number, customer=customer, lines=lines, status=status,
                      date=date or datetime.now(UTC), currency=currency, fields=dict(fields or {}))
        self.now.orders[number] = order
        for value in order.fields.values():
            self.now.refs.setdefault(value, number)
        self._changed()
        return order

    def set_quantities(self, number: str, kind: str, quantities: Mapping[str, int]) -> Order:
        """Set what was shipped (``shipped``) or invoiced (``invoiced``) per SKU, spread over the order's lines."""
        order = self._order(number)
        for sku, total in quantities.items():
            lines = [line for line in order.lines if line.sku == sku]
            if not lines:
                raise ValueError(f"quantities.{sku}: not on order {order.bill_no}")
            if total > sum(line.qty for line in lines):
                raise ValueError(f"quantities.{sku}: more than the {sum(line.qty for line in lines)} ordered")
            left = total
            for line in lines:
                setattr(line, kind, min(left, line.qty))
                left -= getattr(line, kind)
        self._touch(order)
        return order

    def set_invoice_amount(self, number: str, amount: Decimal | None) -> Order:
        """What the order's receivable says in total (``None``: the invoiced units at their prices)."""
        order = self._order(number)
        order.invoice_amount = amount
        self._touch(order)
        return order

    def set_status(self, number: str, status: str) -> Order:
        if status not in STATUSES:
            raise ValueError(f"status: one of {', '.join(STATUSES)}")
        order = self._order(number)
        order.status = status
        self._touch(order)
        return order

    def delete(self, number: str) -> None:
        order = self._order(number)
        del self.now.orders[order.bill_no]
        for value in order.fields.values():
            if self.now.refs.get(value) == order.bill_no:
                del self.now.refs[value]
        self._changed()

    def set_stock(self, warehouse: str, on_hand: Mapping[str, int]) -> dict[str, int]:
        shelf = self.now.stock.setdefault(warehouse, {})
        shelf.update(on_hand)
        self._changed()
        return dict(shelf)

    def _order(self, number: str) -> Order:
        order = self.now.find(number)
        if order is None:
            raise LookupError(number)
        return order

    def _touch(self, order: Order) -> None:
        order.modified = datetime.now(UTC)
        self._changed()
