"""Reservation throughput on PostgreSQL, next to the bare conditional UPDATE on the same tables.

    .venv/bin/python bench/reserve.py [--ops 1000] [--hot 4] [--rounds 3] [--levels 1,16,64]

Creates a throw-away database on the server of ``TEST_DATABASE_URL`` (default
postgres://postgres@127.0.0.1:5432/test) with ``generate_schemas``, stocks a
few hot SKUs in 3 warehouses, and at concurrency 1, 16 and 64 measures:

- ``bare``: ``UPDATE stock SET reserved = reserved + 1 WHERE id = $1 AND
  on_hand - reserved >= 1`` in autocommit over an asyncpg pool, the floor;
- ``rows_sql``: the statement our path sends (``reservation_statement``: the
  UPDATE plus the reservation, ledger, line and lineage rows), alone in
  autocommit over an asyncpg pool: no ORM, no transaction, no order lock. The
  ceiling for any path that writes the rows the issue asks for;
- ``reserve``: our reservation path as a use case runs it: a transaction, the
  order locked, that statement, the low-stock check, commit;
- ``allocate``: the whole ``allocateOrder`` use case at a given warehouse:
  the group lock, planning from a snapshot, the reservation statement, the
  stored decision and the order's move to ALLOCATED with its lineage (six
  statements, ``domain/allocation/one_trip.py``; measured once per level).

The machine is shared and a bare UPDATE's rate swings by 2x from one second to
the next, so ``bare``, ``rows_sql`` and ``reserve`` run in ``--rounds``
interleaved rounds and each figure is the median. Prints one JSON object per
figure per line, ``{"name", "value", "unit"}``, and the ratios (unit ``ratio``).

Measured on the 2-core dev machine (PostgreSQL 15 on the same host): see the
README's table.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tortoise import Tortoise  # noqa: E402

from api.database import tortoise_config  # noqa: E402
from domain import orders  # noqa: E402
from domain.actor import Actor, Role  # noqa: E402
from domain.catalog import setup as catalog
from domain.order_writes import lock_order  # noqa: E402
from domain.orders import fulfilment
from domain.orders.create import NewLine, NewOrder, NewPayment  # noqa: E402
from domain.stock import levels as stock
from domain.stock import reservation_statement
from domain.stock.reservations import Claim, reserve  # noqa: E402
from domain.tenants.accounts import create_tenant  # noqa: E402
from domain.unit_of_work import unit_of_work  # noqa: E402
from models import OrderLine, Stock, Warehouse  # noqa: E402

LEVELS = (1, 16, 64)
ON_HAND = 10_000_000


def emit(name: str, value: float, unit: str) -> None:
    print(json.dumps({"name": name, "value": round(value, 3), "unit": unit}), flush=True)


async def admin(base: str, sql: str) -> None:
    conn = await asyncpg.connect(base, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def connect(url: str, pool: int) -> None:
    await Tortoise.init(config=tortoise_config(f"{url}?minsize=1&maxsize={pool}"), _enable_global_fallback=True)


async def setup(url: str, hot: int) -> tuple[Actor, int, list[Warehouse], list[str]]:
    await connect(url, 4)
    await Tortoise.generate_schemas()
    tenant = await create_tenant("bench", "Bench")
    actor = Actor(tenant_id=tenant.id, role=Role.OPS, name="bench", source="bench")
    channel = await catalog.create_channel(tenant.id, "shop", "generic", "Shop")
    warehouses = [await catalog.create_warehouse(tenant.id, code, code) for code in ("SH", "GZ", "TJ")]
    skus = [f"HOT-{n}" for n in range(hot)]
    for sku in skus:
        await catalog.upsert_sku(tenant.id, sku, sku)
        for warehouse in warehouses:
            await stock.receive_stock(actor, warehouse.id, sku, ON_HAND, safety=5)
    return actor, channel.id, warehouses, skus


async def make_orders(actor: Actor, channel_id: int, skus: list[str], count: int, tag: str) -> list[tuple[int, str]]:
    """Paid one-line orders to reserve (outside the timing)."""
    made = []
    for n in range(count):
        sku = skus[n % len(skus)]
        order = await orders.create_order(
            actor,
            NewOrder(channel_id=channel_id, external_id=f"{tag}-{n}", lines=[NewLine(sku=sku, quantity=1, unit_price=Decimal("1"))],
                     payment=NewPayment(gateway="bench", amount=Decimal("1"))),
        )
        made.append((order.id, sku))
    return made


async def timed(concurrency: int, jobs: list[Callable[[], Awaitable[None]]]) -> float:
    """Run the jobs with ``concurrency`` workers; operations per second."""
    queue = iter(jobs)

    async def worker() -> None:
        for job in queue:
            await job()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(jobs) / (time.perf_counter() - started)


async def bare(url: str, stock_ids: list[int], concurrency: int, ops: int) -> float:
    pool = await asyncpg.create_pool(url, min_size=concurrency, max_size=concurrency)
    sql = 'UPDATE "stock" SET "reserved" = "reserved" + $2 WHERE "id" = $1 AND "on_hand" - "reserved" >= $2'
    try:
        async def one(stock_id: int) -> None:
            async with pool.acquire() as conn:
                assert await conn.execute(sql, stock_id, 1) == "UPDATE 1"

        return await timed(concurrency, [partial(one, s) for s in itertools.islice(itertools.cycle(stock_ids), ops)])
    finally:
        await pool.close()


async def rows_sql(url: str, tenant_id: int, made: list[tuple[int, str]], warehouses: list[Warehouse], concurrency: int) -> float:
    """``reservation_statement``'s SQL alone, straight on the driver: the best any path writing these rows can do."""
    pool = await asyncpg.create_pool(url, min_size=concurrency, max_size=concurrency)
    async with pool.acquire() as conn:
        lines = {r["order_id"]: r["id"] for r in await conn.fetch('SELECT "id", "order_id" FROM "order_line"')}

    async def one(order_id: int, sku: str, warehouse: Warehouse) -> None:
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                reservation_statement.SQL, [lines[order_id]], [warehouse.id], [sku], [1], datetime.now(UTC),
                tenant_id, order_id, "ORDER", None, "bench", "bench", "bench", "{}",
            )
            assert rows[0]["on_hand"] is not None

    try:
        return await timed(concurrency, [partial(one, o, sku, w) for (o, sku), w in zip(made, itertools.cycle(warehouses))])
    finally:
        await pool.close()


