"""Live entry points over ``graphql-transport-ws``."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from events.bus import SlowSubscriber
from resolvers.lineage import EventFilter, event_stream
from resolvers.loaders import Loaders
from resolvers.orders import pks_of
from schema.enums import OrderStatus
from schema.types import OrderEvent


@strawberry.input
class OrderEventFilter:
    orders: list[strawberry.ID] | None = None
    types: list[str] | None = strawberry.field(default=None, description="e.g. order.status_changed, order.shipped")
    channels: list[strawberry.ID] | None = None
    warehouses: list[strawberry.ID] | None = None
    statuses: list[OrderStatus] | None = strawberry.field(default=None, description="The order's status after the event")


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Committed lineage events of your tenant. Pass `after` (the last eventId you saw) to replay what you missed first."
    )
    async def order_events(
        self, info: Info, filter: OrderEventFilter | None = None, after: int | None = None
    ) -> AsyncGenerator[OrderEvent, None]:
        ctx = info.context
        f = filter or OrderEventFilter()
        wanted = EventFilter(
            tenant_id=ctx.actor.tenant_id,
            order_ids=frozenset(pks_of(f.orders, "Order")),
            types=frozenset(f.types or ()),
            channel_ids=frozenset(pks_of(f.channels, "Channel")),
            warehouse_ids=frozenset(pks_of(f.warehouses, "Warehouse")),
            statuses=frozenset(s.value for s in f.statuses or ()),
        )
        try:
            async for message in event_stream(ctx, wanted, after):
                ctx.loaders = Loaders(ctx.actor.tenant_id)  # fresh per event: never serve a stale cache
                yield OrderEvent.from_message(message)
        except SlowSubscriber as exc:
            raise SlowSubscriber(str(exc)) from None
