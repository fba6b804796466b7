"""Allocation throughput guards: a bounded number of statements per order, and refusals that need no savepoint.

Each statement is a round trip to the database (~0.1-0.3 ms on the dev
machine), so the count per allocation sets the ceiling on orders per second;
``bench/reserve.py`` measures the rate itself. Statements are counted from the
``tortoise.db_client`` log (``tests.statement_log``).
"""

from __future__ import annotations

import pytest
from tortoise import connections

from domain.actor import Role
from domain.errors import InsufficientStock
from domain.orders import fulfilment
from domain.order_writes import lock_order
from domain.statuses import OrderStatus
from domain.stock import reservations
from domain.stock.reservations import Claim
from domain.unit_of_work import unit_of_work
from models import OrderEvent, OrderLine, Reservation
from tests.statement_log import counted_savepoints, counted_statements
from tests.stock_fixtures import check_invariants, level, order, stock_up

#: Statements for a one-line order at a named warehouse: the group lock (closure read and locked, closure again), the policy with
#: the plan's inputs, the reservation, and the decision with the order's move and lineage (``one_trip``).
POSTGRES_STATEMENTS = 6


async def test_allocating_an_order_is_a_bounded_number_of_statements(world, db):
    await stock_up(world, {"TEA-001": 10})
    placed = await order(world, "RT-1", {"TEA-001": 2})
    at = world.warehouses[1]
    with counted_statements() as statements, counted_savepoints() as savepoints:
        allocated = await fulfilment.allocate_order(world.actor(Role.OPS), placed.id, at.id, "counted")
    assert allocated.status == OrderStatus.ALLOCATED
    assert (await level(world, at.code, "TEA-001")).reserved == 2  # type: ignore[union-attr]
    if connections.get("default").capabilities.dialect == "postgres":
        assert len(statements) <= POSTGRES_STATEMENTS, [sql[:80] for sql, _ in statements]
        assert savepoints == []


async def test_a_refused_claim_on_one_row_leaves_nothing_behind_in_the_same_transaction(world, db):
    """What lets ``place`` retry a lost race without a savepoint: the refusal wrote nothing, so the retry starts clean."""
    await stock_up(world, {"TEA-001": {"SH": 3}})
    ops = world.actor(Role.OPS)
    shanghai = next(w for w in world.warehouses if w.code == "SH")
    greedy, modest = await order(world, "RT-2", {"TEA-001": 5}), await order(world, "RT-3", {"TEA-001": 3})
    refused = [Claim(await OrderLine.get(order_id=greedy.id), shanghai)]
    if connections.get("default").capabilities.dialect != "postgres":
        assert not reservations.refusal_writes_nothing(refused)  # step by step: rows can precede the refusal
        return
    assert reservations.refusal_writes_nothing(refused)
    async with unit_of_work():
        first, second = await lock_order(ops, greedy.id), await lock_order(ops, modest.id)
        with pytest.raises(InsufficientStock):
            await reservations.reserve(ops, first, refused, reason="too many")
        assert (await level(world, "SH", "TEA-001")).reserved == 0  # type: ignore[union-attr]
        await reservations.reserve(ops, second, [Claim(await OrderLine.get(order_id=modest.id), shanghai)], reason="fits")
    assert (await level(world, "SH", "TEA-001")).reserved == 3  # type: ignore[union-attr]
    assert not await Reservation.filter(order_id=greedy.id).exists()
    assert not await OrderEvent.filter(order_id=greedy.id, type="stock.reserved").exists()
    assert await OrderEvent.filter(order_id=modest.id, type="stock.reserved").count() == 1
    await check_invariants(world.tenant.id)


async def test_a_refused_claim_on_several_rows_takes_none_of_them(world, db):
    """One short row (or one the warehouse does not stock) refuses the whole claim and leaves every row as it was,
    so no savepoint is needed there either; step by step (SQLite) the savepoint stays."""
    await stock_up(world, {"TEA-001": {"SH": 5}, "CUP-01": {"SH": 1}, "PEN-01": {"GZ": 4}})
    ops = world.actor(Role.OPS)
    shanghai = next(w for w in world.warehouses if w.code == "SH")
    short = await order(world, "RT-4", {"TEA-001": 2, "CUP-01": 2})
    unstocked = await order(world, "RT-5", {"TEA-001": 2, "PEN-01": 1})
    short_claims = [Claim(line, shanghai) for line in await OrderLine.filter(order_id=short.id).order_by("id")]
    unstocked_claims = [Claim(line, shanghai) for line in await OrderLine.filter(order_id=unstocked.id).order_by("id")]
    if connections.get("default").capabilities.dialect != "postgres":
        assert not reservations.refusal_writes_nothing(short_claims)
        return
    assert reservations.refusal_writes_nothing(short_claims)
    async with unit_of_work():
        for placed, claims in ((short, short_claims), (unstocked, unstocked_claims)):
            with pytest.raises(InsufficientStock):
                await reservations.reserve(ops, await lock_order(ops, placed.id), claims, reason="cannot be met")
            assert (await level(world, "SH", "TEA-001")).reserved == 0  # type: ignore[union-attr]
            assert (await level(world, "SH", "CUP-01")).reserved == 0  # type: ignore[union-attr]
        fits = Claim(await OrderLine.get(order_id=short.id, sku="TEA-001"), shanghai)
        await reservations.reserve(ops, await lock_order(ops, short.id), [fits], reason="fits")
    assert (await level(world, "SH", "TEA-001")).reserved == 2  # type: ignore[union-attr]
    assert not await Reservation.filter(order_id=unstocked.id).exists()
    assert await Reservation.filter(order_id=short.id).count() == 1
    assert not await OrderEvent.filter(order_id=unstocked.id, type="stock.reserved").exists()
    await check_invariants(world.tenant.id)


