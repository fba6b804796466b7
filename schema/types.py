"""The object types of the order graph. Relations resolve through per-request DataLoaders."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON
from strawberry.types import Info
from strawberry.types.nodes import SelectedField, Selection

from domain import order_machine as transitions
from domain.masking import mask_address, mask_name, mask_phone
from domain.statuses import OrderStatus as DomainOrderStatus
from domain.alerts.kinds import AlertKind as DomainAlertKind
from domain.alerts.queries import is_overdue as alert_overdue
from domain.lineage.global_ids import in_global_ids
from events.actors import public_actor
from models.order import order_no
from resolvers import contacts as contact_resolvers
from resolvers import ids
from resolvers import orders as order_resolvers
from resolvers import stock as stock_resolvers
from resolvers.loaders import NOT_LOADED, ready
from resolvers.pagination import BadPageSize
from schema import federation_read as federated
from schema.arguments import After, First
from schema.after_sale_types import AfterSale, after_sales_of_order
from schema.connections import PageInfo
from schema.polling import ChannelPulling
from schema.polling import pulling as channel_pulling
from schema.alert_enums import AlertCategory, AlertKind, AlertSeverity, AlertState
from schema.event_enums import EventType, event_type_of
from schema.enums import (
    MovementKind,
    OrderSortField,
    OrderStatus,
    PaymentStatus,
    PriorityTier,
    ReservationKind,
    ReservationStatus,
    ShipmentStatus,
    SortDirection,
)

Ctx = Info  # the context is resolvers.context.Context


R = TypeVar("R")


def _pii(info: Info) -> bool:
    return info.context.actor.sees_personal_data


def _related(loader: DataLoader[Any, Any], key: Any, convert: Callable[[Any], R]) -> R:
    """``convert`` of the loader's value for ``key``: at once if already loaded, else an awaitable.

    Relation fields are plain functions so that a prefetched page of orders
    (``OrderConnection.load``) completes without an asyncio task per field;
    otherwise they hand graphql-core an awaitable, batched by the DataLoader.
    """
    value = ready(loader, key)
    if value is not NOT_LOADED:
        return convert(value)
    return _load_then(loader, key, convert)  # type: ignore[return-value]


async def _load_then(loader: DataLoader[Any, Any], key: Any, convert: Callable[[Any], R]) -> R:
    return convert(await loader.load(key))


def _warehouse(row: Any) -> Warehouse | None:
    return Warehouse.from_row(row) if row else None


@strawberry.interface(description="An object with an opaque global id, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID = strawberry.field(
        description="Opaque global id; pass it to `node(id:)` or to any argument that takes this type's id.")


@strawberry.type(description="A sales channel (one shop on one platform: Taobao, Pinduoduo, Douyin, Shopify, a CSV feed …) orders arrive from.")
class Channel(Node):
    code: str = strawberry.field(description="The merchant's short code for the shop, unique per tenant.")
    kind: str = strawberry.field(
        description="The platform: `taobao`, `pinduoduo`, `douyin`, `wechat_channels`, `shopify`, `amazon` or `generic` (CSV, any webhook).")
    name: str = strawberry.field(description="The shop's display name.")
    pk: strawberry.Private[int]
    config: strawberry.Private[dict[str, Any]]

    @classmethod
    def from_row(cls, row: Any) -> Channel:
        return cls(id=strawberry.ID(ids.encode("Channel", row.id)), code=row.code, kind=row.kind, name=row.name, pk=row.id,
                   config=row.config or {})

    @strawberry.field(description="How far the poller has read this channel's platform API, and its daily check.")
    async def pulling(self) -> ChannelPulling:
        return await channel_pulling(self.pk, self.config)

    @strawberry.field(description="This channel's orders, newest first.")
    async def orders(self, info: Info, first: First = 20, after: After = None) -> OrderConnection:
        return await OrderConnection.load(info, None, OrderSortField.CREATED_AT, SortDirection.DESC, first, after, channel_id=self.pk)


@strawberry.type(description="Levels of one SKU in one warehouse, in units. `available = onHand - reserved`.")
class Stock(Node):
    sku: str = strawberry.field(description="The merchant's SKU code.")
    on_hand: int = strawberry.field(description="Units physically in the warehouse (counted or received, minus shipped).")
    reserved: int = strawberry.field(description="Units promised to orders and not yet shipped.")
    safety: int = strawberry.field(
        description="Safety stock in units: the low-stock alert fires when available falls to it (times the SKU's alert factor) or below.")
    in_transit: int = strawberry.field(
        description="Units on their way to the warehouse (inbound information; not promised against).")
    warehouse_pk: strawberry.Private[int]

    @strawberry.field(description="on_hand - reserved: what can still be promised.")
    def available(self) -> int:
        return self.on_hand - self.reserved

    @strawberry.field(description="The warehouse.")
    async def warehouse(self, info: Info) -> Warehouse:
        return Warehouse.from_row(await info.context.loaders.warehouse.load(self.warehouse_pk))

    @classmethod
    def from_row(cls, row: Any) -> Stock:
        return cls(
            id=strawberry.ID(ids.encode("Stock", row.id)),
            sku=row.sku,
            on_hand=row.on_hand,
            reserved=row.reserved,
            safety=row.safety,
            in_transit=row.in_transit,
            warehouse_pk=row.warehouse_id,
        )


@strawberry.type(description="A place stock sits in and parcels leave from.")
class Warehouse(Node):
    code: str = strawberry.field(description="The merchant's code, e.g. `SH`; allocation policies name warehouses by it.")
    name: str = strawberry.field(description="Display name.")
    province: str = strawberry.field(description="Province the warehouse is in (used by region and nearest allocation).")
    city: str = strawberry.field(description="City the warehouse is in.")
    district: str = strawberry.field(description="District the warehouse is in; may be empty.")
    address: str = strawberry.field(description="Street address.")
    postal_code: str = strawberry.field(description="Postal code; may be empty.")
    country_code: str = strawberry.field(description="ISO 3166-1 alpha-2, e.g. `CN`.")
    region: str = strawberry.field(description="A name policies and reports group warehouses by (`east`, `north`); may be empty.")
    latitude: float | None = strawberry.field(
        description="Latitude in degrees (WGS 84), for nearest-warehouse allocation; null if unknown.")
    longitude: float | None = strawberry.field(
        description="Longitude in degrees (WGS 84), for nearest-warehouse allocation; null if unknown.")
    handling_cost: Decimal | None = strawberry.field(
        description="Handling cost per order; the lowest-cost strategy uses it when the policy names none for this warehouse."
    )
    priority: int = strawberry.field(description="Lower ships first under the priority strategy.")
    active: bool = strawberry.field(description="false = paused: keeps its stock and reservations, but allocation skips it.")
    pk: strawberry.Private[int]
    live_stock = strawberry.field(resolver=federated.warehouse_live_stock, description="On-hand of the given SKUs (1-200): "
                                  "ours, the WMS's and the ERP's; a system that does not answer errors only its own field.")
    drift_breaker = strawberry.field(resolver=federated.warehouse_drift_breaker, description="The stock-drift breaker "
                                     "(null when the warehouse is not linked to a WMS); open = allocation skips the warehouse.")

    @classmethod
    def from_row(cls, row: Any) -> Warehouse:
        return cls(
            id=strawberry.ID(ids.encode("Warehouse", row.id)),
            code=row.code,
            name=row.name,
            province=row.province,
            city=row.city,
            district=row.district,
            address=row.address,
            postal_code=row.postal_code,
            country_code=row.country_code,
            region=row.region,
            latitude=row.latitude,
            longitude=row.longitude,
            handling_cost=row.handling_cost,
            priority=row.priority,
            active=row.active,
            pk=row.id,
        )

    @strawberry.field(description="Orders allocated to this warehouse, newest first.")
    async def orders(
        self, info: Info,
        # OrderFilter is defined below: a plain forward reference here would drop the argument's description.
        filter: Annotated[Annotated["OrderFilter", strawberry.lazy("schema.types")] | None,
                          strawberry.argument(description="Narrows the orders; null for all.")] = None,
        first: First = 20, after: After = None,
    ) -> OrderConnection:
        return await OrderConnection.load(info, filter, OrderSortField.CREATED_AT, SortDirection.DESC, first, after, warehouse_id=self.pk)


@strawberry.type(description="An item the merchant sells (a SKU), as the catalogue keeps it.")
class CatalogItem:
    id: strawberry.ID = strawberry.field(description="Opaque id of the catalogue item.")
    sku: str = strawberry.field(description="The merchant's SKU code; order lines and stock refer to it.")
    title: str = strawberry.field(description="The item's name as the merchant shows it.")
    category: str = strawberry.field(description="Allocation policies may route a category to given warehouses (e.g. `bulky`).")
    barcode: str = strawberry.field(description="GTIN/EAN or the merchant's own code; empty if none.")
    weight_grams: int | None = strawberry.field(description="Shipping weight in grams; null if unknown.")
    safety_stock: int = strawberry.field(
        description="What a (warehouse, SKU) stock row starts with when the SKU first arrives there; existing rows keep their own."
    )
    active: bool = strawberry.field(description="false = discontinued: kept for history, no longer sold.")
    created_at: datetime | None = strawberry.field(description="When the item was added (UTC).")
    updated_at: datetime | None = strawberry.field(description="When the item last changed (UTC).")

    @classmethod
    def from_row(cls, row: Any) -> CatalogItem:
        return cls(
            id=strawberry.ID(ids.encode("CatalogItem", row.id)), sku=row.code, title=row.title, category=row.category,
            barcode=row.barcode, weight_grams=row.weight_grams, safety_stock=row.safety_stock, active=row.active,
            created_at=row.created_at, updated_at=row.updated_at,
        )

    @strawberry.field(description="Stock of this item in every warehouse that has had it.")
    async def stock(self, info: Info) -> list[Stock]:
        return [Stock.from_row(row) for row in await info.context.loaders.stock_by_sku.load(self.sku)]


@strawberry.type(description="A buyer, across channels. Name, phone and email are masked for roles that do not see personal data.")
class Customer(Node):
    name: str | None = strawberry.field(
        description="Buyer's name (masked, e.g. 张**, for roles that do not see personal data); null if unknown.")
    phone: str | None = strawberry.field(
        description="Buyer's phone (masked, e.g. 138****5678, for roles that do not see personal data); null if unknown.")
    email: str | None = strawberry.field(
        description="Buyer's email (`****` for roles that do not see personal data); null if unknown.")
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any, pii: bool) -> Customer:
        return cls(
            id=strawberry.ID(ids.encode("Customer", row.id)),
            name=row.name if pii else mask_name(row.name),
            phone=row.phone if pii else mask_phone(row.phone),
            email=row.email if pii else ("****" if row.email else None),
            pk=row.id,
        )

    @strawberry.field(description="This customer's orders across channels, newest first.")
    async def orders(self, info: Info, first: First = 20, after: After = None) -> OrderConnection:
        return await OrderConnection.load(info, None, OrderSortField.CREATED_AT, SortDirection.DESC, first, after, customer_id=self.pk)


@strawberry.type(description="Where an order ships. Name, phone and street are masked for roles that do not see personal data.")
class Address:
    name: str = strawberry.field(description="Receiver's name (masked, e.g. 张**, for roles that do not see personal data).")
    phone: str = strawberry.field(
        description="Receiver's phone (masked, e.g. 138****5678, for roles that do not see personal data).")
    province: str = strawberry.field(description="Province or state, in clear for every role.")
    city: str = strawberry.field(description="City, in clear for every role.")
    district: str = strawberry.field(description="District or county, in clear for every role; may be empty.")
    address: str = strawberry.field(description="Street address (masked for roles that do not see personal data).")
    postal_code: str = strawberry.field(description="Postal code; empty when the channel did not give one.")
    country_code: str = strawberry.field(description="ISO 3166-1 alpha-2, empty when the channel did not say.")
    company: str = strawberry.field(description="The receiving company, if any. Not personal data, so shown to every role.")


@strawberry.type(description="One SKU of an order: quantity, price, and where it ships from.")
class OrderLine(Node):
    sku: str = strawberry.field(description="The merchant's SKU code.")
    title: str = strawberry.field(description="The item's name as the channel gave it.")
    quantity: int = strawberry.field(description="Units ordered.")
    unit_price: Decimal = strawberry.field(description="Price of one unit, a decimal string in the order's currency.")
    external_line_id: str = strawberry.field(description="The channel's id of this line (Taobao `oid`, Shopify line item id); empty if none.")
    channel_sku: str = strawberry.field(description="The SKU as the channel wrote it, when a SKU alias mapped it onto `sku`; else empty.")
    warehouse_pk: strawberry.Private[int | None]
    parcel: int = strawberry.field(default=1, description="Which of the order's parcels the line ships in (1 unless the order was split with `splitOrder`).")

    @classmethod
    def from_row(cls, row: Any) -> OrderLine:
        return cls(
            id=strawberry.ID(ids.encode("OrderLine", row.id)),
            sku=row.sku,
            title=row.title,
            quantity=row.quantity,
            unit_price=row.unit_price,
            external_line_id=row.external_line_id,
            channel_sku=row.channel_sku,
            warehouse_pk=row.warehouse_id,
            parcel=row.parcel,
        )

    @strawberry.field(description="The warehouse this line is allocated to, if any.")
    def warehouse(self, info: Info) -> Warehouse | None:
        if self.warehouse_pk is None:
            return None
        return _related(info.context.loaders.warehouse, self.warehouse_pk, _warehouse)

    @strawberry.field(description="Stock of this SKU in every warehouse.")
    async def stock(self, info: Info) -> list[Stock]:
        return [Stock.from_row(row) for row in await info.context.loaders.stock_by_sku.load(self.sku)]


@strawberry.type(description="One carrier scan of a parcel.")
class TrackingEvent:
    status: ShipmentStatus = strawberry.field(description="The scan mapped onto the unified tracking status.")
    raw_code: str = strawberry.field(description="The carrier's own status code, verbatim.")
    description: str = strawberry.field(description="The carrier's text for the scan, verbatim.")
    location: str = strawberry.field(description="Where the scan happened, as the carrier wrote it; may be empty.")
    occurred_at: datetime = strawberry.field(description="When the scan happened (UTC).")
    time_inferred: bool = strawberry.field(
        description="true: the carrier gave a local time without offset, and the offset was inferred from where the scan happened."
    )


@strawberry.type(description="One parcel of an order, with its carrier tracking. Times are UTC.")
class Shipment(Node):
    carrier: str = strawberry.field(description="The carrier's code, e.g. `SF`, `ZTO`, `YTO`.")
    tracking_no: str = strawberry.field(description="The carrier's tracking (waybill) number.")
    status: ShipmentStatus = strawberry.field(description="Unified tracking status, from the carrier's scans.")
    shipped_at: datetime | None = strawberry.field(
        description="When the parcel was handed to the carrier (UTC); null if not yet.")
    delivered_at: datetime | None = strawberry.field(
        description="When the carrier reported delivery (UTC); null if not yet.")
    estimated_delivery: datetime | None = strawberry.field(
        description="The carrier's promised delivery time (UTC); null if it gave none.")
    source: str = strawberry.field(description="Who reported the parcel: `ops` (shipOrder), `channel` (the platform's waybill) or `wms`.")
    tracking_subscription: str = strawberry.field(description=(
        "Whether the tenant's tracking provider pushes this parcel's scans: `` (not yet), `pending`, `subscribed`, "
        "`failed` (retried later, see subscriptionError) or `unsupported` (the provider does not know the carrier)."))
    subscription_error: str = strawberry.field(description="Why the last subscription attempt failed.")
    subscribed_at: datetime | None = strawberry.field(
        description="When the tracking provider accepted the subscription (UTC); null if not subscribed.")
    last_scan_at: datetime | None = strawberry.field(description="Time of the newest carrier scan (stalls are counted from it).")
    pk: strawberry.Private[int]
    warehouse_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: Any) -> Shipment:
        return cls(
            id=strawberry.ID(ids.encode("Shipment", row.id)),
            carrier=row.carrier,
            tracking_no=row.tracking_no,
            status=ShipmentStatus(row.status),
            shipped_at=row.shipped_at,
            delivered_at=row.delivered_at,
            estimated_delivery=row.estimated_delivery,
            source=row.source,
            tracking_subscription=row.subscription,
            subscription_error=row.subscription_error,
            subscribed_at=row.subscribed_at,
            last_scan_at=row.last_scan_at,
            pk=row.id,
            warehouse_pk=row.warehouse_id,
        )

    @strawberry.field(description="Carrier scans, oldest first.")
    def tracking_events(self, info: Info) -> list[TrackingEvent]:
        return _related(info.context.loaders.tracking, self.pk, _tracking_events)

    @strawberry.field(description="The warehouse the parcel left from, if known.")
    def warehouse(self, info: Info) -> Warehouse | None:
        if self.warehouse_pk is None:
            return None
        return _related(info.context.loaders.warehouse, self.warehouse_pk, _warehouse)


def _tracking_events(rows: Sequence[Any]) -> list[TrackingEvent]:
    return [
        TrackingEvent(
            status=ShipmentStatus(r.status),
            raw_code=r.raw_code,
            description=r.description,
            location=r.location,
            occurred_at=r.occurred_at,
            time_inferred=r.time_inferred,
        )
        for r in rows
    ]


@strawberry.type(description="Money received or returned for an order; amount is a decimal string in `currency`.")
class Payment(Node):
    gateway: str = strawberry.field(description="Who took the money, e.g. `alipay`, `wechatpay`, `channel`.")
    reference: str = strawberry.field(description="The payment's reference as its source reported it, verbatim.")
    amount: Decimal = strawberry.field(description="Decimal string in `currency`; negative for a refund.")
    currency: str = strawberry.field(description="ISO 4217 code, e.g. CNY.")
    status: PaymentStatus = strawberry.field(description="Where the payment stands.")
    paid_at: datetime | None = strawberry.field(description="When the money arrived (UTC); null while not.")
    kind: str = strawberry.field(default="payment", description="payment, deposit, balance or refund (negative amount).")
    normalized_reference: str = strawberry.field(
        default="", description="The reference as matching compares it (prefixes, separators and case removed).")
    gateway_reference: str = strawberry.field(default="", description="The gateway's transaction id, once its notice confirmed the payment.")
    flags: list[str] = strawberry.field(default_factory=list, description="What is off: partial (less arrived), over (more arrived).")
    confirmed_at: datetime | None = strawberry.field(default=None, description="When the gateway's notice confirmed it.")
    order_number: str = strawberry.field(default="", description="The order it belongs to (OG000000042).")

    @classmethod
    def from_row(cls, row: Any) -> Payment:
        return cls(
            id=strawberry.ID(ids.encode("Payment", row.id)),
            gateway=row.gateway,
            reference=row.reference,
            amount=row.amount,
            currency=row.currency,
            status=PaymentStatus(row.status),
            paid_at=row.paid_at,
            kind=row.kind,
            normalized_reference=row.normalized_reference,
            gateway_reference=row.gateway_reference,
            flags=list(row.flags or []),
            confirmed_at=row.confirmed_at,
            order_number=order_no(row.order_id),
        )


@strawberry.type(description="One entry of an order's lineage: who changed what, from which system, and why.")
class OrderEvent(Node):
    event_id: int = strawberry.field(description="Monotonic id; pass it as `after` to resume a subscription.")
    type: EventType = strawberry.field(
        description="What happened, from the event catalogue (e.g. ORDER_CREATED); OTHER for a stored type this "
        "version does not know, whose string is in `typeCode`.")
    type_code: str = strawberry.field(
        description="The stored type string, as `area.verb` (e.g. `order.created`, `stock.received`): what webhooks "
        "send as `type` and what `types` filters match; set for OTHER too.")
    actor: str = strawberry.field(
        description="Who made the change: a user, an API key's label, a channel or an automatic process (never a secret).")
    source: str = strawberry.field(
        description="The system the change came from, e.g. `graphql`, `channel`, `wms`, `carrier`, `rule`.")
    reason: str = strawberry.field(description="Why, in words; may be empty.")
    before: JSON | None = strawberry.field(
        resolver=lambda self: in_global_ids(self.before_row),  # on demand: a page of events rarely asks for it
        description="The changed values before the change (JSON object); null for a creation. Keys stay as stored "
        "(snake_case); every `<name>_id` key naming a row (`order_id`, `warehouse_id`, `line_id`, ...) holds that "
        "row's global id, usable with `node(id:)`, and `<name>_ids` a list of them; never a database id.")
    after: JSON | None = strawberry.field(
        resolver=lambda self: in_global_ids(self.after_row),
        description="The changed values after the change (JSON object); null for a deletion. Ids as in `before`: "
        "every `<name>_id` / `<name>_ids` key naming rows holds global ids.")
    payload_ref: str | None = strawberry.field(
        description="The raw inbound payload behind the change (`sha256:<hex>`), if one; null otherwise.")
    created_at: datetime = strawberry.field(description="When the change was committed (UTC).")
    order_pk: strawberry.Private[int | None]
    before_row: strawberry.Private[Any] = None  # as stored (database ids); ``before`` answers with global ids
    after_row: strawberry.Private[Any] = None

    @classmethod
    def from_row(cls, row: Any) -> OrderEvent:
        return cls(
            id=strawberry.ID(ids.encode("OrderEvent", row.id)),
            event_id=row.id,
            type=event_type_of(row.type),
            type_code=row.type,
            actor=public_actor(row.actor),
            source=row.source,
            reason=row.reason,
            before_row=row.before,
            after_row=row.after,
            payload_ref=row.payload_ref,
            created_at=row.created_at,
            order_pk=row.order_id,
        )

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> OrderEvent:
        return cls(
            id=strawberry.ID(ids.encode("OrderEvent", message["id"])),
            event_id=message["id"],
            type=event_type_of(message["type"]),
            type_code=message["type"],
            actor=message["actor"],
            source=message["source"],
            reason=message["reason"],
            before_row=message["before"],
            after_row=message["after"],
            payload_ref=message["payload_ref"],
            created_at=datetime.fromisoformat(message["created_at"]),
            order_pk=message["order_id"],
        )

    @strawberry.field(description="The order it belongs to; null for tenant-level events (stock, settings).")
    async def order(self, info: Info) -> Order | None:
        if self.order_pk is None:
            return None
        row = await info.context.loaders.order.load(self.order_pk)
        return Order.from_row(row, _pii(info)) if row else None


@strawberry.type(description="A problem on the exception board: raised once, kept current, owned, closed with a resolution.")
class Alert(Node):
    kind: AlertKind = strawberry.field(description="What the alert is about.")
    kind_code: str = strawberry.field(description="The kind's stored code (low_stock, order.held …), as routes and rules name it.")
    category: AlertCategory = strawberry.field(description="The kind's group, as exception lists show it.")
    severity: AlertSeverity = strawberry.field(description="How urgent; sets the SLA (`dueAt`).")
    state: AlertState = strawberry.field(description="Where the alert stands: open, acknowledged, snoozed or resolved.")
    subject: str = strawberry.field(description="What the alert is about when not an order (stock:12, endpoint:3).")
    message: str = strawberry.field(description="The current facts (updated in place while the problem lasts).")
    details: JSON = strawberry.field(
        description="Structured facts of the problem (shape depends on the kind), for display or rules.")
    owner: str | None = strawberry.field(description="Who is assigned to it; null while unassigned.")
    acknowledged_at: datetime | None = strawberry.field(description="When someone acknowledged it (UTC); null while not.")
    acknowledged_by: str | None = strawberry.field(
        description="Who acknowledged it (a user or API key label); null while not.")
    snoozed_until: datetime | None = strawberry.field(
        description="Hidden from the open board until this time (UTC); null when not snoozed.")
    resolution: str | None = strawberry.field(description="What was done about it (searchable: the knowledge base).")
    resolved_by: str | None = strawberry.field(description="Who resolved it; null while unresolved.")
    reopened: int = strawberry.field(description="How many times it came back after being resolved.")
    raised_at: datetime = strawberry.field(description="When it was first raised (UTC).")
    cleared_at: datetime | None = strawberry.field(description="When it was resolved (null while not).")
    updated_at: datetime | None = strawberry.field(description="When its facts or state last changed (UTC).")
    due_at: datetime | None = strawberry.field(description="When its SLA runs out (raised + the severity's SLA).")
    overdue: bool = strawberry.field(description="Unresolved past dueAt (a snooze does not stop the clock).")
    order_pk: strawberry.Private[int | None]
    warehouse_pk: strawberry.Private[int | None]
    channel_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: Any) -> Alert:
        kind = DomainAlertKind(row.kind)
        return cls(
            id=strawberry.ID(ids.encode("Alert", row.id)),
            kind=AlertKind(row.kind),
            kind_code=row.kind,
            category=AlertCategory(kind.category.value),
            severity=AlertSeverity(row.severity),
            state=AlertState(row.state),
            subject=row.subject,
            message=row.message,
            details=row.details,
            owner=row.owner,
            acknowledged_at=row.acknowledged_at,
            acknowledged_by=public_actor(row.acknowledged_by) if row.acknowledged_by else None,
            snoozed_until=row.snoozed_until,
            resolution=row.resolution or None,
            resolved_by=public_actor(row.resolved_by) if row.resolved_by else None,
            reopened=row.reopened,
            raised_at=row.raised_at,
            cleared_at=row.cleared_at,
            updated_at=row.updated_at,
            due_at=row.due_at,
            overdue=alert_overdue(row),
            order_pk=row.order_id,
            warehouse_pk=row.warehouse_id,
            channel_pk=row.channel_id,
        )

    @strawberry.field(description="The order it is about, if any (masked as for any order query).")
    async def order(self, info: Info) -> Order | None:
        if self.order_pk is None:
            return None
        row = await info.context.loaders.order.load(self.order_pk)
        return Order.from_row(row, _pii(info)) if row else None

    @strawberry.field(description="The warehouse it is about, if any.")
    def warehouse(self, info: Info) -> Warehouse | None:
        return None if self.warehouse_pk is None else _related(info.context.loaders.warehouse, self.warehouse_pk, _warehouse)

    @strawberry.field(description="The channel it is about, if any.")
    def channel(self, info: Info) -> Channel | None:
        if self.channel_pk is None:
            return None
        return _related(info.context.loaders.channel, self.channel_pk, lambda row: Channel.from_row(row) if row else None)


# --- stock an order holds and moved (reservations, ledger rows, allocation decisions) ---------


async def warehouse_by_pk(info: Info, pk: int) -> Warehouse:
    return Warehouse.from_row(await info.context.loaders.warehouse.load(pk))


@strawberry.type(description="One immutable ledger row: a change to a (warehouse, SKU)'s levels, who made it, why, for which order.")
class StockMovement(Node):
    sku: str = strawberry.field(description="The SKU whose level changed.")
    kind: MovementKind = strawberry.field(description="Why the level changed.")
    on_hand_delta: int = strawberry.field(description="Change to on-hand units (negative = fewer).")
    reserved_delta: int = strawberry.field(description="Change to reserved units (negative = fewer).")
    quarantine_delta: int = strawberry.field(description="Change to quarantined units (returns awaiting inspection).")
    actor: str = strawberry.field(
        description="Who made the change: a user, an API key's label, a channel or an automatic process.")
    source: str = strawberry.field(description="The system the change came from, e.g. `graphql`, `wms`, `import`.")
    reason: str = strawberry.field(description="Why, in words (a receipt note, a count reference …).")
    created_at: datetime = strawberry.field(description="When the change was committed (UTC).")
    warehouse_pk: strawberry.Private[int]
    order_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: Any) -> StockMovement:
        return cls(
            id=strawberry.ID(ids.encode("StockMovement", row.id)), sku=row.sku, kind=MovementKind(row.kind),
            on_hand_delta=row.on_hand_delta, reserved_delta=row.reserved_delta, quarantine_delta=row.quarantine_delta,
            actor=public_actor(row.actor), source=row.source, reason=row.reason, created_at=row.created_at,
            warehouse_pk=row.warehouse_id, order_pk=row.order_id,
        )

    @strawberry.field(description="The warehouse whose level changed.")
    async def warehouse(self, info: Info) -> Warehouse:
        return await warehouse_by_pk(info, self.warehouse_pk)

    @strawberry.field(description="The order that caused it, if any.")
    async def order(self, info: Info) -> Order | None:
        if self.order_pk is None:
            return None
        row = await info.context.loaders.order.load(self.order_pk)
        return Order.from_row(row, _pii(info)) if row else None


@strawberry.type(description="Units of one warehouse promised to one order line.")
class Reservation(Node):
    sku: str = strawberry.field(description="The reserved SKU.")
    quantity: int = strawberry.field(description="Units held.")
    status: ReservationStatus = strawberry.field(description="ACTIVE (held), RELEASED (given back) or CONSUMED (shipped).")
    kind: ReservationKind = strawberry.field(description="ORDER, or PRESALE for a deposit order's hold.")
    expires_at: datetime | None = strawberry.field(
        description="When the hold lapses unless consumed (UTC), e.g. a presale's balance deadline; null if it does not lapse.")
    picker: str | None = strawberry.field(description="Who claimed the pick from the pick queue; null while unclaimed.")
    pick_claimed_at: datetime | None = strawberry.field(description="When the pick was claimed (UTC); null while unclaimed.")
    created_at: datetime = strawberry.field(description="When the units were reserved (UTC).")
    closed_at: datetime | None = strawberry.field(description="When it was released or consumed (UTC); null while active.")
    close_reason: str = strawberry.field(description="Why it was released or consumed; empty while active.")
    line_id: strawberry.ID = strawberry.field(description="The order line it holds stock for.")
    warehouse_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any) -> Reservation:
        return cls(
            id=strawberry.ID(ids.encode("Reservation", row.id)), sku=row.sku, quantity=row.quantity,
            status=ReservationStatus(row.status), kind=ReservationKind(row.kind), expires_at=row.expires_at,
            picker=row.picker, pick_claimed_at=row.pick_claimed_at, created_at=row.created_at, closed_at=row.closed_at,
            close_reason=row.close_reason, line_id=strawberry.ID(ids.encode("OrderLine", row.line_id)),
            warehouse_pk=row.warehouse_id,
        )

    @strawberry.field(description="The warehouse the units are held in.")
    async def warehouse(self, info: Info) -> Warehouse:
        return await warehouse_by_pk(info, self.warehouse_pk)


@strawberry.type(description="A warehouse the allocation considered, and why it won or lost.")
class AllocationCandidate:
    code: str = strawberry.field(description="The warehouse's code.")
    rank: int | None = strawberry.field(description="Position in the strategy's ranking; null if the strategy ruled it out")
    metric: str = strawberry.field(description="What it was ranked by: distance, cost breakdown, rule position, priority")
    score: float | None = strawberry.field(
        description="The strategy's numeric score (distance in km, cost, rule position or priority); null if not ranked.")
    chosen: bool = strawberry.field(description="true if stock was allocated from this warehouse.")
    reason: str = strawberry.field(
        description="Why it won or lost, in words (no stock, paused, drift breaker open, farther …).")
    line_ids: list[strawberry.ID] = strawberry.field(description="The order lines it was chosen for (empty if not chosen).")
    warehouse_pk: strawberry.Private[int]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AllocationCandidate:
        return cls(
            code=data["code"], rank=data["rank"], metric=data["metric"], score=data["score"], chosen=data["chosen"],
            reason=data["reason"], line_ids=[strawberry.ID(ids.encode("OrderLine", pk)) for pk in data["line_ids"]],
            warehouse_pk=data["warehouse_id"],
        )

    @strawberry.field(description="The candidate warehouse.")
    async def warehouse(self, info: Info) -> Warehouse:
        return await warehouse_by_pk(info, self.warehouse_pk)


@strawberry.type(description="Where an order was allocated and why: every candidate with its reason.")
class AllocationDecision:
    id: strawberry.ID = strawberry.field(description="Opaque id of the decision.")
    strategy: str = strawberry.field(description="priority, region, nearest, cost or manual")
    outcome: str = strawberry.field(description="ALLOCATED, SPLIT or FAILED")
    split: bool = strawberry.field(description="true if the order was split over more than one warehouse.")
    summary: str = strawberry.field(description="The decision in one human-readable sentence.")
    actor: str = strawberry.field(description="Who allocated: a user, an API key's label, or the automatic allocator.")
    decided_at: datetime = strawberry.field(description="When the decision was taken (UTC).")
    policy_scope: str = strawberry.field(
        description="Which allocation policy applied: `tenant` or `channel:<id>`; empty when the built-in default applied.")
    policy_version: int | None = strawberry.field(
        description="Version of that policy when it was applied; null when the built-in default applied.")
    chosen: list[AllocationCandidate] = strawberry.field(description="The candidates stock was taken from.")
    candidates: list[AllocationCandidate] = strawberry.field(
        description="Every warehouse considered, winners and losers, with reasons.")

    @classmethod
    def from_row(cls, row: Any) -> AllocationDecision:
        return cls(
            id=strawberry.ID(ids.encode("AllocationDecision", row.id)), strategy=row.strategy, outcome=row.outcome,
            split=row.split, summary=row.summary, actor=public_actor(row.actor), decided_at=row.created_at,
            policy_scope=row.policy_scope, policy_version=row.policy_version,
            chosen=[AllocationCandidate.from_json(c) for c in row.chosen],
            candidates=[AllocationCandidate.from_json(c) for c in row.candidates],
        )


@strawberry.type(description="What an order holds and did to stock.")
class OrderStock:
    priority: PriorityTier = strawberry.field(description="The order's pick priority tier (sets its ship-by promise).")
    ship_by: datetime | None = strawberry.field(
        description="When the order must leave the warehouse (UTC), from its tier; null if not promised.")
    pk: strawberry.Private[int]

    @strawberry.field(description="Every reservation the order ever had, oldest first.")
    async def reservations(self, info: Info) -> list[Reservation]:
        return [Reservation.from_row(r) for r in await stock_resolvers.stock_loaders(info.context).reservations.load(self.pk)]

    @strawberry.field(description="Every stock movement the order caused, oldest first.")
    async def movements(self, info: Info) -> list[StockMovement]:
        return [StockMovement.from_row(r) for r in await stock_resolvers.stock_loaders(info.context).movements.load(self.pk)]

    @strawberry.field(description="Every allocation decision, oldest first (the last one is `Order.allocation`).")
    async def allocation_history(self, info: Info) -> list[AllocationDecision]:
        return [AllocationDecision.from_row(r) for r in await stock_resolvers.stock_loaders(info.context).decisions.load(self.pk)]


async def order_allocation(info: Info, order_pk: int) -> AllocationDecision | None:
    rows = await stock_resolvers.stock_loaders(info.context).decisions.load(order_pk)
    return AllocationDecision.from_row(rows[-1]) if rows else None


async def order_stock(info: Info, order_pk: int) -> OrderStock:
    row = await info.context.loaders.order.load(order_pk)
    return OrderStock(priority=PriorityTier[row.priority], ship_by=row.ship_by, pk=order_pk)


@strawberry.type(description="One order from one channel, with its lines, parcels, payments, lineage and stock. Money is a decimal string in `currency`, times are UTC.")
class Order(Node):
    number: str = strawberry.field(description="The number customers quote, e.g. OG000000042.")
    external_id: str = strawberry.field(description="The channel's own order id, verbatim.")
    status: OrderStatus = strawberry.field(
        description="Fulfilment status; change it with the order mutations, never directly.")
    hold_reasons: list[str] = strawberry.field(
        description="Why the order is on hold (several at once possible); empty unless status is ON_HOLD.")
    currency: str = strawberry.field(
        description="ISO 4217 code of every amount on the order (CNY unless the channel said otherwise).")
    total_amount: Decimal = strawberry.field(
        description="What the buyer pays (or paid) for the order, on every channel: goods - discounts + shipping + tax."
    )
    goods_total: Decimal | None = strawberry.field(description="The goods before discounts, as the channel states it; null if it did not say.")
    discount_total: Decimal | None = strawberry.field(description="All discounts to the buyer, a positive amount taken off the goods; null if the channel did not say.")
    shipping_fee: Decimal | None = strawberry.field(description="Shipping charged to the buyer; null if the channel did not say.")
    tax_total: Decimal | None = strawberry.field(description="Tax charged to the buyer; null if the channel did not say.")
    paid_at: datetime | None = strawberry.field(description="When the buyer paid (UTC), if the channel said.")
    stored_address: strawberry.Private[Address]
    contact_masked: strawberry.Private[dict[str, Any] | None]
    placed_at: datetime = strawberry.field(description="When the buyer placed the order on the channel (UTC).")
    source_updated_at: datetime | None = strawberry.field(
        description="When the channel last changed the order, per the channel (UTC); null if it did not say.")
    created_at: datetime = strawberry.field(description="When OrderGraph first received the order (UTC).")
    updated_at: datetime = strawberry.field(description="When OrderGraph last changed the order (UTC).")
    pk: strawberry.Private[int]
    channel_pk: strawberry.Private[int]
    customer_pk: strawberry.Private[int | None]
    warehouse_pk: strawberry.Private[int | None]
    merged_into_pk: strawberry.Private[int | None] = None
    row: strawberry.Private[Any] = None

    @classmethod
    def from_row(cls, row: Any, pii: bool) -> Order:
        address = Address(
            name=row.ship_name if pii else mask_name(row.ship_name) or "",
            phone=row.ship_phone if pii else mask_phone(row.ship_phone) or "",
            province=row.ship_province,
            city=row.ship_city,
            district=row.ship_district,
            address=row.ship_address if pii else mask_address(row.ship_address) or "",
            postal_code=row.ship_postal_code,
            country_code=row.ship_country_code,
            company=row.ship_company,
        )
        return cls(
            id=strawberry.ID(ids.encode("Order", row.id)),
            number=order_no(row.id),
            external_id=row.external_id,
            status=OrderStatus(row.status),
            hold_reasons=list(row.hold_reasons or []),
            currency=row.currency,
            total_amount=row.total_amount,
            goods_total=row.goods_total,
            discount_total=row.discount_total,
            shipping_fee=row.shipping_fee,
            tax_total=row.tax_total,
            paid_at=row.paid_at,
            stored_address=address,
            contact_masked=contact_resolvers.sealed_masks(row),
            placed_at=row.placed_at,
            source_updated_at=row.source_updated_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            pk=row.id,
            channel_pk=row.channel_id,
            customer_pk=row.customer_id,
            warehouse_pk=row.warehouse_id,
            merged_into_pk=row.merged_into_id,
            row=row,
        )

    @strawberry.field(description="Where the order ships. When the platform sent the receiver sealed (Taobao, Pinduoduo, "
                      "Douyin), roles that see personal data get it decrypted, each look recorded in the lineage; "
                      "other roles get the platform's own masked forms.")
    def shipping_address(self, info: Info) -> Address:
        if self.contact_masked is None:
            return self.stored_address
        return contact_resolvers.shown_receiver(info.context, self.pk, self.contact_masked, self.stored_address)

    # Relation fields return at once when OrderConnection.load prefetched them (see ``_related``).

    @strawberry.field(description="The channel (shop) the order came from.")
    def channel(self, info: Info) -> Channel:
        return _related(info.context.loaders.channel, self.channel_pk, Channel.from_row)

    @strawberry.field(description="The buyer, if the channel identified one (masked for roles that do not see personal data).")
    def customer(self, info: Info) -> Customer | None:
        if self.customer_pk is None:
            return None
        pii = _pii(info)
        return _related(info.context.loaders.customer, self.customer_pk, lambda row: Customer.from_row(row, pii) if row else None)

    @strawberry.field(description="The warehouse the order is allocated to, if any.")
    def warehouse(self, info: Info) -> Warehouse | None:
        if self.warehouse_pk is None:
            return None
        return _related(info.context.loaders.warehouse, self.warehouse_pk, _warehouse)

    @strawberry.field(description="The order's lines (SKU, quantity, price), in the order they were received.")
    def lines(self, info: Info) -> list[OrderLine]:
        return _related(info.context.loaders.lines, self.pk, lambda rows: [OrderLine.from_row(r) for r in rows])

    @strawberry.field(description="The order's parcels with their tracking, oldest first.")
    def shipments(self, info: Info) -> list[Shipment]:
        return _related(info.context.loaders.shipments, self.pk, lambda rows: [Shipment.from_row(r) for r in rows])

    @strawberry.field(description="Payments, deposits, balances and refunds (negative amounts) of the order, oldest first.")
    def payments(self, info: Info) -> list[Payment]:
        return _related(info.context.loaders.payments, self.pk, lambda rows: [Payment.from_row(r) for r in rows])

    @strawberry.field(description="The order's after-sales (refunds, returns, exchanges), oldest first.")
    async def after_sales(self, info: Info) -> list[AfterSale]:
        return await after_sales_of_order(info, self.pk)

    @strawberry.field(description="Free labels on the order, given at creation or import or added by rules; filter with `OrderFilter.tags`.")
    def tags(self, info: Info) -> list[str]:
        return _related(info.context.loaders.tags, self.pk, lambda rows: [r.tag for r in rows])

    @strawberry.field(description="Exception-board alerts about this order, open and resolved.")
    def alerts(self, info: Info) -> list[Alert]:
        return _related(info.context.loaders.alerts, self.pk, lambda rows: [Alert.from_row(r) for r in rows])

    @strawberry.field(description="The full lineage, oldest first; `last: n` gives only the newest n (still oldest first).")
    def events(self, info: Info, last: Annotated[int | None, strawberry.argument(description="1-100")] = None) -> list[OrderEvent]:
        if last is None:
            loader = info.context.loaders.events
        else:
            if not 1 <= last <= info.context.max_page_size:
                raise BadPageSize(f"last must be between 1 and {info.context.max_page_size}")
            loader = info.context.loaders.last_events(last)
        return _related(loader, self.pk, lambda rows: [OrderEvent.from_row(r) for r in rows])

    @strawberry.field(description="Statuses the state machine allows next (guards are checked when you move).")
    def allowed_transitions(self) -> list[OrderStatus]:
        if self.status == DomainOrderStatus.ON_HOLD:
            return []
        return [OrderStatus(s) for s in transitions.allowed_targets(DomainOrderStatus(self.status.value))]

    @strawberry.field(description="The latest allocation decision: where the order went and why every other warehouse lost.")
    async def allocation(self, info: Info) -> AllocationDecision | None:
        return await order_allocation(info, self.pk)

    @strawberry.field(description="Priority, reservations, stock movements and allocation history of this order.")
    async def stock(self, info: Info) -> OrderStock:
        return await order_stock(info, self.pk)

    @strawberry.field(description="The order this one is merged into (合单): it ships in that order's parcel. Null when it "
                      "ships on its own or leads a merge.")
    def merged_into(self, info: Info) -> Order | None:
        if self.merged_into_pk is None:
            return None
        pii = _pii(info)
        return _related(info.context.loaders.order, self.merged_into_pk, lambda row: Order.from_row(row, pii) if row else None)

    @strawberry.field(description="The orders merged into this one (it leads their parcel), earliest placed first.")
    async def merged_orders(self, info: Info) -> list[Order]:
        pii = _pii(info)
        return [Order.from_row(row, pii) for row in await order_resolvers.merged_orders(info.context, self.pk)]

    @strawberry.field(description="Orders that could be merged with this one now: same shop, buyer, receiver name, phone "
                      "and address, paid, not allocated, not held, no open after-sale, placed within the window.")
    async def merge_candidates(
        self, info: Info, window_minutes: Annotated[int, strawberry.argument(description="1-10080")] = 15
    ) -> list[Order]:
        pii = _pii(info)
        return [Order.from_row(row, pii) for row in await order_resolvers.merge_candidates(info.context, self.pk, window_minutes)]

    @strawberry.field(description="What orders must share to merge with this one, as a label without personal data "
                      "(`shop 3 · buyer 12 · receiver 5f0c…`): orders with equal labels match.")
    async def merge_key(self) -> str:
        return await order_resolvers.merge_key_label(self.row)

    erp = strawberry.field(resolver=federated.order_erp, description="What the ERP says now about this order (null: the "
                           "tenant has no ERP). One ERP call per page; cached for a few seconds.")
    wms = strawberry.field(resolver=federated.order_wms, description="The order's delivery orders and what their WMS says "
                           "now. One call per WMS and warehouse per page; cached for a few seconds.")
    diagnosis = strawberry.field(resolver=federated.order_diagnosis, description="OrderGraph, channel, ERP, WMS and "
                                 "carrier compared: a verdict, each discrepancy with the system out of line, and repairs.")


@strawberry.type(description="One order of a page, with the cursor that points at it.")
class OrderEdge:
    cursor: str = strawberry.field(description="Opaque cursor; pass it as `after` to get the orders after this one.")
    node: Order = strawberry.field(description="The order.")


@strawberry.input(description="Narrows an order list; every given criterion must hold (AND), and a list matches any of its values (OR).")
class OrderFilter:
    status: list[OrderStatus] | None = strawberry.field(default=None, description="Orders in any of these statuses.")
    channel: list[strawberry.ID] | None = strawberry.field(default=None, description="Channel ids")
    warehouse: list[strawberry.ID] | None = strawberry.field(default=None, description="Warehouse ids")
    customer: strawberry.ID | None = strawberry.field(default=None, description="Orders of this customer (a Customer id).")
    created_after: datetime | None = strawberry.field(default=None, description="Received by OrderGraph at or after this time (ISO 8601, UTC if no offset).")
    created_before: datetime | None = strawberry.field(default=None, description="Received by OrderGraph before this time (ISO 8601, UTC if no offset).")
    updated_after: datetime | None = strawberry.field(default=None, description="Last changed at or after this time (ISO 8601, UTC if no offset).")
    updated_before: datetime | None = strawberry.field(default=None, description="Last changed before this time (ISO 8601, UTC if no offset).")
    tags: list[str] | None = strawberry.field(default=None, description="Orders carrying all of these tags")
    search: str | None = strawberry.field(default=None, description="Order number, external id or tracking number; customer name or phone tail (4+ digits) only for roles that see personal data")


@strawberry.type(description="A page of orders (Relay-style cursor pagination).")
class OrderConnection:
    edges: list[OrderEdge] = strawberry.field(description="The orders of this page, each with its cursor.")
    page_info: PageInfo = strawberry.field(description="Whether there is a next page, and the cursor to ask for it.")
    filter: strawberry.Private[OrderFilter | None]
    scope: strawberry.Private[dict[str, int]]

    @strawberry.field(description="The orders of this page, without cursors (same order as `edges`).")
    def nodes(self) -> list[Order]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="How many orders match the filter (one extra COUNT query; ask only if you show it).")
    async def total_count(self, info: Info) -> int:
        return await order_resolvers.count_orders(info.context, self.filter, **self.scope)

    @classmethod
    async def load(
        cls,
        info: Info,
        filter: OrderFilter | None,
        sort: OrderSortField,
        direction: SortDirection,
        first: int,
        after: str | None,
        **scope: int,
    ) -> OrderConnection:
        page = await order_resolvers.orders_page(
            info.context, filter, sort.value, direction == SortDirection.DESC, first, after, **scope
        )
        if page.rows:
            wanted, last_events = _selected_order_fields(info)
            if wanted or last_events:
                await info.context.loaders.prefetch_orders(page.rows, wanted, last_events)
        pii = _pii(info)
        edges = [OrderEdge(cursor=page.cursor_of(row), node=Order.from_row(row, pii)) for row in page.rows]
        return cls(
            edges=edges,
            page_info=PageInfo.of(page),
            filter=filter,
            scope=scope,
        )


def _fields(selections: Sequence[Selection]) -> Iterator[SelectedField]:
    """The fields of a selection set, fragments flattened."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        else:
            yield from _fields(selection.selections)


