"""Federation benchmark: diagnosis latency, the federated page's adapter calls and cost, WMS push throughput.

    .venv/bin/python bench/federation.py [--iterations 100] [--push-orders 500]

Creates a throw-away PostgreSQL database on the server of ``TEST_DATABASE_URL``
(default postgres://postgres@127.0.0.1:5432/test), runs the simulated Qimen WMS
and Kingdee ERP and the OrderGraph app each behind a real uvicorn server in
this process, and drives the app with an httpx client over TCP. Prints one
JSON object per figure per line: ``{"name": ..., "value": ..., "unit": ...}``.

- ``diagnosis_p50`` / ``diagnosis_p99``: ``order.diagnosis`` of one allocated,
  pushed order with both simulators answering in 50 ms (ERP query, WMS
  delivery query and WMS stock query run at once: the target is p50 <= 80 ms);
- ``federated_page_adapter_calls``: adapter (port) calls per system for a
  50-order page asking ``erp`` and ``wms`` (target 1; the most of any system),
  with the per-system figures and the HTTP requests they took (Qimen's
  ``deliveryorder.query`` names one order per request, so the WMS adapter
  sends 50, eight at a time);
- ``federated_page_p50`` and ``federated_page_plain_p50`` (the same page
  without the federated fields) and their ``federated_page_ratio``; the cache
  is off so every page asks both systems;
- ``wms_push_orders_per_s``, ``wms_push_lost``, ``wms_push_duplicated``:
  ``--push-orders`` allocated orders pushed by the delivery pusher to a WMS
  that fails 2% of requests (1% refused with HTTP 500, 1% done but answered
  500 so the pusher must retry by the same code), latency 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import socket
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvicorn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tortoise import Tortoise  # noqa: E402

from adapters import system_http  # noqa: E402
from adapters.erp.sim_books import Line  # noqa: E402
from adapters.erp.sim_faults import Profile as ErpProfile  # noqa: E402
from adapters.erp.simulator import ErpSimulator, kingdee_config  # noqa: E402
from adapters.systems import SYSTEMS  # noqa: E402
from adapters.wms.simulator import Profile as WmsProfile  # noqa: E402
from adapters.wms.simulator import WmsSimulator, account_config  # noqa: E402
from api.app import create_app  # noqa: E402
from api.database import tortoise_config  # noqa: E402
from api.settings import Settings  # noqa: E402
from domain.actor import Actor, Role  # noqa: E402
from domain.catalog import setup as catalog  # noqa: E402
from domain.federation import delivery_orders  # noqa: E402
from domain.federation.connections import link_warehouse, save_connection  # noqa: E402
from domain.federation.delivery_push import DeliveryPusher, PushPolicy  # noqa: E402
from domain.orders import fulfilment  # noqa: E402
from domain.orders.create import NewAddress, NewLine, NewOrder, NewPayment, create_order  # noqa: E402
from domain.stock import levels as stock  # noqa: E402
from domain.tenants.accounts import create_api_key, create_tenant  # noqa: E402
from domain.unit_of_work import unit_of_work  # noqa: E402
import bench_keys  # noqa: E402
from models import DeliveryOrder  # noqa: E402
from models.order import order_no  # noqa: E402
from resolvers import ids  # noqa: E402

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/test"
SKU = "TEA-001"

PAGE_FEDERATED = "{ orders(first: 50) { nodes { number status erp { status shippedQuantity } wms { code status } } } }"
PAGE_PLAIN = "{ orders(first: 50) { nodes { number status } } }"
DIAGNOSIS = "query($id: ID!) { order(id: $id) { diagnosis { verdict discrepancies { code } unreachable { system } } } }"


def emit(name: str, value: float | None, unit: str, **extra: Any) -> None:
    print(json.dumps({"name": name, "value": None if value is None else round(value, 2), "unit": unit, **extra},
                     ensure_ascii=False), flush=True)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.asynccontextmanager
async def served(app: Any) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=15)


class CountingSystems:
    """The real adapters, counting port calls per connection and method (the HTTP still goes to the simulators)."""

    def __init__(self) -> None:
        self.calls: dict[tuple[str, str], int] = {}

    def _wrap(self, port: Any, kind: str) -> Any:
        calls = self.calls

        class Counted:
            def __getattr__(self, name: str) -> Any:
                attribute = getattr(port, name)
                if not callable(attribute) or name.startswith("_"):
                    return attribute

                def call(*args: Any, **kwargs: Any) -> Any:
                    calls[(kind, name)] = calls.get((kind, name), 0) + 1
                    return attribute(*args, **kwargs)

                return call

        return Counted()

    def wms(self, adapter: str, config: Mapping[str, Any], *, key: str) -> Any:
        return self._wrap(SYSTEMS.wms(adapter, config, key=key), "wms")

    def erp(self, adapter: str, config: Mapping[str, Any], *, key: str) -> Any:
        return self._wrap(SYSTEMS.erp(adapter, config, key=key), "erp")

    def check(self, kind: str, adapter: str, config: Mapping[str, Any]) -> None:
        SYSTEMS.check(kind, adapter, config)


async def _admin(server_url: str, sql: str) -> None:
    conn = await asyncpg.connect(server_url, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def paid_orders(actor: Actor, channel_id: int, count: int, prefix: str) -> list[int]:
    found = []
    for n in range(count):
        order = await create_order(actor, NewOrder(
            channel_id=channel_id, external_id=f"{prefix}{n:06d}",
            lines=[NewLine(sku=SKU, quantity=1, unit_price=Decimal("100.00"))],
            address=NewAddress(name="王芳", phone="13800001234", province="上海", city="上海", district="浦东新区",
                               address="世纪大道 1 号"),
            payment=NewPayment(gateway="alipay", amount=Decimal("100.00"))))
        found.append(order.id)
    return found


async def allocate_and_queue(actor: Actor, order_ids: list[int], warehouse_id: int, tenant_id: int) -> None:
    for order_id in order_ids:
        await fulfilment.allocate_order(actor, order_id, warehouse_id, "bench")
        async with unit_of_work():
            await delivery_orders.queue_for_order(order_id, tenant_id, None)


async def push_all(order_ids: list[int], policy: PushPolicy, deadline: float) -> None:
    pusher = DeliveryPusher(SYSTEMS, policy)
    while time.monotonic() < deadline:
        await pusher.drain()
        left = await DeliveryOrder.filter(order_id__in=order_ids).exclude(status="pushed").count()
        if not left:
            return
        await asyncio.sleep(0.05)


async def run(iterations: int, push_orders: int) -> None:
    async with throwaway_database("og_bench_fed") as url:
        await bench(url, iterations, push_orders)


@contextlib.asynccontextmanager
async def throwaway_database(prefix: str) -> AsyncIterator[str]:
    """A fresh database beside ``TEST_DATABASE_URL``'s with the schema, connected; dropped afterwards."""
    server = os.environ.get("TEST_DATABASE_URL") or DEFAULT_SERVER
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    await _admin(server, f'CREATE DATABASE "{name}"')
    url = server.rsplit("/", 1)[0] + "/" + name
    try:
        await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
        await Tortoise.generate_schemas(safe=True)
        yield url
    finally:
        await system_http.aclose()
        await Tortoise.close_connections()
        await _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def bench(url: str, iterations: int, push_orders: int) -> None:
    settings = Settings(database_url=url, env="production", federation_cache_seconds=0, federation_budget_seconds=5,
                        drift_check_seconds=0, maintenance_interval_seconds=0, key_cache_seconds=60,
                        tracking_secret="bench-tracking-secret-0123456789", phone_hash_key=bench_keys.PHONE_KEY,
                        data_keys=(bench_keys.DATA_KEY,))
    settings.apply_secrets()  # connection configs are sealed with the key the app will open them with
    tenant = await create_tenant("bench", "Bench Tea")
    _, key = await create_api_key("bench", Role.OPS, "bench", owner="bench")
    admin = Actor(tenant_id=tenant.id, role=Role.ADMIN, name="bench admin", source="bench")
    ops = Actor(tenant_id=tenant.id, role=Role.OPS, name="bench ops", source="bench")
    channel = await catalog.create_channel(tenant.id, "tmall", "taobao", "Tmall")
    sh = await catalog.create_warehouse(tenant.id, "SH", "SH", province="上海", city="上海")
    await catalog.upsert_sku(tenant.id, SKU, SKU)
    total = 51 + push_orders + 10
    await stock.receive_stock(ops, sh.id, SKU, total)
    wms, erp = WmsSimulator(seed=1), ErpSimulator(seed=1)
    wms.set_stock("SH01", SKU, total)
    erp.set_stock("CK001", {SKU: total})
    async with served(wms.app) as wms_url, served(erp.app) as erp_url:
        await save_connection(admin, "wms-sh", "wms", "qimen", config=account_config(wms_url, query_concurrency=8),
                              systems=SYSTEMS)
        await save_connection(admin, "erp", "erp", "kingdee", config=kingdee_config(erp_url), systems=SYSTEMS)
        await link_warehouse(admin, sh.id, wms="wms-sh", wms_warehouse_code="SH01", erp_warehouse_code="CK001")

        page_orders = await paid_orders(ops, channel.id, 50, "PAGE")
        await allocate_and_queue(ops, page_orders, sh.id, tenant.id)
        await push_all(page_orders, PushPolicy(concurrency=16), time.monotonic() + 120)
        for order_id in page_orders:
            erp.books.add_order("CUST-0001", [Line(SKU, 1, Decimal("100.00"), "CK001")], bill_no=order_no(order_id))

        app = create_app(settings, manage_database=False)
        for noisy in ("httpx", "tortoise", "ordergraph"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        counting = CountingSystems()
        async with served(app) as base:
            app.state.federation.systems = counting
            headers = {"authorization": f"Bearer {key}"}
            async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
                async def ask(query: str, variables: dict[str, Any] | None = None) -> float:
                    started = time.perf_counter()
                    response = await http.post("/graphql", json={"query": query, "variables": variables or {}})
                    elapsed = (time.perf_counter() - started) * 1000
                    body = response.json()
                    if response.status_code != 200 or body.get("errors"):
                        raise RuntimeError(f"query failed: {str(body)[:500]}")
                    return elapsed

                wms.profile = WmsProfile(latency_ms=50)
                erp.profile = ErpProfile(latency_ms=50)
                one = {"id": ids.encode("Order", page_orders[0])}
                for _ in range(5):
                    await ask(DIAGNOSIS, one)                     # warm: ERP session, caches, connections
                times = [await ask(DIAGNOSIS, one) for _ in range(iterations)]
                emit("diagnosis_p50", statistics.median(times), "ms", target=80, latency_each_ms=50)
                emit("diagnosis_p99", percentile(times, 0.99), "ms", latency_each_ms=50)

                counting.calls.clear()
                wms.calls.clear()
                erp.calls.clear()
                await ask(PAGE_FEDERATED)
                per_system = {kind: sum(n for (k, _), n in counting.calls.items() if k == kind) for kind in ("erp", "wms")}
                emit("federated_page_adapter_calls", max(per_system.values()), "calls/system/request", target=1)
                emit("federated_page_adapter_calls_erp", per_system["erp"], "calls/request")
                emit("federated_page_adapter_calls_wms", per_system["wms"], "calls/request")
                emit("federated_page_http_requests_erp", erp.calls.get("query:SAL_SaleOrder", 0), "requests/request")
                emit("federated_page_http_requests_wms", wms.calls.get("deliveryorder.query", 0), "requests/request",
                     note="Qimen deliveryorder.query names one order per request")
                for _ in range(3):
                    await ask(PAGE_FEDERATED)
                    await ask(PAGE_PLAIN)
                federated = [await ask(PAGE_FEDERATED) for _ in range(max(10, iterations // 5))]
                plain = [await ask(PAGE_PLAIN) for _ in range(max(10, iterations // 5))]
                emit("federated_page_p50", statistics.median(federated), "ms", latency_each_ms=50, orders=50)
                emit("federated_page_plain_p50", statistics.median(plain), "ms", orders=50)
                emit("federated_page_ratio", statistics.median(federated) / statistics.median(plain), "x")

        if push_orders:
            await bench_push(ops, channel.id, sh.id, tenant.id, wms, push_orders)


async def bench_push(ops: Actor, channel_id: int, warehouse_id: int, tenant_id: int, wms: WmsSimulator, count: int) -> None:
    order_ids = await paid_orders(ops, channel_id, count, "PUSH")
    await allocate_and_queue(ops, order_ids, warehouse_id, tenant_id)
    wms.profile = WmsProfile(latency_ms=20, error_rate=0.01, lost_answer_rate=0.01)
    wms.calls.clear()
    policy = PushPolicy(concurrency=16, delays=(0.05, 0.1, 0.2, 0.4, 0.8), max_attempts=10)
    started = time.perf_counter()
    await push_all(order_ids, policy, time.monotonic() + 300)
    elapsed = time.perf_counter() - started
    rows = await DeliveryOrder.filter(order_id__in=order_ids).values_list("code", "status")
    ours = {code for code, _ in rows}
    pushed = sum(1 for _, status in rows if status == "pushed")
    in_wms = {code for code in wms.orders if code in ours}
    lost = len(ours - in_wms) + (len(order_ids) - len(ours))
    numbers = {order_no(order_id) for order_id in order_ids}
    per_order: dict[str, int] = {}
    for code in wms.orders:                    # every delivery order the WMS holds for one of ours
        number = code.split("-", 1)[0]
        if number in numbers:
            per_order[number] = per_order.get(number, 0) + 1
    duplicated = sum(n - 1 for n in per_order.values() if n > 1) + sum(max(wms.created[code] - 1, 0) for code in ours)
    injected = wms.calls.get("injected_errors", 0) + wms.calls.get("lost_answers", 0)
    emit("wms_push_orders_per_s", pushed / elapsed if elapsed else 0.0, "orders/s", orders=count, pushed=pushed,
         injected_failures=injected, latency_ms=20)
    emit("wms_push_lost", lost, "orders")
    emit("wms_push_duplicated", duplicated, "orders")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--push-orders", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(run(args.iterations, args.push_orders))


if __name__ == "__main__":
    main()
