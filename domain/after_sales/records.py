"""Locking an after-sale with its order, the picture lineage rows carry, and the lineage row itself.

    async with unit_of_work():
        sale, order = await lock(actor, after_sale_id)      # the order FOR UPDATE first, then the after-sale
        before = snapshot(sale)
        sale.status = "APPROVED"
        await save(actor, sale, before, "after_sale.approved", "looks fine")

Every after-sale move is written on the ORDER's lineage (``after_sale.*``), so
an order's history tells its refunds and returns in place.
"""

from __future__ import annotations

from typing import Any

from domain.actor import Actor
from domain.errors import NotFound
from domain.order_writes import lock_order
from events import log
from models import AfterSale, Order


def snapshot(sale: AfterSale) -> dict[str, Any]:
    """What a lineage row shows of an after-sale: small, stable, JSON-safe."""
    return {
        "after_sale_id": sale.id,
        "kind": sale.kind,
        "status": sale.status,
        "source": sale.source,
        "external_id": sale.external_id,
        "requested_amount": str(sale.requested_amount),
        "approved_amount": None if sale.approved_amount is None else str(sale.approved_amount),
        "refunded_amount": str(sale.refunded_amount),
    }


async def lock(actor: Actor, after_sale_id: int) -> tuple[AfterSale, Order]:
    """The after-sale of the caller's tenant and its order, both locked (order first: the order is the unit)."""
    found = await AfterSale.filter(id=after_sale_id, tenant_id=actor.tenant_id).first().values_list("order_id", flat=True)
    if found is None:
        raise NotFound("no such after-sale", field="id")
    order = await lock_order(actor, int(found))  # type: ignore[arg-type]
    sale = await AfterSale.filter(id=after_sale_id).select_for_update().first()
    assert sale is not None  # after-sales are never deleted while their order exists
    return sale, order


async def append(actor: Actor, sale: AfterSale, type: str, *, before: dict[str, Any] | None, reason: str = "",
                 extra: dict[str, Any] | None = None, payload_ref: str | None = None) -> None:
    """The lineage row of one after-sale change, on its order."""
    await log.append(tenant_id=actor.tenant_id, order_id=sale.order_id,  # type: ignore[attr-defined]
                     type=type, actor=actor.name, source=actor.source, reason=reason,
                     before=before, after={**snapshot(sale), **(extra or {})}, payload_ref=payload_ref)


async def save(actor: Actor, sale: AfterSale, before: dict[str, Any] | None, type: str, reason: str = "", *,
               extra: dict[str, Any] | None = None, payload_ref: str | None = None) -> None:
    """Save the changed after-sale (its version moves on) and append its lineage row."""
    sale.version += 1
    await sale.save()
    await append(actor, sale, type, before=before, reason=reason, extra=extra, payload_ref=payload_ref)
