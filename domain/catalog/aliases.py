"""SKU aliases: a channel's own name for one of the merchant's SKUs (``TB-TEA-250`` on the Tmall shop is ``TEA-250``).

An alias may only point at an item that exists in the catalogue, so a typo
is refused here instead of leaving every order line of that channel
pointing at nothing. Setting an alias that exists re-points it; both
setting and removing are lineage rows with the SKU before and after.
"""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet

from domain.actor import Actor
from domain.catalog import checks
from domain.catalog.items import sku_code
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.unit_of_work import unit_of_work
from events import log
from models import Channel, Sku, SkuAlias


async def _channel(tenant_id: int, code: str) -> Channel:
    channel = await Channel.filter(tenant_id=tenant_id, code=code.strip()).first()
    if channel is None:
        raise NotFound(f"no channel {code.strip()!r}; register it with registerChannel", field="channel")
    return channel


def _alias(value: str) -> str:
    return checks.identifier(value, "alias", max_length=64, what="alias")


async def set_alias(actor: Actor, channel_code: str, alias: str, sku: str) -> SkuAlias:
    """Make ``alias`` on the channel mean ``sku``; the SKU must be in the catalogue."""
    checks.require_setup(actor, "change SKU aliases")
    alias, sku = _alias(alias), sku_code(sku)
    if alias == sku:
        raise ValidationFailed(f"{alias} is the SKU code itself; a channel that uses it needs no alias", field="alias")
    channel = await _channel(actor.tenant_id, channel_code)
    if not await Sku.exists(tenant_id=actor.tenant_id, code=sku):
        raise NotFound(f"unknown SKU {sku!r}: create it with upsertCatalogItem (or `ordergraph catalog import`) first",
                       field="sku")
    try:
        async with unit_of_work():
            row = await SkuAlias.filter(channel_id=channel.id, alias=alias).select_for_update().first()
            before = {"sku": row.sku} if row else None
            if row is None:
                row = await SkuAlias.create(tenant_id=actor.tenant_id, channel_id=channel.id, alias=alias, sku=sku)
            elif row.sku == sku:
                return row
            else:
                row.sku = sku
                await row.save(update_fields=["sku"])
            await log.append(tenant_id=actor.tenant_id, order_id=None, type="catalog.alias_set", actor=actor.name,
                             source=actor.source, reason=f"{channel.code}: {alias} means {sku}", before=before,
                             after={"channel": channel.code, "alias": alias, "sku": sku})
    except IntegrityError:
        raise Conflict(f"alias {alias} was set at the same moment by someone else; try again", field="alias") from None
    return row


async def remove_alias(actor: Actor, channel_code: str, alias: str) -> SkuAlias:
    """Forget an alias; lines already read with it keep the SKU they were given."""
    checks.require_setup(actor, "change SKU aliases")
    alias = _alias(alias)
    channel = await _channel(actor.tenant_id, channel_code)
    async with unit_of_work():
        row = await SkuAlias.filter(channel_id=channel.id, alias=alias).select_for_update().first()
        if row is None:
            raise NotFound(f"channel {channel.code} has no alias {alias}", field="alias")
        await row.delete()
        await log.append(tenant_id=actor.tenant_id, order_id=None, type="catalog.alias_removed", actor=actor.name,
                         source=actor.source, reason=f"{channel.code}: {alias} no longer means {row.sku}",
                         before={"channel": channel.code, "alias": alias, "sku": row.sku}, after=None)
    return row


def query(tenant_id: int, channel_code: str | None = None, sku: str | None = None) -> QuerySet[SkuAlias]:
    """The tenant's aliases, of one channel (its code) and/or one SKU: the query callers page."""
    rows = SkuAlias.filter(tenant_id=tenant_id)
    if channel_code:
        rows = rows.filter(channel__code=channel_code.strip())
    if sku:
        rows = rows.filter(sku=sku.strip())
    return rows

