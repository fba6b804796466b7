"""Shortcuts without an actor or lineage, kept for the demo seed, test fixtures and benchmarks.

Anything a person or a system does goes through the use cases instead:
``warehouses`` (create, change, pause), ``items`` (upsert), ``aliases`` and
``domain.stock.levels.set_opening_stock``. New callers should not use this
module; it goes once ``api/seed.py`` and ``domain/intake/sources.py`` import
``domain.catalog.channels`` directly.
"""

from __future__ import annotations

from domain.catalog.channels import create_channel
from domain.errors import Duplicate
from models import Sku, Warehouse

__all__ = ["create_channel", "create_warehouse", "upsert_sku"]


async def create_warehouse(
    tenant_id: int,
    code: str,
    name: str,
    *,
    province: str = "",
    city: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
    priority: int = 100,
) -> Warehouse:
    if await Warehouse.exists(tenant_id=tenant_id, code=code):
        raise Duplicate(f"warehouse {code} exists", field="code")
    return await Warehouse.create(
        tenant_id=tenant_id,
        code=code,
        name=name,
        province=province,
        city=city,
        latitude=latitude,
        longitude=longitude,
        priority=priority,
    )


async def upsert_sku(tenant_id: int, code: str, title: str, category: str = "") -> Sku:
    sku, _ = await Sku.update_or_create(
        tenant_id=tenant_id, code=code, defaults={"title": title, "category": category}
    )
    return sku
