"""What an ERP or a WMS must offer the order graph, in plain shapes, whatever its wire format.

    wms = registry.wms(connection)                 # adapters.systems: Qimen, a REST WMS described as data, …
    trace: list[Exchange] = []
    result = await wms.push_delivery(delivery, trace=trace)
    # every request and answer is in `trace`, redacted, for the caller to keep as evidence

Every call appends one :class:`Exchange` per HTTP round trip to ``trace``
(also when it fails), and raises :class:`SystemUnavailable` when the system
could not be asked (timeout, refused connection, 5xx after retries, circuit
open) or :class:`SystemRefused` when it answered no (a business error code).
Quantities are ints, times timezone-aware UTC, codes exactly as the other
system spells them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class SystemError_(Exception):
    """Base of what an ERP/WMS call can end in besides an answer."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class SystemUnavailable(SystemError_):
    """The system could not be asked or did not answer in time; nothing is known about the request's effect."""


class SystemRefused(SystemError_):
    """The system answered and refused (its own error code in ``code``)."""


@dataclass(frozen=True, slots=True)
class Exchange:
    """One round trip with an outside system, redacted (no secrets, signatures or personal data in clear)."""

    system: str                 # "wms" | "erp"
    operation: str              # "deliveryorder.create", "inventory.query", "ExecuteBillQuery", …
    method: str
    url: str                    # without query-string secrets
    request_body: str
    status_code: int | None
    response_body: str
    outcome: str                # "ok" | "error" | "timeout" | "unreachable" | "disagreed"
    elapsed_ms: float
    error: str = ""
    direction: str = "out"      # "out" (we asked) | "in" (a callback)


# ------------------------------------------------------------------ WMS


class WmsStatus(StrEnum):
    """Where a delivery order stands in the WMS, mapped from its own codes."""

    NEW = "NEW"                 # received, not yet worked on
    ACCEPTED = "ACCEPTED"
    PICKING = "PICKING"
    PACKED = "PACKED"
    SHIPPED = "SHIPPED"         # left the warehouse with a waybill
    CANCELLED = "CANCELLED"
    EXCEPTION = "EXCEPTION"
    UNKNOWN = "UNKNOWN"         # the WMS does not know the order


@dataclass(frozen=True, slots=True)
class Receiver:
    name: str = ""
    phone: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    address: str = ""
    postal_code: str = ""
    country_code: str = "CN"


@dataclass(frozen=True, slots=True)
class DeliveryLine:
    line_ref: str               # our order line id, as text: the WMS echoes it in confirmations
    sku: str
    quantity: int
    title: str = ""


@dataclass(frozen=True, slots=True)
class DeliveryRequest:
    """A delivery order as we push it; ``code`` is the idempotency key (the same on every retry)."""

    code: str
    order_no: str
    warehouse_code: str         # the WMS's code for the warehouse
    owner_code: str
    receiver: Receiver
    lines: tuple[DeliveryLine, ...]
    placed_at: datetime
    shop: str = ""
    remark: str = ""


@dataclass(frozen=True, slots=True)
class PushResult:
    wms_order_id: str
    duplicate: bool = False     # the WMS already had this code (a retry after a lost answer)


@dataclass(frozen=True, slots=True)
class Parcel:
    carrier: str                # as the WMS names it (normalise with domain.inbound.carrier_codes)
    tracking_no: str
    lines: Mapping[str, int] = field(default_factory=dict)   # line_ref -> quantity in this parcel


@dataclass(frozen=True, slots=True)
class DeliveryState:
    """What the WMS says about one delivery order now."""

    code: str
    status: WmsStatus
    raw_status: str
    shipped: Mapping[str, int] = field(default_factory=dict)  # sku -> quantity shipped
    parcels: tuple[Parcel, ...] = ()
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StockFigure:
    sku: str
    on_hand: int
    available: int | None = None
    as_of: datetime | None = None


@dataclass(frozen=True, slots=True)
class DeliveryConfirmation:
    """The WMS says a delivery order left (``deliveryorder.confirm``): parcels, waybills, lines shipped."""

    code: str
    wms_order_id: str
    warehouse_code: str
    parcels: tuple[Parcel, ...]
    shipped: Mapping[str, int]  # sku -> quantity
    confirmed_at: datetime
    final: bool = True          # Qimen confirmType 0 = all shipped, 1 = partial


@dataclass(frozen=True, slots=True)
class StockChange:
    """One stock change the WMS reports (``stockchange.report``): positive in, negative out."""

    warehouse_code: str
    sku: str
    quantity: int
    reason: str                 # the WMS's order type/reason, verbatim
    reference: str              # the WMS's document number: the idempotency key of the change
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class Callback:
    """A verified callback, read: confirmations and stock changes (either may be empty), and the reply to send."""

    confirmations: tuple[DeliveryConfirmation, ...] = ()
    stock_changes: tuple[StockChange, ...] = ()
    operation: str = ""         # the WMS's name for it ("deliveryorder.confirm"), for the evidence
    evidence: str = ""          # the body, redacted by the adapter: what the inbound Exchange keeps


