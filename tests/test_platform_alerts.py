"""The platform's own incidents reach the exception board of every tenant (issue 19's injected faults).

- ``kill -9`` of the outbox leader among two real ``ordergraph serve`` processes
  (PostgreSQL and SQLite): the other takes the lead, finds the silent process and
  raises ``system.process_lost`` naming its host:pid on both tenants' boards; a
  replacement process clears it. A clean stop is never reported lost.
- ``kill -9`` of one worker of ``ordergraph serve --workers 2``: uvicorn restarts
  it, and the restarted worker clears the alert.
- A private ``redis-server`` killed under two processes: ``system.bus_down`` is
  raised once per board (both processes report it, in place); restarted on the
  same port, the alert clears and a live subscriber has received every event
  committed during the outage, in order.
- The rules on both backends with the clock set by hand: a leader's first round
  judges nobody, a process that beats again is alive, old rows are pruned, the
  bus alert waits for the last process, a dead process does not hold it open.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from redis.exceptions import RedisError
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from api.database import tortoise_config
from domain.alerts.kinds import AlertKind, AlertState
from domain.alerts.raising import AUTO
from domain.platform import event_bus, processes
from models import Alert, OrderEvent, ServerProcess
from tests.conftest import make_world, throwaway_postgres
from tests.live_fixtures import IN_CI, free_port, redis_url  # noqa: F401
from tests.test_multiprocess import Server, _create, _follow, _post, _wait

BEAT = "0.5"  # heartbeat seconds: a silent process is lost after 1.5 s
BOARD = """query($kinds: [AlertKind!]) { exceptionBoard(filter: {kinds: $kinds}) {
  nodes { kind kindCode category severity state subject message details resolvedBy } } }"""
REDIS_SERVER = "/usr/bin/redis-server"


def _server(name: str, database_url: str, redis: str, logs: Path, kind: type[Server] | None = None) -> Server:
    server = (kind or Server)(name, database_url, redis, logs)
    server.env.update({"ORDERGRAPH_HEARTBEAT_SECONDS": BEAT, "ORDERGRAPH_BUS_DOWN_AFTER_SECONDS": "1"})
    return server


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    """A database of this test's own: the registry and the boards start empty."""
    with throwaway_postgres("og_platform") as url:
        yield url


@pytest.fixture(params=["postgres", "sqlite"])
def shared_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """PostgreSQL (advisory-lock leader) or one SQLite file (flock leader), shared by the servers."""
    if request.param == "sqlite":
        return f"sqlite://{tmp_path}/shared.sqlite3"
    return request.getfixturevalue("fresh_postgres")


async def _connect(database_url: str) -> None:
    EXECUTOR_CACHE.clear()  # Tortoise caches SQL per connection name, and these tests switch dialects
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    await Tortoise.generate_schemas(safe=True)


async def _seen_together(count: int) -> list[ServerProcess]:
    """The running processes once there are ``count``, each heartbeating since the last one started.

    Killed before that, a process's last heartbeat predates its sibling, which then counts as its replacement.
    """
    running = await ServerProcess.filter(stopped_at__isnull=True).order_by("id")
    together = len(running) == count and min(p.last_seen for p in running) > max(p.started_at for p in running)
    return running if together else []


async def _board(base: str, key: str, kind: str) -> list[dict[str, Any]]:
    return (await _post(base, key, BOARD, {"kinds": [kind]}))["exceptionBoard"]["nodes"]


