"""Live entry points over ``graphql-transport-ws``.

- ``orderEvents(filter, after)``: lineage events; pass the last ``eventId`` seen to miss nothing.
- ``orderStatus(order)``: the order now, then again after every change to it.
- ``alerts(after, kinds)``: every change of an alert (raised, updated, acknowledged, assigned, snoozed, woken,
  resolved, reopened, cleared).
- ``stockLevels(skus, warehouses)``: current levels, then the levels that changed.

A subscriber that falls too far behind gets an error with code
``SLOW_SUBSCRIBER`` and the connection is closed (``api.graphql_app``); it
reconnects and resumes with its last event id.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from domain.alerts.board import ALERT_EVENTS
from domain.errors import NotFound, ValidationFailed
from events.bus import SlowSubscriber
from resolvers import lineage
from resolvers.lineage import EventFilter, event_stream, snapshot_then_events
from resolvers.loaders import Loaders
from resolvers.orders import pk_of, pks_of
from schema.enums import OrderStatus
from schema.event_enums import EventType, filter_types
from schema.types import Alert, Order, OrderEvent, Stock

SLOW_SUBSCRIBER = "SLOW_SUBSCRIBER"
MAX_SKUS = 100
T = TypeVar("T")


@strawberry.input(description="Which lineage events to stream; every given criterion must hold, and a list matches any of its values.")
class OrderEventFilter:
    orders: list[strawberry.ID] | None = strawberry.field(default=None, description="Only events of these orders (Order ids).")
    types: list[str] | None = strawberry.field(
        default=None, description="e.g. order.status_changed, order.shipped; a trailing * matches a prefix (stock.*)"
    )
    event_types: list[EventType] | None = strawberry.field(
        default=None, description="Types as enum values (OTHER is refused: use `types` with the typeCode); with "
        "`types`, an event of either list matches.")
    channels: list[strawberry.ID] | None = strawberry.field(default=None, description="Only events of orders from these channels (Channel ids).")
    warehouses: list[strawberry.ID] | None = strawberry.field(default=None, description="Only events that name one of these warehouses (Warehouse ids).")
    statuses: list[OrderStatus] | None = strawberry.field(default=None, description="The order's status after the event")
    skus: list[str] | None = strawberry.field(default=None, description="Events that mention any of these SKUs")


@strawberry.type(description="An order's state: first as it is now (event null), then right after each change.")
class OrderStatusUpdate:
    event_id: int = strawberry.field(description="The snapshot's position, then the id of the change.")
    status: OrderStatus = strawberry.field(description="The status right after this change (the change's own record).")
    hold_reasons: list[str] = strawberry.field(description="The hold reasons right after this change; empty unless ON_HOLD.")
    order: Order = strawberry.field(description="The order as it is when this update is sent (may be newer).")
    event: OrderEvent | None = strawberry.field(description="The change itself; null on the first (snapshot) update.")


@strawberry.type(description="A change of an alert: raised, updated, acknowledged, assigned, snoozed, resolved, reopened …")
class AlertUpdate:
    event_id: int = strawberry.field(description="The change's lineage event id; pass it as `after` to resume.")
    type: str = strawberry.field(
        description="alert.raised, .updated, .acknowledged, .assigned, .snoozed, .snooze_ended, .resolved, .reopened or .cleared")
    kind: str = strawberry.field(description="The kind's stored code (low_stock, order.held …)")
    message: str = strawberry.field(description="The change's reason: the alert's message, a note, the resolution …")
    occurred_at: datetime = strawberry.field(description="When the change was committed (UTC).")
    alert: Alert | None = strawberry.field(description="The alert as it is when this update is sent")
    order_pk: strawberry.Private[int | None]

    @strawberry.field(description="The order the alert is about, if any (masked as for any order query).")
    async def order(self, info: Info) -> Order | None:
        if self.order_pk is None:
            return None
        row = await info.context.loaders.order.load(self.order_pk)
        return Order.from_row(row, info.context.actor.sees_personal_data) if row else None


@strawberry.type(description="Stock levels: first all requested (event null), then those a stock event changed.")
class StockLevelsUpdate:
    event_id: int = strawberry.field(
        description="The snapshot's position, then the id of the stock event behind the update.")
    event: OrderEvent | None = strawberry.field(
        description="The stock event behind this update; null on the first (snapshot) update.")
    levels: list[Stock] = strawberry.field(
        description="The levels: every requested one first, then only those that changed.")


async def _guarded(source: AsyncIterator[T]) -> AsyncGenerator[T, None]:
    """Turn ``SlowSubscriber`` into an error the WebSocket layer closes the connection on."""
    try:
        async for item in source:
            yield item
    except SlowSubscriber as exc:
        raise GraphQLError(str(exc), extensions={"code": SLOW_SUBSCRIBER}) from None


class _LazyLoaders:
    """Per-event ``Loaders``, built only if a resolver asks for one (most live selections never do)."""

    __slots__ = ("_real", "_tenant_id")

    def __init__(self, tenant_id: int) -> None:
        self._tenant_id = tenant_id
        self._real: Loaders | None = None

    def __getattr__(self, name: str) -> Any:
        if self._real is None:
            self._real = Loaders(self._tenant_id)
        return getattr(self._real, name)


def _fresh(info: Info) -> Any:
    ctx = info.context
    ctx.loaders = _LazyLoaders(ctx.actor.tenant_id)  # per event: never serve a stale cache on a long connection
    return ctx


def _events(info: Info, wanted: EventFilter, after: int | None, convert: Callable[[dict[str, Any]], T]) -> AsyncGenerator[T, None]:
    async def stream() -> AsyncIterator[T]:
        async for message in event_stream(info.context, wanted, after):
            _fresh(info)
            yield convert(message)

    return _guarded(stream())


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Committed lineage events of your tenant. Pass `after` (the last eventId you saw) to replay what you missed first."
    )
    def order_events(
        self, info: Info, filter: Annotated[OrderEventFilter | None, strawberry.argument(description="Which events to send; null for every event of your tenant.")] = None, after: Annotated[int | None, strawberry.argument(description="The last `eventId` you saw: events after it are replayed first; null to start from now.")] = None
    ) -> AsyncGenerator[OrderEvent, None]:
        f = filter or OrderEventFilter()
        wanted = EventFilter(
            tenant_id=info.context.actor.tenant_id,
            order_ids=frozenset(pks_of(f.orders, "Order")),
            types=frozenset(filter_types(f.types, f.event_types) or ()),
            channel_ids=frozenset(pks_of(f.channels, "Channel")),
            warehouse_ids=frozenset(pks_of(f.warehouses, "Warehouse")),
            statuses=frozenset(s.value for s in f.statuses or ()),
            skus=frozenset(f.skus or ()),
        )
        return _events(info, wanted, after, OrderEvent.from_message)

    @strawberry.subscription(description="One order: its current state first, then again after every change.")
    async def order_status(self, info: Info, order: Annotated[strawberry.ID, strawberry.argument(description="The order's id.")]) -> AsyncGenerator[OrderStatusUpdate, None]:
        ctx = info.context
        pk = pk_of(order, "Order")
        wanted = EventFilter(tenant_id=ctx.actor.tenant_id, order_ids=frozenset({pk}))
        pii = ctx.actor.sees_personal_data

        async def stream() -> AsyncIterator[OrderStatusUpdate]:
            async for position, message in snapshot_then_events(ctx, wanted):
                if message is not None and message["type"] in ALERT_EVENTS:
                    continue  # an alert about the order is not a change of its state
                _fresh(info)
                row = await lineage.order_snapshot(ctx.actor.tenant_id, pk)
                if row is None:
                    raise NotFound("no such order", field="order")
                state = (message or {}).get("after") or {}
                if not isinstance(state, dict) or "status" not in state:
                    state = {"status": row.status, "hold_reasons": row.hold_reasons}
                yield OrderStatusUpdate(
                    event_id=position,
                    status=OrderStatus(state["status"]),
                    hold_reasons=list(state.get("hold_reasons") or []),
                    order=Order.from_row(row, pii),
                    event=OrderEvent.from_message(message) if message else None,
                )

        async for update in _guarded(stream()):
            yield update

    @strawberry.subscription(description="Every change of your tenant's alerts. `after` resumes like orderEvents.")
    def alerts(
        self, info: Info, after: Annotated[int | None, strawberry.argument(description="The last `eventId` you saw: changes after it are replayed first; null to start from now.")] = None, kinds: Annotated[list[str] | None, strawberry.argument(description="Only alerts of these kind codes (`kindCode`, e.g. `low_stock`); null for all.")] = None
    ) -> AsyncGenerator[AlertUpdate, None]:
        tenant_id = info.context.actor.tenant_id
        wanted = EventFilter(tenant_id=tenant_id, types=ALERT_EVENTS)
        kinds_wanted = set(kinds or ())

        async def stream() -> AsyncIterator[AlertUpdate]:
            async for message in event_stream(info.context, wanted, after):
                details = message.get("after") or {}
                kind = str(details.get("kind", ""))
                if kinds_wanted and kind not in kinds_wanted:
                    continue
                _fresh(info)
                row = await lineage.alert_of(tenant_id, message)
                yield AlertUpdate(
                    event_id=message["id"],
                    type=message["type"],
                    kind=kind,
                    message=message["reason"],
                    occurred_at=datetime.fromisoformat(message["created_at"]),
                    alert=Alert.from_row(row) if row else None,
                    order_pk=message["order_id"],
                )

        return _guarded(stream())

    @strawberry.subscription(description="Stock of these SKUs: all current levels first, then each level a stock event changed.")
    async def stock_levels(
        self, info: Info, skus: Annotated[list[str], strawberry.argument(description="1 to 100 SKU codes.")], warehouses: Annotated[list[strawberry.ID] | None, strawberry.argument(description="Only these warehouses (Warehouse ids); null for all.")] = None
    ) -> AsyncGenerator[StockLevelsUpdate, None]:
        ctx = info.context
        wanted_skus = frozenset(s.strip() for s in skus if s.strip())
        if not wanted_skus or len(wanted_skus) > MAX_SKUS:
            raise ValidationFailed(f"give 1 to {MAX_SKUS} SKUs", field="skus")
        warehouse_ids = pks_of(warehouses, "Warehouse")
        wanted = EventFilter(tenant_id=ctx.actor.tenant_id, types=frozenset({"stock.*"}), skus=wanted_skus)

        async def stream() -> AsyncIterator[StockLevelsUpdate]:
            seen: dict[int, tuple[int, int, int, int]] = {}
            async for position, message in snapshot_then_events(ctx, wanted):
                _fresh(info)
                rows = await lineage.stock_levels(ctx.actor.tenant_id, wanted_skus, warehouse_ids)
                changed = [r for r in rows if seen.get(r.id) != (r.on_hand, r.reserved, r.safety, r.in_transit)]
                seen.update({r.id: (r.on_hand, r.reserved, r.safety, r.in_transit) for r in rows})
                if message is not None and not changed:
                    continue
                event = OrderEvent.from_message(message) if message else None
                yield StockLevelsUpdate(event_id=position, event=event, levels=[Stock.from_row(r) for r in changed])

        async for update in _guarded(stream()):
            yield update
