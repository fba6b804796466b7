"""Order reads (lookup, filtered pages) and the order mutations' glue to ``domain/``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from tortoise.expressions import Q, Subquery

from domain import orders
from domain.errors import NotFound, ValidationFailed
from domain.order_numbers import order_id_from_number
from domain.orders import fulfilment
from domain.orders.create import NewAddress, NewCustomer, NewLine, NewOrder, NewPayment
from domain.statuses import OrderStatus, PaymentStatus
from models import Channel, Order, OrderTag, Shipment
from models.order import parse_order_no
from resolvers import ids
from resolvers.context import Context
from resolvers.pagination import Page, check_page_size, keyset_page

SORT_FIELDS = {"CREATED_AT": "created_at", "UPDATED_AT": "updated_at", "PLACED_AT": "placed_at"}


def actor_of(ctx: Context):  # noqa: ANN201 - Actor, never None past the auth middleware
    assert ctx.actor is not None
    return ctx.actor


def pk_of(global_id: str, type_name: str) -> int:
    try:
        return ids.decode(global_id, type_name)[1]
    except ids.BadId as exc:
        raise NotFound(str(exc), field="id") from None


def pks_of(global_ids: Sequence[str] | None, type_name: str) -> list[int]:
    return [pk_of(gid, type_name) for gid in global_ids or []]


async def order_by_id(ctx: Context, global_id: str) -> Order | None:
    """None when no such order is visible; a malformed id (or another type's) is the client's bug: ``BadId``."""
    _, pk = ids.decode(global_id, "Order")
    return await ctx.loaders.order.load(pk)


async def current_order(ctx: Context, global_id: str) -> Order | None:
    """The order as it is now, for a refused mutation's payload; None if the id names no order of this tenant."""
    try:
        _, pk = ids.decode(global_id, "Order")
    except ids.BadId:
        return None
    return await Order.filter(id=pk, tenant_id=actor_of(ctx).tenant_id).first()


async def order_by_number(ctx: Context, number: str, channel_code: str | None = None) -> Order | None:
    """Our number (``OG000000042``, ``og42``, ``42``) or, failing that, a channel's own (external) number.

    Given a channel, only that channel's numbers are searched. Without one, our
    number wins; a channel number shared by two channels is refused (VALIDATION,
    field ``channel``) rather than answered with a guess.
    """
    tenant_id = actor_of(ctx).tenant_id
    text = number.strip()
    if not text or len(text) > 64:
        return None
    if channel_code is None:
        order_id = order_id_from_number(text)
        if order_id is not None:
            found = await Order.filter(id=order_id, tenant_id=tenant_id).first()
            if found is not None:
                return found
        matches = await Order.filter(tenant_id=tenant_id, external_id=text).order_by("id").limit(2)
        if len(matches) > 1:
            raise ValidationFailed(f"several channels have an order numbered {text[:40]!r}: give the channel",
                                   field="channel")
        return matches[0] if matches else None
    return await order_by_external_id(ctx, channel_code, text)


async def order_by_external_id(ctx: Context, channel_code: str, external_id: str) -> Order | None:
    return await Order.filter(
        tenant_id=actor_of(ctx).tenant_id, channel__code=channel_code, external_id=external_id
    ).first()


def _search(text: str, personal: bool) -> Q:
    """Order number, external id or tracking number; customer name and phone tail only for roles that see them.

    A masked role must not learn a hidden phone or name by searching for it and
    watching whether an order comes back.
    """
    text = text.strip()[:100]
    condition = Q(external_id__icontains=text) | Q(id__in=Subquery(Shipment.filter(tracking_no=text).values("order_id")))
    if personal:
        condition |= Q(customer__name__icontains=text)
        if text.isdigit() and len(text) >= 4:
            condition |= Q(customer__phone__endswith=text)
    order_id = parse_order_no(text)
    if order_id is not None:
        condition |= Q(id=order_id)
    return condition


async def orders_page(
    ctx: Context,
    filter: Any | None,
    sort_field: str,
    descending: bool,
    first: int,
    after: str | None,
    **scope: int,
) -> Page:
    """One page of the caller's orders; ``filter`` is duck-typed (the schema's ``OrderFilter``).

    ``scope`` pins a parent, e.g. ``customer_id=7`` for a customer's orders.
    """
    check_page_size(first, ctx.max_page_size)
    query = Order.filter(tenant_id=actor_of(ctx).tenant_id, **scope)
    if filter is not None:
        query = _apply_filter(query, filter, actor_of(ctx).sees_personal_data)
    return await keyset_page(query, SORT_FIELDS[sort_field], descending=descending, first=first, after=after)


def _apply_filter(query: Any, f: Any, personal: bool) -> Any:
    if f.status:
        query = query.filter(status__in=[str(s) for s in f.status])
    if f.channel:
        query = query.filter(channel_id__in=pks_of(f.channel, "Channel"))
    if f.warehouse:
        query = query.filter(warehouse_id__in=pks_of(f.warehouse, "Warehouse"))
    if f.customer:
        query = query.filter(customer_id=pk_of(f.customer, "Customer"))
    for name, lookup in (
        ("created_after", "created_at__gte"),
        ("created_before", "created_at__lt"),
        ("updated_after", "updated_at__gte"),
        ("updated_before", "updated_at__lt"),
    ):
        value = getattr(f, name)
        if value is not None:
            query = query.filter(**{lookup: value})
    for tag in f.tags or []:
        query = query.filter(id__in=Subquery(OrderTag.filter(tag=tag).values("order_id")))
    if f.search and f.search.strip():
        query = query.filter(_search(f.search, personal))
    return query


async def count_orders(ctx: Context, filter: Any | None, **scope: int) -> int:
    query = Order.filter(tenant_id=actor_of(ctx).tenant_id, **scope)
    return await (_apply_filter(query, filter, actor_of(ctx).sees_personal_data) if filter is not None else query).count()


def _new_order(channel_id: int, data: Any) -> NewOrder:
    customer = data.customer
    address = data.address
    payment = data.payment
    return NewOrder(
        channel_id=channel_id,
        external_id=data.external_id,
        lines=[NewLine(sku=l.sku, quantity=l.quantity, unit_price=Decimal(l.unit_price), title=l.title or "") for l in data.lines],
        currency=data.currency,
        total_amount=data.total_amount,
        customer=NewCustomer(name=customer.name or "", phone=customer.phone, email=customer.email) if customer else None,
        address=NewAddress(
            name=address.name or "",
            phone=address.phone or "",
            province=address.province or "",
            city=address.city or "",
            district=address.district or "",
            address=address.address or "",
        )
        if address
        else None,
        payment=NewPayment(
            gateway=payment.gateway,
            amount=payment.amount,
            status=PaymentStatus(payment.status.value if hasattr(payment.status, "value") else payment.status),
            reference=payment.reference or "",
            paid_at=payment.paid_at,
        )
        if payment
        else None,
        deposit=bool(data.deposit),
        tags=list(data.tags or []),
        placed_at=data.placed_at,
        ship_by=data.ship_by,
    )


async def create_order(ctx: Context, data: Any) -> Order:
    actor = actor_of(ctx)
    channel = await Channel.filter(tenant_id=actor.tenant_id, code=data.channel).first()
    if channel is None:
        raise NotFound(f"no channel with code {data.channel!r}", field="channel")
    return await orders.create_order(actor, _new_order(channel.id, data))


async def transition(ctx: Context, global_id: str, status: str, reason: str) -> Order:
    return await orders.transition_order(actor_of(ctx), pk_of(global_id, "Order"), OrderStatus(status), reason)


async def hold(ctx: Context, global_id: str, reasons: list[str]) -> Order:
    return await orders.hold_order(actor_of(ctx), pk_of(global_id, "Order"), reasons)


async def release(ctx: Context, global_id: str, reasons: list[str] | None, reason: str | None = None) -> Order:
    """A person lifting a hold says why (automatic releases by the channel or rules name their own cause)."""
    order_id = pk_of(global_id, "Order")
    if not (reason or "").strip():
        raise ValidationFailed("say why the hold is lifted", field="reason")
    return await orders.release_hold(actor_of(ctx), order_id, reasons, reason=reason or "")


async def cancel(ctx: Context, global_id: str, reason: str) -> Order:
    return await orders.cancel_order(actor_of(ctx), pk_of(global_id, "Order"), reason)


async def allocate(ctx: Context, global_id: str, warehouse_id: str, reason: str) -> Order:
    return await fulfilment.allocate_order(
        actor_of(ctx), pk_of(global_id, "Order"), pk_of(warehouse_id, "Warehouse"), reason
    )


async def ship(
    ctx: Context,
    global_id: str,
    carrier: str,
    tracking_no: str,
    estimated_delivery: datetime | None,
    *,
    warehouse_id: str | None = None,
    parcel: int | None = None,
) -> Order:
    actor = actor_of(ctx)
    order_id = pk_of(global_id, "Order")
    warehouse_pk = None
    if warehouse_id is not None:
        try:
            warehouse_pk = ids.decode(warehouse_id, "Warehouse")[1]
        except ids.BadId as exc:
            raise NotFound(str(exc), field="warehouseId") from None
    await fulfilment.ship_order(actor, order_id, carrier, tracking_no, estimated_delivery=estimated_delivery,
                                warehouse_id=warehouse_pk, parcel=parcel)
    order = await Order.filter(id=order_id, tenant_id=actor.tenant_id).first()
    if order is None:  # pragma: no cover - ship_order just locked it
        raise ValidationFailed("order vanished")
    return order


async def merge(ctx: Context, global_ids: Sequence[str]) -> Order:
    return await orders.merge_orders(actor_of(ctx), pks_of(global_ids, "Order"))


async def unmerge(ctx: Context, global_id: str, reason: str) -> Order:
    return await orders.unmerge_order(actor_of(ctx), pk_of(global_id, "Order"), reason)


async def split(ctx: Context, global_id: str, parcels: Sequence[Sequence[Any]]) -> Order:
    """``parcels`` is the schema's ``[[ParcelLineInput]]`` (duck-typed: ``line_id``, ``quantity``)."""
    plan = []
    for index, parcel in enumerate(parcels):
        entries = []
        for position, entry in enumerate(parcel):
            try:
                entries.append((ids.decode(entry.line_id, "OrderLine")[1], entry.quantity))
            except ids.BadId as exc:
                raise NotFound(str(exc), field=f"parcels.{index}.{position}.lineId") from None
        plan.append(entries)
    return await orders.split_order(actor_of(ctx), pk_of(global_id, "Order"), plan)


async def merged_orders(ctx: Context, order_pk: int) -> list[Order]:
    """The orders merged into this one (it leads their parcel), earliest placed first."""
    return list(await Order.filter(tenant_id=actor_of(ctx).tenant_id, merged_into_id=order_pk).order_by("placed_at", "id"))


async def merge_candidates(ctx: Context, order_pk: int, window_minutes: int) -> list[Order]:
    if not 1 <= window_minutes <= 7 * 24 * 60:
        raise ValidationFailed("windowMinutes must be between 1 and 10080 (7 days)", field="windowMinutes")
    return await orders.merge_candidates(actor_of(ctx).tenant_id, order_pk, timedelta(minutes=window_minutes))


async def merge_key_label(order: Order) -> str:
    return (await orders.merge_key(order)).label