async def test_the_one_trip_path_writes_what_the_step_by_step_path_writes(world, db, monkeypatch):
    """On PostgreSQL an order in no merge group takes ``one_trip``; the rows must match the plain path's, field by field."""
    from domain.allocation import one_trip
    from domain.alerts.raising import raise_alert
    from models import AllocationDecision, Alert, Order

    from domain.allocation import policy as allocation_policy

    await stock_up(world, {"TEA-001": 10, "CUP-01": 10})
    ops = world.actor(Role.OPS)
    await allocation_policy.save_policy(ops, {"strategy": "priority", "allow_split": True, "auto_allocate": False})
    rows = {}
    for name, fast in (("fast", True), ("plain", False)):
        placed = await order(world, f"RT-{name}", {"TEA-001": 2, "CUP-01": 1})
        await raise_alert(tenant_id=world.tenant.id, order_id=placed.id, kind="allocation_failed", message="short", actor="t")
        if not fast:
            monkeypatch.setattr(one_trip, "available", lambda: False)
        returned = await fulfilment.allocate_order(ops, placed.id, reason="parity")
        stored = await Order.get(id=placed.id)
        decision = await AllocationDecision.get(order_id=placed.id)
        skus = dict(await OrderLine.filter(order_id=placed.id).values_list("id", "sku"))

        def by_sku(candidates: list[dict]) -> list[dict]:  # line ids differ between the two orders, their SKUs do not
            return [{**c, "line_ids": sorted(skus[i] for i in c["line_ids"])} for c in candidates]

        event = await OrderEvent.get(order_id=placed.id, type="order.allocated")
        rows[name] = {
            "returned": (returned.status, returned.warehouse_id, returned.ship_by - returned.placed_at, returned.version),
            "stored": (stored.status, stored.warehouse_id, stored.ship_by - stored.placed_at, stored.version),
            "decision": (decision.strategy, decision.outcome, decision.split, decision.summary, by_sku(decision.chosen),
                         by_sku(decision.candidates), decision.policy_scope, decision.policy_version, decision.actor),
            "event": (event.actor, event.source, event.reason, event.before, event.after),
            "types": await OrderEvent.filter(order_id=placed.id).order_by("id").values_list("type", flat=True),
            "open_alerts": await Alert.filter(order_id=placed.id, kind="allocation_failed", cleared_at__isnull=True).count(),
            "reservations": sorted(await Reservation.filter(order_id=placed.id).values_list("sku", "quantity", "warehouse_id", "status")),
        }
        assert rows[name]["returned"] == rows[name]["stored"]
    assert rows["fast"] == rows["plain"]
    assert rows["fast"]["open_alerts"] == 0
    assert rows["fast"]["decision"][6:8] == ("tenant", 1)  # the stored policy was the one applied
    await check_invariants(world.tenant.id)


async def test_a_merge_committing_while_the_group_is_locked_runs_the_allocation_again(world, db, monkeypatch):
    """``allocate_order`` locks the group first in its transaction without a savepoint: a changed closure rolls the
    whole transaction back and runs it again, leaving one allocation behind."""
    from domain.allocation import groups
    from models import AllocationDecision

    await stock_up(world, {"TEA-001": 10})
    placed = await order(world, "RT-moved", {"TEA-001": 2})
    real, calls = groups._closure, []

    async def moving(tenant_id: int, order_id: int) -> set[int]:
        calls.append(order_id)
        found = await real(tenant_id, order_id)
        return found | {10**9} if len(calls) == 1 else found  # the first read sees a member that is gone on the next

    monkeypatch.setattr(groups, "_closure", moving)
    allocated = await fulfilment.allocate_order(world.actor(Role.OPS), placed.id, world.warehouses[0].id, "moved")
    assert allocated.status == OrderStatus.ALLOCATED
    assert len(calls) >= 2  # a lost round, then a clean one
    assert await AllocationDecision.filter(order_id=placed.id).count() == 1
    assert await OrderEvent.filter(order_id=placed.id, type="order.allocated").count() == 1
    assert await OrderEvent.filter(order_id=placed.id, type="stock.reserved").count() == 1
    await check_invariants(world.tenant.id)
