"""Low-stock signals: one alert per (warehouse, SKU) while available <= safety x factor.

The alert is raised when a change crosses the threshold downwards and cleared
when one crosses it upwards, so a promotion that reserves the last units one
by one raises it once, not once per order. Changes to the threshold itself
(safety stock, factor) re-evaluate from scratch. A row with no safety stock
has no threshold and never alerts.
"""

from __future__ import annotations

import math
from decimal import Decimal

from domain.alerts.kinds import AlertKind
from domain.alerts.raising import clear_alerts, raise_alert
from models import SkuStockPolicy, Stock, Warehouse

DEFAULT_FACTOR = Decimal("1")
def subject_of(stock_id: int) -> str:
    """The low-stock alert's subject: one alert per stock row."""
    return f"stock:{stock_id}"


def threshold(safety: int, factor: Decimal) -> int | None:
    """Units at or below which stock is low; None when no safety stock is set."""
    return math.ceil(safety * factor) if safety > 0 else None


async def factor_of(tenant_id: int, sku: str) -> Decimal:
    row = await SkuStockPolicy.filter(tenant_id=tenant_id, sku=sku).first()
    return row.low_stock_factor if row else DEFAULT_FACTOR


async def after_change(
    stock: Stock, actor: str, *, available_before: int, available_after: int, safety: int, factor: Decimal
) -> None:
    """Raise or clear if this change crossed the threshold (call in the changing transaction)."""
    limit = threshold(safety, factor)
    if limit is None:
        return
    if available_after <= limit and available_after != available_before:
        # Crossing raises; falling further while low keeps the alert's figures current.
        await _raise(stock, actor, available_after, limit, safety)
    elif available_before <= limit < available_after:
        await clear_alerts(tenant_id=stock.tenant_id, kind=AlertKind.LOW_STOCK, subject=subject_of(stock.id), actor=actor)  # type: ignore[attr-defined]


async def after_update(
    stock: Stock, actor: str, *, on_hand: int, reserved: int, safety: int, factor: object, available_change: int
) -> None:
    """``after_change`` from what an ``UPDATE … RETURNING`` gave back (``factor`` is NULL without a SKU policy)."""
    await after_change(
        stock,
        actor,
        available_before=on_hand - reserved - available_change,
        available_after=on_hand - reserved,
        safety=safety,
        factor=DEFAULT_FACTOR if factor is None else Decimal(str(factor)),
    )


async def reevaluate(stock: Stock, actor: str) -> None:
    """Bring the alert in line with the current levels and threshold (after a threshold change)."""
    await stock.refresh_from_db()
    limit = threshold(stock.safety, await factor_of(stock.tenant_id, stock.sku))  # type: ignore[attr-defined]
    available = stock.on_hand - stock.reserved
    if limit is not None and available <= limit:
        await _raise(stock, actor, available, limit, stock.safety)
    else:
        await clear_alerts(tenant_id=stock.tenant_id, kind=AlertKind.LOW_STOCK, subject=subject_of(stock.id), actor=actor)  # type: ignore[attr-defined]


async def _raise(stock: Stock, actor: str, available: int, limit: int, safety: int) -> None:
    warehouse = await Warehouse.get(id=stock.warehouse_id)  # type: ignore[attr-defined]
    await raise_alert(
        tenant_id=stock.tenant_id,  # type: ignore[attr-defined]
        kind=AlertKind.LOW_STOCK,
        subject=subject_of(stock.id),
        warehouse_id=warehouse.id,
        message=f"Low stock: {stock.sku} in {warehouse.code} has {available} available (threshold {limit}, safety {safety})",
        details={
            "stock_id": stock.id,
            "warehouse_id": warehouse.id,
            "warehouse": warehouse.code,
            "sku": stock.sku,
            "available": available,
            "threshold": limit,
            "safety": safety,
        },
        actor=actor,
    )
