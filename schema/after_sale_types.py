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
    REFUND_ONLY = strawberry.enum_value("refund_only", description="Money back, the goods stay with the buyer.")
    RETURN_REFUND = strawberry.enum_value("return_refund", description="The goods come back, then the money goes back.")
    EXCHANGE = strawberry.enum_value("exchange", description="The goods come back and a replacement order ships.")


@strawberry.enum(description="Where the request came from.")
class AfterSaleSource(Enum):
    GRAPHQL = strawberry.enum_value("graphql", description="Opened through this API (service staff or a partner).")
    CHANNEL = strawberry.enum_value("channel", description="Opened on the sales channel and received from it.")
    CUSTOMER = strawberry.enum_value("customer", description="Opened by the buyer on the tracking page.")


@strawberry.type(description="Units of one order line an after-sale is about, and what became of those that came back.")
class AfterSaleLine:
    id: strawberry.ID = strawberry.field(description="The after-sale line's id.")
    order_line_id: strawberry.ID = strawberry.field(description="The order line it is about.")
    quantity: int = strawberry.field(description="Units asked about.")
    amount: Decimal = strawberry.field(description="The line's price share of the request (unit price × quantity).")
    received: int = strawberry.field(description="Units that came back to the warehouse.")
    restocked: int = strawberry.field(description="Received units inspected as sellable and put back on hand.")
    written_off: int = strawberry.field(description="Received units inspected as unsellable and written off.")
    replacement_sku: str | None = strawberry.field(
        description="Exchanges: the SKU sent instead; null for the same SKU or other kinds.")
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
    id: strawberry.ID = strawberry.field(description="The photo's id.")
    content_type: str = strawberry.field(description="image/jpeg, image/png or image/webp, as the bytes say.")
    size: int = strawberry.field(description="Size in bytes.")
    sha256: str = strawberry.field(description="SHA-256 of the bytes (hex).")
    created_at: datetime = strawberry.field(description="When it was added (UTC).")


@strawberry.type(description="A refund, return or exchange request about one order.")
class AfterSale:
    id: strawberry.ID = strawberry.field(description="The after-sale's global id.")
    order_id: strawberry.ID = strawberry.field(description="The order it is about.")
    order_number: str = strawberry.field(description="That order's number (OG000000042).")
    kind: AfterSaleKind = strawberry.field(description="Refund only, return and refund, or exchange.")
    status: AfterSaleStatus = strawberry.field(description="Where it stands; `allowedMoves` says what may come next.")
    source: AfterSaleSource = strawberry.field(description="Where the request came from.")
    external_id: str | None = strawberry.field(description="The channel's refund id, verbatim (null: opened here).")
    channel_status: str = strawberry.field(description="The channel's own last code for it.")
    reason: str = strawberry.field(description="The buyer's reason, verbatim.")
    requested_amount: Decimal = strawberry.field(description="Money asked back, a decimal string in `currency`.")
    approved_amount: Decimal | None = strawberry.field(
        description="Money approved, a decimal string in `currency`; null until approved.")
    refunded_amount: Decimal = strawberry.field(description="Money paid back so far, a decimal string in `currency`.")
    currency: str = strawberry.field(description="ISO 4217 code of the amounts (the order's currency).")
    decided_by: str | None = strawberry.field(
        description="Who approved or rejected it (a user, API key label or the policy's auto-approval); null until decided.")
    decided_at: datetime | None = strawberry.field(description="When it was decided (UTC); null until decided.")
    decision_note: str = strawberry.field(
        description="The note given with the decision (what the buyer reads on a rejection); may be empty.")
    respond_by: datetime | None = strawberry.field(description="The deadline for a decision.")
    return_by: datetime | None = strawberry.field(description="The buyer sends the goods back by then.")
    return_carrier: str = strawberry.field(description="The carrier the buyer sent the goods back with; may be empty.")
    return_tracking_no: str = strawberry.field(description="The return parcel's tracking number; may be empty.")
    warehouse_id: strawberry.ID | None = strawberry.field(description="Where the goods came back.")
    push_state: str = strawberry.field(description="A decision owed to the channel: pending, done, failed, "
                                       "unsupported (empty: none).")
    push_error: str = strawberry.field(
        description="Why pushing the decision to the channel last failed; empty if it did not.")
    created_at: datetime = strawberry.field(description="When it was opened (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")
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

    @strawberry.field(description="The order lines and units it is about.")
    async def lines(self, info: Info) -> list[AfterSaleLine]:
        return [AfterSaleLine.from_row(row) for row in await resolvers.lines_loader(info.context).load(self.pk)]

    @strawberry.field(description="Photos the buyer added.")
    async def photos(self, info: Info) -> list[AfterSalePhoto]:
        rows = await resolvers.photos_loader(info.context).load(self.pk)
        return [AfterSalePhoto(id=strawberry.ID(ids.encode("AfterSalePhoto", r.id)), content_type=r.content_type,
                               size=r.size, sha256=r.sha256, created_at=r.created_at) for r in rows]


async def after_sales_of_order(info: Info, order_id: int) -> list[AfterSale]:
    """``Order.afterSales``: batched over a page of orders."""
    return [AfterSale.from_row(row) for row in await resolvers.order_loader(info.context).load(order_id)]
