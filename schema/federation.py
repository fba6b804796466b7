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
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.federation.connections import shown_config
from resolvers import federation_setup as resolvers
from resolvers import ids
from schema.errors import UserError, attempt


@strawberry.enum(description="What a connected system is.")
class SystemKind(Enum):
    WMS = strawberry.enum_value("wms", description="A warehouse management system: receives delivery orders, reports shipments and stock.")
    ERP = strawberry.enum_value("erp", description="An ERP: sales orders, invoices and its own stock figures.")


@strawberry.enum(description="pending → pushed → confirmed (shipped); cancel_pending → cancelled or cancel_refused; "
                             "failed once the retries ran out or the WMS refused it.")
class DeliveryOrderStatus(Enum):
    PENDING = strawberry.enum_value("pending", description="Not pushed to the WMS yet (or waiting for a retry).")
    PUSHED = strawberry.enum_value("pushed", description="The WMS accepted it.")
    CONFIRMED = strawberry.enum_value("confirmed", description="The WMS confirmed it shipped.")
    CANCEL_PENDING = strawberry.enum_value("cancel_pending", description="A cancel is being sent to the WMS.")
    CANCELLED = strawberry.enum_value("cancelled", description="The WMS cancelled it.")
    CANCEL_REFUSED = strawberry.enum_value("cancel_refused", description="The WMS refused the cancel (it may be picked already).")
    FAILED = strawberry.enum_value("failed", description="The push kept failing and was given up; see `lastError`.")


