"""Live-status benchmark: commit-to-subscriber latency over Redis, against the bare Redis round trip.

    .venv/bin/python bench/live.py [--subscribers 1,100,1000] [--events 100] [--workers 2] [--distinct]

Creates a throw-away database on the server of ``TEST_DATABASE_URL`` (default
postgres://postgres@127.0.0.1:5432/test), starts ``ordergraph serve`` (uvicorn,
``--workers`` processes, production mode) with ``REDIS_URL`` = ``TEST_REDIS_URL``
(default redis://127.0.0.1:6379/15), and opens N real ``graphql-transport-ws``
connections (one ``orderEvents`` subscription each), spread over client
processes (``--clients``, default 4, each its own Python process, uvloop), by
default as lean sockets (``bench/lean_ws.py``: a few us per frame, so the load
generator does not eat the cores it measures; ``--client websockets`` uses the
``websockets`` library's client as before). The bench commits changes through the domain use cases (hold /
release one order, each one transaction) one at a time and records, for every
subscriber, the time from just after COMMIT to the ``next`` frame arriving.

The path measured: COMMIT -> PostgreSQL NOTIFY -> the leader reads the outbox
-> one PUBLISH to Redis -> one listener per server process -> one GraphQL
execution per distinct subscription (``api.shared_streams``) -> one pre-built
WebSocket frame written to each subscriber's socket -> client.

All subscribers send the same document and variables, as partners watching
the same feed do, so each server process executes GraphQL once per event
(``api.shared_streams``); ``--distinct`` also measures subscriptions that all
differ (one execution per subscriber).

Baseline, same run: the bare Redis PUBLISH -> subscriber receive round trip
(redis.asyncio, one publisher, one subscriber). Prints one JSON object per
figure per line: {"name": "...", "value": 12.3, "unit": "ms"}; the ratio is
ours / bare Redis at the same percentile. Next to each latency it prints the CPU
used from the first measured commit until the server is idle again, in % of
one core and in microseconds per delivered frame (the latter holds up better
when other work shares the machine): the server's processes (``server_cpu_<N>_subscribers``), the client processes
holding the connections (``client_cpu_<N>_subscribers``) and this driver
(``driver_cpu_<N>_subscribers``) — on a small machine they share the cores,
so a high client figure means the latency includes waiting for a core.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import websockets
from redis import asyncio as aioredis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench_keys  # noqa: E402
from tortoise import Tortoise  # noqa: E402

from api.database import tortoise_config  # noqa: E402
from domain import orders  # noqa: E402
from domain.actor import Actor, Role  # noqa: E402
from domain.catalog import setup as catalog
from domain.orders.create import NewLine, NewOrder, NewPayment  # noqa: E402
from domain.tenants.accounts import create_api_key, create_tenant  # noqa: E402

BASE_DB = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
QUERY = "subscription($o: [ID!], $t: [String!]) { orderEvents(filter: {orders: $o, types: $t}) { eventId } }"
TYPES = ["order.hold_added", "order.hold_released"]
EVENT_ID = '"eventId":'


def emit(name: str, value: float, unit: str = "ms") -> None:
    print(json.dumps({"name": name, "value": round(value, 3), "unit": unit}), flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes (Linux ``/proc``)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process has ended
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants (the uvicorn supervisor and its workers)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += parents.get(pid, [])
    return found


async def settle(pids: list[int], idle_share: float = 0.03, limit: float = 120.0) -> None:
    """Wait until these processes are idle (below ``idle_share`` of a core for half a second): all sent."""
    ends = time.monotonic() + limit
    used = cpu_seconds(pids)
    while time.monotonic() < ends:
        await asyncio.sleep(0.5)
        now = cpu_seconds(pids)
        if now - used < idle_share * 0.5:
            return
        used = now


class CpuWindow:
    """CPU seconds of the server, the clients and this driver between creation and ``stop``, and the wall time."""

    def __init__(self, server_pids: list[int], client_pids: list[int]) -> None:
        self.groups = {"server": server_pids, "client": client_pids, "driver": [os.getpid()]}
        self.began = time.monotonic()
        self.used = {name: cpu_seconds(pids) for name, pids in self.groups.items()}

    def stop(self) -> dict[str, float]:
        spent = {name: cpu_seconds(pids) - self.used[name] for name, pids in self.groups.items()}
        return {**spent, "wall": time.monotonic() - self.began}


def emit_cpu(cpu: dict[str, float], deliveries: int, suffix: str) -> None:
    """Each side's CPU in % of one core over the window, and in microseconds per delivered frame."""
    for name in ("server", "client", "driver"):
        emit(f"{name}_cpu_{suffix}", cpu[name] / cpu["wall"] * 100, "%")
    for name in ("server", "client"):
        emit(f"{name}_cpu_per_delivery_{suffix}", cpu[name] / max(1, deliveries) * 1e6, "us")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------- client processes


