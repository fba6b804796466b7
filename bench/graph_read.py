"""Read-path benchmark of the GraphQL API against a real uvicorn server and PostgreSQL.

    .venv/bin/python bench/graph_read.py [--orders 10000] [--scale 1.0]

Creates a throw-away database on the server of ``TEST_DATABASE_URL`` (default
postgres://postgres@127.0.0.1:5432/test), seeds it, serves the app with
``ordergraph serve`` (uvicorn, one worker, production mode) in a subprocess and
drives it with an httpx client. Prints one JSON object per figure per line:

    {"name": "page50_c1_p50", "value": 23.1, "unit": "ms"}

Scenarios: (a) ``page50`` -- a 50-order page with customer, channel, lines,
shipments with tracking and the last 5 events; (b) ``lineage`` -- one order
with its full lineage. Each at concurrency 1 and 16: p50/p99 latency, requests/s
and the server process's CPU time per request (``_server_cpu``; less sensitive
than latency to whatever else the machine runs -- ``loadavg_*`` says how busy
it was). Statement counts per request are taken in-process (same app, same
database, API-key cache warm) from the ``tortoise.db_client`` log. Baselines,
same run: graphql-core's bare ``execute`` of the first page's data in memory
(the executor floor), taken in turns with served requests of that same page
(``interleaved_floor``), gives ``page50_vs_graphql_core`` (p50 over p50; issue
20's target: at most 1.5) and ``page50_cpu_vs_graphql_core`` (CPU over CPU);
the page's SQL replayed over one raw asyncpg connection gives
``page50_baseline_raw_sql_p50``.
The server runs with the background jobs that would otherwise spend the run
catching up on the seeded history switched off (``QUIET``).
Runs in about 1-1.5 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from graphql import build_schema as build_sdl_schema
from graphql import execute, parse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench_keys  # noqa: E402
from tortoise import Tortoise, connections  # noqa: E402

from api.app import create_app  # noqa: E402
from api.database import tortoise_config  # noqa: E402
from api.settings import Settings  # noqa: E402
from domain.actor import Role  # noqa: E402
from domain.tenants.accounts import create_api_key, create_tenant  # noqa: E402
from models import (  # noqa: E402
    Channel,
    Customer,
    Order,
    OrderEvent,
    OrderLine,
    OrderTag,
    Payment,
    Shipment,
    TrackingEvent,
    Warehouse,
)
from resolvers import ids  # noqa: E402
from schema import build_schema  # noqa: E402
from tests.statement_log import counted_statements  # noqa: E402

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/test"

PAGE = """
query Page($after: String) {
  orders(first: 50, after: $after) {
    edges { cursor node {
      id number status totalAmount currency createdAt
      channel { code }
      customer { name }
      lines { sku title quantity unitPrice }
      shipments { carrier trackingNo status trackingEvents { status occurredAt } }
      events(last: 5) { type actor createdAt }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

LINEAGE = """
query Lineage($id: ID!) {
  order(id: $id) {
    id number status placedAt
    events { eventId type actor source reason before after payloadRef createdAt }
  }
}
"""


def emit(name: str, value: float, unit: str, **extra: Any) -> None:
    """Print one figure as a JSON line."""
    print(json.dumps({"name": name, "value": round(value, 2), "unit": unit, **extra}, ensure_ascii=False), flush=True)


# --- database ---------------------------------------------------------------------------------


async def _admin(server_url: str, sql: str) -> None:
    conn = await asyncpg.connect(server_url, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def create_database(server_url: str) -> tuple[str, str]:
    """A fresh database next to ``server_url``'s; returns (name, url)."""
    name = f"og_bench_{uuid.uuid4().hex[:10]}"
    await _admin(server_url, f'CREATE DATABASE "{name}"')
    return name, server_url.rsplit("/", 1)[0] + "/" + name


async def drop_database(server_url: str, name: str) -> None:
    await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def seed(order_count: int, rng: random.Random) -> tuple[str, list[int]]:
    """Seed one tenant; return an admin API key and the order ids.

    Orders, lines, payments, shipments, tracking and lineage rows are written
    with ``bulk_create``: this is fixture data for a read benchmark, not a write
    path, and going through the domain use cases would take minutes.
    """
    tenant = await create_tenant("bench", "Bench Tea")
    _, key = await create_api_key("bench", Role.ADMIN, "bench", owner="bench")
    channels = [
        await Channel.create(tenant_id=tenant.id, code=code, kind=kind, name=code)
        for code, kind in (("tmall", "taobao"), ("douyin", "douyin"))
    ]
    warehouses = [
        await Warehouse.create(tenant_id=tenant.id, code=code, name=code, province=city, city=city)
        for code, city in (("SH", "上海"), ("GZ", "广州"), ("TJ", "天津"))
    ]
    await Customer.bulk_create(
        [
            Customer(id=n, tenant_id=tenant.id, name=f"客户{n}", phone=f"138{n:08d}", email=f"c{n}@example.com")
            for n in range(1, 2001)
        ]
    )
    start = datetime.now(UTC) - timedelta(days=60)
    orders, lines, payments, tags, shipments, scans, events = [], [], [], [], [], [], []
    for oid in range(1, order_count + 1):
        created = start + timedelta(seconds=oid * 500)
        warehouse = rng.choice(warehouses).id
        line_rows = [
            OrderLine(order_id=oid, sku=f"TEA-{rng.randint(1, 50):02d}", title="西湖龙井·特级", quantity=rng.randint(1, 3),
                      unit_price=Decimal(rng.choice(["88.00", "158.00", "268.00"])), warehouse_id=warehouse)
            for _ in range(rng.randint(2, 3))
        ]
        total = sum((line.unit_price * line.quantity for line in line_rows), Decimal("0"))
        lines += line_rows
        orders.append(
            Order(id=oid, tenant_id=tenant.id, channel_id=rng.choice(channels).id, external_id=str(10**17 + oid),
                  customer_id=rng.randint(1, 2000), warehouse_id=warehouse, status="SHIPPED", hold_reasons=[],
                  currency="CNY", total_amount=total, ship_name="王芳", ship_phone="13800001234", ship_province="浙江",
                  ship_city="杭州", ship_district="西湖区", ship_address=f"文三路{oid % 999}号", placed_at=created,
                  created_at=created)
        )
        payments.append(Payment(order_id=oid, gateway="alipay", reference=str(oid), amount=total, status="PAID", paid_at=created))
        if oid % 3 == 0:
            tags.append(OrderTag(order_id=oid, tag="vip"))
        scanned = [created + timedelta(hours=24 + n * 8) for n in range(rng.randint(1, 2))]
        shipments.append(Shipment(id=oid, order_id=oid, warehouse_id=warehouse, carrier="SF", tracking_no=f"SF{oid:012d}",
                                  status="IN_TRANSIT", shipped_at=created + timedelta(hours=20), last_scan_at=scanned[-1]))
        steps = [("order.created", None, "PAID"), ("order.allocated", "PAID", "ALLOCATED"),
                 ("order.status_changed", "ALLOCATED", "PICKING"), ("order.status_changed", "PICKING", "PACKED"),
                 ("order.shipped", "PACKED", "SHIPPED")]
        for n, (kind, before, after) in enumerate(steps):
            events.append(_event(tenant.id, oid, kind, before, after, warehouse, created + timedelta(hours=n * 5)))
        for status, at in zip(("PICKED_UP", "IN_TRANSIT"), scanned, strict=False):
            scans.append(TrackingEvent(shipment_id=oid, status=status, raw_code=status[:2], description="快件已揽收",
                                       location="杭州", occurred_at=at, source="kdniao"))
            events.append(OrderEvent(tenant_id=tenant.id, order_id=oid, type="shipment.tracking", actor="kdniao", source="carrier",
                                     reason="快件已揽收", before={"shipment_id": oid}, after={"shipment_id": oid, "status": status},
                                     created_at=at))
    for model, rows in ((Order, orders), (OrderLine, lines), (Payment, payments), (OrderTag, tags),
                        (Shipment, shipments), (TrackingEvent, scans), (OrderEvent, events)):
        await model.bulk_create(rows, batch_size=5000)
    conn = connections.get("default")
    for table in ("customer", "orders", "shipment"):  # explicit ids above: move the sequences past them
        await conn.execute_script(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    await conn.execute_script("ANALYZE")
    return key, list(range(1, order_count + 1))


def _event(tenant_id: int, order_id: int, kind: str, before: str | None, after: str, warehouse: int, at: datetime) -> OrderEvent:
    state = lambda status: {"status": status, "hold_reasons": [], "warehouse_id": None if status == "PAID" else warehouse}  # noqa: E731
    return OrderEvent(tenant_id=tenant_id, order_id=order_id, type=kind, actor="key:og_ops", source="graphql", reason="",
                      before=state(before) if before else None, after=state(after), created_at=at)


# --- statement counting and baselines ------------------------------------------------------------

def bench_settings(db_url: str) -> Settings:
    """Production settings with the benchmark's keys for the app run in-process, background catch-up off (``QUIET``)."""
    return Settings(database_url=db_url, env="production", phone_hash_key=bench_keys.PHONE_KEY,
                    data_keys=(bench_keys.DATA_KEY,), audit_signing_key=bench_keys.AUDIT_KEY, audit_enabled=False,
                    tracking_round_seconds=0, maintenance_interval_seconds=0, poll_seconds=0, drift_check_seconds=0)


async def in_process_statements(db_url: str, key: str, bodies: dict[str, dict[str, Any]]) -> dict[str, list[tuple[str, list[Any]]]]:
    """Statements per request of each body, through the same app in-process (key cache warm)."""
    app = create_app(bench_settings(db_url), manage_database=False)
    found = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=30) as http:
            headers = {"authorization": f"Bearer {key}"}
            for name, body in bodies.items():
                (await http.post("/graphql", json=body, headers=headers)).raise_for_status()  # warm the key cache
                with counted_statements() as statements:
                    response = await http.post("/graphql", json=body, headers=headers)
                assert response.status_code == 200 and "errors" not in response.json(), response.text[:500]
                found[name] = list(statements)
    return found


async def interleaved_floor(
    client: httpx.AsyncClient, key: str, server_pid: int, body: dict[str, Any], data: dict[str, Any], rounds: int
) -> None:
    """The served page next to graphql-core's bare ``execute`` of its data, taken in turns so both see the same load.

    Each round: 4 requests of ``body`` at concurrency 1, then 2 bare executions of the
    same document over the data they answered. Prints ``page50_vs_graphql_core``
    (p50 over p50) and the same ratio of CPU time (server CPU per request over this
    process's CPU per execution): on a machine shared with other work, latency ratios
    move with the load and CPU ratios much less.
    """
    schema = build_sdl_schema(str(build_schema(production=True)))
    document = parse(PAGE)
    headers = {"authorization": f"Bearer {key}"}
    served, bare, served_cpu, bare_cpu = [], [], 0.0, 0.0
    for _ in range(rounds):
        cpu = cpu_seconds(server_pid)
        for _ in range(4):
            started = time.perf_counter()
            response = await client.post("/graphql", json=body, headers=headers)
            served.append(time.perf_counter() - started)
            assert response.status_code == 200 and b'"errors"' not in response.content, response.text[:300]
        served_cpu += cpu_seconds(server_pid) - cpu
        for _ in range(2):
            started, cpu = time.perf_counter(), time.process_time()
            result = execute(schema, document, root_value=data, variable_values=body["variables"])
            bare.append(time.perf_counter() - started)
            bare_cpu += time.process_time() - cpu
            assert not result.errors and result.data == data, result.errors
    page, floor = statistics.median(served) * 1000, statistics.median(bare) * 1000
    emit("page50_first_c1_p50", page, "ms")
    emit("page50_baseline_graphql_core_execute_p50", floor, "ms")
    emit("page50_vs_graphql_core", page / floor, "ratio", target=1.5)
    emit("page50_cpu_vs_graphql_core", (served_cpu / len(served)) / (bare_cpu / len(bare)), "ratio",
         server_cpu_ms=round(served_cpu / len(served) * 1000, 2), graphql_core_cpu_ms=round(bare_cpu / len(bare) * 1000, 2))


async def sql_floor(db_url: str, statements: list[tuple[str, list[Any]]], runs: int) -> float:
    """p50 ms of the given statements run one after another on one raw asyncpg connection."""
    conn = await asyncpg.connect(db_url)
    timings = []
    try:
        for _ in range(runs):
            started = time.perf_counter()
            for sql, values in statements:
                await conn.fetch(sql, *values)
            timings.append(time.perf_counter() - started)
    finally:
        await conn.close()
    return statistics.median(timings) * 1000


def leaves(value: Any) -> int:
    """How many scalar values a GraphQL response holds."""
    if isinstance(value, dict):
        return sum(leaves(v) for v in value.values())
    if isinstance(value, list):
        return sum(leaves(v) for v in value)
    return 1


# --- serving and load ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


#: Background work that would spend the run catching up on the seeded history (sealing ~66,000 lineage rows
#: into the Merkle log, stall checks of 10,000 parcels that stopped 60 days ago): off, the figures are the read path.
QUIET = {"ORDERGRAPH_AUDIT": "0", "ORDERGRAPH_TRACKING_ROUND_SECONDS": "0", "ORDERGRAPH_MAINTENANCE_SECONDS": "0",
         "ORDERGRAPH_POLL_SECONDS": "0", "ORDERGRAPH_DRIFT_CHECK_SECONDS": "0", "ORDERGRAPH_WMS_SWEEP_SECONDS": "0"}


def start_server(db_url: str, port: int) -> subprocess.Popen[bytes]:
    """``ordergraph serve`` (uvicorn, 1 worker) in production mode, background catch-up off (``QUIET``)."""
    env = {**os.environ, "DATABASE_URL": db_url, "ORDERGRAPH_ENV": "production", "PORT": str(port), "LOG_LEVEL": "WARNING",
           **bench_keys.ENV, **QUIET}
    command = [sys.executable, "-c", "from api.cli import main; main()", "serve", "--workers", "1"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def wait_healthy(client: httpx.AsyncClient, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited with {server.returncode}")
        try:
            if (await client.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("server did not become healthy in 30 s")


async def load(
    client: httpx.AsyncClient, key: str, body: Callable[[int], dict[str, Any]], total: int, concurrency: int
) -> tuple[list[float], float]:
    """Send ``total`` requests from ``concurrency`` workers; return latencies (s) and wall time (s)."""
    headers = {"authorization": f"Bearer {key}"}
    latencies: list[float] = []
    counter = itertools.count()

    async def worker() -> None:
        while (n := next(counter)) < total:
            started = time.perf_counter()
            response = await client.post("/graphql", json=body(n), headers=headers)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200 or b'"errors"' in response.content:
                raise RuntimeError(f"bad response {response.status_code}: {response.text[:300]}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, time.perf_counter() - started


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(
    prefix: str, client: httpx.AsyncClient, key: str, body: Callable[[int], dict[str, Any]], total: int, concurrency: int, server_pid: int
) -> float:
    """Run one scenario; emit p50/p99/req/s and the server's CPU per request; return p50 in ms."""
    cpu = cpu_seconds(server_pid)
    latencies, wall = await load(client, key, body, total, concurrency)
    cpu = cpu_seconds(server_pid) - cpu
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    p50 = statistics.median(latencies) * 1000
    emit(f"{prefix}_p50", p50, "ms")
    emit(f"{prefix}_p99", cuts[98] * 1000, "ms")
    emit(f"{prefix}_rps", len(latencies) / wall, "req/s")
    emit(f"{prefix}_server_cpu", cpu / len(latencies) * 1000, "ms/req")
    return p50


# --- main ----------------------------------------------------------------------------------------


async def bench(server_url: str, order_count: int, scale: float) -> None:
    rng = random.Random(42)
    bench_keys.use()
    emit("loadavg_1m_start", os.getloadavg()[0], "load")
    name, db_url = await create_database(server_url)
    server: subprocess.Popen[bytes] | None = None
    try:
        await Tortoise.init(config=tortoise_config(db_url), _enable_global_fallback=True)
        await Tortoise.generate_schemas()
        started = time.perf_counter()
        key, order_ids = await seed(order_count, rng)
        emit("seed_orders", order_count, "orders", seconds=round(time.perf_counter() - started, 1))

        port = free_port()
        server = start_server(db_url, port)
        limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=httpx.Timeout(30), limits=limits) as client:
            await wait_healthy(client, server)
            # The first 20 pages' cursors: page requests walk them in turn.
            cursors: list[str | None] = [None]
            headers = {"authorization": f"Bearer {key}"}
            for _ in range(19):
                page = (await client.post("/graphql", json={"query": PAGE, "variables": {"after": cursors[-1]}}, headers=headers)).json()
                cursors.append(page["data"]["orders"]["pageInfo"]["endCursor"])
            order_gids = [ids.encode("Order", pk) for pk in order_ids]
            page_body = lambda n: {"query": PAGE, "variables": {"after": cursors[n % len(cursors)]}}  # noqa: E731
            lineage_body = lambda n: {"query": LINEAGE, "variables": {"id": order_gids[(n * 7919) % len(order_gids)]}}  # noqa: E731
            await load(client, key, page_body, 40, 4)  # warm-up
            await load(client, key, lineage_body, 100, 4)

            await measure("page50_c1", client, key, page_body, int(300 * scale), 1, server.pid)
            await measure("page50_c16", client, key, page_body, int(640 * scale), 16, server.pid)
            lineage_p50 = await measure("lineage_c1", client, key, lineage_body, int(600 * scale), 1, server.pid)
            await measure("lineage_c16", client, key, lineage_body, int(1600 * scale), 16, server.pid)
            first_page = {"query": PAGE, "variables": {"after": None}}
            data = (await client.post("/graphql", json=first_page, headers=headers)).json()["data"]
            emit("page50_values", leaves(data), "values")
            await interleaved_floor(client, key, server.pid, first_page, data, max(10, int(40 * scale)))

        server.terminate()
        server.wait(10)
        server = None
        lineage = {"query": LINEAGE, "variables": {"id": order_gids[1234 % len(order_gids)]}}
        statements = await in_process_statements(db_url, key, {"page50": first_page, "lineage": lineage})
        emit("page50_statements", len(statements["page50"]), "statements")
        emit("lineage_statements", len(statements["lineage"]), "statements")

        page_sql = await sql_floor(db_url, statements["page50"], 30)
        emit("page50_baseline_raw_sql_p50", page_sql, "ms")
        lineage_sql = await sql_floor(db_url, statements["lineage"], 50)
        emit("lineage_baseline_raw_sql_p50", lineage_sql, "ms", ratio=round(lineage_p50 / lineage_sql, 2))
        emit("loadavg_1m_end", os.getloadavg()[0], "load")
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        await Tortoise.close_connections()
        await drop_database(server_url, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the request counts")
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    asyncio.run(bench(os.environ.get("TEST_DATABASE_URL") or DEFAULT_SERVER, args.orders, args.scale))


if __name__ == "__main__":
    main()
