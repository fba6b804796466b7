"""WMS outage on the board: how long from the outage's start to the alert, and from its end to the alert cleared.

    .venv/bin/python bench/system_alerts.py [--outage-s 60] [--order-every-s 2]

Creates a throw-away PostgreSQL database on the server of ``TEST_DATABASE_URL``
(default postgres://postgres@127.0.0.1:5432/test) and runs the simulated
Qimen WMS behind a real uvicorn server in this process, with the leader's
delivery pusher as it runs in production: the default push policy (backoff
5 s, 30 s, 2 min …, a probe of a failing WMS every 5 s) and the adapters'
default circuit breaker (open for 30 s after 5 failures). Orders keep
arriving every ``--order-every-s``; the WMS answers HTTP 503 for
``--outage-s``. Prints one JSON object per figure per line:

- ``wms_outage_detect_s``: from the outage's start to the open
  ``system.unreachable`` alert (target < 60 s);
- ``wms_outage_clear_s``: from the outage's end to the alert resolved by
  ``system:auto`` (target < 60 s);
- ``wms_outage_catch_up_s``: from the outage's end to every delivery order
  queued meanwhile being in the WMS, each created there once
  (``wms_outage_duplicates``, target 0).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from adapters.systems import SYSTEMS  # noqa: E402
from adapters.wms.simulator import Outage, Profile, WmsSimulator, account_config  # noqa: E402
from domain.actor import Actor, Role  # noqa: E402
from domain.alerts.kinds import AlertKind  # noqa: E402
from domain.catalog import setup as catalog  # noqa: E402
from domain.federation.connections import link_warehouse, save_connection  # noqa: E402
from domain.federation.delivery_push import DeliveryPusher, PushPolicy  # noqa: E402
from domain.stock import levels as stock  # noqa: E402
from domain.tenants.accounts import create_tenant  # noqa: E402
from federation import SKU, allocate_and_queue, emit, paid_orders, served, throwaway_database  # noqa: E402
from models import Alert, DeliveryOrder  # noqa: E402


async def run(outage_s: float, every_s: float) -> None:
    async with throwaway_database("og_bench_outage"):
        await bench(outage_s, every_s)


async def _until(check: Callable[[], Awaitable[bool]], timeout: float) -> float:
    """Seconds until ``check()`` is true (polled every 50 ms); ``TimeoutError`` after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if await check():
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    raise TimeoutError(f"not within {timeout:g} s")


async def bench(outage_s: float, every_s: float) -> None:
    logging.getLogger("tortoise").setLevel(logging.WARNING)
    tenant = await create_tenant("bench", "Bench Tea")
    admin = Actor(tenant_id=tenant.id, role=Role.ADMIN, name="bench admin", source="bench")
    ops = Actor(tenant_id=tenant.id, role=Role.OPS, name="bench ops", source="bench")
    channel = await catalog.create_channel(tenant.id, "tmall", "taobao", "Tmall")
    sh = await catalog.create_warehouse(tenant.id, "SH", "SH", province="上海", city="上海")
    await catalog.upsert_sku(tenant.id, SKU, SKU)
    await stock.receive_stock(ops, sh.id, SKU, 10_000)
    wms = WmsSimulator(seed=1)
    wms.set_stock("SH01", SKU, 10_000)
    async with served(wms.app) as wms_url:
        await save_connection(admin, "wms-sh", "wms", "qimen", config=account_config(wms_url), systems=SYSTEMS)
        await link_warehouse(admin, sh.id, wms="wms-sh", wms_warehouse_code="SH01")
        pusher = asyncio.create_task(DeliveryPusher(SYSTEMS, PushPolicy()).run())
        made = 0

        async def arrive() -> None:
            nonlocal made
            while True:
                order_ids = await paid_orders(ops, channel.id, 1, f"OUT{made:05d}-")
                await allocate_and_queue(ops, order_ids, sh.id, tenant.id)
                made += 1
                await asyncio.sleep(every_s)

        orders = asyncio.create_task(arrive())
        try:
            await asyncio.sleep(3 * every_s)
            start = datetime.now(UTC)
            wms.profile = Profile(outages=(Outage(start, start + timedelta(seconds=outage_s)),))

            async def raised() -> bool:
                return await Alert.filter(kind=AlertKind.SYSTEM_UNREACHABLE, cleared_at__isnull=True).exists()

            detect = await _until(raised, outage_s)
            emit("wms_outage_detect_s", detect, "s", outage_s=outage_s, order_every_s=every_s)
            await asyncio.sleep(max(0.0, (start + timedelta(seconds=outage_s) - datetime.now(UTC)).total_seconds()))
            orders.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await orders
            ended = time.monotonic()

            async def cleared() -> bool:
                return not await raised()

            emit("wms_outage_clear_s", await _until(cleared, 300), "s")

            async def caught_up() -> bool:
                return not await DeliveryOrder.exclude(status="pushed").exists()

            await _until(caught_up, 300)
            emit("wms_outage_catch_up_s", time.monotonic() - ended, "s", orders=made)
            emit("wms_outage_duplicates", sum(n - 1 for n in wms.created.values() if n > 1), "orders")
        finally:
            for task in (orders, pusher):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--outage-s", type=float, default=60.0)
    parser.add_argument("--order-every-s", type=float, default=2.0)
    args = parser.parse_args()
    asyncio.run(run(args.outage_s, args.order_every_s))


if __name__ == "__main__":
    main()
