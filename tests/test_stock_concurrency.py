"""Hundreds of concurrent reservations on PostgreSQL, with less stock than demand: nothing oversold.

``select_for_update`` is a no-op on SQLite and its writers are serialised
anyway, so only PostgreSQL with a real connection pool can prove this.
"""

from __future__ import annotations

import asyncio
import json
import random

import pytest
from tortoise import Tortoise

from adapters.formats import FORMATS
from api.database import tortoise_config
from domain import orders
from domain.actor import Role
from domain.allocation import policy as allocation_policy
from domain.allocation.allocate import AllocationFailed
from domain.errors import InsufficientStock
from domain.inbound import status_mapping
from domain.intake.pulled_pages import apply_first_seen
from domain.intake.receive import receive_channel
from domain.orders import fulfilment
from models import Alert, OrderLine, Reservation, Stock
from tests.intake_support import GENERIC_MAPPING, add_channel, generic_body
from tests.stock_fixtures import check_invariants, order, place_warehouses, stock_up

pytestmark = pytest.mark.postgres_only

HOT = ["HOT-A", "HOT-B", "HOT-C"]
HOT_PAIR = ["A1", "B2"]
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


def _paid(order_no: str, sku: str) -> bytes:
    body = json.loads(generic_body(order_no))
    body["data"]["items"] = [{"skuCode": sku, "num": 1, "priceFen": 9900, "name": sku}]
    return json.dumps(body, ensure_ascii=False).encode()


async def test_poller_pages_and_webhooks_reserving_the_same_skus_never_deadlock(world, db):
    """A page of new orders reserves once per order in one transaction; it must take its stock rows in id
    order up front, or a page wanting B then A deadlocks against one wanting A then B (seen under load)."""
    if not db.startswith("postgres"):
        pytest.skip("row locks are proven on PostgreSQL")
    await stock_up(world, {"A1": 10_000, "B2": 10_000})
    await allocation_policy.save_policy(world.actor(), {"strategy": "priority", "auto_allocate": True})
    channel = await add_channel(world, "mp", "generic", mapping=GENERIC_MAPPING)
    await status_mapping.save(world.actor(Role.ADMIN), "miniprogram", {"PAID": {"order": "PAID", "payment": "PAID"}})
    await _wide_pool(db)
    pages = [[_paid(f"P{page}-{n}", HOT_PAIR[(page + n) % 2]) for n in range(6)] for page in range(24)]
    singles = [_paid(f"W{n}", HOT_PAIR[n % 2]) for n in range(48)]

    async def page_of(bodies: list[bytes]) -> list[str]:
        created, rest = await apply_first_seen(channel, bodies, formats=FORMATS)
        assert rest == []
        return created

    async def webhook(body: bytes) -> str:
        answer = await receive_channel(world.tenant.id, "mp", channel, body, {}, formats=FORMATS, pulled=True)
        return answer.outcome

    results = await asyncio.gather(*(page_of(p) for p in pages), *(webhook(b) for b in singles),
                                   return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures == []
    assert await Reservation.filter(tenant_id=world.tenant.id).count() == 24 * 6 + 48
    await check_invariants(world.tenant.id)
