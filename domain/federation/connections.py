"""Registering the merchant's ERP and WMS and saying which WMS runs which warehouse (admin only).

    await save_connection(actor, "wms-sh", "wms", "qimen", config={...}, systems=SYSTEMS)
    await link_warehouse(actor, warehouse_id, wms="wms-sh", wms_warehouse_code="SH01", erp_warehouse_code="CK001")
    wms, systems_row = await wms_for(warehouse_id)          # None when the warehouse has no WMS

Configs are checked by the adapter when saved (``Systems.check``), so a broken
one is refused with the key named rather than failing at the first push.
Secrets in the config are never returned by a query and never in lineage.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tortoise.exceptions import IntegrityError

from domain.actor import Actor, Role
from domain.errors import Duplicate, Forbidden, NotFound, ValidationFailed
from domain.federation import breaker_config
from domain.federation.ports import Systems
from domain.unit_of_work import unit_of_work
from events import log
from models import SystemConnection, Warehouse, WarehouseSystems

KINDS = ("wms", "erp")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$")
#: Config keys whose values are secrets: lineage says they changed, never what they are.
SECRET_KEYS = frozenset({"app_secret", "secret", "password", "acct_password", "app_sec", "token", "access_token"})


def require_admin(actor: Actor) -> None:
    if actor.role != Role.ADMIN:
        raise Forbidden("only admins connect ERP and WMS systems")


def connection_key(connection: SystemConnection) -> str:
    """The name a connection's breaker and HTTP client go by."""
    return f"t{connection.tenant_id}:{connection.code}"  # type: ignore[attr-defined]


def shown_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config with every secret replaced by ``"***"``: what lineage and queries may carry."""
    return {key: ("***" if key in SECRET_KEYS else value) for key, value in config.items()}


async def save_connection(actor: Actor, code: str, kind: str, adapter: str, *, name: str = "",
                          config: Mapping[str, Any], systems: Systems, active: bool = True) -> SystemConnection:
    """Create or replace a connection (``code`` is the tenant's name for it)."""
    require_admin(actor)
    code = code.strip()
    if not _CODE.match(code):
        raise ValidationFailed("code: 1-32 letters, digits, _ . - (e.g. wms-sh)", field="code")
    if kind not in KINDS:
        raise ValidationFailed(f"kind is one of {', '.join(KINDS)}", field="kind")
    if not isinstance(config, Mapping):
        raise ValidationFailed("config is an object", field="config")
    try:
        if kind == "erp":  # the stock-drift breaker's settings live here too; the adapter never sees them
            breaker_config.check(config)
        systems.check(kind, adapter, breaker_config.adapter_config(config) if kind == "erp" else config)
    except ValueError as error:
        raise ValidationFailed(str(error)[:300], field="config") from None
    async with unit_of_work():
        row = await SystemConnection.filter(tenant_id=actor.tenant_id, code=code).select_for_update().first()
        before = {"adapter": row.adapter, "config": shown_config(row.config), "active": row.active} if row else None
        if row is None:
            try:
                row = await SystemConnection.create(tenant_id=actor.tenant_id, code=code, kind=kind, adapter=adapter,
                                                    name=name[:200], config=dict(config), active=active)
            except IntegrityError:
                raise Duplicate(f"connection {code} exists", field="code") from None
        else:
            if row.kind != kind:
                raise ValidationFailed(f"connection {code} is a {row.kind}, not a {kind}", field="kind")
            row.adapter, row.name, row.config, row.active = adapter, name[:200] or row.name, dict(config), active
            await row.save()
        await log.append(tenant_id=actor.tenant_id, order_id=None, type="system.connection_saved", actor=actor.name,
                         source=actor.source, reason=f"{kind} {code} ({adapter}) saved", before=before,
                         after={"code": code, "kind": kind, "adapter": adapter, "config": shown_config(config),
                                "active": active})
    return row


async def link_warehouse(actor: Actor, warehouse_id: int, *, wms: str | None, wms_warehouse_code: str = "",
                         erp_warehouse_code: str = "", owner_code: str = "") -> WarehouseSystems:
    """Say which WMS (by connection code, ``None`` for none) runs a warehouse and the codes both systems use."""
    require_admin(actor)
    async with unit_of_work():
        warehouse = await Warehouse.filter(id=warehouse_id, tenant_id=actor.tenant_id).first()
        if warehouse is None:
            raise NotFound("no such warehouse", field="warehouse")
        connection = None
        if wms is not None:
            connection = await SystemConnection.filter(tenant_id=actor.tenant_id, code=wms, kind="wms").first()
            if connection is None:
                raise NotFound(f"no WMS connection {wms!r}", field="wms")
        for value, field_name in ((wms_warehouse_code, "wmsWarehouseCode"), (erp_warehouse_code, "erpWarehouseCode"),
                                  (owner_code, "ownerCode")):
            if len(value) > 64:
                raise ValidationFailed("at most 64 characters", field=field_name)
        row = await WarehouseSystems.filter(warehouse_id=warehouse_id).select_for_update().first()
        values = {"wms_id": connection.id if connection else None,
                  "wms_warehouse_code": wms_warehouse_code or warehouse.code,
                  "erp_warehouse_code": erp_warehouse_code or warehouse.code, "owner_code": owner_code}
        if row is None:
            row = await WarehouseSystems.create(warehouse_id=warehouse_id, tenant_id=actor.tenant_id, **values)
        else:
            await WarehouseSystems.filter(id=row.id).update(**values)
            row = await WarehouseSystems.get(id=row.id)
        await log.append(tenant_id=actor.tenant_id, order_id=None, type="system.warehouse_linked", actor=actor.name,
                         source=actor.source, reason=f"warehouse {warehouse.code} runs on {wms or 'no WMS'}",
                         after={"warehouse": warehouse.code, "wms": wms, **{k: v for k, v in values.items() if k != "wms_id"}})
    return row


async def wms_for(warehouse_id: int) -> tuple[SystemConnection, WarehouseSystems] | None:
    """The active WMS running a warehouse and the warehouse's codes, or ``None``."""
    row = await WarehouseSystems.filter(warehouse_id=warehouse_id).prefetch_related("wms").first()
    if row is None or row.wms is None or not row.wms.active:  # type: ignore[attr-defined]
        return None
    return row.wms, row  # type: ignore[return-value]


async def erp_of(tenant_id: int) -> SystemConnection | None:
    """The tenant's active ERP connection (the first by code when several are registered)."""
    return await SystemConnection.filter(tenant_id=tenant_id, kind="erp", active=True).order_by("code").first()
