"""Hypothesis drives random stock histories; after every step the ledger and the levels must agree.

Steps: receive, adjust, create and allocate orders (by policy or at a warehouse),
move a line, force-release, ship, cancel, return into quarantine, inspect, count
sync. After each: ``reserved = sum of active reservations <= on_hand``, levels
equal the ledger's sums, on-hand matches a model kept by the test, and every
refusal was a typed ``DomainError`` that changed nothing.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from tortoise import Tortoise, connections
from tortoise.backends.base.executor import EXECUTOR_CACHE

from api.database import tortoise_config
from domain import orders
from domain.actor import Role
from domain.allocation import allocate, order_stock
from domain.allocation import policy as allocation_policy
from domain.errors import DomainError
from domain.orders import fulfilment
from domain.statuses import OrderStatus
from domain.stock import levels as stock
from domain.stock import returns
from models import Order, OrderLine, Reservation, Stock, StockMovement
from tests.conftest import make_world
from tests.stock_fixtures import check_invariants, order, place_warehouses, stock_up

SKUS = ["S1", "S2"]
CODES = ["SH", "GZ", "TJ"]
OPENING = 5  # units of each SKU in each warehouse when a history starts
T = TypeVar("T")


async def _fresh(url: str) -> Any:
    tables = [model._meta.db_table for model in Tortoise.apps.get_models_iterable()]
    conn = connections.get("default")
    if url.startswith("postgres"):
        await conn.execute_script("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
    else:
        await conn.execute_script("PRAGMA foreign_keys=OFF;" + "".join(f'DELETE FROM "{t}";' for t in tables) + "PRAGMA foreign_keys=ON;")
    world = await make_world("prop")
    await place_warehouses(world)
    await stock_up(world, {sku: OPENING for sku in SKUS})
    await allocation_policy.save_policy(world.actor(), {"strategy": "priority", "allow_split": True, "auto_allocate": False})
    return world


async def _snapshot() -> tuple:
    return (
        await Stock.all().order_by("id").values_list("id", "on_hand", "reserved"),
        await Reservation.all().order_by("id").values_list("id", "status", "warehouse_id"),
        await StockMovement.all().count(),
        await Order.all().order_by("id").values_list("id", "status"),
    )


class StockHistory(RuleBasedStateMachine):
    loop: asyncio.AbstractEventLoop
    url: str

    def __init__(self) -> None:
        super().__init__()
        self.world = self.run(_fresh(self.url))
        self.ops = self.world.actor(Role.OPS)
        self.warehouses = {w.code: w for w in self.world.warehouses}
        self.on_hand: dict[tuple[str, str], int] = defaultdict(lambda: OPENING)
        self.orders: list[int] = []
        self.refusals = 0

    def run(self, coro: Awaitable[T]) -> T:
        return self.loop.run_until_complete(coro)

    def attempt(self, coro: Awaitable[T]) -> T | None:
        """Run a use case; a refusal must be typed and must leave everything as it was."""
        before = self.run(_snapshot())
        try:
            return self.run(coro)
        except DomainError:
            self.refusals += 1
            assert self.run(_snapshot()) == before, "a refused use case changed something"
            return None

    def pick_order(self, data: st.DataObject, *statuses: OrderStatus) -> int | None:
        """Any order of this history, or one in the given statuses (so later steps are reached often)."""
        choices = self.orders
        if statuses:
            choices = self.run(Order.filter(id__in=self.orders, status__in=list(statuses)).order_by("id").values_list("id", flat=True))
        return data.draw(st.sampled_from(choices)) if choices else None

    @rule(code=st.sampled_from(CODES), sku=st.sampled_from(SKUS), quantity=st.integers(-1, 6))
    def receive(self, code: str, sku: str, quantity: int) -> None:
        if self.attempt(stock.receive_stock(self.ops, self.warehouses[code].id, sku, quantity)) is not None:
            self.on_hand[(code, sku)] += quantity

    @rule(code=st.sampled_from(CODES), sku=st.sampled_from(SKUS), delta=st.integers(-4, 2))
    def adjust(self, code: str, sku: str, delta: int) -> None:
        if self.attempt(stock.adjust_stock(self.ops, self.warehouses[code].id, sku, delta, "count")) is not None:
            self.on_hand[(code, sku)] += delta

    @rule(lines=st.dictionaries(st.sampled_from(SKUS), st.integers(1, 4), min_size=1), code=st.none() | st.sampled_from(CODES))
    def new_order(self, lines: dict[str, int], code: str | None) -> None:
        placed = self.run(order(self.world, f"H{len(self.orders)}", lines))
        self.orders.append(placed.id)
        warehouse_id = self.warehouses[code].id if code else None
        self.attempt(fulfilment.allocate_order(self.ops, placed.id, warehouse_id))

    @rule(data=st.data())
    def allocate_again(self, data: st.DataObject) -> None:
        order_id = self.pick_order(data)
        if order_id is not None:
            self.attempt(fulfilment.allocate_order(self.ops, order_id))

    @rule(data=st.data(), code=st.sampled_from(CODES))
    def move_line(self, data: st.DataObject, code: str) -> None:
        order_id = self.pick_order(data)
        if order_id is not None:
            line = self.run(OrderLine.filter(order_id=order_id).first())
            self.attempt(allocate.move_line(self.ops, line.id, self.warehouses[code].id, "rebalance"))

    @rule(data=st.data())
    def force_release(self, data: st.DataObject) -> None:
        order_id = self.pick_order(data)
        if order_id is not None:
            reservation = self.run(Reservation.filter(order_id=order_id).order_by("-id").first())
            if reservation is not None:
                self.attempt(order_stock.force_release(self.ops, reservation.id, "operator"))

    @rule(data=st.data())
    def ship(self, data: st.DataObject) -> None:
        order_id = self.pick_order(data, OrderStatus.ALLOCATED)
        if order_id is None:
            return
        for status in (OrderStatus.PICKING, OrderStatus.PACKED):
            if self.attempt(orders.transition_order(self.ops, order_id, status)) is None:
                return
        live = self.run(Reservation.filter(order_id=order_id, status="ACTIVE").prefetch_related("warehouse"))
        if self.attempt(fulfilment.ship_order(self.ops, order_id, "SF", f"SF{order_id}")) is not None:
            for reservation in live:
                self.on_hand[(reservation.warehouse.code, reservation.sku)] -= reservation.quantity

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        order_id = self.pick_order(data)
        if order_id is not None:
            self.attempt(orders.cancel_order(self.ops, order_id, "buyer cancelled"))

    @rule(data=st.data(), quantity=st.integers(0, 3))
    def return_item(self, data: st.DataObject, quantity: int) -> None:
        order_id = self.pick_order(data, OrderStatus.SHIPPED, OrderStatus.PARTIALLY_SHIPPED)
        if order_id is not None:
            line = self.run(OrderLine.filter(order_id=order_id).first())
            self.attempt(returns.return_to_quarantine(self.ops, line.id, quantity, "customer return"))

    @rule(code=st.sampled_from(CODES), sku=st.sampled_from(SKUS), accepted=st.integers(0, 2), scrapped=st.integers(0, 1))
    def inspect(self, code: str, sku: str, accepted: int, scrapped: int) -> None:
        done = self.attempt(stock.inspect_quarantine(self.ops, self.warehouses[code].id, sku, accepted=accepted, scrapped=scrapped))
        if done is not None:
            self.on_hand[(code, sku)] += accepted

    @rule(code=st.sampled_from(CODES), sku=st.sampled_from(SKUS), counted=st.integers(0, 8))
    def count(self, code: str, sku: str, counted: int) -> None:
        results = self.attempt(stock.sync_counts(self.ops, [stock.CountLine(self.warehouses[code].id, sku, counted)]))
        if results and results[0].outcome == "APPLIED":
            self.on_hand[(code, sku)] = counted

    @invariant()
    def ledger_and_levels_agree(self) -> None:
        levels = self.run(check_invariants(self.world.tenant.id))
        rows = self.run(Stock.filter(tenant_id=self.world.tenant.id).prefetch_related("warehouse"))
        assert len(levels) == len(rows)
        for row in rows:
            assert row.on_hand == self.on_hand[(row.warehouse.code, row.sku)], (row.warehouse.code, row.sku)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_random_stock_histories_keep_the_invariants(backend: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue(f"{backend}_url")
    loop = asyncio.new_event_loop()
    try:
        EXECUTOR_CACHE.clear()
        loop.run_until_complete(Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True))
        loop.run_until_complete(Tortoise.generate_schemas(safe=True))
        StockHistory.loop, StockHistory.url = loop, url
        run_state_machine_as_test(
            StockHistory,
            settings=settings(max_examples=35, stateful_step_count=20, deadline=None,
                              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]),
        )
    finally:
        loop.run_until_complete(Tortoise.close_connections())
        loop.close()
