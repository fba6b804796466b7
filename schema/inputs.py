"""Mutation inputs. Money is ``Decimal`` (a string on the wire), never a float."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from schema.enums import OrderStatus, PaymentStatus


@strawberry.input(description="One line of a new order.")
class LineInput:
    sku: str = strawberry.field(description="The merchant's SKU code (a channel SKU alias is mapped onto it); not empty.")
    quantity: int = strawberry.field(description="Units ordered; at least 1.")
    unit_price: Decimal = strawberry.field(
        description="Price of one unit, a decimal string in the order's currency (e.g. \"59.90\"); not negative.")
    title: str | None = strawberry.field(default=None, description="The item's name as the channel shows it; empty if omitted.")


@strawberry.input(description="The buyer of a new order; personal data, stored as given and masked for roles that do not see it.")
class CustomerInput:
    name: str | None = strawberry.field(default=None, description="Buyer's name.")
    phone: str | None = strawberry.field(default=None, description="Buyer's phone (checked to be a plausible phone number).")
    email: str | None = strawberry.field(default=None, description="Buyer's email.")


@strawberry.input(description="Where a new order ships; name, phone and street are personal data.")
class AddressInput:
    name: str | None = strawberry.field(default=None, description="Receiver's name.")
    phone: str | None = strawberry.field(default=None, description="Receiver's phone.")
    province: str | None = strawberry.field(default=None, description="Province or state.")
    city: str | None = strawberry.field(default=None, description="City.")
    district: str | None = strawberry.field(default=None, description="District or county.")
    address: str | None = strawberry.field(default=None, description="Street address.")


@strawberry.input(description="A payment received with a new order.")
class PaymentInput:
    gateway: str = strawberry.field(description="Who took the money, e.g. `alipay`, `wechatpay`.")
    amount: Decimal = strawberry.field(description="Decimal string in the order's currency; not negative.")
    status: PaymentStatus = strawberry.field(default=PaymentStatus.PAID, description="Where the payment stands; PAID by default.")
    reference: str | None = strawberry.field(default=None, description="The gateway's or channel's payment reference, kept verbatim for matching its notices.")
    paid_at: datetime | None = strawberry.field(default=None, description="When the money arrived (ISO 8601 with offset; UTC if none).")


@strawberry.input(description="A new channel order; refused (VALIDATION) if its channel, lines or amounts are wrong.")
class CreateOrderInput:
    channel: str = strawberry.field(description="Channel code, e.g. `tmall-flagship`.")
    external_id: str = strawberry.field(
        description="The channel's own order id (1-64 characters); unique per channel, a repeat is DUPLICATE.")
    lines: list[LineInput] = strawberry.field(description="At least one line.")
    currency: str = strawberry.field(default="CNY", description="ISO 4217 code of every amount (3 letters); CNY by default.")
    total_amount: Decimal | None = strawberry.field(default=None, description="Defaults to the sum of the lines.")
    customer: CustomerInput | None = strawberry.field(default=None, description="The buyer, if known.")
    address: AddressInput | None = strawberry.field(default=None, description="Where it ships, if known.")
    payment: PaymentInput | None = strawberry.field(default=None, description="A payment already received, if any; without one the order waits for payment.")
    deposit: bool = strawberry.field(default=False, description="Pre-sale: the payment is a deposit.")
    tags: list[str] | None = strawberry.field(default=None, description="Free labels to put on the order.")
    placed_at: datetime | None = strawberry.field(default=None, description="When the buyer placed it (ISO 8601); now if omitted.")
    ship_by: datetime | None = strawberry.field(default=None, description="The latest hand-over to the carrier.")


@strawberry.input(description="Move one order to a new status.")
class TransitionOrderInput:
    id: strawberry.ID = strawberry.field(description="The order's id.")
    status: OrderStatus = strawberry.field(
        description="The status to move to; must be one of the order's `allowedTransitions`.")
    reason: str = strawberry.field(default="", description="Why, recorded in the lineage; may be empty.")


@strawberry.input(description="Put an order on hold.")
class HoldOrderInput:
    id: strawberry.ID = strawberry.field(description="The order's id.")
    reasons: list[str] = strawberry.field(
        description="One or more reasons in words (e.g. `address check`); the order stays on hold until all are lifted.")


@strawberry.input(description="Lift holds from an order.")
class ReleaseHoldInput:
    id: strawberry.ID = strawberry.field(description="The order's id.")
    reasons: list[str] | None = strawberry.field(default=None, description="Omit to lift every hold.")
    reason: str | None = strawberry.field(default=None, description="Why the hold is lifted (required, recorded in lineage).")


@strawberry.input(description="Cancel an order that has not shipped.")
class CancelOrderInput:
    id: strawberry.ID = strawberry.field(description="The order's id.")
    reason: str = strawberry.field(description="Why, recorded in the lineage.")


@strawberry.input(description="Allocate an order to a warehouse by hand.")
class AllocateOrderInput:
    id: strawberry.ID = strawberry.field(description="The order's id.")
    warehouse_id: strawberry.ID = strawberry.field(description="The warehouse's id; its stock is reserved for every line.")
    reason: str = strawberry.field(default="", description="Why this warehouse, recorded in the lineage; may be empty.")


@strawberry.input(description="Record that an order (or part of it) was handed to a carrier.")
class ShipOrderInput:
    id: strawberry.ID = strawberry.field(description="The order's id.")
    carrier: str = strawberry.field(description="The carrier's code, e.g. `SF`, `ZTO`.")
    tracking_no: str = strawberry.field(description="The carrier's tracking (waybill) number.")
    estimated_delivery: datetime | None = strawberry.field(default=None, description="The carrier's promised delivery time (ISO 8601), if known.")
    warehouse_id: strawberry.ID | None = strawberry.field(
        default=None, description="Ship only what is reserved in this warehouse (an order split over warehouses)."
    )
    parcel: int | None = strawberry.field(
        default=None, description="Ship only this parcel of an order split by hand (`splitOrder`), numbered from 1."
    )


@strawberry.input(description="Orders to merge into one parcel.")
class MergeOrdersInput:
    ids: list[strawberry.ID] = strawberry.field(description="The orders to ship as one parcel (合单); the earliest placed leads.")


@strawberry.input(description="Take an order out of its merge.")
class UnmergeOrderInput:
    id: strawberry.ID = strawberry.field(description="A member leaves its merge; the leader dissolves the whole merge.")
    reason: str = strawberry.field(description="Why, recorded in the lineage.")


@strawberry.input(description="Some units of one order line, for a parcel.")
class ParcelLineInput:
    line_id: strawberry.ID = strawberry.field(description="The order line's id.")
    quantity: int = strawberry.field(description="Units of that line in this parcel; at least 1.")


@strawberry.input(description="Split an order into parcels by hand.")
class SplitOrderInput:
    id: strawberry.ID = strawberry.field(description="The order's id.")
    parcels: list[list[ParcelLineInput]] = strawberry.field(
        description="Parcel 1, parcel 2, …: the lines (and how many of each) in each. Every unshipped unit must be assigned."
    )
