"""SKU freezes people look at and lift: what a rule (or a person) stopped, and undoing it.

    await lift(actor, freeze_id, "restocked")
"""

from __future__ import annotations

from datetime import UTC, datetime

from domain.actor import Actor
from domain.alerts.kinds import AlertKind
from domain.alerts.raising import clear_alerts
from domain.errors import Conflict, NotFound
from domain.rules.store import require_editor
from domain.unit_of_work import unit_of_work
from events import log
from models import SkuFreeze


async def lift(actor: Actor, freeze_id: int, reason: str) -> SkuFreeze:
    """Lift one freeze; orders already held for it stay held until a person releases them."""
    require_editor(actor)
    async with unit_of_work():
        freeze = await SkuFreeze.filter(id=freeze_id, tenant_id=actor.tenant_id).select_for_update().first()
        if freeze is None:
            raise NotFound("no such SKU freeze", field="id")
        if freeze.lifted_at is not None:
            raise Conflict("this freeze was already lifted", field="id")
        freeze.lifted_at, freeze.lifted_by = datetime.now(UTC), actor.name
        await freeze.save(update_fields=["lifted_at", "lifted_by"])
        await log.append(tenant_id=actor.tenant_id, order_id=None, type="sku.unfrozen", actor=actor.name,
                         source=actor.source, reason=reason or "lifted",
                         after={"sku": freeze.sku, "scope": freeze.scope, "channel_id": freeze.channel_id})  # type: ignore[attr-defined]
        await clear_alerts(tenant_id=actor.tenant_id, kind=AlertKind.SKU_FROZEN,
                           subject=f"sku:{freeze.scope}:{freeze.sku}", actor=actor.name, reason=reason or "lifted")
    return freeze

