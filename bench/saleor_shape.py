"""Saleor-shaped GraphQL documents against a served OrderGraph, next to Saleor's published figures (issue 20).

    .venv/bin/python bench/saleor_shape.py [--orders 10000] [--scale 1.0]

The documents are those of the issue's comparison, written against OrderGraph's
equivalent fields: Saleor's
``orders(first: 50) { edges { node { number created status lines {…} fulfillments {…} events {…} } } }``
becomes ``orders(first: 50) { edges { node { number createdAt status lines {…} shipments {…} events {…} } } }``
(``w3``, the page) and ``order(id:)`` with the same fields (``w1``, one order).
Seeding (~10,000 orders on PostgreSQL, a throw-away database next to
``TEST_DATABASE_URL``'s) and serving (``ordergraph serve``, one uvicorn worker,
production mode) are ``bench/graph_read.py``'s. Each document runs at
concurrency 16; prints one JSON object per figure per line::

    {"name": "w3_c16_rps", "value": 52.1, "unit": "req/s", "baseline": 11.1, "ratio": 4.69}

``baseline`` is Saleor 3.24's figure from the issue (one uvicorn worker, same
documents, ~10,000 orders: 35.6 req/s one order, 11.1 req/s the page, 27.4 ms
p50 one order); ``ratio`` is ours / baseline. Saleor itself is not run here.
Also prints p50/p99, the server's CPU per request and ``loadavg_*``.
Runs in about a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_keys  # noqa: E402
import graph_read  # noqa: E402
from graph_read import emit  # noqa: E402
from tortoise import Tortoise  # noqa: E402

from api.database import tortoise_config  # noqa: E402
from resolvers import ids  # noqa: E402

#: Saleor 3.24 on the issue's machine: requests per second at concurrency 16, and one order's p50 (ms).
SALEOR_W1_RPS = 35.6
SALEOR_W3_RPS = 11.1
SALEOR_W1_P50_MS = 27.4

ORDER_FIELDS = """
      number createdAt status
      lines { id sku title quantity unitPrice }
      shipments { id status carrier trackingNo shippedAt trackingEvents { status occurredAt } }
      events { type createdAt actor reason }
"""

W3_PAGE = f"""
query SaleorOrders($after: String) {{
  orders(first: 50, after: $after) {{
    edges {{ node {{ {ORDER_FIELDS} }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""

W1_ORDER = f"""
query SaleorOrder($id: ID!) {{
  order(id: $id) {{ {ORDER_FIELDS} }}
}}
"""


async def scenario(
    name: str, client: httpx.AsyncClient, key: str, body: Callable[[int], dict[str, Any]], total: int, server_pid: int,
    baseline_rps: float, baseline_p50: float | None = None,
) -> None:
    """``total`` requests at concurrency 16; emit p50 (vs Saleor's, if published), p99, req/s vs Saleor and server CPU."""
    cpu = graph_read.cpu_seconds(server_pid)
    latencies, wall = await graph_read.load(client, key, body, total, 16)
    cpu = graph_read.cpu_seconds(server_pid) - cpu
    p50 = statistics.median(latencies) * 1000
    rps = len(latencies) / wall
    if baseline_p50 is None:
        emit(f"{name}_c16_p50", p50, "ms")
    else:
        emit(f"{name}_c16_p50", p50, "ms", baseline=baseline_p50, ratio=round(p50 / baseline_p50, 3))
    emit(f"{name}_c16_p99", statistics.quantiles(latencies, n=100, method="inclusive")[98] * 1000, "ms")
    emit(f"{name}_c16_rps", rps, "req/s", baseline=baseline_rps, ratio=round(rps / baseline_rps, 2))
    emit(f"{name}_c16_server_cpu", cpu / len(latencies) * 1000, "ms/req")


async def bench(server_url: str, order_count: int, scale: float) -> None:
    bench_keys.use()
    emit("loadavg_1m_start", os.getloadavg()[0], "load")
    name, db_url = await graph_read.create_database(server_url)
    server = None
    try:
        await Tortoise.init(config=tortoise_config(db_url), _enable_global_fallback=True)
        await Tortoise.generate_schemas()
        started = time.perf_counter()
        key, order_ids = await graph_read.seed(order_count, random.Random(42))
        emit("seed_orders", order_count, "orders", seconds=round(time.perf_counter() - started, 1))
        await Tortoise.close_connections()

        port = graph_read.free_port()
        server = graph_read.start_server(db_url, port)
        limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=httpx.Timeout(30), limits=limits) as client:
            await graph_read.wait_healthy(client, server)
            headers = {"authorization": f"Bearer {key}"}
            cursors: list[str | None] = [None]
            for _ in range(19):  # the first 20 pages: page requests walk them in turn
                answer = await client.post("/graphql", json={"query": W3_PAGE, "variables": {"after": cursors[-1]}},
                                           headers=headers)
                cursors.append(answer.json()["data"]["orders"]["pageInfo"]["endCursor"])
            order_gids = [ids.encode("Order", pk) for pk in order_ids]
            page = lambda n: {"query": W3_PAGE, "variables": {"after": cursors[n % len(cursors)]}}  # noqa: E731
            one = lambda n: {"query": W1_ORDER, "variables": {"id": order_gids[(n * 7919) % len(order_gids)]}}  # noqa: E731
            await graph_read.load(client, key, page, 40, 4)  # warm-up
            await graph_read.load(client, key, one, 200, 4)

            await scenario("w1", client, key, one, int(2000 * scale), server.pid, SALEOR_W1_RPS, SALEOR_W1_P50_MS)
            await scenario("w3", client, key, page, int(400 * scale), server.pid, SALEOR_W3_RPS)
        emit("loadavg_1m_end", os.getloadavg()[0], "load")
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        await Tortoise.close_connections()
        await graph_read.drop_database(server_url, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the request counts")
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    asyncio.run(bench(os.environ.get("TEST_DATABASE_URL") or graph_read.DEFAULT_SERVER, args.orders, args.scale))


if __name__ == "__main__":
    main()