async def _until(check: Callable[[], Awaitable[Any]], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def _platform_alerts(kind: AlertKind) -> list[Alert]:
    return await Alert.filter(kind=kind).order_by("tenant_id", "id")


async def test_a_killed_leader_is_reported_lost_on_every_board_and_cleared_by_its_replacement(
        shared_database, redis_url, tmp_path):  # noqa: F811
    await _connect(shared_database)
    servers: list[Server] = []
    try:
        acme, rival = await make_world("acme"), await make_world("rival")
        a = _server("a", shared_database, redis_url, tmp_path)
        a.start()
        servers.append(a)
        await a.healthy()
        await asyncio.sleep(1.0)  # A takes the lead
        b = _server("b", shared_database, redis_url, tmp_path)
        b.start()
        servers.append(b)
        await b.healthy()
        assert a.process and b.process
        running = await _until(lambda: _seen_together(2), 20, "both processes to register and heartbeat")
        assert {p.pid for p in running} == {a.process.pid, b.process.pid}

        killed_pid = a.process.pid
        a.kill9()  # the leader: B must take the lead, then find A silent
        killed_at = time.monotonic()

        async def raised_on_b() -> list[dict[str, Any]]:
            return [n for n in await _board(b.base, acme.keys["ops"], "PROCESS_LOST") if n["state"] == "OPEN"]

        [alert] = await _until(raised_on_b, 30, "system.process_lost on the board")
        print(f"kill -9 of the leader -> system.process_lost on the board: {time.monotonic() - killed_at:.1f} s")
        assert alert["kindCode"] == "system.process_lost" and alert["category"] == "SYSTEMS"
        assert alert["severity"] == "WARNING" and alert["subject"] == "process"
        assert f":{killed_pid} (last seen" in alert["message"], alert["message"]
        assert "1 server process alive now (2 before the loss)" in alert["message"], alert["message"]
        assert [p["pid"] for p in alert["details"]["lost"]] == [killed_pid]
        assert (await ServerProcess.get(pid=killed_pid)).stopped_how == "lost"
        rival_alerts = await _board(b.base, rival.keys["ops"], "PROCESS_LOST")
        assert [n["message"] for n in rival_alerts] == [alert["message"]], "one alert on every tenant's board"

        replacement = _server("a2", shared_database, redis_url, tmp_path)
        replacement.start()
        servers.append(replacement)
        await replacement.healthy()

        async def resolved() -> bool:
            alerts = await _platform_alerts(AlertKind.PROCESS_LOST)
            return bool(alerts) and all(x.state == AlertState.RESOLVED for x in alerts)

        await _until(resolved, 30, "the replacement to clear system.process_lost")
        alerts = await _platform_alerts(AlertKind.PROCESS_LOST)
        assert [x.tenant_id for x in alerts] == [acme.tenant.id, rival.tenant.id], "cleared, never duplicated"
        assert {x.resolved_by for x in alerts} == {AUTO}

        # a clean stop says goodbye: never reported lost
        b.stop()
        stopped = await ServerProcess.get(pid=b.process.pid)
        assert (stopped.stopped_how, stopped.stopped_at is not None) == ("shutdown", True)
        await asyncio.sleep(3 * float(BEAT) + 1.5)  # well past the time a silent process is found lost
        assert await Alert.filter(kind=AlertKind.PROCESS_LOST, cleared_at__isnull=True).count() == 0
        assert (await ServerProcess.get(pid=b.process.pid)).stopped_how == "shutdown"
    finally:
        for server in servers:
            server.stop()
        await Tortoise.close_connections()


class Workers(Server):
    """``ordergraph serve --workers 2``: uvicorn's supervisor restarts a worker that dies."""

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(self.port), "--workers", "2"],
            env=self.env, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT,  # noqa: SIM115 - the child owns it
        )


async def test_a_killed_worker_restarted_by_uvicorn_clears_its_alert(fresh_postgres, redis_url, tmp_path):  # noqa: F811
    await _connect(fresh_postgres)
    server = _server("workers", fresh_postgres, redis_url, tmp_path, Workers)
    try:
        await make_world("acme")
        server.start()
        await server.healthy()

        victim, survivor = await _until(lambda: _seen_together(2), 20, "both workers to register and heartbeat")
        os.kill(victim.pid, signal.SIGKILL)

        async def raised() -> list[Alert]:
            return await _platform_alerts(AlertKind.PROCESS_LOST)

        [alert] = await _until(raised, 30, "system.process_lost for the killed worker")
        assert f":{victim.pid} (last seen" in alert.message, alert.message
        assert "(2 before the loss)" in alert.message, alert.message

        async def cleared() -> bool:
            return (await Alert.get(id=alert.id)).state == AlertState.RESOLVED

        await _until(cleared, 30, "the restarted worker to clear the alert")
        workers = await ServerProcess.filter(stopped_at__isnull=True)
        assert len(workers) == 2 and survivor.pid in {w.pid for w in workers} and victim.pid not in {w.pid for w in workers}
        assert (await ServerProcess.get(id=victim.id)).stopped_how == "lost"
    finally:
        server.stop()
        await Tortoise.close_connections()


