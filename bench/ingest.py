"""Intake throughput: signed webhooks through a real uvicorn server, and a 100,000-row CSV import.

    .venv/bin/python bench/ingest.py [--orders 3000] [--rows 100000] [--only webhook|import] [--backend sqlite|postgres]

Webhooks: a throw-away database (a SQLite file, and a fresh database on the
server of ``BENCH_DATABASE_URL`` / ``TEST_DATABASE_URL``, default
postgres://postgres@127.0.0.1:5432/test) built with ``generate_schemas``; one
uvicorn worker in a subprocess (``api.main:app_from_env``); an httpx client at
concurrency 16 posting Shopify ``orders/create`` webhooks (3 lines each,
HMAC-signed, every one a new order) to ``/hooks/{tenant}/{channel}``. Figures:
orders/s over the timed run (after a warm-up), p50 and p99 latency.

Import: a generated CSV of ``--rows`` rows (orders of 1-3 lines, one line per
row, clear phone numbers so customers are matched) imported into a fresh
PostgreSQL database with ``domain.intake.bulk_import.import_file`` (batches of 1000 rows
per transaction): total seconds and rows/s.

Prints one JSON object per figure per line: ``{"name", "value", "unit"}``.

Measured on the 2-core dev machine (PostgreSQL 15 on the same host, the
client in this process, other work quiet):

    webhook orders/s      sqlite 213   postgres 339   (target >= 300 on PostgreSQL)
    webhook p50 / p99 ms  sqlite 77 / 124   postgres 46 / 106
    100,000-row CSV       36.8 s, 2,715 rows/s (49,970 orders; target < 60 s); re-run of the same file 0.4 s

The server is CPU-bound in Python (one core). Per new order it makes eight
round trips: BEGIN, payload + delivery id, the order lookup FOR UPDATE, the
customer, the order, its lines/tags/payment/channel state/lineage row in one
statement, the allocation policy lookup, COMMIT. With other benchmarks running
on the same machine the PostgreSQL figure drops to 200-300.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tortoise import Tortoise  # noqa: E402
from tortoise.backends.base.executor import EXECUTOR_CACHE  # noqa: E402

from api.database import tortoise_config  # noqa: E402

SECRET = "shpss_bench_secret_0123456789abcdef"
CONCURRENCY = 16
PG_BASE = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/test"


def figure(name: str, value: float, unit: str) -> None:
    print(json.dumps({"name": name, "value": round(value, 2), "unit": unit}), flush=True)


# ------------------------------------------------------------------ databases


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_BASE, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def fresh_database(backend: str, folder: Path) -> str:
    if backend == "sqlite":
        return f"sqlite://{folder / 'bench.sqlite3'}"
    name = f"og_bench_{uuid.uuid4().hex[:8]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    return PG_BASE.rsplit("/", 1)[0] + "/" + name


async def drop_database(url: str) -> None:
    await Tortoise.close_connections()
    if url.startswith("postgres"):
        await _pg_admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


async def prepare(url: str, *, generic_mapping: dict[str, str] | None = None) -> None:
    """Schema, a tenant, a Shopify channel (and a CSV channel with its status table)."""
    from adapters.channels import generic
    from domain.actor import Actor, Role
    from domain.inbound import status_mapping
    from domain.intake import sources as intake_sources
    from domain.tenants.accounts import create_tenant

    EXECUTOR_CACHE.clear()  # SQL is cached per connection name, and the dialect changes between runs
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
    await Tortoise.generate_schemas()
    tenant = await create_tenant("bench", "Bench")
    actor = Actor(tenant_id=tenant.id, role=Role.ADMIN, name="bench", source="bench")
    await intake_sources.register_channel(actor, "shop", "shopify", "Shop", secret=SECRET, mapping=None,
                                          check=generic.check_mapping)
    if generic_mapping:
        await intake_sources.register_channel(actor, "csv", "generic", "CSV", secret=None, mapping=generic_mapping,
                                              check=generic.check_mapping)
        await status_mapping.save(actor, "csvshop", {"PAID": {"order": "PAID", "payment": "PAID"}})


# ------------------------------------------------------------------ webhooks


def shopify_order(n: int) -> bytes:
    base = 7_000_000_000_000_000_000 + n
    lines = [{
        "id": base * 10 + i, "sku": f"SKU-{(n + i) % 50:03d}", "quantity": 1 + i, "price": f"{19 + i}.90",
        "title": f"Item {i}", "name": f"Item {i}", "fulfillment_status": None,
    } for i in range(3)]
    total = sum((19 + i + 0.9) * (1 + i) for i in range(3))
    order = {
        "id": base, "name": f"#{n}", "currency": "USD", "financial_status": "paid", "fulfillment_status": None,
        "created_at": "2024-03-01T10:15:30-05:00", "processed_at": "2024-03-01T10:15:31-05:00",
        "updated_at": "2024-03-01T10:16:00-05:00", "total_price": f"{total:.2f}", "total_outstanding": "0.00",
        "gateway": "shopify_payments", "payment_gateway_names": ["shopify_payments"], "tags": "bench",
        "customer": {"id": 1000 + n % 500, "first_name": "Ada", "last_name": f"L{n % 500}",
                     "phone": f"+1415555{n % 500:04d}"},
        "shipping_address": {"name": f"Ada L{n % 500}", "address1": "1 Analytical Way", "city": "Brooklyn",
                             "province": "New York", "zip": "11201", "country_code": "US",
                             "phone": f"+1415555{n % 500:04d}"},
        "line_items": lines,
    }
    return json.dumps(order).encode()


def signed_headers(body: bytes) -> dict[str, str]:
    digest = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    return {"content-type": "application/json", "x-shopify-hmac-sha256": digest,
            "x-shopify-webhook-id": str(uuid.uuid4()), "x-shopify-topic": "orders/create"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": url, "ORDERGRAPH_MAINTENANCE_SECONDS": "0", "LOG_LEVEL": "WARNING"}
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "api.main:app_from_env", "--host", "127.0.0.1",
         "--port", str(port), "--workers", "1", "--log-level", "warning", "--no-access-log"],
        cwd=ROOT, env=env,
    )


async def wait_healthy(base: str, process: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(timeout=2) as client:
        for _ in range(200):
            if process.poll() is not None:
                raise RuntimeError("the server exited")
            try:
                if (await client.get(f"{base}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the server did not come up")


async def blast(base: str, requests: list[tuple[bytes, dict[str, str]]]) -> tuple[float, list[float], int]:
    """Post everything at concurrency 16; wall seconds, per-request latencies, non-200 count."""
    queue: asyncio.Queue[tuple[bytes, dict[str, str]]] = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:

        async def worker() -> None:
            nonlocal failures
            while not queue.empty():
                body, headers = queue.get_nowait()
                started = time.perf_counter()
                response = await client.post("/hooks/bench/shop", content=body, headers=headers)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200 or response.json().get("status") != "created":
                    failures += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return time.perf_counter() - started, latencies, failures


async def bench_webhooks(backend: str, orders: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = await fresh_database(backend, Path(folder))
        try:
            await prepare(url)
            await Tortoise.close_connections()
            port = free_port()
            server = start_server(url, port)
            base = f"http://127.0.0.1:{port}"
            try:
                await wait_healthy(base, server)
                warmup = [(shopify_order(n), None) for n in range(100)]
                timed = [(shopify_order(n), None) for n in range(100, 100 + orders)]
                warm = [(body, signed_headers(body)) for body, _ in warmup]
                run = [(body, signed_headers(body)) for body, _ in timed]
                await blast(base, warm)
                seconds, latencies, failures = await blast(base, run)
            finally:
                server.terminate()
                server.wait(timeout=20)
            if failures:
                raise RuntimeError(f"{failures} webhooks did not create an order")
            latencies.sort()
            figure(f"webhook_orders_per_s_{backend}", orders / seconds, "orders/s")
            figure(f"webhook_p50_latency_{backend}", statistics.median(latencies) * 1000, "ms")
            figure(f"webhook_p99_latency_{backend}", latencies[int(len(latencies) * 0.99) - 1] * 1000, "ms")
        finally:
            await drop_database(url)


# ------------------------------------------------------------------ import

CSV_MAPPING = {
    "source": "csvshop", "external_id": "order_id", "status": "status", "lines": "rows", "line.sku": "sku",
    "line.quantity": "qty", "line.unit_price": "price", "line.title": "title", "total_amount": "total",
    "currency": "'CNY'", "updated_at": "updated_at", "placed_at": "placed_at", "customer_name": "buyer",
    "customer_phone": "phone", "address.province": "province", "address.city": "city", "address.address": "address",
    "time_format": "china",
}


def make_csv(rows: int) -> tuple[bytes, int]:
    rng = random.Random(11)
    out = ["order_id,status,sku,qty,price,title,total,updated_at,placed_at,buyer,phone,province,city,address"]
    written = orders = 0
    while written < rows:
        orders += 1
        count = min(rng.randint(1, 3), rows - written)
        items = [(f"SKU-{rng.randint(0, 499):03d}", rng.randint(1, 3), rng.choice(["19.90", "45.00", "99.50"])) for _ in range(count)]
        total = sum(float(price) * qty for _, qty, price in items)
        phone = f"139{rng.randint(0, 20000):08d}"
        for sku, qty, price in items:
            out.append(f"IMP{orders:07d},PAID,{sku},{qty},{price},商品 {sku},{total:.2f},2024-03-01 12:00:00,"
                       f"2024-03-01 11:00:00,顾客{orders % 997},{phone},浙江,杭州,文三路 {orders} 号")
        written += count
    return ("\n".join(out) + "\n").encode(), orders


async def bench_import(rows: int) -> None:
    from adapters.formats import FORMATS
    from domain.actor import Actor, Role
    from domain.intake.bulk_import import import_file
    from models import Order, OrderEvent, Tenant

    data, orders = make_csv(rows)
    with tempfile.TemporaryDirectory() as folder:
        url = await fresh_database("postgres", Path(folder))
        try:
            await prepare(url, generic_mapping=CSV_MAPPING)
            tenant = await Tenant.get(slug="bench")
            actor = Actor(tenant_id=tenant.id, role=Role.ADMIN, name="bench", source="bench")
            started = time.perf_counter()
            run = await import_file(actor, "csv", "bench.csv", data, files=FORMATS.files, batch_size=1000)
            seconds = time.perf_counter() - started
            assert run.status == "done" and run.rows_failed == 0, (run.status, run.rows_failed, run.message)
            assert await Order.all().count() == orders == run.orders_created
            assert await OrderEvent.filter(type="order.created").count() == orders
            figure("import_csv_rows", rows, "rows")
            figure("import_csv_orders", orders, "orders")
            figure("import_csv_seconds_postgres", seconds, "s")
            figure("import_csv_rows_per_s_postgres", rows / seconds, "rows/s")
            again = time.perf_counter()
            await import_file(actor, "csv", "bench.csv", data, files=FORMATS.files, batch_size=1000)
            figure("import_csv_rerun_seconds_postgres", time.perf_counter() - again, "s")
        finally:
            await Tortoise.close_connections()
            await drop_database(url)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--only", choices=["webhook", "import"])
    parser.add_argument("--backend", choices=["sqlite", "postgres"])
    args = parser.parse_args()
    if args.only in (None, "webhook"):
        for backend in [args.backend] if args.backend else ["sqlite", "postgres"]:
            await bench_webhooks(backend, args.orders)
    if args.only in (None, "import"):
        await bench_import(args.rows)


if __name__ == "__main__":
    asyncio.run(main())
