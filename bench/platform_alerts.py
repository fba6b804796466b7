"""Platform faults on the board with the default settings: a killed leader and a Redis restart.

    .venv/bin/python bench/platform_alerts.py

Creates a throw-away PostgreSQL database on the server of ``TEST_DATABASE_URL``
(default postgres://postgres@127.0.0.1:5432/test), a private ``redis-server``
and two real ``ordergraph serve`` processes with the default
``ORDERGRAPH_HEARTBEAT_SECONDS`` and ``ORDERGRAPH_BUS_DOWN_AFTER_SECONDS``.
Prints one JSON object per figure per line (issue 19's target: < 60 s to alert):

- ``process_lost_detect_s``: ``kill -9`` of the outbox leader to the open
  ``system.process_lost`` alert (the other process must take the lead first);
- ``process_lost_clear_s``: a replacement process answering to the alert
  resolved by ``system:auto``;
- ``bus_down_detect_s``: ``redis-server`` killed to the open ``system.bus_down``;
- ``bus_down_clear_s``: ``redis-server`` restarted on the same port to the alert
  resolved (after both listeners back-filled).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tortoise import Tortoise  # noqa: E402

from api.database import tortoise_config  # noqa: E402
from api.settings import Settings  # noqa: E402
from domain.alerts.kinds import AlertKind, AlertState  # noqa: E402
from models import Alert  # noqa: E402
from tests.conftest import make_world  # noqa: E402
from tests.test_multiprocess import Server  # noqa: E402
from tests.test_platform_alerts import PrivateRedis  # noqa: E402

from federation import DEFAULT_SERVER, _admin  # noqa: E402


def emit(name: str, value: float, unit: str = "s") -> None:
    print(json.dumps({"name": name, "value": round(value, 1), "unit": unit}), flush=True)


async def _until(check: Callable[[], Awaitable[bool]], timeout: float = 120) -> float:
    """Seconds until ``check()`` is true (polled every 100 ms)."""
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"not within {timeout:g} s")
        await asyncio.sleep(0.1)
    return time.monotonic() - started


def _state(kind: AlertKind, state: AlertState) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        alerts = await Alert.filter(kind=kind).order_by("-id").limit(1)
        return bool(alerts) and alerts[0].state == state
    return check


async def bench(database_url: str, logs: Path) -> None:
    defaults = Settings()
    redis = PrivateRedis(logs)
    redis.start()
    servers: list[Server] = []

    def server(name: str) -> Server:
        process = Server(name, database_url, redis.url, logs)
        process.env.update({"ORDERGRAPH_HEARTBEAT_SECONDS": str(defaults.heartbeat_seconds),
                            "ORDERGRAPH_BUS_DOWN_AFTER_SECONDS": str(defaults.bus_down_after_seconds)})
        process.start()
        servers.append(process)
        return process

    try:
        await make_world("acme")
        leader = server("a")
        await leader.healthy()
        await asyncio.sleep(1.0)  # A takes the lead
        await server("b").healthy()
        await asyncio.sleep(defaults.heartbeat_seconds * 2)  # both have heartbeated since both started

        leader.kill9()
        emit("process_lost_detect_s", await _until(_state(AlertKind.PROCESS_LOST, AlertState.OPEN)))
        await server("a2").healthy()
        emit("process_lost_clear_s", await _until(_state(AlertKind.PROCESS_LOST, AlertState.RESOLVED)))

        redis.kill9()
        emit("bus_down_detect_s", await _until(_state(AlertKind.BUS_DOWN, AlertState.OPEN)))
        redis.start()
        emit("bus_down_clear_s", await _until(_state(AlertKind.BUS_DOWN, AlertState.RESOLVED)))
    finally:
        for process in servers:
            process.stop()
        redis.kill9()


async def main() -> None:
    server = os.environ.get("TEST_DATABASE_URL") or DEFAULT_SERVER
    name = f"og_bench_platform_{uuid.uuid4().hex[:10]}"
    await _admin(server, f'CREATE DATABASE "{name}"')
    url = server.rsplit("/", 1)[0] + "/" + name
    try:
        await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
        await Tortoise.generate_schemas(safe=True)
        with tempfile.TemporaryDirectory(prefix="og-bench-platform-") as logs:
            await bench(url, Path(logs))
    finally:
        await Tortoise.close_connections()
        await _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
