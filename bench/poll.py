"""The second path: paid → visible with pushes and with polling only, and a 100,000-order Taobao back-fill.

    .venv/bin/python bench/poll.py [--orders 100000] [--latency-orders 60] [--poll-seconds 60] [--only latency|backfill]

Everything runs on a throw-away PostgreSQL database (``BENCH_DATABASE_URL`` /
``TEST_DATABASE_URL``, default postgres://postgres@127.0.0.1:5432/test),
against the simulated Taobao shop of ``adapters.channels.sim`` over HTTP.

Latency: one OrderGraph worker in a subprocess (the leader polls every
``--poll-seconds``); the shop, in this process, places ``--latency-orders``
paid orders spread over one poll interval. With pushes, each TMC message
reaches the hook and the trade is fetched with ``taobao.trade.fullinfo.get``;
with every push dropped, only the poller finds them. "Visible" is the order
row's commit as seen by a reader polling the database every 50 ms; "paid" is
the moment the shop placed the order. Figures: p95 seconds
(``paid_to_visible_push_p95_s``, ``paid_to_visible_poll_p95_s``; targets
≤ 10 s and ≤ interval + 5 s).

Back-fill: the shop runs in its own process (``ordergraph sim channel``) with
``--orders`` paid orders over the last hour; this process runs
``poll_channel`` over that hour (concurrency 16): orders/s, and the orders
missing or duplicated against the shop's truth (target ≥ 300 orders/s, 0, 0).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.federation import free_port, served  # noqa: E402
from bench.ingest import drop_database, fresh_database, wait_healthy  # noqa: E402
from tortoise import Tortoise  # noqa: E402
from tortoise.backends.base.executor import EXECUTOR_CACHE  # noqa: E402

from adapters.channels.api import http as channel_api_http  # noqa: E402
from adapters.channels.sim import taobao as taobao_sim  # noqa: E402
from adapters.channels.sim.core import Faults, Platform  # noqa: E402
from adapters.formats import FORMATS  # noqa: E402
from api.database import tortoise_config  # noqa: E402
from domain.actor import Actor, Role  # noqa: E402
from domain.intake import sources as intake_sources  # noqa: E402
from domain.polling.poll import poll_channel  # noqa: E402
from domain.tenants.accounts import create_tenant  # noqa: E402

SECRET = "whsec_YmVuY2gtcG9sbC1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZg=="
CONCURRENCY = int(os.environ.get("BENCH_POLL_CONCURRENCY", "16"))


def figure(name: str, value: float, unit: str) -> None:
    print(json.dumps({"name": name, "value": round(value, 3), "unit": unit}), flush=True)


async def prepare(url: str, api_config: dict[str, object]) -> int:
    """Schema, a tenant and a Taobao channel with its API account; the channel's id."""
    from adapters.channels import generic

    EXECUTOR_CACHE.clear()
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
    await Tortoise.generate_schemas()
    tenant = await create_tenant("bench", "Bench")
    actor = Actor(tenant_id=tenant.id, role=Role.ADMIN, name="bench", source="bench")
    channel = await intake_sources.register_channel(actor, "tb", "taobao", "Taobao", secret=SECRET, mapping=None,
                                                    check=generic.check_mapping)
    channel.config = {**(channel.config or {}), "api": api_config}
    await channel.save(update_fields=["config"])
    return channel.id


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


# ------------------------------------------------------------------ latency


async def visible_times(url: str, total: int, deadline: float) -> dict[str, float]:
    """Wall time at which each order id was first seen committed, until ``total`` were seen or the deadline."""
    seen: dict[str, float] = {}
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://"))
    try:
        while len(seen) < total and time.time() < deadline:
            rows = await conn.fetch("SELECT external_id FROM orders")
            now = time.time()
            for row in rows:
                seen.setdefault(row["external_id"], now)
            await asyncio.sleep(0.05)
    finally:
        await conn.close()
    return seen


