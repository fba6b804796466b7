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