async def _client(url: str, key: str, order_gid: str, count: int, distinct: str | None, ready: Any, go: Any, out: Any,
                  lean: bool = True) -> None:
    received: list[tuple[int, float]] = []
    if lean:
        await _lean_client(url, key, order_gid, count, distinct, ready, go, received)
    else:
        await _websockets_client(url, key, order_gid, count, distinct, ready, go, received)
    out.send(received)


def _subscribe_message(order_gid: str, distinct: str | None, n: int) -> dict[str, Any]:
    # --distinct: a type filter entry of its own per subscriber, so no two subscriptions share an execution
    types = TYPES + [f"bench.{distinct}.{n}"] if distinct else TYPES
    return {"id": "1", "type": "subscribe", "payload": {"query": QUERY, "variables": {"o": [order_gid], "t": types}}}


async def _lean_client(url: str, key: str, order_gid: str, count: int, distinct: str | None, ready: Any, go: Any,
                       received: list[tuple[int, float]]) -> None:
    """``bench/lean_ws.py`` sockets, opened 50 at a time: a few us of client CPU per frame."""
    from lean_ws import LeanSubscriber

    address = url.split("//", 1)[1]
    host_port, path = address.split("/", 1)
    host, port = host_port.rsplit(":", 1)
    gate = asyncio.Semaphore(50)

    async def one(n: int) -> LeanSubscriber:
        async with gate:
            socket = await LeanSubscriber.open(host, int(port), "/" + path, received)
            await socket.subscribe({"apiKey": key}, _subscribe_message(order_gid, distinct, n))
            return socket

    sockets = await asyncio.gather(*(one(n) for n in range(count)))
    ready.set()
    while not go.is_set():
        await asyncio.sleep(0.05)
    for socket in sockets:
        socket.close()


