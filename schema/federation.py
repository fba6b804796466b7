"""Setting up the merchant's ERP and WMS, and following an order's delivery orders.

Mutations (admins): ``saveSystemConnection`` (create or replace a connection;
the adapter checks the config and a bad one is refused naming the key) and
``linkWarehouseSystems`` (which WMS runs a warehouse, and the codes the WMS and
the ERP know it by). Queries: ``systemConnections`` (admins; secrets shown as
``***``) and ``deliveryOrders(order:)`` — each delivery order pushed (or to be
pushed) to a WMS, with its attempts and last error.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.federation.connections import shown_config
from resolvers import federation_setup as resolvers
from resolvers import ids
from schema.errors import UserError, attempt


@strawberry.enum
class SystemKind(Enum):
    WMS = "wms"
    ERP = "erp"


@strawberry.enum(description="pending → pushed → confirmed (shipped); cancel_pending → cancelled or cancel_refused; "
                             "failed once the retries ran out or the WMS refused it.")
class DeliveryOrderStatus(Enum):
    PENDING = "pending"
    PUSHED = "pushed"
    CONFIRMED = "confirmed"
    CANCEL_PENDING = "cancel_pending"
    CANCELLED = "cancelled"
    CANCEL_REFUSED = "cancel_refused"
    FAILED = "failed"


@strawberry.type(description="An ERP or WMS the tenant runs. Secrets in the config are shown as ***.")
class SystemConnection:
    id: strawberry.ID
    code: str
    kind: SystemKind
    adapter: str
    name: str
    active: bool
    config: JSON
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> SystemConnection:
        return cls(id=strawberry.ID(ids.encode("SystemConnection", row.id)), code=row.code, kind=SystemKind(row.kind),
                   adapter=row.adapter, name=row.name, active=row.active, config=shown_config(row.config or {}),
                   created_at=row.created_at, updated_at=row.updated_at)


@strawberry.type(description="Which WMS runs a warehouse, and the codes the WMS and the ERP know it by.")
class WarehouseSystemsLink:
    warehouse_id: strawberry.ID
    warehouse_code: str
    wms: str | None = strawberry.field(description="The WMS connection's code; null: no WMS.")
    wms_warehouse_code: str
    erp_warehouse_code: str
    owner_code: str

    @classmethod
    def from_row(cls, row: Any) -> WarehouseSystemsLink:
        return cls(warehouse_id=strawberry.ID(ids.encode("Warehouse", row.warehouse_id)),
                   warehouse_code=row.warehouse.code, wms=row.wms.code if row.wms else None,
                   wms_warehouse_code=row.wms_warehouse_code, erp_warehouse_code=row.erp_warehouse_code,
                   owner_code=row.owner_code)


@strawberry.type(description="An order's lines of one warehouse as a WMS delivery order; `code` is what the WMS sees.")
class DeliveryOrder:
    id: strawberry.ID
    code: str
    status: DeliveryOrderStatus
    warehouse_code: str
    wms: str
    wms_order_id: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str
    pushed_at: datetime | None
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> DeliveryOrder:
        waiting = row.status in ("pending", "cancel_pending")
        return cls(id=strawberry.ID(ids.encode("DeliveryOrder", row.id)), code=row.code,
                   status=DeliveryOrderStatus(row.status), warehouse_code=row.warehouse.code, wms=row.connection.code,
                   wms_order_id=row.wms_order_id, attempts=row.attempts,
                   next_attempt_at=row.next_attempt_at if waiting else None, last_error=row.last_error,
                   pushed_at=row.pushed_at, confirmed_at=row.confirmed_at, cancelled_at=row.cancelled_at,
                   created_at=row.created_at)


@strawberry.input
class SaveSystemConnectionInput:
    code: str = strawberry.field(description="Your name for it: 1-32 letters, digits, _ . - (e.g. wms-sh).")
    kind: SystemKind
    adapter: str = strawberry.field(description="qimen or rest_wms for a WMS; the ERP adapters for an ERP.")
    config: JSON = strawberry.field(description="The adapter's settings (URLs, credentials, field maps).")
    name: str = ""
    active: bool = True


@strawberry.input
class LinkWarehouseSystemsInput:
    warehouse: strawberry.ID
    wms: str | None = strawberry.field(default=None, description="A WMS connection code; null: the warehouse has none.")
    wms_warehouse_code: str = strawberry.field(default="", description="Default: the warehouse's own code.")
    erp_warehouse_code: str = strawberry.field(default="", description="Default: the warehouse's own code.")
    owner_code: str = strawberry.field(default="", description="The WMS's owner (货主) code for this merchant.")


@strawberry.type
class SystemConnectionPayload:
    connection: SystemConnection | None
    errors: list[UserError]


@strawberry.type
class WarehouseSystemsPayload:
    link: WarehouseSystemsLink | None
    errors: list[UserError]


@strawberry.type
class FederationSetupQuery:
    @strawberry.field(description="The tenant's ERP and WMS connections (admins).")
    async def system_connections(self, info: Info) -> list[SystemConnection]:
        return [SystemConnection.from_row(row) for row in await resolvers.system_connections(info.context)]

    @strawberry.field(description="An order's WMS delivery orders, oldest first.")
    async def delivery_orders(self, info: Info, order: strawberry.ID) -> list[DeliveryOrder]:
        return [DeliveryOrder.from_row(row) for row in await resolvers.delivery_orders(info.context, order)]


@strawberry.type
class FederationSetupMutation:
    @strawberry.mutation(description="Create or replace an ERP or WMS connection (admins); a bad config is refused.")
    async def save_system_connection(self, info: Info, input: SaveSystemConnectionInput) -> SystemConnectionPayload:
        row, errors = await attempt(lambda: resolvers.save_connection(
            info.context, input.code, input.kind.value, input.adapter, input.name, input.config, input.active))
        return SystemConnectionPayload(connection=SystemConnection.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Say which WMS runs a warehouse and the codes the WMS and ERP use (admins).")
    async def link_warehouse_systems(self, info: Info, input: LinkWarehouseSystemsInput) -> WarehouseSystemsPayload:
        row, errors = await attempt(lambda: resolvers.link_warehouse(
            info.context, input.warehouse, input.wms, input.wms_warehouse_code, input.erp_warehouse_code,
            input.owner_code))
        return WarehouseSystemsPayload(link=WarehouseSystemsLink.from_row(row) if row else None, errors=errors)
