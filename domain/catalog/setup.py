"""Setting up what orders refer to: channels, warehouses and SKUs."""

from __future__ import annotations

from typing import Any

from domain.errors import Duplicate, ValidationFailed
from models import Channel, Sku, Warehouse


async def create_channel(
    tenant_id: int, code: str, kind: str, name: str, *, secret: str | None = None, config: dict[str, Any] | None = None
) -> Channel:
    if not code.strip():
        raise ValidationFailed("channel code must not be empty", field="code")
    if await Channel.exists(tenant_id=tenant_id, code=code):
        raise Duplicate(f"channel {code} exists", field="code")
    return await Channel.create(tenant_id=tenant_id, code=code, kind=kind, name=name, secret=secret, config=config or {})


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
