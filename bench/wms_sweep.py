"""Confirmation sweep benchmark: what one bounded round costs the leader against a Qimen WMS.

    .venv/bin/python bench/wms_sweep.py [--orders 500] [--latency-ms 20]

Creates a throw-away PostgreSQL database on the server of ``TEST_DATABASE_URL``
(default postgres://postgres@127.0.0.1:5432/test), runs the simulated Qimen
WMS behind a real uvicorn server in this process, pushes ``--orders``
allocated orders to it (one delivery order each, accepted an hour ago), and
times sweep rounds (``domain.federation.confirmation_sweep``, its defaults:
500 per round, 100 codes per call). Qimen's ``deliveryorder.query`` names one
order per request, so a round of 500 is 500 HTTP requests, 8 at a time, each
answered in ``--latency-ms``. Prints one JSON object per figure per line:

- ``wms_sweep_round_waiting_s``: a round where every delivery order is still
  being picked (the steady cost of a backlog: all asked, nothing changes);
- ``wms_sweep_round_recovered_s`` and ``wms_sweep_recovered``: a round after
  the WMS shipped them all and every callback was lost (each order shipped
  through the one write path with its lineage);
- ``wms_sweep_round_idle_ms``: the next round, with nothing left to ask.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from adapters.systems import SYSTEMS  # noqa: E402
from adapters.wms.simulator import Profile, WmsSimulator, account_config  # noqa: E402
from domain.actor import Actor, Role  # noqa: E402
from domain.catalog import setup as catalog  # noqa: E402
from domain.federation.confirmation_sweep import ConfirmationSweep  # noqa: E402
from domain.federation.connections import link_warehouse, save_connection  # noqa: E402
from domain.federation.delivery_push import PushPolicy  # noqa: E402
from domain.statuses import OrderStatus  # noqa: E402
from domain.stock import levels as stock  # noqa: E402
from domain.tenants.accounts import create_tenant  # noqa: E402
from federation import SKU, allocate_and_queue, emit, paid_orders, push_all, served, throwaway_database  # noqa: E402
from models import DeliveryOrder, Order  # noqa: E402


async def run(orders: int, latency_ms: int) -> None:
    async with throwaway_database("og_bench_sweep"):
        await bench(orders, latency_ms)


async def bench(count: int, latency_ms: int) -> None:
    logging.getLogger("tortoise").setLevel(logging.WARNING)
    tenant = await create_tenant("bench", "Bench Tea")
    admin = Actor(tenant_id=tenant.id, role=Role.ADMIN, name="bench admin", source="bench")
    ops = Actor(tenant_id=tenant.id, role=Role.OPS, name="bench ops", source="bench")
    channel = await catalog.create_channel(tenant.id, "tmall", "taobao", "Tmall")
    sh = await catalog.create_warehouse(tenant.id, "SH", "SH", province="上海", city="上海")
    await catalog.upsert_sku(tenant.id, SKU, SKU)
    await stock.receive_stock(ops, sh.id, SKU, count + 10)
    wms = WmsSimulator(seed=1)
    wms.set_stock("SH01", SKU, count + 10)
    async with served(wms.app) as wms_url:
        await save_connection(admin, "wms-sh", "wms", "qimen", config=account_config(wms_url, query_concurrency=8),
                              systems=SYSTEMS)
        await link_warehouse(admin, sh.id, wms="wms-sh", wms_warehouse_code="SH01")
        order_ids = await paid_orders(ops, channel.id, count, "SWEEP")
        await allocate_and_queue(ops, order_ids, sh.id, tenant.id)
        await push_all(order_ids, PushPolicy(concurrency=16), time.monotonic() + 300)
        await DeliveryOrder.filter(order_id__in=order_ids).update(pushed_at=datetime.now(UTC) - timedelta(hours=1))
        wms.profile = Profile(latency_ms=latency_ms)
        sweep = ConfirmationSweep(SYSTEMS)

        started = time.perf_counter()
        [waiting] = await sweep.round()
        emit("wms_sweep_round_waiting_s", time.perf_counter() - started, "s", asked=waiting.asked,
             latency_ms=latency_ms)

        for code in list(wms.orders):
            await wms.ship(code)  # no callback URL: every confirmation is lost
        started = time.perf_counter()
        [recovered] = await sweep.round()
        emit("wms_sweep_round_recovered_s", time.perf_counter() - started, "s", asked=recovered.asked,
             latency_ms=latency_ms)
        shipped = await Order.filter(id__in=order_ids, status=OrderStatus.SHIPPED).count()
        emit("wms_sweep_recovered", shipped, "orders", of=count)

        started = time.perf_counter()
        await sweep.round()
        emit("wms_sweep_round_idle_ms", (time.perf_counter() - started) * 1000, "ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--latency-ms", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(run(args.orders, args.latency_ms))


if __name__ == "__main__":
    main()
