"""Allocation freezes: SKUs a rule or a person stopped allocating (for one channel or all) until lifted.

    frozen = await frozen_skus(tenant_id, channel_id, ["TEA-001", "CUP-01"])    # ["TEA-001"]

Orders with a frozen SKU are not allocated: the attempt fails with the reason,
an allocation-failed alert is raised, and the backorder run picks them up once
the freeze is lifted.
"""

from __future__ import annotations

from collections.abc import Iterable

from models import SkuFreeze

SCOPE = "allocation"


async def frozen_skus(tenant_id: int, channel_id: int, skus: Iterable[str]) -> list[str]:
    wanted = sorted(set(skus))
    if not wanted:
        return []
    rows = await SkuFreeze.filter(tenant_id=tenant_id, scope=SCOPE, sku__in=wanted, lifted_at__isnull=True).values_list(
        "sku", "channel_id")
    return sorted({sku for sku, channel in rows if channel is None or channel == channel_id})
