"""Reservations through the order's life: allocate, ship, cancel, force-release, move, pre-sale, return."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain import orders
from domain.actor import Role
from domain.allocation import allocate, order_stock
from domain.allocation import policy as allocation_policy
from domain.errors import (
    Conflict,
    Forbidden,
    InsufficientStock,
    NotFound,
    ValidationFailed,
)
from domain.order_writes import lock_order
from domain.orders import fulfilment
from domain.statuses import OrderStatus
from domain.stock import levels as stock
from domain.stock import reservations, returns
from domain.stock.reservations import Claim
from domain.unit_of_work import unit_of_work
from models import (
    Alert,
    AllocationDecision,
    Order,
    OrderEvent,
    OrderLine,
    Reservation,
    StockMovement,
)
from tests.statement_log import counted_statements
from tests.stock_fixtures import (
    check_invariants,
    level,
    order,
    place_warehouses,
    stock_up,
)


def wh(world, code: str):  # noqa: ANN001, ANN201
    return next(w for w in world.warehouses if w.code == code)


async def auto_policy(world, **config) -> None:  # noqa: ANN001
    """Allocate on payment by warehouse priority: SH, then GZ, then TJ."""
    await place_warehouses(world)
    await allocation_policy.save_policy(world.actor(Role.OPS), {"strategy": "priority", **config})


async def test_allocate_reserves_and_ship_consumes(world):
    await stock_up(world, {"TEA": {"SH": 5}})
    ops = world.actor()
    paid = await order(world, "A1", {"TEA": 2})
    assert paid.status == OrderStatus.PAID  # no policy: nothing automatic

    allocated = await fulfilment.allocate_order(ops, paid.id, wh(world, "SH").id, "closest")
    assert allocated.status == OrderStatus.ALLOCATED
    sh = await level(world, "SH", "TEA")
    assert (sh.on_hand, sh.reserved) == (5, 2)
    line = await OrderLine.get(order_id=paid.id)
    assert line.warehouse_id == wh(world, "SH").id

    await orders.transition_order(ops, paid.id, OrderStatus.PICKING)
    await orders.transition_order(ops, paid.id, OrderStatus.PACKED)
    await fulfilment.ship_order(ops, paid.id, "SF", "SF1")
    sh = await level(world, "SH", "TEA")
    assert (sh.on_hand, sh.reserved) == (3, 0)
    kinds = await StockMovement.filter(order_id=paid.id).order_by("id").values_list("kind", flat=True)
    assert kinds == ["RESERVE", "SHIP"]
    types = await OrderEvent.filter(order_id=paid.id).order_by("id").values_list("type", flat=True)
    assert "stock.reserved" in types and "stock.consumed" in types
    await check_invariants(world.tenant.id)


async def test_a_parcel_of_several_skus_takes_its_stock_rows_last_and_back_to_back(world):
    """Shipping (and releasing) locks each line's stock row: nothing runs between one row's UPDATE and the next
    but that UPDATE, and nothing after the last but the low-stock check, so a hot row is held as briefly as can be."""
    await stock_up(world, {"TEA": {"SH": 5}, "CUP": {"SH": 5}, "PEN": {"SH": 5}})
    ops = world.actor()
    paid = await order(world, "A9", {"TEA": 1, "CUP": 2, "PEN": 1})
    await fulfilment.allocate_order(ops, paid.id, wh(world, "SH").id, "closest")
    await orders.transition_order(ops, paid.id, OrderStatus.PICKING)
    await orders.transition_order(ops, paid.id, OrderStatus.PACKED)
    with counted_statements() as statements:
        await fulfilment.ship_order(ops, paid.id, "SF", "SF9")
    texts = [" ".join(sql.split()) for sql, _ in statements]
    updates = [i for i, sql in enumerate(texts) if sql.startswith('UPDATE "stock"')]
    assert len(updates) == 3 and updates == list(range(updates[0], updates[0] + 3)), texts
    assert updates[-1] >= len(texts) - 2, texts[updates[-1]:]  # at most the low-stock look-up after them
    assert [(await level(world, "SH", sku)).on_hand for sku in ("TEA", "CUP", "PEN")] == [4, 3, 4]  # type: ignore[union-attr]
    assert await StockMovement.filter(order_id=paid.id, kind="SHIP").count() == 3
    await check_invariants(world.tenant.id)


async def test_allocation_without_stock_is_refused_and_changes_nothing(world):
    await stock_up(world, {"TEA": {"SH": 1}})
    paid = await order(world, "A2", {"TEA": 2})
    events_before = await OrderEvent.filter(order_id=paid.id).count()
    with pytest.raises(InsufficientStock) as refused:
        await fulfilment.allocate_order(world.actor(), paid.id, wh(world, "SH").id)
    assert "TEA: needs 2, 1 available" in refused.value.message
    assert (await level(world, "SH", "TEA")).reserved == 0
    assert await Reservation.all().count() == 0
    assert await OrderEvent.filter(order_id=paid.id).count() == events_before


async def test_cancel_releases(world):
    await stock_up(world, {"TEA": 4})
    await auto_policy(world)
    paid = await order(world, "A3", {"TEA": 3})
    assert paid.status == OrderStatus.ALLOCATED  # a policy allocates on payment
    await orders.cancel_order(world.actor(), paid.id, "buyer changed mind")
    assert (await level(world, "SH", "TEA")).reserved == 0
    assert await Reservation.filter(order_id=paid.id, status="RELEASED").count() == 1
    line = await OrderLine.get(order_id=paid.id)
    assert line.warehouse_id is None
    await check_invariants(world.tenant.id)


async def test_auto_allocation_failure_keeps_order_paid_with_one_alert(world):
    await stock_up(world, {"TEA": 1})
    await auto_policy(world)
    paid = await order(world, "A4", {"TEA": 5})
    assert paid.status == OrderStatus.PAID
    decision = await AllocationDecision.get(order_id=paid.id)
    assert decision.outcome == "FAILED" and "no warehouse has 5 of TEA" in decision.summary
    alerts = await Alert.filter(order_id=paid.id, kind="allocation_failed", cleared_at__isnull=True)
    assert len(alerts) == 1
    await stock.receive_stock(world.actor(), wh(world, "GZ").id, "TEA", 10)
    still_short = await order(world, "A4b", {"TEA": 50})
    run = await allocate.allocate_backorders(world.actor())
    assert (run.allocated, run.still_waiting) == (1, 1)
    allocated = await Order.get(id=paid.id)
    assert allocated.status == OrderStatus.ALLOCATED and allocated.warehouse_id == wh(world, "GZ").id
    assert await Alert.filter(order_id=paid.id, kind="allocation_failed", cleared_at__isnull=True).count() == 0
    assert (await Order.get(id=still_short.id)).status == OrderStatus.PAID
    await check_invariants(world.tenant.id)


async def test_force_release_puts_order_back_to_paid(world):
    await stock_up(world, {"TEA": 4})
    await auto_policy(world)
    paid = await order(world, "A5", {"TEA": 2})
    reservation = await Reservation.get(order_id=paid.id)
    with pytest.raises(ValidationFailed):
        await order_stock.force_release(world.actor(), reservation.id, "  ")
    with pytest.raises(Forbidden):
        await order_stock.force_release(world.actor(Role.AUDITOR), reservation.id, "why not")
    back = await order_stock.force_release(world.actor(), reservation.id, "damaged on the shelf")
    assert back.status == OrderStatus.PAID
    with pytest.raises(Conflict, match="nothing is reserved"):
        await order_stock.force_release(world.actor(), reservation.id, "again")
    with pytest.raises(NotFound):
        await order_stock.force_release(world.actor(), 999_999, "ghost")
    types = await OrderEvent.filter(order_id=paid.id).order_by("id").values_list("type", flat=True)
    assert types[-2:] == ["stock.force_released", "order.status_changed"]
    await check_invariants(world.tenant.id)


async def test_move_line_is_atomic(world):
    await stock_up(world, {"TEA": {"SH": 5, "GZ": 1}})
    await auto_policy(world)
    paid = await order(world, "A6", {"TEA": 2})
    line = await OrderLine.get(order_id=paid.id)
    with pytest.raises(InsufficientStock):
        await allocate.move_line(world.actor(), line.id, wh(world, "GZ").id, "closer")
    assert (await level(world, "SH", "TEA")).reserved == 2  # the old reservation survived the refusal
    await stock.receive_stock(world.actor(), wh(world, "GZ").id, "TEA", 5)
    moved = await allocate.move_line(world.actor(), line.id, wh(world, "GZ").id, "closer to the buyer")
    assert moved.warehouse_id == wh(world, "GZ").id
    assert ((await level(world, "SH", "TEA")).reserved, (await level(world, "GZ", "TEA")).reserved) == (0, 2)
    with pytest.raises(ValidationFailed):
        await allocate.move_line(world.actor(), line.id, wh(world, "GZ").id, "again")
    await check_invariants(world.tenant.id)


async def test_shipped_line_cannot_move_or_be_released(world):
    await stock_up(world, {"TEA": 5})
    await auto_policy(world)
    paid = await order(world, "A7", {"TEA": 1})
    ops = world.actor()
    await orders.transition_order(ops, paid.id, OrderStatus.PICKING)
    with pytest.raises(Conflict):
        await allocate.move_line(ops, (await OrderLine.get(order_id=paid.id)).id, wh(world, "GZ").id, "too late")
    await orders.transition_order(ops, paid.id, OrderStatus.PACKED)
    await fulfilment.ship_order(ops, paid.id, "SF", "SF7")
    line = await OrderLine.get(order_id=paid.id)
    with pytest.raises(Conflict, match="shipped"):
        await allocate.move_line(ops, line.id, wh(world, "GZ").id, "too late")
    reservation = await Reservation.get(order_id=paid.id)
    with pytest.raises(Conflict):
        await order_stock.force_release(ops, reservation.id, "too late")
    await check_invariants(world.tenant.id)


async def test_presale_reserves_converts_and_expires(world):
    await stock_up(world, {"TEA": 3})
    await auto_policy(world, presale_hold_hours=24)
    ops = world.actor()
    first = await order(world, "P1", {"TEA": 2}, deposit=True)
    assert first.status == OrderStatus.DEPOSIT_PAID
    presale = await Reservation.get(order_id=first.id)
    assert presale.kind == "PRESALE" and presale.expires_at is not None
    assert (await level(world, "SH", "TEA")).reserved == 2

    paid = await orders.transition_order(ops, first.id, OrderStatus.PAID, "balance paid")
    assert paid.status == OrderStatus.ALLOCATED
    converted = await Reservation.get(order_id=first.id)
    assert converted.kind == "ORDER" and converted.expires_at is None and converted.id == presale.id

    second = await order(world, "P2", {"TEA": 1}, deposit=True)
    assert await order_stock.expire_presale(ops, datetime.now(UTC)) == 0
    assert await order_stock.expire_presale(ops, datetime.now(UTC) + timedelta(hours=25)) == 1
    assert (await Reservation.get(order_id=second.id)).status == "RELEASED"
    assert await Alert.filter(order_id=second.id, kind="presale_balance_overdue").count() == 1
    assert (await level(world, "SH", "TEA")).reserved == 2
    await check_invariants(world.tenant.id)


async def test_return_goes_to_quarantine_until_inspected(world):
    await stock_up(world, {"TEA": 5})
    await auto_policy(world)
    ops = world.actor()
    paid = await order(world, "R1", {"TEA": 2})
    line = await OrderLine.get(order_id=paid.id)
    with pytest.raises(Conflict):
        await returns.return_to_quarantine(ops, line.id, 1, "return")
    for status in (OrderStatus.PICKING, OrderStatus.PACKED):
        await orders.transition_order(ops, paid.id, status)
    await fulfilment.ship_order(ops, paid.id, "SF", "SF9")
    await returns.return_to_quarantine(ops, line.id, 1, "customer return")
    with pytest.raises(ValidationFailed, match="at most 1 more"):
        await returns.return_to_quarantine(ops, line.id, 2, "customer return")
    sh = await level(world, "SH", "TEA")
    assert (sh.on_hand, sh.reserved) == (3, 0)  # quarantined units are not sellable
    with pytest.raises(InsufficientStock):
        await stock.inspect_quarantine(ops, wh(world, "SH").id, "TEA", accepted=2, scrapped=0)
    await stock.inspect_quarantine(ops, wh(world, "SH").id, "TEA", accepted=1, scrapped=0, reason="sealed")
    assert (await level(world, "SH", "TEA")).on_hand == 4
    await check_invariants(world.tenant.id)


async def test_refused_reservation_names_the_short_line_and_leaves_no_trace(world):
    """The building block every allocation uses: all lines or none, the refusal says which, no event id is spent."""
    await stock_up(world, {"TEA": {"SH": 5}, "COFFEE": {"SH": 1}})
    ops = world.actor()
    placed = await order(world, "R1", {"TEA": 2, "COFFEE": 3})
    lines = {line.sku: line for line in await OrderLine.filter(order_id=placed.id)}
    sh, gz = wh(world, "SH"), wh(world, "GZ")
    last_event = await OrderEvent.all().order_by("-id").first()

    with pytest.raises(InsufficientStock, match="only 1 of COFFEE available in SH, 3 wanted"):
        async with unit_of_work():
            locked = await lock_order(ops, placed.id)
            await reservations.reserve(ops, locked, [Claim(lines["TEA"], sh), Claim(lines["COFFEE"], sh)], reason="both")
    with pytest.raises(InsufficientStock, match="GZ does not stock TEA"):
        async with unit_of_work():
            locked = await lock_order(ops, placed.id)
            await reservations.reserve(ops, locked, [Claim(lines["TEA"], gz)], reason="wrong warehouse")

    assert ((await level(world, "SH", "TEA")).reserved, (await level(world, "SH", "COFFEE")).reserved) == (0, 0)
    assert await Reservation.all().count() == 0
    assert await StockMovement.filter(kind="RESERVE").count() == 0
    assert await OrderLine.filter(order_id=placed.id, warehouse_id__isnull=False).count() == 0

    async with unit_of_work():
        locked = await lock_order(ops, placed.id)
        await reservations.reserve(ops, locked, [Claim(lines["TEA"], sh)], reason="tea only")
    reserved = await OrderEvent.get(order_id=placed.id, type="stock.reserved")
    assert reserved.id == last_event.id + 1, "a refused reservation spent an event id: the outbox would wait on a gap"
    assert reserved.after["reservations"] == [{"line_id": lines["TEA"].id, "sku": "TEA", "quantity": 2, "warehouse": "SH"}]
    movement = await StockMovement.get(kind="RESERVE")
    assert (movement.line_id, movement.reserved_delta, movement.reason) == (lines["TEA"].id, 2, "tea only")
    assert (await OrderLine.get(id=lines["TEA"].id)).warehouse_id == sh.id
    await check_invariants(world.tenant.id)
