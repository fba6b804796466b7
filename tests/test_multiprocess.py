"""Two real ``ordergraph serve`` processes sharing one PostgreSQL and one Redis.

- A change committed through process A reaches a subscriber connected to process B.
- Process A is ``kill -9``'d while webhooks are in flight and restarted; the
  receiver (verifying every signature with ``standardwebhooks``) ends up with
  every committed event exactly once after de-duplicating on ``webhook-id``.
- The live subscriber on B misses nothing either, and a subscriber that was on
  A reconnects to B with its last event id and misses nothing.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gql import gql
from tortoise import Tortoise

from api.database import tortoise_config
from domain.actor import Role
from domain.webhooks import endpoints as webhooks
from models import OrderEvent, WebhookDelivery
from tests.conftest import make_world, throwaway_postgres
from tests.live_fixtures import (  # noqa: F401
    Receiver,
    collect,
    free_port,
    receiver_server,
    redis_url,
)

CREATE = """mutation($input: CreateOrderInput!) { createOrder(input: $input) { order { id } errors { message } } }"""
HOLD = """mutation($id: ID!) { holdOrder(input: {id: $id, reasons: ["check"]}) { errors { message } } }"""
EVENTS = gql("subscription($after: Int) { orderEvents(after: $after) { eventId type: typeCode } }")


@pytest.fixture(scope="module")
def shared_postgres() -> Iterator[str]:
    """A fresh database of its own (the servers run their own dispatchers on it)."""
    with throwaway_postgres("og_mp") as url:
        yield url


class Server:
    """``ordergraph serve`` in a subprocess, with its output kept for the failure report."""

    def __init__(self, name: str, database_url: str, redis: str, logs: Path, port: int | None = None) -> None:
        self.name = name
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = logs / f"{name}.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis,
            "PORT": str(self.port),
            "LOG_LEVEL": "INFO",
            "ORDERGRAPH_PARTNER_LEASE": "3",
            "ORDERGRAPH_PARTNER_TIMEOUT": "2",
            "ORDERGRAPH_PARTNER_RETRY_DELAYS": "0.3,0.5,1,1,2,2,3,3,5",
            "ORDERGRAPH_HEARTBEAT_SECONDS": "0",  # no system.process_lost events in the counts (test_platform_alerts)
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(self.port)],
            env=self.env,
            stdout=open(self.log, "ab"),  # noqa: SIM115 - the child owns it
            stderr=subprocess.STDOUT,
        )

    async def healthy(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as http:
            while time.monotonic() < deadline:
                assert self.process and self.process.poll() is None, f"{self.name} exited:\n{self.log.read_text()[-3000:]}"
                try:
                    if (await http.get(f"{self.base}/healthz", timeout=1)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} did not start:\n{self.log.read_text()[-3000:]}")

    def kill9(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


async def _post(base: str, key: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        response = await http.post("/graphql", json={"query": query, "variables": variables}, headers={"authorization": f"Bearer {key}"})
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    return body["data"]


async def _create(base: str, key: str, external_id: str) -> str:
    data = await _post(base, key, CREATE, {"input": {
        "channel": "tmall",
        "externalId": external_id,
        "lines": [{"sku": "TEA-001", "quantity": 1, "unitPrice": "10.00"}],
        "payment": {"gateway": "alipay", "amount": "10.00"},
    }})
    assert not data["createOrder"]["errors"], data
    return data["createOrder"]["order"]["id"]


async def test_two_processes_share_postgres_and_redis_and_lose_nothing_through_kill_9(shared_postgres, redis_url, tmp_path):  # noqa: F811
    await Tortoise.init(config=tortoise_config(shared_postgres), _enable_global_fallback=True)
    servers: list[Server] = []
    try:
        await Tortoise.generate_schemas(safe=True)
        world = await make_world("acme")
        key = world.keys["ops"]
        receiver = Receiver(delay=0.03, fail_every=9)  # slow enough to have deliveries in flight, failing sometimes
        async with receiver_server(receiver) as hook_url:
            endpoint, secret = await webhooks.register_endpoint(world.actor(Role.ADMIN), hook_url, webhooks.UrlPolicy())
            receiver.secrets.append(secret)

            a = Server("a", shared_postgres, redis_url, tmp_path)
            a.start()
            servers.append(a)
            await a.healthy()
            await asyncio.sleep(1.0)  # A becomes the outbox leader
            b = Server("b", shared_postgres, redis_url, tmp_path)
            b.start()
            servers.append(b)
            await b.healthy()

            # 1. committed through A, seen by a subscriber on B (and one on A, which will lose its server)
            seen_on_b: list[dict[str, Any]] = []
            on_b = asyncio.create_task(_follow(b.base, key, seen_on_b))
            seen_on_a: list[dict[str, Any]] = []
            on_a = asyncio.create_task(_follow(a.base, key, seen_on_a))
            await asyncio.sleep(1.0)
            started = time.monotonic()
            first_order = await _create(a.base, key, "MP-0")
            first_event = await OrderEvent.filter(order_id=int(_pk(first_order))).first()
            await _wait(lambda: any(e["eventId"] == first_event.id for e in seen_on_b), 10)
            print(f"mutation on A -> subscriber on B: {(time.monotonic() - started) * 1000:.0f} ms (HTTP round trip included)")
            await _wait(lambda: any(e["eventId"] == first_event.id for e in seen_on_a), 10)

            # 2. a stream of changes through both servers, kill -9 A in the middle of webhook delivery
            created: list[str] = []
            for n in range(1, 31):
                created.append(await _create((a if n % 2 else b).base, key, f"MP-{n}"))
            await _wait(lambda: 5 <= len(receiver.received), 20)
            in_flight = await WebhookDelivery.filter(status__in=["pending", "delivering"]).count()
            a.kill9()
            for n in range(31, 46):
                order_id = await _create(b.base, key, f"MP-{n}")
                await _post(b.base, key, HOLD, {"id": order_id})
            a_again = Server("a2", shared_postgres, redis_url, tmp_path, port=a.port)
            a_again.start()
            servers.append(a_again)
            await a_again.healthy()
            for n in range(46, 56):
                await _create(a_again.base, key, f"MP-{n}")

            # the subscriber that lost A reconnects to B with its last event id
            on_a.cancel()
            last_seen = seen_on_a[-1]["eventId"] if seen_on_a else 0
            expected = await OrderEvent.filter(tenant_id=world.tenant.id).order_by("id").values_list("id", flat=True)
            resumed = await asyncio.wait_for(
                collect(b.base, key, EVENTS, len([e for e in expected if e > last_seen]), {"after": last_seen}), 30
            )

            # 3. every committed event reaches the receiver exactly once after de-duplication
            await receiver.wait_for(lambda r: len(r.unique()) >= len(expected), timeout=60)
            await _wait(lambda: len(seen_on_b) >= len(expected), 30)
            on_b.cancel()
            # and every delivery ends succeeded: one A had sent when it was killed (answered, never marked) is
            # sent again once its lease runs out, while the receiver still listens (a repeat, de-duplicated)
            deadline = time.monotonic() + 30
            while await WebhookDelivery.filter(endpoint_id=endpoint.id).exclude(status="succeeded").count():
                assert time.monotonic() < deadline, "a delivery was never marked succeeded"
                await asyncio.sleep(0.1)

        unique = receiver.unique()
        assert receiver.rejected == [], "every request must carry a valid signature"
        assert sorted(unique) == sorted(f"msg_og{e}" for e in expected), "zero lost, nothing foreign"
        assert {u.body["data"]["eventId"] for u in unique.values()} == set(expected)
        duplicates = len(receiver.received) - len(unique)
        print(f"{len(expected)} events, {len(receiver.received)} accepted deliveries ({duplicates} repeats after kill -9), "
              f"{receiver.requests} requests, {in_flight} pending when A was killed")
        assert [e["eventId"] for e in seen_on_b] == list(expected), "the live subscriber on B missed nothing"
        assert [e["eventId"] for e in seen_on_a] + [r["orderEvents"]["eventId"] for r in resumed] == list(expected)
    finally:
        for server in servers:
            server.stop()
        await Tortoise.close_connections()


def _pk(global_id: str) -> str:
    import base64

    return base64.b64decode(global_id).decode().split(":")[1]


async def _follow(base: str, key: str, sink: list[dict[str, Any]]) -> None:
    """Follow orderEvents until the server goes away."""
    from gql import Client

    from tests.live_fixtures import ws_transport

    try:
        async with Client(transport=ws_transport(base, key)) as session:
            async for result in session.subscribe(EVENTS):
                sink.append(result["orderEvents"])
    except Exception:  # noqa: BLE001 - the server was killed: that is the point
        return


async def _wait(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.02)
