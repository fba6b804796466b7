"""Reads of the things orders refer to: warehouses, channels, stock, alerts."""

from __future__ import annotations

from models import Alert, Channel, Stock, Warehouse
from resolvers.context import Context


def _tenant(ctx: Context) -> int:
    assert ctx.actor is not None
    return ctx.actor.tenant_id


async def warehouses(ctx: Context) -> list[Warehouse]:
    return await Warehouse.filter(tenant_id=_tenant(ctx)).order_by("priority", "code")


async def channels(ctx: Context) -> list[Channel]:
    return await Channel.filter(tenant_id=_tenant(ctx)).order_by("code")


async def stock_of_sku(ctx: Context, sku: str) -> list[Stock]:
    return await Stock.filter(tenant_id=_tenant(ctx), sku=sku).order_by("warehouse_id")


async def alerts(ctx: Context, open_only: bool, first: int) -> list[Alert]:
    query = Alert.filter(tenant_id=_tenant(ctx))
    if open_only:
        query = query.filter(cleared_at__isnull=True)
    return await query.order_by("-id").limit(first)
