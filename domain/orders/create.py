"""Recording a new order with its lines, customer, payment and tags; stock follows if the policy says so.

    order = await create_order(actor, NewOrder(channel_id=1, external_id="T1001",
                                               lines=[NewLine("TEA-1", 2, Decimal("59.00"))]))

One transaction: the rows, the ``order.created`` lineage row and (when the
allocation policy reserves on payment) the reservations land together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from tortoise.exceptions import IntegrityError

from domain.actor import Actor
from domain.allocation import order_stock
from domain.contact_fields import valid_email, valid_phone
from domain.errors import (
    Duplicate,
    NotFound,
    ValidationFailed,
)
from domain.masking import phone_hash
from domain.order_writes import require_writer
from domain.payments.kinds import PaymentKind
from domain.payments.references import normalize
from domain.snapshots import order_state
from domain.statuses import OrderStatus, PaymentStatus
from domain.unit_of_work import unit_of_work
from events import log
from models import Channel, Customer, Order, OrderLine, OrderTag, Payment


@dataclass(slots=True)
class NewLine:
    sku: str
    quantity: int
    unit_price: Decimal
    title: str = ""


@dataclass(slots=True)
class NewPayment:
    gateway: str
    amount: Decimal
    status: PaymentStatus = PaymentStatus.PAID
    reference: str = ""
    paid_at: datetime | None = None


@dataclass(slots=True)
class NewCustomer:
    name: str = ""
    phone: str | None = None
    email: str | None = None


@dataclass(slots=True)
class NewAddress:
    name: str = ""
    phone: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    address: str = ""


@dataclass(slots=True)
class NewOrder:
    channel_id: int
    external_id: str
    lines: list[NewLine]
    currency: str = "CNY"
    total_amount: Decimal | None = None
    customer: NewCustomer | None = None
    address: NewAddress | None = None
    payment: NewPayment | None = None
    deposit: bool = False
    tags: list[str] = field(default_factory=list)
    placed_at: datetime | None = None
    ship_by: datetime | None = None  # the channel's or the merchant's latest hand-over time
    source_updated_at: datetime | None = None


def _validate(new: NewOrder) -> Decimal:
    """Check the input; return the order total."""
    if not new.external_id.strip():
        raise ValidationFailed("external id must not be empty", field="externalId")
    if len(new.external_id) > 64:
        raise ValidationFailed("external id is longer than 64 characters", field="externalId")
    if new.ship_by is not None and new.ship_by.tzinfo is None:
        raise ValidationFailed("shipBy needs a time zone", field="shipBy")
    if not new.lines:
        raise ValidationFailed("an order needs at least one line", field="lines")
    if len(new.currency) != 3 or not new.currency.isalpha():
        raise ValidationFailed("currency must be a 3-letter ISO code", field="currency")
    for index, line in enumerate(new.lines):
        where = f"lines.{index}"
        if not line.sku.strip():
            raise ValidationFailed("SKU must not be empty", field=f"{where}.sku")
        if line.quantity <= 0:
            raise ValidationFailed("quantity must be positive", field=f"{where}.quantity")
        if line.unit_price < 0:
            raise ValidationFailed("unit price must not be negative", field=f"{where}.unitPrice")
    lines_total = sum((line.unit_price * line.quantity for line in new.lines), Decimal("0"))
    total = lines_total if new.total_amount is None else new.total_amount
    if total < 0:
        raise ValidationFailed("total must not be negative", field="totalAmount")
    if new.payment and new.payment.amount < 0:
        raise ValidationFailed("payment amount must not be negative", field="payment.amount")
    if new.customer and new.customer.phone:
        valid_phone(new.customer.phone, "customer.phone")
    if new.customer and new.customer.email:
        new.customer.email = valid_email(new.customer.email, "customer.email")
    if new.address and new.address.phone:
        valid_phone(new.address.phone, "address.phone")
    return total


def _initial_status(new: NewOrder, total: Decimal) -> OrderStatus:
    paid = new.payment and new.payment.status == PaymentStatus.PAID
    if paid and new.deposit:
        return OrderStatus.DEPOSIT_PAID
    if paid and new.payment and new.payment.amount >= total:
        return OrderStatus.PAID
    if paid:
        raise ValidationFailed(
            "a paid amount below the total needs deposit=true", field="payment.amount"
        )
    return OrderStatus.PENDING_PAYMENT


async def _find_or_create_customer(tenant_id: int, new: NewCustomer | None) -> Customer | None:
    if new is None or not (new.phone or new.name or new.email):
        return None
    if new.phone:
        existing = await Customer.filter(tenant_id=tenant_id, phone_hash=phone_hash(new.phone)).first()
        if existing:
            return existing
    return await Customer.create(
        tenant_id=tenant_id,
        name=new.name,
        phone=new.phone,
        phone_hash=phone_hash(new.phone) if new.phone else None,
        email=new.email,
    )


async def create_order(actor: Actor, new: NewOrder, *, payload_ref: str | None = None) -> Order:
    """Record a new channel order with its lines, customer and payment."""
    require_writer(actor)
    total = _validate(new)
    status = _initial_status(new, total)
    channel = await Channel.filter(id=new.channel_id, tenant_id=actor.tenant_id).first()
    if channel is None:
        raise NotFound("no such channel", field="channel")
    address = new.address or NewAddress()
    now = datetime.now(UTC)
    try:
        async with unit_of_work():
            customer = await _find_or_create_customer(actor.tenant_id, new.customer)
            order = await Order.create(
                tenant_id=actor.tenant_id,
                channel_id=channel.id,
                external_id=new.external_id.strip(),
                customer=customer,
                status=status,
                currency=new.currency.upper(),
                total_amount=total,
                ship_name=address.name,
                ship_phone=address.phone,
                ship_province=address.province,
                ship_city=address.city,
                ship_district=address.district,
                ship_address=address.address,
                placed_at=new.placed_at or now,
                ship_by=new.ship_by,
                source_updated_at=new.source_updated_at,
            )
            await OrderLine.bulk_create(
                [
                    OrderLine(
                        order_id=order.id,
                        sku=line.sku.strip(),
                        title=line.title,
                        quantity=line.quantity,
                        unit_price=line.unit_price,
                    )
                    for line in new.lines
                ]
            )
            tags = sorted({tag.strip() for tag in new.tags if tag.strip()})
            if tags:
                await OrderTag.bulk_create([OrderTag(order_id=order.id, tag=tag) for tag in tags])
            if new.payment:
                await Payment.create(
                    order_id=order.id,
                    gateway=new.payment.gateway,
                    reference=new.payment.reference,
                    normalized_reference=normalize(new.payment.reference, new.payment.gateway),
                    kind=PaymentKind.DEPOSIT if new.deposit else PaymentKind.PAYMENT,
                    amount=new.payment.amount,
                    currency=order.currency,
                    status=new.payment.status,
                    paid_at=new.payment.paid_at or (now if new.payment.status == PaymentStatus.PAID else None),
                )
            await log.append(
                tenant_id=actor.tenant_id,
                order_id=order.id,
                type="order.created",
                actor=actor.name,
                source=actor.source,
                after={**order_state(order), "lines": len(new.lines), "total": str(total)},
                payload_ref=payload_ref,
            )
            await order_stock.on_created(actor, order)
    except IntegrityError as exc:
        raise Duplicate(
            f"channel {channel.code} already has an order {new.external_id}", field="externalId"
        ) from exc
    return order


