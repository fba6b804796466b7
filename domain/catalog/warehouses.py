"""Warehouses a merchant ships from: create them, change them, pause and resume them.

    wh = await create_warehouse(actor, "SH", {"name": "上海青浦仓", "province": "上海", "latitude": 31.15, ...})
    await update_warehouse(actor, wh.id, {"active": False}, reason="stocktake")

Fields are given as a mapping of column names so an update changes only
what it names; each is checked by the table ``FIELDS`` (with the GraphQL
path its refusal names). A paused warehouse (``active`` false) keeps its
stock and the reservations already made there, but allocation no longer
chooses it (``domain.allocation.allocate`` reads only active warehouses).
Every change is one lineage row with the fields before and after.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from tortoise.exceptions import IntegrityError

from domain.actor import Actor
from domain.catalog import checks
from domain.errors import Duplicate, NotFound, ValidationFailed
from domain.unit_of_work import unit_of_work
from events import log
from models import Reservation, Warehouse

#: column -> (GraphQL path named in refusals, check)
FIELDS: dict[str, tuple[str, Callable[[Any, str], Any]]] = {
    "name": ("name", lambda v, f: checks.label(v, f, max_length=200, what="name", required=True)),
    "province": ("address.province", lambda v, f: checks.label(v, f, max_length=50, what="province")),
    "city": ("address.city", lambda v, f: checks.label(v, f, max_length=50, what="city")),
    "district": ("address.district", lambda v, f: checks.label(v, f, max_length=50, what="district")),
    "address": ("address.street", lambda v, f: checks.label(v, f, max_length=300, what="street address")),
    "postal_code": ("address.postalCode", checks.postal_code),
    "country_code": ("address.countryCode", checks.country),
    "region": ("region", lambda v, f: checks.label(v, f, max_length=32, what="region")),
    "latitude": ("latitude", lambda v, f: checks.coordinate(v, f, limit=90, what="latitude")),
    "longitude": ("longitude", lambda v, f: checks.coordinate(v, f, limit=180, what="longitude")),
    "handling_cost": ("handlingCost", lambda v, f: checks.money(v, f, what="handling cost")),
    "priority": ("priority", lambda v, f: checks.whole(v, f, what="priority", maximum=1_000_000)),
    "active": ("active", lambda v, f: checks.flag(v, f, what="active")),
}
#: Columns that may be cleared with ``None``; every other column needs a value.
NULLABLE = frozenset({"latitude", "longitude", "handling_cost"})


def _checked(values: Mapping[str, Any]) -> dict[str, Any]:
    return checks.checked(values, FIELDS, NULLABLE, "warehouse")


def _check_point(latitude: float | None, longitude: float | None) -> None:
    if (latitude is None) != (longitude is None):
        missing = "longitude" if longitude is None else "latitude"
        raise ValidationFailed("give both latitude and longitude, or neither", field=missing)


def snapshot(warehouse: Warehouse) -> dict[str, Any]:
    """The warehouse as lineage records it (money as a string, never a float)."""
    data = {column: getattr(warehouse, column) for column in FIELDS}
    data["code"] = warehouse.code
    if isinstance(data["handling_cost"], Decimal):
        data["handling_cost"] = str(data["handling_cost"])
    return data


async def create_warehouse(actor: Actor, code: str, values: Mapping[str, Any], *, reason: str = "") -> Warehouse:
    """Add a warehouse (``name`` is required); refused when the code is taken."""
    checks.require_setup(actor, "create warehouses")
    code = checks.code(code, "code", max_length=32, what="warehouse code")
    if "name" not in values:
        raise ValidationFailed("name must not be empty", field="name")
    fields = _checked(values)
    _check_point(fields.get("latitude"), fields.get("longitude"))
    try:
        async with unit_of_work():
            if await Warehouse.exists(tenant_id=actor.tenant_id, code=code):
                raise Duplicate(f"warehouse {code} exists; change it with updateWarehouse", field="code")
            warehouse = await Warehouse.create(tenant_id=actor.tenant_id, code=code, **fields)
            await warehouse.refresh_from_db()
            await _record(actor, "warehouse.created", reason or f"warehouse {code} created", None, snapshot(warehouse))
    except IntegrityError:  # created by someone else at the same moment
        raise Duplicate(f"warehouse {code} exists; change it with updateWarehouse", field="code") from None
    return warehouse


async def update_warehouse(actor: Actor, warehouse_id: int, changes: Mapping[str, Any], *, reason: str = "") -> Warehouse:
    """Change the named fields; ``active: False`` pauses it (stock and existing reservations stay)."""
    checks.require_setup(actor, "change warehouses")
    fields = _checked(changes)
    async with unit_of_work():
        warehouse = await Warehouse.filter(id=warehouse_id, tenant_id=actor.tenant_id).select_for_update().first()
        if warehouse is None:
            raise NotFound("no such warehouse", field="warehouse")
        before = snapshot(warehouse)
        for column, value in fields.items():
            setattr(warehouse, column, value)
        _check_point(warehouse.latitude, warehouse.longitude)
        after = snapshot(warehouse)
        changed = {column for column in after if after[column] != before[column]}
        if not changed:
            return warehouse
        await warehouse.save(update_fields=[*sorted(changed), "updated_at"])
        kind, note = "warehouse.updated", f"changed {', '.join(sorted(changed))}"
        if "active" in changed:
            live = await Reservation.filter(warehouse_id=warehouse.id, status="ACTIVE").count()
            after["live_reservations"] = live
            kind = "warehouse.resumed" if warehouse.active else "warehouse.paused"
            note = ("resumed: allocation may choose it again" if warehouse.active else
                    f"paused: keeps its stock and its {live} live reservation(s); allocation skips it")
        await _record(actor, kind, reason or f"warehouse {warehouse.code} {note}",
                      {c: before[c] for c in sorted(changed)}, {"code": warehouse.code, **{c: after[c] for c in after if c in changed or c == "live_reservations"}})
    return warehouse


async def _record(actor: Actor, kind: str, reason: str, before: dict[str, Any] | None, after: dict[str, Any]) -> None:
    await log.append(tenant_id=actor.tenant_id, order_id=None, type=kind, actor=actor.name, source=actor.source,
                     reason=reason, before=before, after=after)


async def by_code(tenant_id: int, code: str, field: str = "warehouse") -> Warehouse:
    warehouse = await Warehouse.filter(tenant_id=tenant_id, code=code.strip()).first()
    if warehouse is None:
        raise NotFound(f"no warehouse {code.strip()!r}; create it with createWarehouse or `ordergraph warehouses create`", field=field)
    return warehouse


async def listing(tenant_id: int) -> list[Warehouse]:
    """Every warehouse, paused ones included, in allocation priority order."""
    return list(await Warehouse.filter(tenant_id=tenant_id).order_by("priority", "code"))