class CallbackRefused(Exception):
    """A callback that is unsigned, badly signed or unreadable: answered 4xx and quarantined with the reason."""

    def __init__(self, reason: str, *, status: int = 400, field: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.field = field


class WmsPort(Protocol):
    """A WMS: push and cancel delivery orders, ask about them and about stock, read its callbacks."""

    async def push_delivery(self, request: DeliveryRequest, *, trace: list[Exchange]) -> PushResult: ...

    async def cancel_delivery(self, code: str, warehouse_code: str, *, reason: str,
                              trace: list[Exchange]) -> None:
        """Cancelled, or ``SystemRefused`` (e.g. already shipped) with the WMS's reason."""
        ...

    async def delivery_states(self, codes: Sequence[str], warehouse_code: str, *,
                              trace: list[Exchange]) -> dict[str, DeliveryState]:
        """The state of each code (codes the WMS does not know come back ``UNKNOWN``), in as few calls as it allows."""
        ...

    async def stock(self, warehouse_code: str, skus: Sequence[str], *, trace: list[Exchange]) -> dict[str, StockFigure]:
        ...

    def read_callback(self, body: bytes, headers: Mapping[str, str], query: Mapping[str, str]) -> Callback:
        """Verify and read a callback, or ``CallbackRefused``."""
        ...

    def reply(self, success: bool, message: str) -> tuple[str, bytes]:
        """The acknowledgement the WMS expects: ``(content type, body)``."""
        ...


# ------------------------------------------------------------------ ERP


@dataclass(frozen=True, slots=True)
class SalesOrderRequest:
    order_no: str
    customer_code: str
    warehouse_code: str         # the ERP's code for the warehouse
    lines: tuple[DeliveryLine, ...]
    placed_at: datetime
    currency: str = "CNY"
    amounts: Mapping[str, str] = field(default_factory=dict)   # sku -> unit price, as decimal text


@dataclass(frozen=True, slots=True)
class SalesOrderState:
    """What the ERP says about one sales order: its status and, per SKU, ordered, shipped (out-stock) and invoiced."""

    order_no: str
    status: str                 # the ERP's own document status, verbatim ("" when unknown)
    known: bool
    ordered: Mapping[str, int] = field(default_factory=dict)
    shipped: Mapping[str, int] = field(default_factory=dict)
    invoiced: Mapping[str, int] = field(default_factory=dict)
    amount: str = ""            # total as decimal text
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Invoice:
    """What the ERP invoiced (its receivables, 应收单) against one of our orders: summed over every invoice line.

    ``known`` is false when the ERP has no invoice for the order (then quantity
    and amount are 0). A credit note (a red invoice) counts negative.
    """

    order_no: str
    known: bool
    quantity: int = 0
    amount: str = "0"           # total as decimal text, tax included
    numbers: tuple[str, ...] = ()   # the ERP's invoice (receivable) numbers


class ErpPort(Protocol):
    """An ERP: save and read sales orders, read inventory, read what it invoiced."""

    async def save_sales_order(self, request: SalesOrderRequest, *, trace: list[Exchange]) -> str:
        """The ERP's document number (idempotent by ``order_no``)."""
        ...

    async def sales_orders(self, order_nos: Sequence[str], *, trace: list[Exchange]) -> dict[str, SalesOrderState]:
        ...

    async def stock(self, warehouse_code: str, skus: Sequence[str], *, trace: list[Exchange]) -> dict[str, StockFigure]:
        ...

    async def invoices(self, order_nos: Sequence[str], *, trace: list[Exchange]) -> dict[str, Invoice]:
        """Invoiced quantity and amount per order number (every number asked comes back), in as few calls as it allows.

        ``SystemRefused`` with code ``NOT_CONFIGURED`` when the connection cannot say.
        """
        ...


class Systems(Protocol):
    """The adapters registry the callers hand in: a port for a stored connection.

    ``key`` names the connection (tenant and code) for the adapter's circuit
    breaker and connection reuse; ``config`` is the connection's stored config.
    """

    def wms(self, adapter: str, config: Mapping[str, Any], *, key: str) -> WmsPort: ...

    def erp(self, adapter: str, config: Mapping[str, Any], *, key: str) -> ErpPort: ...

    def check(self, kind: str, adapter: str, config: Mapping[str, Any]) -> None:
        """Refuse (``ValueError`` naming the key) a config the adapter cannot use, when the merchant saves it."""
        ...