async def latency(name: str, count: int, poll_seconds: float, faults: Faults) -> None:
    url = await fresh_database("postgres", Path(tempfile.mkdtemp()))
    platform = Platform(taobao_sim.protocol(), faults=faults, push_secret=SECRET)
    process = None
    try:
        async with served(platform.app()) as sim_url:
            await prepare(url, taobao_sim.account_config(sim_url))
            await Tortoise.close_connections()
            port = free_port()
            env = {**os.environ, "DATABASE_URL": url, "ORDERGRAPH_MAINTENANCE_SECONDS": "0", "LOG_LEVEL": "WARNING",
                   "ORDERGRAPH_POLL_SECONDS": str(poll_seconds), "ORDERGRAPH_DEMO_SIMULATORS": "0"}
            process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--factory", "api.main:app_from_env", "--host", "127.0.0.1",
                 "--port", str(port), "--workers", "1", "--log-level", "warning", "--no-access-log"], cwd=ROOT, env=env)
            await wait_healthy(f"http://127.0.0.1:{port}", process)
            platform.push_url = f"http://127.0.0.1:{port}/hooks/bench/tb"
            await asyncio.sleep(2)  # the leader's first round (nothing to read yet)
            paid: dict[str, float] = {}
            spacing = poll_seconds / count

            async def place_all() -> None:
                for _ in range(count):
                    paid[platform.place().external_id] = time.time()
                    await asyncio.sleep(spacing)

            watching = asyncio.create_task(visible_times(url, count, time.time() + 4 * poll_seconds + 30))
            await place_all()
            seen = await watching
            delays = [seen[k] - paid[k] for k in paid if k in seen]
            figure(name, percentile(delays, 0.95) if delays else float("nan"), "s")
            figure(f"{name}_missing", len(paid) - len(delays), "orders")
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=20)
        await platform.aclose()
        await channel_api_http.aclose()
        await drop_database(url)


# ------------------------------------------------------------------ back-fill


async def backfill(orders: int) -> None:
    url = await fresh_database("postgres", Path(tempfile.mkdtemp()))
    port = free_port()
    sim = subprocess.Popen([sys.executable, "-m", "api.cli", "sim", "channel", "--kind", "taobao", "--port", str(port),
                            "--orders", str(orders)], cwd=ROOT, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(timeout=120) as client:
            for _ in range(600):
                try:
                    truth = {o["id"] for o in (await client.get(f"{base}/_sim/orders")).json()["orders"]}
                    break
                except httpx.HTTPError:
                    await asyncio.sleep(0.2)
            else:
                raise RuntimeError("the simulator did not come up")
        channel_id = await prepare(url, taobao_sim.account_config(base))
        from models import Channel, Order, OrderEvent

        channel = await Channel.get(id=channel_id)
        api = FORMATS.apis.for_channel("taobao", channel.config["api"])  # type: ignore[union-attr]
        now = datetime.now(UTC)
        started = time.perf_counter()
        report = await poll_channel(channel, api, formats=FORMATS, now=now, since=now - timedelta(hours=1, minutes=5),
                                    until=now, concurrency=CONCURRENCY)
        elapsed = time.perf_counter() - started
        held = set(await Order.filter(channel_id=channel_id).values_list("external_id", flat=True))
        created_events = await OrderEvent.filter(type="order.created").count()
        figure("backfill_orders_per_s", report.read / elapsed, "orders/s")
        figure("backfill_seconds", elapsed, "s")
        figure("backfill_missing", len(truth - held), "orders")
        figure("backfill_duplicates", created_events - len(held), "orders")
        if report.error:
            print(json.dumps({"name": "backfill_error", "value": report.error}), flush=True)
    finally:
        sim.terminate()
        sim.wait(timeout=20)
        await channel_api_http.aclose()
        await drop_database(url)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--latency-orders", type=int, default=60)
    parser.add_argument("--poll-seconds", type=float, default=60.0)
    parser.add_argument("--only", choices=["latency", "backfill"])
    args = parser.parse_args()
    if args.only in (None, "latency"):
        await latency("paid_to_visible_push_p95_s", args.latency_orders, args.poll_seconds, Faults())
        await latency("paid_to_visible_poll_p95_s", args.latency_orders, args.poll_seconds, Faults(drop_push=1.0))
        figure("poll_interval_s", args.poll_seconds, "s")
    if args.only in (None, "backfill"):
        await backfill(args.orders)


if __name__ == "__main__":
    asyncio.run(main())
