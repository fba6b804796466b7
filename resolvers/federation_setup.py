"""Glue from the ERP/WMS set-up mutations and the delivery-order query to ``domain.federation``.

Connections are saved through ``connections.save_connection`` with the
adapters registry (``adapters.systems.SYSTEMS``) checking the config; what
comes back never carries a secret (``shown_config``).
"""

from __future__ import annotations

from typing import Any

from adapters.systems import SYSTEMS
from domain.actor import Role
from domain.errors import Forbidden
from domain.federation import connections
from models import DeliveryOrder, Order, SystemConnection, WarehouseSystems
from resolvers.context import Context
from resolvers.orders import actor_of, pk_of


async def save_connection(ctx: Context, code: str, kind: str, adapter: str, name: str, config: Any,
                          active: bool) -> SystemConnection:
    return await connections.save_connection(actor_of(ctx), code, kind, adapter, name=name, config=config,
                                             systems=SYSTEMS, active=active)


async def link_warehouse(ctx: Context, warehouse: str, wms: str | None, wms_warehouse_code: str,
                         erp_warehouse_code: str, owner_code: str) -> WarehouseSystems:
    row = await connections.link_warehouse(actor_of(ctx), pk_of(warehouse, "Warehouse"), wms=wms,
                                           wms_warehouse_code=wms_warehouse_code,
                                           erp_warehouse_code=erp_warehouse_code, owner_code=owner_code)
    await row.fetch_related("wms", "warehouse")
    return row


async def system_connections(ctx: Context) -> list[SystemConnection]:
    actor = actor_of(ctx)
    if actor.role != Role.ADMIN:
        raise Forbidden("only admins see ERP and WMS connections")
    return await SystemConnection.filter(tenant_id=actor.tenant_id).order_by("kind", "code")


async def delivery_orders(ctx: Context, order: str) -> list[DeliveryOrder]:
    """The order's delivery orders, oldest first (none for an order of another tenant)."""
    actor = actor_of(ctx)
    pk = pk_of(order, "Order")
    if not await Order.exists(id=pk, tenant_id=actor.tenant_id):
        return []
    return await DeliveryOrder.filter(order_id=pk, tenant_id=actor.tenant_id).order_by("id") \
        .prefetch_related("warehouse", "connection")
