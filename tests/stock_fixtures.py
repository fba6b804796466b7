"""Builders for stock tests: a catalogue with stock in the world's warehouses, orders, and the invariants.

Other areas' tests that allocate or ship need stock too: ``await stock_up(world, {"TEA-001": 10})``.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from tortoise.functions import Sum

from domain import orders
from domain.actor import Role
from domain.catalog import setup as catalog
from domain.orders.create import NewAddress, NewLine, NewOrder, NewPayment
from domain.stock import levels as stock
from models import Order, Quarantine, Reservation, Stock, StockMovement

COORDINATES = {"SH": (31.15, 121.12), "GZ": (23.16, 113.27), "TJ": (39.38, 117.04)}
PRIORITIES = {"SH": 10, "GZ": 20, "TJ": 30}


async def place_warehouses(world: Any) -> None:
    """Give the world's warehouses coordinates and priorities (SH 10, GZ 20, TJ 30)."""
    for warehouse in world.warehouses:
        warehouse.latitude, warehouse.longitude = COORDINATES[warehouse.code]
        warehouse.priority = PRIORITIES[warehouse.code]
        await warehouse.save()


async def stock_up(world: Any, levels: dict[str, int | dict[str, int]], *, category: str = "tea", safety: int | None = None) -> None:
    """Catalogue each SKU and receive stock: an int for every warehouse, or {code: qty} per warehouse."""
    ops = world.actor(Role.OPS)
    codes = {w.code: w for w in world.warehouses}
    for sku, spec in levels.items():
        await catalog.upsert_sku(world.tenant.id, sku, sku, category)
        per_warehouse = spec if isinstance(spec, dict) else {code: spec for code in codes}
        for code, quantity in per_warehouse.items():
            if quantity > 0:
                await stock.receive_stock(ops, codes[code].id, sku, quantity, safety=safety)


async def order(
    world: Any,
    external_id: str,
    lines: dict[str, int],
    *,
    paid: bool = True,
    deposit: bool = False,
    province: str = "上海",
    city: str = "上海",
    actor: Any = None,
) -> Order:
    """An order through the domain use case; paid in full unless told otherwise."""
    new_lines = [NewLine(sku=sku, quantity=quantity, unit_price=Decimal("10.00")) for sku, quantity in lines.items()]
    total = sum((line.unit_price * line.quantity for line in new_lines), Decimal("0"))
    amount = total / 5 if deposit else total
    return await orders.create_order(
        actor or world.actor(Role.OPS),
        NewOrder(
            channel_id=world.channel.id,
            external_id=external_id,
            lines=new_lines,
            address=NewAddress(name="王五", phone="13800000000", province=province, city=city, address="路 1 号"),
            payment=NewPayment(gateway="alipay", amount=amount) if paid or deposit else None,
            deposit=deposit,
        ),
    )


async def level(world: Any, code: str, sku: str) -> Stock | None:
    warehouse = next(w for w in world.warehouses if w.code == code)
    return await Stock.filter(warehouse_id=warehouse.id, sku=sku).first()


async def check_invariants(tenant_id: int) -> dict[int, tuple[int, int]]:
    """Assert, per stock row: reserved = sum of active reservations <= on_hand, levels = ledger sums, quarantine too.

    Returns {stock id: (on_hand, reserved)} for further checks.
    """
    active: dict[int, int] = defaultdict(int)
    for stock_id, quantity in await Reservation.filter(tenant_id=tenant_id, status="ACTIVE").values_list("stock_id", "quantity"):
        active[stock_id] += quantity
    ledger = {
        row["stock_id"]: row
        for row in await StockMovement.filter(tenant_id=tenant_id)
        .annotate(on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta"), quarantine=Sum("quarantine_delta"))
        .group_by("stock_id")
        .values("stock_id", "on_hand", "reserved", "quarantine")
    }
    quarantine = dict(await Quarantine.filter(tenant_id=tenant_id).values_list("stock_id", "quantity"))
    seen = {}
    for row in await Stock.filter(tenant_id=tenant_id):
        sums = ledger.get(row.id, {"on_hand": 0, "reserved": 0, "quarantine": 0})
        where = f"{row.sku}@{row.warehouse_id}"  # type: ignore[attr-defined]
        assert 0 <= row.reserved <= row.on_hand, f"{where}: reserved {row.reserved}, on hand {row.on_hand}"
        assert row.reserved == active[row.id], f"{where}: reserved {row.reserved} but active reservations hold {active[row.id]}"
        assert (row.on_hand, row.reserved) == (int(sums["on_hand"] or 0), int(sums["reserved"] or 0)), f"{where}: levels differ from ledger {sums}"
        assert quarantine.get(row.id, 0) == int(sums["quarantine"] or 0), f"{where}: quarantine differs from ledger"
        seen[row.id] = (row.on_hand, row.reserved)
    live_lines = await Reservation.filter(tenant_id=tenant_id, line_slot__isnull=False).values_list("line_id", flat=True)
    assert len(live_lines) == len(set(live_lines)), "a line has two live reservations"
    return seen
