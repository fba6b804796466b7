"""Read entry points."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers import catalog, nodes
from resolvers import orders as order_resolvers
from schema.alerts import AlertConnection, AlertFilter, board_filter
from schema.arguments import After, First
from schema.connections import AFTER_ARGUMENT, PAGE_ARGUMENT
from schema.enums import OrderSortField, SortDirection
from schema.types import (
    Alert,
    Channel,
    Customer,
    Node,
    Order,
    OrderConnection,
    OrderEvent,
    OrderFilter,
    OrderLine,
    Payment,
    Reservation,
    Shipment,
    Stock,
    StockMovement,
    Warehouse,
)

_FROM_ROW = {
    "Order": lambda row, pii: Order.from_row(row, pii),
    "Customer": lambda row, pii: Customer.from_row(row, pii),
    "OrderLine": lambda row, _: OrderLine.from_row(row),
    "Channel": lambda row, _: Channel.from_row(row),
    "Warehouse": lambda row, _: Warehouse.from_row(row),
    "Stock": lambda row, _: Stock.from_row(row),
    "Shipment": lambda row, _: Shipment.from_row(row),
    "Payment": lambda row, _: Payment.from_row(row),
    "OrderEvent": lambda row, _: OrderEvent.from_row(row),
    "Alert": lambda row, _: Alert.from_row(row),
    "Reservation": lambda row, _: Reservation.from_row(row),
    "StockMovement": lambda row, _: StockMovement.from_row(row),
}


@strawberry.type(description="Who is calling: the tenant and role of the API key or user.")
class Viewer:
    tenant: str = strawberry.field(description="The tenant's id; every query sees only this tenant's data.")
    role: str = strawberry.field(
        description="The caller's role: admin, ops, warehouse, service, finance, auditor or partner.")
    sees_personal_data: bool = strawberry.field(
        description="Whether names, phones and addresses come in clear (admin, ops and service roles) or masked.")


@strawberry.type
class Query:
    @strawberry.field(description="Any object by its global id (only your tenant's).")
    async def node(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="A global id from any type's `id` field.")]) -> Node | None:
        found = await nodes.load_node(info.context, id)
        if found is None:
            return None
        type_name, row = found
        return _FROM_ROW[type_name](row, info.context.actor.sees_personal_data)

    @strawberry.field(description="An order by its global id; null if there is none in your tenant, a BAD_ID error if `id` is not an Order id.")
    async def order(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The order's global id (`Order.id`).")]) -> Order | None:
        row = await order_resolvers.order_by_id(info.context, id)
        return Order.from_row(row, info.context.actor.sees_personal_data) if row else None

    @strawberry.field(description="An order by the channel's own id, e.g. a Taobao tid.")
    async def order_by_external_id(self, info: Info, channel: Annotated[str, strawberry.argument(description="The channel's code (`Channel.code`).")], external_id: Annotated[str, strawberry.argument(description="The channel's own order id, verbatim.")]) -> Order | None:
        row = await order_resolvers.order_by_external_id(info.context, channel, external_id)
        return Order.from_row(row, info.context.actor.sees_personal_data) if row else None

    @strawberry.field(description="An order by the number a person quotes: ours (`OG000000042`, `og42`, `42`) or the "
                      "channel's own (its external id); null if none. Our number wins unless `channel` is given; a "
                      "channel number shared by several channels is a VALIDATION error asking for `channel`.")
    async def order_by_number(
        self, info: Info,
        number: Annotated[str, strawberry.argument(description="`OG000000042`, `og42`, `42`, or a channel's order number.")],
        channel: Annotated[str | None, strawberry.argument(
            description="A channel code (`Channel.code`): look up only that channel's own order numbers.")] = None,
    ) -> Order | None:
        row = await order_resolvers.order_by_number(info.context, number, channel)
        return Order.from_row(row, info.context.actor.sees_personal_data) if row else None

    @strawberry.field(description="Orders, keyset-paginated. `first` is 0-100.")
    async def orders(
        self,
        info: Info,
        filter: Annotated[OrderFilter | None, strawberry.argument(description="Narrows the orders; null for all.")] = None,
        sort: Annotated[OrderSortField, strawberry.argument(description="Which time to sort by.")] = OrderSortField.CREATED_AT,
        direction: Annotated[SortDirection, strawberry.argument(description="Newest first (DESC, the default) or oldest first.")] = SortDirection.DESC,
        first: First = 20,
        after: After = None,
    ) -> OrderConnection:
        return await OrderConnection.load(info, filter, sort, direction, first, after)

    @strawberry.field(description="Every warehouse of your tenant, paused ones included, in priority order.")
    async def warehouses(self, info: Info) -> list[Warehouse]:
        return [Warehouse.from_row(row) for row in await catalog.warehouses(info.context)]

    @strawberry.field(description="Every sales channel (shop) of your tenant, by code.")
    async def channels(self, info: Info) -> list[Channel]:
        return [Channel.from_row(row) for row in await catalog.channels(info.context)]

    @strawberry.field(description="Stock of one SKU in every warehouse.")
    async def stock(self, info: Info, sku: Annotated[str, strawberry.argument(description="The merchant's SKU code.")]) -> list[Stock]:
        return [Stock.from_row(row) for row in await catalog.stock_of_sku(info.context, sku)]

    @strawberry.field(description="Alerts, newest first, a page at a time (`exceptionBoard` pages the same alerts "
                                  "with `openOnly` off by default).")
    async def alerts(
        self, info: Info, open_only: Annotated[bool, strawberry.argument(description="true (default): only alerts not resolved yet; false: every alert.")] = True,
        first: Annotated[int, strawberry.argument(description=PAGE_ARGUMENT)] = 50,
        filter: Annotated[AlertFilter | None, strawberry.argument(description="Narrows the alerts; null for all.")] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER_ARGUMENT)] = None,
    ) -> AlertConnection:
        page, wanted = await catalog.alerts(info.context, open_only, first, after, board_filter(filter))
        return AlertConnection.of(page, wanted)

    @strawberry.field(description="Who the API key belongs to.")
    async def viewer(self, info: Info) -> Viewer:
        actor = info.context.actor
        return Viewer(tenant=str(actor.tenant_id), role=actor.role.value, sees_personal_data=actor.sees_personal_data)
