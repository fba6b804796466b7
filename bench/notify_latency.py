"""Notification latency: from the commit of an alert-raising transaction to the messenger receiving the message.

    .venv/bin/python bench/notify_latency.py [--alerts 200]

    from notify_latency import measure          # bench/rules.py
    figures = await measure(alerts=200)         # {"commit_to_notify_p99_ms": 41.2, ...}

The OrderGraph app runs in this process on a throw-away SQLite file (the
embedded default), with its leader jobs: the notification fan-out and sender.
Three routes point at local servers speaking the real formats: the robot
simulator (DingTalk with a signed URL, WeCom) behind uvicorn, and an aiosmtpd
mailbox. Each alert is raised through ``domain.alerts.raising.raise_alert`` in
its own transaction; the clock starts when the transaction has committed and
stops when the server has the request (the simulator's / mailbox's receive
time, same process, monotonic clock). Alerts go one after another, each
waiting for its three messages, so the figure is the latency of one alert
through the whole path (commit -> doorbell -> outbox read -> deliveries
written -> doorbell -> claim -> HTTP / SMTP), not a queue under load. The
routes allow 600 messages a minute, so nothing is folded into digests.

Prints one JSON object per figure per line: ``commit_to_notify_p50_ms`` and
``commit_to_notify_p99_ms`` over every message of every target, then the same
per target (``…_dingtalk``, ``…_wecom``, ``…_email``). Target: p99 <= 1000 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path

from tortoise import Tortoise

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.notify.mailbox import Mailbox  # noqa: E402
from adapters.notify.simulator import DingTalkBot, RobotSimulator  # noqa: E402
from api.app import create_app  # noqa: E402
from api.database import tortoise_config  # noqa: E402
from api.settings import Settings  # noqa: E402
from bench.federation import served  # noqa: E402
from bench.live import emit, percentile  # noqa: E402
from domain.actor import Actor, Role  # noqa: E402
from domain.alerts.raising import raise_alert  # noqa: E402
from domain.catalog import setup as catalog  # noqa: E402
from domain.notifications import routes  # noqa: E402
from domain.tenants.accounts import create_tenant  # noqa: E402
from domain.unit_of_work import unit_of_work  # noqa: E402

SECRET = "SECbench0123456789abcdef0123456789abcdef0123456789abcdef01234567"
TARGETS = ("dingtalk", "wecom", "email")


async def _routes(admin: Actor, robots_url: str, box: Mailbox) -> None:
    common = {"rate_per_minute": routes.MAX_RATE, "language": "zh"}
    await routes.create_route(admin, name="钉钉", target="dingtalk",
                              config={"access_token": "bench", "secret": SECRET, "base_url": robots_url}, **common)
    await routes.create_route(admin, name="企业微信", target="wecom", config={"key": "bench", "base_url": robots_url},
                              **common)
    await routes.create_route(admin, name="邮件", target="email", config=box.config(), **common)


async def measure(alerts: int = 200, *, timeout: float = 30.0) -> dict[str, float]:
    """Raise ``alerts`` alerts one by one and time each message; the figures by name (milliseconds).

    Opens and closes its own database (a temporary SQLite file): call it with no Tortoise connection open.
    """
    logging.getLogger("ordergraph").setLevel(logging.WARNING)
    samples: dict[str, list[float]] = {target: [] for target in TARGETS}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite://{Path(folder) / 'notify.sqlite3'}"
        settings = Settings(database_url=url, poll_seconds=0, tracking_round_seconds=0, drift_check_seconds=0,
                            maintenance_interval_seconds=0, poll_interval=0.25)
        await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
        try:
            await Tortoise.generate_schemas()
            app = create_app(settings, manage_database=False)
            tenant = await create_tenant("bench", "Notify bench")
            warehouse = await catalog.create_warehouse(tenant.id, "SH", "上海仓", province="上海", city="上海")
            admin = Actor(tenant_id=tenant.id, role=Role.ADMIN, name="bench-admin", source="bench")
            sim = RobotSimulator(wecom_keys={"bench"}, dingtalk={"bench": DingTalkBot(secret=SECRET)})
            async with served(sim.app()) as robots_url, Mailbox() as box:
                await _routes(admin, robots_url, box)
                async with app.router.lifespan_context(app):
                    async with asyncio.timeout(timeout):
                        await app.state.live.leadership.leading.wait()
                    for n in range(alerts):
                        async with unit_of_work():
                            await raise_alert(tenant_id=tenant.id, kind="low_stock", severity="critical",
                                              subject=f"stock:{n}", warehouse_id=warehouse.id,
                                              message=f"TEA-{n:04d} 在上海仓只剩 3 件（安全库存 10）")
                        committed = time.monotonic()
                        await sim.wait_for(n + 1, robot="dingtalk", timeout=timeout)
                        await sim.wait_for(n + 1, robot="wecom", timeout=timeout)
                        await box.wait_for(n + 1, timeout=timeout)
                        for target, message in (("dingtalk", sim.received("dingtalk")[n]),
                                                ("wecom", sim.received("wecom")[n]), ("email", box.messages[n])):
                            assert f"TEA-{n:04d}" in message["text"], f"{target} got another alert's message"
                            samples[target].append((message["received_monotonic"] - committed) * 1000)
        finally:
            await Tortoise.close_connections()
    every = [value for values in samples.values() for value in values]
    figures = {"commit_to_notify_p50_ms": percentile(every, 0.50), "commit_to_notify_p99_ms": percentile(every, 0.99)}
    for target, values in samples.items():
        figures[f"commit_to_notify_p50_ms_{target}"] = percentile(values, 0.50)
        figures[f"commit_to_notify_p99_ms_{target}"] = percentile(values, 0.99)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=200, help="alerts raised, one transaction each (200)")
    args = parser.parse_args()
    for name, value in asyncio.run(measure(args.alerts)).items():
        emit(name, value)


if __name__ == "__main__":
    main()
