"""Hundreds of concurrent reservations on PostgreSQL, with less stock than demand: nothing oversold.

``select_for_update`` is a no-op on SQLite and its writers are serialised
anyway, so only PostgreSQL with a real connection pool can prove this.
"""

from __future__ import annotations

import asyncio
import random

import pytest
from tortoise import Tortoise

from api.database import tortoise_config
from domain import orders
from domain.actor import Role
from domain.allocation import policy as allocation_policy
from domain.allocation.allocate import AllocationFailed
from domain.errors import InsufficientStock
from domain.orders import fulfilment
from models import Alert, OrderLine, Reservation, Stock
from tests.stock_fixtures import check_invariants, order, place_warehouses, stock_up

pytestmark = pytest.mark.postgres_only

HOT = ["HOT-A", "HOT-B", "HOT-C"]
PER_ROW = 25  # 3 SKUs x 3 warehouses x 25 = 225 units
ATTEMPTS = 540


async def _wide_pool(url: str) -> None:
    """Reconnect with a pool large enough for real parallelism (the default is 5 connections)."""
    await Tortoise.close_connections()
    await Tortoise.init(config=tortoise_config(f"{url}?minsize=1&maxsize=40"), _enable_global_fallback=True)


async def test_concurrent_reservations_never_oversell(world, db):
    if not db.startswith("postgres"):
        pytest.skip("concurrency is proven on PostgreSQL")
    rng = random.Random(3)
    await place_warehouses(world)
    await stock_up(world, {sku: PER_ROW for sku in HOT}, safety=4)
    await allocation_policy.save_policy(world.actor(), {"strategy": "priority", "allow_split": True, "auto_allocate": False})
    ops = world.actor(Role.OPS)
    # Orders to cancel during the storm, so releases interleave with reservations.
    early = [await order(world, f"EARLY-{n}", {HOT[n % 3]: 2}) for n in range(30)]
    for placed in early:
        await fulfilment.allocate_order(ops, placed.id)
    plans = []
    for n in range(ATTEMPTS):
        if n % 2:
            lines = {HOT[n % 3]: rng.randint(1, 3)}
            plans.append((await order(world, f"ONE-{n}", lines), rng.choice(world.warehouses).id))
        else:
            lines = {sku: rng.randint(1, 2) for sku in rng.sample(HOT, 2)}
            plans.append((await order(world, f"TWO-{n}", lines), None))  # by policy, may split
    await _wide_pool(db)

    outcomes: list[str] = []

    async def attempt(order_id: int, warehouse_id: int | None) -> None:
        try:
            await fulfilment.allocate_order(ops, order_id, warehouse_id, "storm")
            outcomes.append("reserved")
        except (InsufficientStock, AllocationFailed):
            outcomes.append("refused")

    async def cancel(order_id: int) -> None:
        await orders.cancel_order(ops, order_id, "storm cancel")
        outcomes.append("cancelled")

    tasks = [attempt(placed.id, warehouse_id) for placed, warehouse_id in plans] + [cancel(placed.id) for placed in early]
    rng.shuffle(tasks)
    await asyncio.gather(*tasks)  # any other exception (a deadlock, a unique violation) fails the test

    assert outcomes.count("cancelled") == len(early)
    assert outcomes.count("reserved") + outcomes.count("refused") == ATTEMPTS
    assert outcomes.count("refused") > 0, "demand must exceed supply for this test to mean anything"
    levels = await check_invariants(world.tenant.id)
    total_reserved = sum(reserved for _, reserved in levels.values())
    supply = PER_ROW * len(HOT) * len(world.warehouses)
    assert total_reserved <= supply
    active = await Reservation.filter(status="ACTIVE").values_list("quantity", flat=True)
    assert sum(active) == total_reserved
    wanted = sum(await OrderLine.filter(order_id__in=[placed.id for placed, _ in plans]).values_list("quantity", flat=True))
    assert wanted > supply, "less stock than demand"
    # Low stock is signalled once per row, however many reservations crossed the line.
    for stock in await Stock.filter(tenant_id=world.tenant.id):
        open_alerts = await Alert.filter(kind="low_stock", subject=f"stock:{stock.id}", cleared_at__isnull=True).count()
        assert open_alerts == (1 if stock.on_hand - stock.reserved <= stock.safety else 0), stock.sku
