"""Channel orders and stock: a paid webhook order reserves by the tenant's policy, a channel cancel releases,
a channel "shipped" that skipped our steps consumes what was reserved (so the warehouse does not ship twice)."""

from __future__ import annotations

from tortoise import connections

from domain.allocation import policy as allocation_policy
from models import Order, Reservation
from tests.intake_support import add_channel, deliver, taobao
from tests.statement_log import counted_savepoints, counted_statements
from tests.stock_fixtures import check_invariants, place_warehouses, stock_up


async def _ready(world) -> None:
    await place_warehouses(world)
    await stock_up(world, {"SCARF-GRY": 10, "HAT-01": 10})
    await allocation_policy.save_policy(world.actor(), {"strategy": "priority", "allow_split": True, "auto_allocate": True})
    await add_channel(world, "tb", "taobao")


async def test_paid_webhook_order_is_allocated_by_policy(world, gql):
    await _ready(world)
    assert (await deliver(gql.http, "taobao", "tb", taobao())).json()["orderStatus"] == "ALLOCATED"
    order = await Order.get(external_id="3612345678901234567")
    assert order.status == "ALLOCATED"
    assert await Reservation.filter(order_id=order.id, status="ACTIVE").count() == 2
    await check_invariants(world.tenant.id)


async def test_channel_cancel_releases_the_reservation(world, gql):
    await _ready(world)
    await deliver(gql.http, "taobao", "tb", taobao())
    await deliver(gql.http, "taobao", "tb", taobao("TRADE_CLOSED", "2024-03-01 12:00:00"))
    order = await Order.get(external_id="3612345678901234567")
    assert order.status == "CANCELLED"
    assert await Reservation.filter(order_id=order.id, status="ACTIVE").count() == 0
    await check_invariants(world.tenant.id)


async def test_channel_shipped_outside_consumes_the_reservation(world, gql):
    await _ready(world)
    await deliver(gql.http, "taobao", "tb", taobao())
    await deliver(gql.http, "taobao", "tb", taobao("WAIT_BUYER_CONFIRM_GOODS", "2024-03-02 09:00:00"))
    order = await Order.get(external_id="3612345678901234567")
    assert order.status == "SHIPPED"
    assert await Reservation.filter(order_id=order.id, status="ACTIVE").count() == 0
    assert await Reservation.filter(order_id=order.id, status="CONSUMED").count() == 2
    await check_invariants(world.tenant.id)


async def test_without_auto_allocation_a_paid_order_waits(world, gql):
    await add_channel(world, "tb", "taobao")
    await deliver(gql.http, "taobao", "tb", taobao())
    order = await Order.get(external_id="3612345678901234567")
    assert order.status == "PAID" and await Reservation.filter(order_id=order.id).count() == 0


async def test_a_paid_webhook_order_holds_its_stock_rows_only_for_the_reservation_and_the_move(world, gql):
    """At a flash sale every paid order of a SKU waits for the same stock rows, and each waiter holds a pooled
    connection: from the statement that locks them to the commit, intake runs only the reservation and the
    decision with the order's move (PostgreSQL; SQLite serialises writers anyway)."""
    await _ready(world)
    with counted_statements() as statements, counted_savepoints() as savepoints:
        assert (await deliver(gql.http, "taobao", "tb", taobao())).json()["orderStatus"] == "ALLOCATED"
    if connections.get("default").capabilities.dialect != "postgres":
        return
    assert savepoints == []  # whose RELEASE would be one more round trip holding the rows
    texts = [" ".join(sql.split()) for sql, _ in statements]
    first_lock = next(i for i, sql in enumerate(texts) if 'FOR NO KEY UPDATE' in sql or 'UPDATE "stock"' in sql)
    held = texts[first_lock:]
    assert len(held) == 3, held  # the two rows locked in id order, the reservation, the decision and move
    assert "allocation_decision" in held[-1]
    await check_invariants(world.tenant.id)
