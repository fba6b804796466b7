"""Mutation inputs. Money is ``Decimal`` (a string on the wire), never a float."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from schema.enums import OrderStatus, PaymentStatus


@strawberry.input
class LineInput:
    sku: str
    quantity: int
    unit_price: Decimal
    title: str | None = None


@strawberry.input
class CustomerInput:
    name: str | None = None
    phone: str | None = None
    email: str | None = None


@strawberry.input
class AddressInput:
    name: str | None = None
    phone: str | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None
    address: str | None = None


@strawberry.input
class PaymentInput:
    gateway: str
    amount: Decimal
    status: PaymentStatus = PaymentStatus.PAID
    reference: str | None = None
    paid_at: datetime | None = None


@strawberry.input
class CreateOrderInput:
    channel: str = strawberry.field(description="Channel code, e.g. `tmall-flagship`.")
    external_id: str
    lines: list[LineInput]
    currency: str = "CNY"
    total_amount: Decimal | None = strawberry.field(default=None, description="Defaults to the sum of the lines.")
    customer: CustomerInput | None = None
    address: AddressInput | None = None
    payment: PaymentInput | None = None
    deposit: bool = strawberry.field(default=False, description="Pre-sale: the payment is a deposit.")
    tags: list[str] | None = None
    placed_at: datetime | None = None
    ship_by: datetime | None = strawberry.field(default=None, description="The latest hand-over to the carrier.")


@strawberry.input
class TransitionOrderInput:
    id: strawberry.ID
    status: OrderStatus
    reason: str = ""


@strawberry.input
class HoldOrderInput:
    id: strawberry.ID
    reasons: list[str]


@strawberry.input
class ReleaseHoldInput:
    id: strawberry.ID
    reasons: list[str] | None = strawberry.field(default=None, description="Omit to lift every hold.")
    reason: str | None = strawberry.field(default=None, description="Why the hold is lifted (required, recorded in lineage).")


@strawberry.input
class CancelOrderInput:
    id: strawberry.ID
    reason: str


@strawberry.input
class AllocateOrderInput:
    id: strawberry.ID
    warehouse_id: strawberry.ID
    reason: str = ""


@strawberry.input
class ShipOrderInput:
    id: strawberry.ID
    carrier: str
    tracking_no: str
    estimated_delivery: datetime | None = None
    warehouse_id: strawberry.ID | None = strawberry.field(
        default=None, description="Ship only what is reserved in this warehouse (an order split over warehouses)."
    )
    parcel: int | None = strawberry.field(
        default=None, description="Ship only this parcel of an order split by hand (`splitOrder`), numbered from 1."
    )


@strawberry.input
class MergeOrdersInput:
    ids: list[strawberry.ID] = strawberry.field(description="The orders to ship as one parcel (合单); the earliest placed leads.")


@strawberry.input
class UnmergeOrderInput:
    id: strawberry.ID = strawberry.field(description="A member leaves its merge; the leader dissolves the whole merge.")
    reason: str


@strawberry.input
class ParcelLineInput:
    line_id: strawberry.ID
    quantity: int


@strawberry.input
class SplitOrderInput:
    id: strawberry.ID
    parcels: list[list[ParcelLineInput]] = strawberry.field(
        description="Parcel 1, parcel 2, …: the lines (and how many of each) in each. Every unshipped unit must be assigned."
    )
