"""Small-refund fast path: from the channel's refund request to our approval being pushed back to it.

    .venv/bin/python bench/after_sale.py [--refunds 60] [--database postgres]

The OrderGraph app runs behind real uvicorn in this process, on a throw-away
SQLite file (the embedded default; ``--database postgres`` uses a fresh
database on ``TEST_DATABASE_URL`` instead), with its leader jobs. A
simulated Taobao shop (``adapters.channels.sim``) runs behind uvicorn too,
pushing its TMC messages to the app's real webhook endpoint
(``/hooks/bench/tb``, Standard Webhooks signed) and answering the app's TOP
calls. For each refund: the shop places a ¥100 order (pushed; the app
fetches the trade and creates the order), then — the clock starts — the
buyer asks for the whole line back (``taobao_refund_RefundCreated`` pushed);
the app fetches the trade, opens a refund-only after-sale, the policy
approves it (≤ ¥200), the commit wakes the leader's push job, which calls
``taobao.rp.refunds.agree`` on the shop — the clock stops when the shop
records that call. Refunds go one after another, so the figure is one
refund's latency through the whole path, not a queue under load.

Prints one JSON object per figure per line: ``small_refund_p95_s`` (target
< 2 s), ``small_refund_p50_s`` and ``small_refund_max_s``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
from tortoise import Tortoise

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.channels import generic  # noqa: E402
from adapters.channels.api import http as channel_http  # noqa: E402
from adapters.channels.sim import core  # noqa: E402
from adapters.channels.sim import taobao as sim  # noqa: E402
from api.app import create_app  # noqa: E402
from api.database import tortoise_config  # noqa: E402
from api.settings import Settings  # noqa: E402
from bench.federation import served  # noqa: E402
from bench.live import emit, percentile  # noqa: E402
from domain.actor import Actor, Role  # noqa: E402
from domain.intake import sources as intake_sources  # noqa: E402
from domain.tenants.accounts import create_tenant  # noqa: E402
from models import AfterSale, Order  # noqa: E402

SECRET = "whsec_YmVuY2gtYWZ0ZXItc2FsZS1rZXktMDEyMzQ1Njc4OWFi"
BASE_DB = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")


async def _until(check, timeout: float, what: str) -> None:  # noqa: ANN001 - an async predicate
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:g} s")
        await asyncio.sleep(0.005)


async def _run(url: str, refunds: int, timeout: float) -> list[float]:
    settings = Settings(database_url=url, poll_seconds=0, tracking_round_seconds=0, drift_check_seconds=0,
                        maintenance_interval_seconds=0, poll_interval=0.25, rules_enabled=False, notify_enabled=False,
                        alert_wake_seconds=0)
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
    samples: list[float] = []
    try:
        await Tortoise.generate_schemas()
        app = create_app(settings, manage_database=False)
        tenant = await create_tenant("bench", "After-sale bench")
        admin = Actor(tenant_id=tenant.id, role=Role.ADMIN, name="bench-admin", source="bench")
        platform = core.Platform(sim.protocol(), push_secret=SECRET)
        async with served(platform.app()) as shop_url, served(app) as app_url:
            channel = await intake_sources.register_channel(admin, "tb", "taobao", "Taobao shop", secret=SECRET,
                                                            mapping=None, check=generic.check_mapping)
            channel.config = {**(channel.config or {}), "api": sim.account_config(shop_url)}
            await channel.save()
            platform.push_url = f"{app_url}/hooks/bench/tb"
            await asyncio.wait_for(app.state.live.leadership.leading.wait(), timeout)
            for _ in range(refunds):
                order = platform.place(push=False)
                order.detail.update(lines=[("SKU-A", "美利奴羊毛围巾", 5000, 2)], post=0, discount=0)  # ¥100
                platform.announce(order)

                async def created() -> bool:
                    return await Order.exists(tenant_id=tenant.id, external_id=order.external_id)

                await _until(created, timeout, f"order {order.external_id}")
                seen = len(platform.after_sale_calls)
                started = time.time()
                refund = platform.request_refund(order.external_id, line=1)

                async def pushed() -> bool:
                    return len(platform.after_sale_calls) > seen

                await _until(pushed, timeout, f"the approval of refund {refund['refund_id']}")
                call = platform.after_sale_calls[seen]
                assert call["refund_id"] == refund["refund_id"] and call["method"] == "taobao.rp.refunds.agree", call
                samples.append(call["at"] - started)
            await platform.drain()
            opened = await AfterSale.filter(tenant_id=tenant.id, status__in=["APPROVED", "REFUNDED"]).count()
            assert opened == refunds, f"{opened} of {refunds} after-sales approved"
        await channel_http.aclose()
    finally:
        await Tortoise.close_connections()
    return samples


async def measure(refunds: int = 60, *, database: str = "sqlite", timeout: float = 30.0) -> dict[str, float]:
    """Time ``refunds`` small refunds one by one; the figures by name (seconds)."""
    logging.getLogger("ordergraph").setLevel(logging.WARNING)
    if database == "postgres":
        name = f"og_bench_{uuid.uuid4().hex[:10]}"
        admin = await asyncpg.connect(BASE_DB)
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        try:
            samples = await _run(BASE_DB.rsplit("/", 1)[0] + "/" + name, refunds, timeout)
        finally:
            admin = await asyncpg.connect(BASE_DB)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
    else:
        with tempfile.TemporaryDirectory() as folder:
            samples = await _run(f"sqlite://{Path(folder) / 'after_sale.sqlite3'}", refunds, timeout)
    return {"small_refund_p95_s": percentile(samples, 0.95), "small_refund_p50_s": percentile(samples, 0.50),
            "small_refund_max_s": max(samples)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--refunds", type=int, default=60, help="refund requests, one after another (60; at least 50)")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    if args.refunds < 50:
        parser.error("--refunds: at least 50 for a p95")
    for name, value in asyncio.run(measure(args.refunds, database=args.database)).items():
        emit(name, value, "s")


if __name__ == "__main__":
    main()