class PrivateRedis:
    """A throw-away ``redis-server`` on a port of its own, without persistence: a restart loses every key."""

    def __init__(self, logs: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = logs / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=open(self.log, "ab"), stderr=subprocess.STDOUT,  # noqa: SIM115 - the child owns it
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with Redis.from_url(self.url, socket_connect_timeout=0.5) as client:
                    if client.ping():
                        return
            except RedisError:
                pass
            assert time.monotonic() < deadline, f"redis-server did not start:\n{self.log.read_text()}"
            time.sleep(0.05)

    def kill9(self) -> None:
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if not shutil.which(REDIS_SERVER):
        if IN_CI:
            pytest.fail(f"{REDIS_SERVER} is missing (CI=true: the Redis restart test must run)")
        pytest.skip(f"{REDIS_SERVER} is missing")
    redis = PrivateRedis(tmp_path)
    redis.start()
    yield redis
    redis.kill9()


async def test_a_redis_restart_raises_bus_down_once_per_board_and_clears_with_no_gap(
        fresh_postgres, private_redis, tmp_path):
    await _connect(fresh_postgres)
    servers: list[Server] = []
    follower: asyncio.Task[None] | None = None
    try:
        world = await make_world("acme")
        key = world.keys["ops"]
        a = _server("a", fresh_postgres, private_redis.url, tmp_path)
        a.start()
        servers.append(a)
        await a.healthy()
        await asyncio.sleep(1.0)  # A takes the lead and publishes to Redis
        b = _server("b", fresh_postgres, private_redis.url, tmp_path)
        b.start()
        servers.append(b)
        await b.healthy()

        seen: list[dict[str, Any]] = []
        follower = asyncio.create_task(_follow(b.base, key, seen))
        await asyncio.sleep(1.0)
        await _create(a.base, key, "BUS-0")
        await _wait(lambda: len(seen) > 0, 10)  # the subscriber on B sees the first order

        private_redis.kill9()
        down_at = time.monotonic()
        for n in range(1, 6):  # committed while the bus is down: the database is up
            await _create((a if n % 2 else b).base, key, f"BUS-{n}")

        async def both_report_down() -> bool:
            return await ServerProcess.filter(stopped_at__isnull=True, bus_down_since__isnull=False).count() == 2

        await _until(both_report_down, 30, "both processes to report the bus down")
        [alert] = await _board(b.base, key, "BUS_DOWN")
        print(f"redis-server killed -> system.bus_down on the board: {time.monotonic() - down_at:.1f} s")
        assert (alert["kindCode"], alert["severity"], alert["state"]) == ("system.bus_down", "CRITICAL", "OPEN")
        assert "unreachable since" in alert["message"] and "from 2 server processes" in alert["message"]
        assert await Alert.filter(kind=AlertKind.BUS_DOWN).count() == 1, "two processes, one alert per board"

        private_redis.start()  # same port, no keys: the listeners must back-fill from the database

        async def cleared() -> bool:
            return (await Alert.get(kind=AlertKind.BUS_DOWN)).state == AlertState.RESOLVED

        await _until(cleared, 30, "system.bus_down to clear once Redis is back")
        assert (await Alert.get(kind=AlertKind.BUS_DOWN)).resolved_by == AUTO
        await _create(b.base, key, "BUS-6")
        expected = await OrderEvent.filter(tenant_id=world.tenant.id).order_by("id").values_list("id", flat=True)
        await _wait(lambda: len(seen) >= len(expected), 30)  # the subscriber catches up
        assert [e["eventId"] for e in seen] == list(expected), "every event committed during the outage, in order"
        types = [e["type"] for e in seen]
        assert "alert.raised" in types and "alert.cleared" in types
    finally:
        if follower is not None:
            follower.cancel()
        for server in servers:
            server.stop()
        await Tortoise.close_connections()


# The rules themselves, on both backends, with the clock set by hand.

async def _registered(*pids: int, started: timedelta = timedelta(minutes=1)) -> list[int]:
    ids = [await processes.register("web-1", pid) for pid in pids]
    await ServerProcess.all().update(started_at=datetime.now(UTC) - started)
    return ids


async def test_only_a_silent_process_without_a_goodbye_is_lost_and_one_that_beats_again_is_back(db, world):
    silent, steady, leaving = await _registered(101, 102, 103)
    await processes.goodbye(leaving)
    await ServerProcess.filter(id__in=[silent, leaving]).update(last_seen=datetime.now(UTC) - timedelta(seconds=10))
    beat = timedelta(seconds=1)

    assert (await processes.check(beat, find_lost=False)).lost == [], "a leader's first round judges nobody"
    result = await processes.check(beat)
    assert (result.lost, result.alive) == (["web-1:101"], 1)
    [alert] = await Alert.filter(kind=AlertKind.PROCESS_LOST)
    assert alert.tenant_id == world.tenant.id and alert.severity == "warning" and alert.subject == "process"
    assert "web-1:101 (last seen" in alert.message and "1 server process alive now (2 before the loss)" in alert.message
    assert (await ServerProcess.get(id=leaving)).stopped_how == "shutdown", "a goodbye is never a loss"

    assert await processes.heartbeat(silent), "only paused, not dead: alive again"
    assert (await processes.check(beat)).cleared == 1
    alert = await Alert.get(id=alert.id)
    assert (alert.state, alert.resolved_by) == (AlertState.RESOLVED, AUTO)
    assert {p.id for p in await ServerProcess.filter(stopped_at__isnull=True)} == {silent, steady}


async def test_a_replacement_clears_the_loss_and_rows_older_than_a_day_are_pruned(db, world):
    [dead] = await _registered(201)
    await ServerProcess.filter(id=dead).update(last_seen=datetime.now(UTC) - timedelta(seconds=30))
    await processes.register("web-1", 202)  # the supervisor's restart, registered after the death
    beat = timedelta(seconds=1)
    assert (await processes.check(beat)).lost == ["web-1:201"]
    assert (await processes.check(beat)).cleared == 1, "a process started after the loss replaces it"

    await ServerProcess.filter(id=dead).update(stopped_at=datetime.now(UTC) - timedelta(days=1, minutes=1))
    await processes.check(beat)
    assert not await ServerProcess.exists(id=dead)


async def test_the_bus_alert_is_one_per_board_and_stays_until_the_last_process_is_back(db, world, other_world):
    a, b = await _registered(301, 302)
    since = datetime.now(UTC) - timedelta(seconds=6)
    await event_bus.report_down(a, since)
    await event_bus.report_down(b, since + timedelta(seconds=1))
    alerts = await Alert.filter(kind=AlertKind.BUS_DOWN).order_by("tenant_id")
    assert [x.tenant_id for x in alerts] == [world.tenant.id, other_world.tenant.id]
    assert all(x.severity == "critical" and "from 2 server processes" in x.message for x in alerts)
    assert alerts[0].details["since"] == since.isoformat()

    assert await event_bus.report_back(a) == 0, "b still cannot reach Redis"
    assert await event_bus.report_back(b) == 2
    assert {x.state for x in await Alert.filter(kind=AlertKind.BUS_DOWN)} == {AlertState.RESOLVED}

    await event_bus.report_down(a, datetime.now(UTC))  # down again, and then killed before it is back
    await ServerProcess.filter(id=a).update(last_seen=datetime.now(UTC) - timedelta(seconds=30))
    await processes.check(timedelta(seconds=1))
    assert await Alert.filter(kind=AlertKind.BUS_DOWN, cleared_at__isnull=True).count() == 0, \
        "a dead process does not keep the bus alert open"