async def ours_reserve(actor: Actor, warehouses: list[Warehouse], made: list[tuple[int, str]], concurrency: int) -> float:
    lines = {line.order_id: line for line in await OrderLine.filter(order_id__in=[o for o, _ in made])}  # type: ignore[attr-defined]

    async def one(order_id: int, warehouse: Warehouse) -> None:
        async with unit_of_work():
            order = await lock_order(actor, order_id)
            await reserve(actor, order, [Claim(lines[order_id], warehouse)], reason="bench")

    return await timed(concurrency, [partial(one, o, w) for (o, _), w in zip(made, itertools.cycle(warehouses))])


async def ours_allocate(actor: Actor, warehouses: list[Warehouse], made: list[tuple[int, str]], concurrency: int) -> float:
    return await timed(
        concurrency,
        [partial(fulfilment.allocate_order, actor, o, w.id, "bench") for (o, _), w in zip(made, itertools.cycle(warehouses))],
    )


async def main(ops: int, hot: int, rounds: int, levels: tuple[int, ...] = LEVELS) -> None:
    base = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    name = f"og_bench_{uuid.uuid4().hex[:10]}"
    await admin(base, f'CREATE DATABASE "{name}"')
    url = base.rsplit("/", 1)[0] + "/" + name
    try:
        actor, channel_id, warehouses, skus = await setup(url, hot)
        stock_ids = list(await Stock.all().order_by("id").values_list("id", flat=True))
        plans: dict[int, tuple[int, list, list, list]] = {}
        for level in levels:
            count = ops if level > 1 else max(ops // 4, 100)
            plans[level] = (
                count,
                [await make_orders(actor, channel_id, skus, count, f"R{level}-{n}") for n in range(rounds)],
                [await make_orders(actor, channel_id, skus, count, f"S{level}-{n}") for n in range(rounds)],
                await make_orders(actor, channel_id, skus, count, f"A{level}"),
            )
        await Tortoise.close_connections()
        for level in levels:
            count, for_reserve, for_sql, for_allocate = plans[level]
            figures: dict[str, list[float]] = {"bare_update": [], "rows_sql": [], "reserve": []}
            for n in range(rounds):
                figures["bare_update"].append(await bare(url, stock_ids, level, count))
                figures["rows_sql"].append(await rows_sql(url, actor.tenant_id, for_sql[n], warehouses, level))
                await connect(url, level + 2)
                figures["reserve"].append(await ours_reserve(actor, warehouses, for_reserve[n], level))
                await Tortoise.close_connections()
            await connect(url, level + 2)
            allocated = await ours_allocate(actor, warehouses, for_allocate, level)
            await Tortoise.close_connections()
            median = {key: statistics.median(values) for key, values in figures.items()}
            for key, value in median.items():
                emit(f"{key}_c{level}", value, "ops/s")
            emit(f"allocate_c{level}", allocated, "ops/s")
            emit(f"reserve_vs_bare_c{level}", median["reserve"] / median["bare_update"], "ratio")
            emit(f"rows_sql_vs_bare_c{level}", median["rows_sql"] / median["bare_update"], "ratio")
            emit(f"reserve_vs_rows_sql_c{level}", median["reserve"] / median["rows_sql"], "ratio")
            emit(f"allocate_vs_bare_c{level}", allocated / median["bare_update"], "ratio")
        await check(url)
    finally:
        await Tortoise.close_connections()
        await admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def check(url: str) -> None:
    """The bench must not have broken what it measures: reserved equals the reservations plus the bare runs' units."""
    conn = await asyncpg.connect(url)
    try:
        bad = await conn.fetchval('SELECT count(*) FROM "stock" WHERE "reserved" > "on_hand" OR "reserved" < 0')
        assert bad == 0, "oversold"
    finally:
        await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ops", type=int, default=1000, help="reservations per run at concurrency 16 and 64")
    parser.add_argument("--hot", type=int, default=4, help="hot SKUs (each in 3 warehouses)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per concurrency (figures are medians)")
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)), help="concurrency levels, comma-separated")
    args = parser.parse_args()
    asyncio.run(main(args.ops, args.hot, args.rounds, tuple(int(level) for level in args.levels.split(","))))