def _selected_order_fields(info: Info) -> tuple[set[str], set[int]]:
    """What a query asks of a connection's orders (``edges.node`` and ``nodes``).

    Returns order field names, plus ``parent.child`` for fields under them (e.g.
    ``shipments.trackingEvents``), and the valid ``events(last: n)`` sizes.
    Plain ``events`` is listed only when asked for without ``last``.
    """
    wanted: set[str] = set()
    last_events: set[int] = set()
    for connection in info.selected_fields:
        for part in _fields(connection.selections):
            if part.name == "nodes":
                orders = [part]
            elif part.name == "edges":
                orders = [field for field in _fields(part.selections) if field.name == "node"]
            else:
                continue
            for order in orders:
                for field in _fields(order.selections):
                    last = field.arguments.get("last") if field.name == "events" else None
                    if isinstance(last, str) and last.isdigit():  # a literal (`last: 5`) arrives as its source text
                        last = int(last)
                    if last is None:
                        wanted.add(field.name)
                    elif isinstance(last, int) and 1 <= last <= info.context.max_page_size:
                        last_events.add(last)
                    wanted.update(f"{field.name}.{child.name}" for child in _fields(field.selections))
    return wanted, last_events


NODE_TYPES = (Order, OrderLine, Channel, Customer, Warehouse, Stock, Shipment, Payment, OrderEvent, Alert)
