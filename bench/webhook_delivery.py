"""Webhook delivery throughput: what the sender's bookkeeping costs on top of the signed POSTs themselves.

    .venv/bin/python bench/webhook_delivery.py [--orders 1500] [--events 4] [--rounds 2]

Creates a throw-away PostgreSQL database on the server of ``TEST_DATABASE_URL``
(default postgres://postgres@127.0.0.1:5432/test) and a partner endpoint in its
own process (a uvicorn server answering 204, so its CPU is not the sender's).
Each round queues ``--orders`` × ``--events`` deliveries (each order's events
are a chain: delivered strictly in order) and times one ``WebhookSender``
(concurrency 16, as served) draining them; then, as the floor, the same
signed bodies POSTed by the same kind of client at the same concurrency with
no database at all. Rounds alternate so both see the same machine. Prints one
JSON object per figure per line:

- ``webhook_deliveries_per_s``: the sender, claim to bookkeeping;
- ``webhook_bare_posts_per_s``: signed POSTs only;
- ``webhook_delivery_vs_bare_post``: the first over the second (1.0 = bookkeeping is free);
- ``webhook_sender_cpu_ms_per_delivery``: this process's CPU per delivery while the sender ran.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from domain.tenants.accounts import create_tenant  # noqa: E402
from events.webhooks import signing  # noqa: E402
from events.webhooks.sender import WebhookSender  # noqa: E402
from federation import throwaway_database  # noqa: E402
from models import WebhookDelivery, WebhookEndpoint, WebhookSecret  # noqa: E402

CONCURRENCY = 16
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


async def _partner(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    """The partner: reads the body and answers 204 (an ASGI app, so it costs the partner process little)."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_partner() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "--app-dir", str(ROOT / "bench"), "--port", str(port),
                                "--log-level", "warning", "--no-access-log", "webhook_delivery:_partner"])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.post(f"http://127.0.0.1:{port}/", content=b"{}")
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    return process, f"http://127.0.0.1:{port}/"


async def _queue(endpoint: WebhookEndpoint, tenant_id: int, orders: int, events: int, first_event: int) -> None:
    now = datetime.now(UTC)
    rows = []
    for index in range(orders * events):
        event_id = first_event + index
        order_id = 1 + index % orders
        body = {"type": "order.updated", "timestamp": now.isoformat(),
                "data": {"eventId": event_id, "order": {"id": f"T3JkZXI6{order_id}", "status": "ALLOCATED"},
                         "reason": "bench", "payload": {"lines": [{"sku": "TEA-1", "quantity": 2}] * 3}}}
        rows.append(WebhookDelivery(endpoint_id=endpoint.id, tenant_id=tenant_id, event_id=event_id,
                                    event_type="order.updated", order_id=order_id, message_id=f"msg_og{event_id}",
                                    payload=body, status="pending", next_attempt_at=now, event_created_at=now))
    await WebhookDelivery.bulk_create(rows, batch_size=1000)


async def _sender_round(endpoint: WebhookEndpoint, tenant_id: int, orders: int, events: int,
                        first_event: int) -> tuple[float, float]:
    await _queue(endpoint, tenant_id, orders, events, first_event)
    total = orders * events
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=CONCURRENCY)) as client:
        sender = WebhookSender(client, concurrency=CONCURRENCY, poll_interval=0.05)
        cpu, started = time.process_time(), time.perf_counter()
        await sender.start()
        while await WebhookDelivery.filter(status="succeeded", event_id__gte=first_event).count() < total:
            await asyncio.sleep(0.05)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        await sender.stop()
    return total / elapsed, cpu * 1000 / total


async def _bare_round(url: str, bodies: list[tuple[str, bytes]]) -> float:
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=CONCURRENCY)) as client:
        queue = list(reversed(bodies))

        async def worker() -> None:
            while queue:
                message_id, body = queue.pop()
                headers = signing.headers([SECRET], message_id, int(time.time()), body)
                response = await client.post(url, content=body, headers=headers)
                assert response.status_code == 204

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return len(bodies) / (time.perf_counter() - started)


async def bench(orders: int, events: int, rounds: int) -> None:
    logging.getLogger("tortoise").setLevel(logging.WARNING)
    partner, url = _start_partner()
    try:
        tenant = await create_tenant("bench", "Bench Tea")
        endpoint = await WebhookEndpoint.create(tenant_id=tenant.id, url=url, status="active", event_types=[])
        await WebhookSecret.create(endpoint_id=endpoint.id, secret=SECRET)
        sent, bare, cpu = [], [], []
        for round_index in range(rounds):
            rate, cpu_ms = await _sender_round(endpoint, tenant.id, orders, events, 1 + round_index * orders * events)
            sent.append(rate)
            cpu.append(cpu_ms)
            payloads = await WebhookDelivery.filter(event_id__gte=1 + round_index * orders * events) \
                .order_by("id").values_list("message_id", "payload")
            bare.append(await _bare_round(url, [(m, json.dumps(p, separators=(",", ":"), ensure_ascii=False).encode())
                                                for m, p in payloads]))
        delivered = statistics.median(sent)
        floor = statistics.median(bare)
        for name, value, unit in (("webhook_deliveries_per_s", delivered, "deliveries/s"),
                                  ("webhook_bare_posts_per_s", floor, "posts/s"),
                                  ("webhook_delivery_vs_bare_post", delivered / floor, "ratio"),
                                  ("webhook_sender_cpu_ms_per_delivery", statistics.median(cpu), "ms")):
            print(json.dumps({"name": name, "value": round(value, 3), "unit": unit}), flush=True)
        print(json.dumps({"name": "webhook_rounds", "sender": [round(r, 1) for r in sent],
                          "bare": [round(r, 1) for r in bare], "load": os.getloadavg()[0]}), file=sys.stderr)
    finally:
        partner.terminate()
        partner.wait(10)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1500)
    parser.add_argument("--events", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    options = parser.parse_args()
    async with throwaway_database("og_bench_webhooks"):
        await bench(options.orders, options.events, options.rounds)


if __name__ == "__main__":
    asyncio.run(main())
