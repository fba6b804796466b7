"""``node(id:)``: any object by global id, but only the caller's tenant's."""

from __future__ import annotations

from typing import Any

from models import (
    Alert,
    Channel,
    Customer,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    Reservation,
    Shipment,
    Stock,
    StockMovement,
    Warehouse,
)
from resolvers import ids
from resolvers.context import Context

#: type name -> (model, lookup that ties the row to a tenant)
_TENANT_PATH: dict[str, tuple[Any, str]] = {
    "Order": (Order, "tenant_id"),
    "Channel": (Channel, "tenant_id"),
    "Customer": (Customer, "tenant_id"),
    "Warehouse": (Warehouse, "tenant_id"),
    "Stock": (Stock, "tenant_id"),
    "OrderEvent": (OrderEvent, "tenant_id"),
    "Alert": (Alert, "tenant_id"),
    "Reservation": (Reservation, "tenant_id"),
    "StockMovement": (StockMovement, "tenant_id"),
    "OrderLine": (OrderLine, "order__tenant_id"),
    "Shipment": (Shipment, "order__tenant_id"),
    "Payment": (Payment, "order__tenant_id"),
}


async def load_node(ctx: Context, global_id: str) -> tuple[str, Any] | None:
    """(type name, row) for an id of the caller's tenant; None for anything else."""
    try:
        type_name, pk = ids.decode(global_id)
    except ids.BadId:
        return None
    if type_name not in _TENANT_PATH or ctx.actor is None:
        return None
    model, tenant_path = _TENANT_PATH[type_name]
    row = await model.filter(id=pk, **{tenant_path: ctx.actor.tenant_id}).first()
    return (type_name, row) if row else None
