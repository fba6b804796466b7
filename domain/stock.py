"""Stock levels per (warehouse, SKU).

Only receipts exist so far; reservations, the movement ledger and allocation
strategies build on this module.
"""

from __future__ import annotations

from tortoise.expressions import F

from domain.errors import NotFound, ValidationFailed
from domain.unit_of_work import unit_of_work
from models import Stock, Warehouse


async def receive_stock(tenant_id: int, warehouse_id: int, sku: str, quantity: int, *, safety: int | None = None) -> Stock:
    """Add ``quantity`` units to on-hand stock, creating the row on first receipt."""
    if quantity <= 0:
        raise ValidationFailed("quantity must be positive", field="quantity")
    if not await Warehouse.exists(id=warehouse_id, tenant_id=tenant_id):
        raise NotFound("no such warehouse", field="warehouseId")
    async with unit_of_work():
        stock, _ = await Stock.get_or_create(
            warehouse_id=warehouse_id, sku=sku, defaults={"tenant_id": tenant_id}
        )
        await Stock.filter(id=stock.id).update(on_hand=F("on_hand") + quantity)
        if safety is not None:
            await Stock.filter(id=stock.id).update(safety=safety)
        await stock.refresh_from_db()
    return stock
