"""Orders waiting for a hot SKU's stock rows do not take every database connection from the rest of the process."""

from __future__ import annotations

import asyncio
import dataclasses
from decimal import Decimal

import asyncpg
import pytest

from domain.allocation import policy as allocation_policy
from domain.inbound.normalized import InboundLine
from domain.intake.apply import Arrival, apply_order, channel_actor
from domain.intake.slots import INTAKE_TRANSACTIONS
from models import Order, Stock
from tests.stock_fixtures import stock_up
from tests.test_intake_whole_orders import order as taobao_order

HOT = "TEA-HOT"


async def test_intake_stuck_on_locked_stock_leaves_connections_for_everything_else(world, db):
    if not db.startswith("postgres"):
        pytest.skip("row locks and a connection pool are PostgreSQL's")
    await stock_up(world, {HOT: 1_000})
    await allocation_policy.save_policy(world.actor(), {"strategy": "priority", "auto_allocate": True})
    actor = channel_actor(world.tenant.id, world.channel.code)
    blocker = await asyncpg.connect(db.replace("postgres://", "postgresql://", 1))
    try:
        async with blocker.transaction():  # someone holds the hot SKU's rows (a long pick, a slow transaction)
            await blocker.execute("SELECT 1 FROM stock WHERE sku = $1 FOR UPDATE", HOT)
            arrivals = [asyncio.create_task(apply_order(actor, world.channel, dataclasses.replace(
                taobao_order(f"HOT-{n}"), lines=(InboundLine(HOT, 1, Decimal("45.00"), "hot tea", f"L{n}"),)),
                Arrival())) for n in range(30)]
            await asyncio.sleep(1.0)  # every arrival is now waiting: for the rows, or for a slot
            assert not [task.result() for task in arrivals if task.done()]
            # The rest of the process (the webhook sender, the pusher, heartbeats) still gets a connection.
            assert await asyncio.wait_for(Order.filter(tenant_id=world.tenant.id).count(), timeout=10) \
                <= INTAKE_TRANSACTIONS
        done = await asyncio.wait_for(asyncio.gather(*arrivals), timeout=60)
    finally:
        await blocker.close()
    assert len({result.order_id for result in done}) == 30
    assert sum(row.reserved for row in await Stock.filter(sku=HOT)) == 30
