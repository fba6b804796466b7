"""Read entry points."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers import catalog, nodes
from resolvers import orders as order_resolvers
from schema.alerts import AlertFilter, board_filter
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


@strawberry.type
class Viewer:
    tenant: str
    role: str
    sees_personal_data: bool


@strawberry.type
class Query:
    @strawberry.field(description="Any object by its global id (only your tenant's).")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        found = await nodes.load_node(info.context, id)
        if found is None:
            return None
        type_name, row = found
        return _FROM_ROW[type_name](row, info.context.actor.sees_personal_data)

    @strawberry.field
    async def order(self, info: Info, id: strawberry.ID) -> Order | None:
        row = await order_resolvers.order_by_id(info.context, id)
        return Order.from_row(row, info.context.actor.sees_personal_data) if row else None

    @strawberry.field(description="An order by the channel's own id, e.g. a Taobao tid.")
    async def order_by_external_id(self, info: Info, channel: str, external_id: str) -> Order | None:
        row = await order_resolvers.order_by_external_id(info.context, channel, external_id)
        return Order.from_row(row, info.context.actor.sees_personal_data) if row else None

    @strawberry.field(description="Orders, keyset-paginated. `first` is 0-100.")
    async def orders(
        self,
        info: Info,
        filter: OrderFilter | None = None,
        sort: OrderSortField = OrderSortField.CREATED_AT,
        direction: SortDirection = SortDirection.DESC,
        first: int = 20,
        after: str | None = None,
    ) -> OrderConnection:
        return await OrderConnection.load(info, filter, sort, direction, first, after)

    @strawberry.field
    async def warehouses(self, info: Info) -> list[Warehouse]:
        return [Warehouse.from_row(row) for row in await catalog.warehouses(info.context)]

    @strawberry.field
    async def channels(self, info: Info) -> list[Channel]:
        return [Channel.from_row(row) for row in await catalog.channels(info.context)]

    @strawberry.field(description="Stock of one SKU in every warehouse.")
    async def stock(self, info: Info, sku: str) -> list[Stock]:
        return [Stock.from_row(row) for row in await catalog.stock_of_sku(info.context, sku)]

    @strawberry.field(description="Alerts, newest first (`exceptionBoard` pages them).")
    async def alerts(
        self, info: Info, open_only: bool = True, first: Annotated[int, strawberry.argument(description="1-100")] = 50,
        filter: AlertFilter | None = None,
    ) -> list[Alert]:
        order_resolvers.check_page_size(first, info.context.max_page_size)
        rows = await catalog.alerts(info.context, open_only, first, board_filter(filter))
        return [Alert.from_row(row) for row in rows]

    @strawberry.field(description="Who the API key belongs to.")
    async def viewer(self, info: Info) -> Viewer:
        actor = info.context.actor
        return Viewer(tenant=str(actor.tenant_id), role=actor.role.value, sees_personal_data=actor.sees_personal_data)
