"""The after-sale object types (``AfterSale``, its lines and photos) and enums, apart from the roots.

Kept out of ``schema.after_sales`` so that ``schema.types`` can give
``Order.afterSales`` without an import circle (the roots need ``PageInfo``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from domain.after_sales import machine
from models.order import order_no
from resolvers import after_sales as resolvers
from resolvers import ids
from schema import intake as intake_schema

# The after-sale status enum is the one the intake's mapping tables already show (one GraphQL enum per domain enum).
AfterSaleStatus = intake_schema.AfterSaleStatus


@strawberry.enum(description="Refund only, return and refund, or exchange.")
class AfterSaleKind(Enum):
    REFUND_ONLY = "refund_only"
    RETURN_REFUND = "return_refund"
    EXCHANGE = "exchange"


@strawberry.enum(description="Where the request came from.")
class AfterSaleSource(Enum):
    GRAPHQL = "graphql"
    CHANNEL = "channel"
    CUSTOMER = "customer"


@strawberry.type(description="Units of one order line an after-sale is about, and what became of those that came back.")
class AfterSaleLine:
    id: strawberry.ID
    order_line_id: strawberry.ID
    quantity: int
    amount: Decimal = strawberry.field(description="The line's price share of the request (unit price × quantity).")
    received: int
    restocked: int
    written_off: int
    replacement_sku: str | None
    replacement_line_id: strawberry.ID | None = strawberry.field(description="The exchange's replacement order line.")

    @classmethod
    def from_row(cls, row: Any) -> AfterSaleLine:
        return cls(id=strawberry.ID(ids.encode("AfterSaleLine", row.id)),
                   order_line_id=strawberry.ID(ids.encode("OrderLine", row.order_line_id)),
                   quantity=row.quantity, amount=row.amount, received=row.received, restocked=row.restocked,
                   written_off=row.written_off, replacement_sku=row.replacement_sku,
                   replacement_line_id=strawberry.ID(ids.encode("OrderLine", row.replacement_line_id))
                   if row.replacement_line_id else None)


@strawberry.type(description="A photo the buyer added (its bytes are not served here).")
class AfterSalePhoto:
    id: strawberry.ID
    content_type: str
    size: int
    sha256: str
    created_at: datetime


@strawberry.type(description="A refund, return or exchange request about one order.")
class AfterSale:
    id: strawberry.ID
    order_id: strawberry.ID
    order_number: str
    kind: AfterSaleKind
    status: AfterSaleStatus
    source: AfterSaleSource
    external_id: str | None = strawberry.field(description="The channel's refund id, verbatim (null: opened here).")
    channel_status: str = strawberry.field(description="The channel's own last code for it.")
    reason: str
    requested_amount: Decimal
    approved_amount: Decimal | None
    refunded_amount: Decimal
    currency: str
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    respond_by: datetime | None = strawberry.field(description="The deadline for a decision.")
    return_by: datetime | None = strawberry.field(description="The buyer sends the goods back by then.")
    return_carrier: str
    return_tracking_no: str
    warehouse_id: strawberry.ID | None = strawberry.field(description="Where the goods came back.")
    push_state: str = strawberry.field(description="A decision owed to the channel: pending, done, failed, "
                                       "unsupported (empty: none).")
    push_error: str
    created_at: datetime
    updated_at: datetime
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any) -> AfterSale:
        return cls(
            id=strawberry.ID(ids.encode("AfterSale", row.id)),
            order_id=strawberry.ID(ids.encode("Order", row.order_id)), order_number=order_no(row.order_id),
            kind=AfterSaleKind(row.kind), status=AfterSaleStatus(row.status), source=AfterSaleSource(row.source),
            external_id=row.external_id, channel_status=row.channel_status, reason=row.reason,
            requested_amount=row.requested_amount, approved_amount=row.approved_amount,
            refunded_amount=row.refunded_amount, currency=row.currency, decided_by=row.decided_by,
            decided_at=row.decided_at, decision_note=row.decision_note, respond_by=row.respond_by,
            return_by=row.return_by, return_carrier=row.return_carrier, return_tracking_no=row.return_tracking_no,
            warehouse_id=strawberry.ID(ids.encode("Warehouse", row.warehouse_id)) if row.warehouse_id else None,
            push_state=row.push_state, push_error=row.push_error, created_at=row.created_at,
            updated_at=row.updated_at, pk=row.id,
        )

    @strawberry.field(description="Statuses this after-sale's kind allows next.")
    def allowed_moves(self) -> list[AfterSaleStatus]:
        return [AfterSaleStatus(s) for s in machine.allowed_targets(self.kind.value, self.status.value)]

    @strawberry.field
    async def lines(self, info: Info) -> list[AfterSaleLine]:
        return [AfterSaleLine.from_row(row) for row in await resolvers.lines_loader(info.context).load(self.pk)]

    @strawberry.field
    async def photos(self, info: Info) -> list[AfterSalePhoto]:
        rows = await resolvers.photos_loader(info.context).load(self.pk)
        return [AfterSalePhoto(id=strawberry.ID(ids.encode("AfterSalePhoto", r.id)), content_type=r.content_type,
                               size=r.size, sha256=r.sha256, created_at=r.created_at) for r in rows]


async def after_sales_of_order(info: Info, order_id: int) -> list[AfterSale]:
    """``Order.afterSales``: batched over a page of orders."""
    return [AfterSale.from_row(row) for row in await resolvers.order_loader(info.context).load(order_id)]