async def _websockets_client(url: str, key: str, order_gid: str, count: int, distinct: str | None, ready: Any, go: Any,
                             received: list[tuple[int, float]]) -> None:
    """The ``websockets`` library's client, one reader task per socket (``--client websockets``)."""
    sockets = []
    for n in range(count):
        ws = await websockets.connect(url, subprotocols=["graphql-transport-ws"], max_queue=None, open_timeout=30)
        await ws.send(json.dumps({"type": "connection_init", "payload": {"apiKey": key}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps(_subscribe_message(order_gid, distinct, n)))
        sockets.append(ws)

    async def read(ws: Any) -> None:
        try:
            async for raw in ws:
                now = time.time()
                # the load generator shares the cores with the server: find the id without decoding the frame
                if '"type":"next"' in raw:
                    start = raw.index(EVENT_ID) + len(EVENT_ID)
                    received.append((int(raw[start:raw.index("}", start)]), now))
        except websockets.exceptions.ConnectionClosed:
            return

    readers = [asyncio.create_task(read(ws)) for ws in sockets]
    ready.set()
    while not go.is_set():
        await asyncio.sleep(0.05)
    for ws in sockets:
        await ws.close()
    await asyncio.gather(*readers, return_exceptions=True)


def client_process(url: str, key: str, order_gid: str, count: int, distinct: str | None, ready: Any, go: Any, out: Any,
                   lean: bool = True) -> None:
    import uvloop

    uvloop.run(_client(url, key, order_gid, count, distinct, ready, go, out, lean))


# ---------------------------------------------------------------- the server and the data


async def create_database() -> str:
    name = f"og_bench_live_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(BASE_DB)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return BASE_DB.rsplit("/", 1)[0] + "/" + name


async def drop_database(url: str) -> None:
    conn = await asyncpg.connect(BASE_DB)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await conn.close()


async def seed() -> tuple[Actor, str, int]:
    bench_keys.use()
    await Tortoise.generate_schemas(safe=True)
    tenant = await create_tenant("bench", "Bench")
    channel = await catalog.create_channel(tenant.id, "tmall", "taobao", "Tmall")
    _, key = await create_api_key("bench", Role.PARTNER, owner="bench")
    actor = Actor(tenant_id=tenant.id, role=Role.OPS, name="bench", source="bench")
    order = await orders.create_order(
        actor,
        NewOrder(
            channel_id=channel.id,
            external_id="LIVE-BENCH",
            lines=[NewLine(sku="TEA-001", quantity=1, unit_price=10)],  # type: ignore[arg-type]
            payment=NewPayment(gateway="alipay", amount=10),  # type: ignore[arg-type]
        ),
    )
    return actor, key, order.id


def start_server(database_url: str, port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL, "PORT": str(port),
           "ORDERGRAPH_ENV": "production", "LOG_LEVEL": "WARNING", "ORDERGRAPH_LIVE_MAX_PENDING": "1000",
           **bench_keys.ENV}
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", str(workers)],
        env=env, cwd=ROOT, stdout=open(log, "wb"), stderr=subprocess.STDOUT,  # noqa: SIM115
    )


async def wait_healthy(base: str) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(300):
            try:
                if (await http.get(base + "/healthz", timeout=1)).status_code == 200:
                    await asyncio.sleep(1.5)  # every worker has started its Redis listener; one leads
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("server did not start")


async def toggle(actor: Actor, order_id: int, n: int) -> None:
    if n % 2 == 0:
        await orders.hold_order(actor, order_id, ["bench"])
    else:
        await orders.release_hold(actor, order_id)


async def measure(url: str, key: str, actor: Actor, order_id: int, subscribers: int, events: int, clients: int,
                  interval: float, server_pids: list[int], distinct: bool = False, lean: bool = True,
                  ) -> tuple[list[float], dict[str, float]]:
    """Latencies (ms) of every (event, subscriber) pair, and the CPU (% of one core) used meanwhile."""
    from models import OrderEvent
    from resolvers.ids import encode

    context = mp.get_context("spawn")
    clients = max(1, min(clients, subscribers))
    shares = [subscribers // clients + (1 if i < subscribers % clients else 0) for i in range(clients)]
    go = context.Event()
    readies, pipes, procs = [], [], []
    for index, share in enumerate(shares):
        ready = context.Event()
        parent, child = context.Pipe(duplex=False)
        proc = context.Process(target=client_process, args=(url, key, encode("Order", order_id), share, str(index) if distinct else None, ready, go, child, lean))
        proc.start()
        readies.append(ready)
        pipes.append(parent)
        procs.append(proc)
    for ready, proc in zip(readies, procs, strict=True):
        while not ready.wait(0.1):
            if not proc.is_alive():  # it could not open its sockets: say so instead of waiting for ever
                for other in procs:
                    other.kill()
                raise RuntimeError(f"a client process ended with {proc.exitcode} before all its subscriptions were open")
            await asyncio.sleep(0)
    await asyncio.sleep(1.0)
    for n in range(3):  # warm-up
        await toggle(actor, order_id, n)
        await asyncio.sleep(interval)
    committed: dict[int, float] = {}
    cpu = CpuWindow(server_pids, [proc.pid for proc in procs])
    newest = await OrderEvent.filter(order_id=order_id).order_by("-id").first().values_list("id", flat=True)
    for n in range(3, 3 + events):
        await toggle(actor, order_id, n)
        done = time.time()
        # a hold or a release may append more than one event (the status move too): all share the commit
        for event_id in await OrderEvent.filter(order_id=order_id, id__gt=newest, type__in=TYPES).values_list("id", flat=True):
            committed[event_id] = done
        newest = await OrderEvent.filter(order_id=order_id).order_by("-id").first().values_list("id", flat=True)
        await asyncio.sleep(interval)
    await asyncio.sleep(max(1.0, interval * 5))
    await settle(server_pids)
    used = cpu.stop()
    go.set()
    latencies: list[float] = []
    for pipe, proc in zip(pipes, procs, strict=True):
        received = pipe.recv()
        proc.join(30)
        latencies += [(at - committed[event_id]) * 1000 for event_id, at in received if event_id in committed]
    expected = subscribers * len(committed)
    if len(latencies) != expected:
        print(f"# warning: {expected - len(latencies)} of {expected} deliveries missing", file=sys.stderr)
    return latencies, used


async def bare_redis(samples: int) -> list[float]:
    client = aioredis.from_url(REDIS_URL)
    pubsub = client.pubsub()
    channel = f"bench:{uuid.uuid4().hex[:8]}"
    await pubsub.subscribe(channel)
    while (await pubsub.get_message(timeout=1)) is None:
        pass
    latencies: list[float] = []
    try:
        for _ in range(samples):
            sent = time.perf_counter()
            await client.publish(channel, json.dumps({"id": 1, "at": sent}))
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
                if message is not None:
                    break
            latencies.append((time.perf_counter() - sent) * 1000)
            await asyncio.sleep(0.002)
    finally:
        await pubsub.aclose()
        await client.aclose()
    return latencies


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", default="1,100,1000")
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--clients", type=int, default=4, help="client processes holding the WebSocket connections")
    parser.add_argument("--client", choices=("lean", "websockets"), default="lean",
                        help="lean: bench/lean_ws.py sockets (default); websockets: the websockets library's client")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between commits")
    parser.add_argument("--distinct", action="store_true",
                        help="also measure subscriptions that all differ (no shared execution)")
    args = parser.parse_args()

    database_url = await create_database()
    port = free_port()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"ordergraph-bench-live-{port}.log"
    server = None
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    try:
        actor, key, order_id = await seed()
        server = start_server(database_url, port, args.workers, log)
        base = f"http://127.0.0.1:{port}"
        await wait_healthy(base)
        redis = await bare_redis(2000)
        redis_p50, redis_p99 = statistics.median(redis), percentile(redis, 0.99)
        emit("redis_publish_to_receive_p50", redis_p50)
        emit("redis_publish_to_receive_p99", redis_p99)
        server_pids = process_tree(server.pid)
        for count in (int(x) for x in args.subscribers.split(",")):
            latencies, cpu = await measure(base.replace("http", "ws") + "/graphql", key, actor, order_id, count, args.events,
                                           args.clients, args.interval, server_pids, lean=args.client == "lean")
            p50, p99 = statistics.median(latencies), percentile(latencies, 0.99)
            emit(f"commit_to_subscriber_p50_{count}_subscribers", p50)
            emit(f"commit_to_subscriber_p99_{count}_subscribers", p99)
            emit(f"ratio_p50_{count}_subscribers_vs_bare_redis", p50 / redis_p50, "ratio")
            emit(f"ratio_p99_{count}_subscribers_vs_bare_redis", p99 / redis_p99, "ratio")
            emit_cpu(cpu, len(latencies), f"{count}_subscribers")
            if args.distinct:
                latencies, cpu = await measure(base.replace("http", "ws") + "/graphql", key, actor, order_id, count,
                                               args.events, args.clients, args.interval, server_pids, distinct=True,
                                               lean=args.client == "lean")
                emit(f"commit_to_subscriber_p50_{count}_distinct_subscriptions", statistics.median(latencies))
                emit(f"commit_to_subscriber_p99_{count}_distinct_subscriptions", percentile(latencies, 0.99))
                emit_cpu(cpu, len(latencies), f"{count}_distinct_subscriptions")
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
        await Tortoise.close_connections()
        await drop_database(database_url)


if __name__ == "__main__":
    asyncio.run(main())