@strawberry.type(description="An ERP or WMS the tenant runs. Secrets in the config are shown as ***.")
class SystemConnection:
    id: strawberry.ID = strawberry.field(description="The connection's global id.")
    code: str = strawberry.field(description="Your name for it, e.g. `wms-sh`.")
    kind: SystemKind = strawberry.field(description="WMS or ERP.")
    adapter: str = strawberry.field(description="The adapter speaking its protocol, e.g. `qimen`, `rest_wms`.")
    name: str = strawberry.field(description="A display name; may be empty.")
    active: bool = strawberry.field(description="false: OrderGraph does not call it.")
    config: JSON = strawberry.field(description="The adapter's settings, secrets shown as ***.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    updated_at: datetime = strawberry.field(description="When it was last saved (UTC).")

    @classmethod
    def from_row(cls, row: Any) -> SystemConnection:
        return cls(id=strawberry.ID(ids.encode("SystemConnection", row.id)), code=row.code, kind=SystemKind(row.kind),
                   adapter=row.adapter, name=row.name, active=row.active, config=shown_config(row.config or {}),
                   created_at=row.created_at, updated_at=row.updated_at)


@strawberry.type(description="Which WMS runs a warehouse, and the codes the WMS and the ERP know it by.")
class WarehouseSystemsLink:
    warehouse_id: strawberry.ID = strawberry.field(description="The warehouse's id.")
    warehouse_code: str = strawberry.field(description="The warehouse's own code.")
    wms: str | None = strawberry.field(description="The WMS connection's code; null: no WMS.")
    wms_warehouse_code: str = strawberry.field(description="The code the WMS knows the warehouse by.")
    erp_warehouse_code: str = strawberry.field(description="The code the ERP knows the warehouse by.")
    owner_code: str = strawberry.field(description="The WMS's owner (货主) code for this merchant; may be empty.")

    @classmethod
    def from_row(cls, row: Any) -> WarehouseSystemsLink:
        return cls(warehouse_id=strawberry.ID(ids.encode("Warehouse", row.warehouse_id)),
                   warehouse_code=row.warehouse.code, wms=row.wms.code if row.wms else None,
                   wms_warehouse_code=row.wms_warehouse_code, erp_warehouse_code=row.erp_warehouse_code,
                   owner_code=row.owner_code)


@strawberry.type(description="An order's lines of one warehouse as a WMS delivery order; `code` is what the WMS sees.")
class DeliveryOrder:
    id: strawberry.ID = strawberry.field(description="The delivery order's global id.")
    code: str = strawberry.field(description="Its code, the same on every push (the WMS's idempotency key).")
    status: DeliveryOrderStatus = strawberry.field(description="Where it stands on our side.")
    warehouse_code: str = strawberry.field(description="The warehouse it ships from.")
    wms: str = strawberry.field(description="The WMS connection's code.")
    wms_order_id: str = strawberry.field(description="The WMS's own id for it; empty until pushed.")
    attempts: int = strawberry.field(description="How many pushes were tried.")
    next_attempt_at: datetime | None = strawberry.field(
        description="When the next push is tried (UTC); null if none is due.")
    last_error: str = strawberry.field(description="The last attempt's error; empty if none.")
    pushed_at: datetime | None = strawberry.field(description="When the WMS accepted it (UTC); null if not yet.")
    confirmed_at: datetime | None = strawberry.field(
        description="When we applied the WMS's shipment confirmation (UTC); null if not yet.")
    cancelled_at: datetime | None = strawberry.field(description="When the WMS cancelled it (UTC); null if not.")
    created_at: datetime = strawberry.field(description="When it was made (UTC).")

    @classmethod
    def from_row(cls, row: Any) -> DeliveryOrder:
        waiting = row.status in ("pending", "cancel_pending")
        return cls(id=strawberry.ID(ids.encode("DeliveryOrder", row.id)), code=row.code,
                   status=DeliveryOrderStatus(row.status), warehouse_code=row.warehouse.code, wms=row.connection.code,
                   wms_order_id=row.wms_order_id, attempts=row.attempts,
                   next_attempt_at=row.next_attempt_at if waiting else None, last_error=row.last_error,
                   pushed_at=row.pushed_at, confirmed_at=row.confirmed_at, cancelled_at=row.cancelled_at,
                   created_at=row.created_at)


@strawberry.input(description="An ERP or WMS connection to create or replace (by `code`).")
class SaveSystemConnectionInput:
    code: str = strawberry.field(description="Your name for it: 1-32 letters, digits, _ . - (e.g. wms-sh).")
    kind: SystemKind = strawberry.field(description="WMS or ERP.")
    adapter: str = strawberry.field(description="qimen or rest_wms for a WMS; the ERP adapters for an ERP.")
    config: JSON = strawberry.field(description="The adapter's settings (URLs, credentials, field maps).")
    name: str = strawberry.field(default="", description="A display name.")
    active: bool = strawberry.field(default=True, description="false saves it switched off.")


@strawberry.input(description="Which WMS runs a warehouse, and the codes the systems know it by.")
class LinkWarehouseSystemsInput:
    warehouse: strawberry.ID = strawberry.field(description="The warehouse's id.")
    wms: str | None = strawberry.field(default=None, description="A WMS connection code; null: the warehouse has none.")
    wms_warehouse_code: str = strawberry.field(default="", description="Default: the warehouse's own code.")
    erp_warehouse_code: str = strawberry.field(default="", description="Default: the warehouse's own code.")
    owner_code: str = strawberry.field(default="", description="The WMS's owner (货主) code for this merchant.")


@strawberry.type(description="The result of saving a connection.")
class SystemConnectionPayload:
    connection: SystemConnection | None = strawberry.field(
        description="The connection as stored (secrets hidden); null when `errors` is not empty.")
    errors: list[UserError] = strawberry.field(
        description="Why nothing changed (VALIDATION names the bad config key; FORBIDDEN for non-admins); empty on success.")


@strawberry.type(description="The result of linking a warehouse.")
class WarehouseSystemsPayload:
    link: WarehouseSystemsLink | None = strawberry.field(description="The link as stored; null when `errors` is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


@strawberry.type
class FederationSetupQuery:
    @strawberry.field(description="The tenant's ERP and WMS connections (admins).")
    async def system_connections(self, info: Info) -> list[SystemConnection]:
        return [SystemConnection.from_row(row) for row in await resolvers.system_connections(info.context)]

    @strawberry.field(description="An order's WMS delivery orders, oldest first.")
    async def delivery_orders(self, info: Info, order: Annotated[strawberry.ID, strawberry.argument(description="The order's id.")]) -> list[DeliveryOrder]:
        return [DeliveryOrder.from_row(row) for row in await resolvers.delivery_orders(info.context, order)]


@strawberry.type
class FederationSetupMutation:
    @strawberry.mutation(description="Create or replace an ERP or WMS connection (admins); a bad config is refused.")
    async def save_system_connection(self, info: Info, input: Annotated[SaveSystemConnectionInput, strawberry.argument(description="The connection.")]) -> SystemConnectionPayload:
        row, errors = await attempt(lambda: resolvers.save_connection(
            info.context, input.code, input.kind.value, input.adapter, input.name, input.config, input.active))
        return SystemConnectionPayload(connection=SystemConnection.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Say which WMS runs a warehouse and the codes the WMS and ERP use (admins).")
    async def link_warehouse_systems(self, info: Info, input: Annotated[LinkWarehouseSystemsInput, strawberry.argument(description="The warehouse and its systems.")]) -> WarehouseSystemsPayload:
        row, errors = await attempt(lambda: resolvers.link_warehouse(
            info.context, input.warehouse, input.wms, input.wms_warehouse_code, input.erp_warehouse_code,
            input.owner_code))
        return WarehouseSystemsPayload(link=WarehouseSystemsLink.from_row(row) if row else None, errors=errors)
