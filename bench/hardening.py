"""Hostile load against a served app: how fast the worst query is refused, and how many fuzz cases get a 5xx.

    .venv/bin/python bench/hardening.py [--cases 4000] [--orders 500]

Creates a throw-away PostgreSQL database (``TEST_DATABASE_URL``), seeds a
tenant with orders, serves the app (uvicorn, one worker, production mode) and
prints one JSON object per figure:

- ``costly_query_refused_p50_ms`` / ``_p99_ms``: 20 aliases of
  ``orders(first:100){nodes{customer{orders(first:100){nodes{lines events(last:100) shipments{trackingEvents}}}}}}``
  (5.9 s and 10.7 MB before the cost limit), refused before execution; target < 50 ms;
- ``trivial_query_p50_ms`` and ``costly_refused_vs_trivial`` (ratio): the same
  round trip for ``{ viewer { role } }``, measured in the same run;
- ``fuzz_cases`` and ``fuzz_5xx``: generated queries and mutations (valid and
  invalid, hypothesis-graphql) sent as an admin; target 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from datetime import UTC
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench_keys  # noqa: E402
from tortoise import Tortoise  # noqa: E402

from api import database  # noqa: E402
from domain import orders  # noqa: E402
from domain.actor import Actor, Role  # noqa: E402
from domain.catalog import setup as catalog  # noqa: E402
from domain.orders.create import NewAddress, NewCustomer, NewLine, NewOrder, NewPayment  # noqa: E402
from domain.tenants.accounts import create_api_key, create_tenant  # noqa: E402
from schema import build_schema  # noqa: E402
from tests.served import served  # noqa: E402

COSTLY = "{ " + " ".join(
    f"a{i}: orders(first: 100) {{ nodes {{ customer {{ orders(first: 100) {{ nodes {{ lines {{ sku }} "
    "events(last: 100) { type } shipments { trackingEvents { status } } } } } } }"
    for i in range(20)
) + " }"
SCALARS = {
    "Decimal": st.one_of(st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
                         st.text(max_size=30)).map(nodes.String),
    "DateTime": st.one_of(st.datetimes(timezones=st.just(UTC)).map(lambda m: m.isoformat()),
                          st.text(max_size=30)).map(nodes.String),
    "JSON": st.one_of(st.integers(), st.text(max_size=50)).map(
        lambda v: nodes.Int(v) if isinstance(v, int) else nodes.String(v)),
}


def figure(name: str, value: float, unit: str) -> None:
    print(json.dumps({"name": name, "value": round(value, 2), "unit": unit}), flush=True)


async def seed(url: str, order_count: int) -> str:
    await database.migrate(url)
    await database.init_db(url)
    tenant = await create_tenant("bench", "Bench")
    channel = await catalog.create_channel(tenant.id, "tmall", "taobao", "Tmall")
    actor = Actor(tenant_id=tenant.id, role=Role.OPS, name="bench")
    for n in range(order_count):
        await orders.create_order(actor, NewOrder(
            channel_id=channel.id, external_id=f"B-{n}",
            lines=[NewLine("TEA-1", 1, Decimal("10.00")), NewLine("CUP-1", 2, Decimal("5.00"))],
            customer=NewCustomer(name="李四", phone=f"1380000{n % 10000:04d}"),
            address=NewAddress(name="李四", province="浙江", city="杭州", address="文三路"),
            payment=NewPayment("alipay", Decimal("20.00"))))
    _, secret = await create_api_key("bench", Role.ADMIN, owner="bench")
    await Tortoise.close_connections()
    return secret


def timed(client: httpx.Client, key: str, query: str, rounds: int) -> list[float]:
    elapsed = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.post("/graphql", json={"query": query}, headers={"authorization": f"Bearer {key}"})
        elapsed.append((time.perf_counter() - started) * 1000)
        assert response.status_code < 500, response.text[:200]
    return elapsed


def fuzz(client: httpx.Client, key: str, cases: int) -> tuple[int, int]:
    schema = build_schema(production=False)._schema  # the production server hides introspection; same types
    sent = failures = 0
    per = max(cases // 4, 1)

    for strategy in (queries(schema, mode=Mode.POSITIVE, custom_scalars=SCALARS),
                     mutations(schema, mode=Mode.POSITIVE, custom_scalars=SCALARS),
                     queries(schema, mode=Mode.NEGATIVE, custom_scalars=SCALARS),
                     mutations(schema, mode=Mode.NEGATIVE, custom_scalars=SCALARS)):
        @settings(max_examples=per, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(document=strategy)
        def case(document: str) -> None:
            nonlocal sent, failures
            response = client.post("/graphql", json={"query": document}, headers={"authorization": f"Bearer {key}"})
            sent += 1
            failures += response.status_code >= 500

        case()
    return sent, failures


async def main(cases: int, order_count: int) -> None:
    base = os.environ.get("TEST_DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/test"
    name = f"og_bench_hard_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(base)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = base.rsplit("/", 1)[0] + "/" + name
    try:
        bench_keys.use()
        key = await seed(url, order_count)
        env = {"ORDERGRAPH_ENV": "production", **bench_keys.ENV,
               "ORDERGRAPH_TRACKING_SECRET": "bench-tracking-secret-0123456789"}
        with served(url, **env) as server, httpx.Client(base_url=server, timeout=60) as client:
            timed(client, key, "{ viewer { role } }", 20)  # warm up
            trivial = timed(client, key, "{ viewer { role } }", 200)
            costly = timed(client, key, COSTLY, 200)
            figure("costly_query_refused_p50_ms", statistics.median(costly), "ms")
            figure("costly_query_refused_p99_ms", statistics.quantiles(costly, n=100)[98], "ms")
            figure("trivial_query_p50_ms", statistics.median(trivial), "ms")
            figure("costly_refused_vs_trivial", statistics.median(costly) / statistics.median(trivial), "ratio")
            sent, failures = await asyncio.to_thread(fuzz, client, key, cases)
            figure("fuzz_cases", sent, "requests")
            figure("fuzz_5xx", failures, "responses")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=4000)
    parser.add_argument("--orders", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(main(args.cases, args.orders))
