"""One order fetched ad hoc vs as a persisted query, on the in-process app (httpx ASGI transport, SQLite).

    .venv/bin/python bench/persisted.py [--rounds 300]

Seeds a throw-away SQLite database with one tenant and one paid order, registers
the order-detail document, then alternates the two requests (same variables,
same key) and prints one JSON object per line:

    {"name": "adhoc_one_order_p50", "value": 4.1, "unit": "ms"}
    {"name": "persisted_one_order_p50", "value": 4.0, "unit": "ms"}
    {"name": "persisted_vs_adhoc_one_order", "value": 0.97, "unit": "ratio"}

The ratio is persisted p50 / ad-hoc p50 (below 1: persisted is faster). Today
both paths parse and validate through Strawberry's ParserCache/ValidationCache;
the persisted one adds a cached look-up and a body rewrite. Issue 20's target is
to execute ``api.persisted.Prepared.document`` directly and push the ratio down.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from tortoise import Tortoise  # noqa: E402

from api.app import create_app  # noqa: E402
from api.database import tortoise_config  # noqa: E402
from api.settings import Settings  # noqa: E402
from domain import orders  # noqa: E402
from domain.actor import Actor, Role  # noqa: E402
from domain.catalog import setup as catalog  # noqa: E402
from domain.orders.create import NewAddress, NewCustomer, NewLine, NewOrder, NewPayment  # noqa: E402
from domain.tenants.accounts import create_api_key, create_tenant  # noqa: E402

ONE_ORDER = """query OneOrder($search: String!) {
  orders(filter: {search: $search}, first: 1) {
    nodes {
      id number externalId status currency totalAmount goodsTotal placedAt tags
      channel { code name }
      lines { sku title quantity unitPrice }
      payments { gateway amount currency status }
      events { type actor source createdAt }
    }
  }
}"""
REGISTER = """mutation($document: String!) {
  registerPersistedQuery(document: $document) { persistedQuery { documentId } errors { code message } }
}"""


def emit(name: str, value: float, unit: str) -> None:
    print(json.dumps({"name": name, "value": round(value, 3), "unit": unit}), flush=True)


async def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite://{folder}/bench.sqlite3"
        await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
        await Tortoise.generate_schemas()
        tenant = await create_tenant("bench", "bench merchant")
        channel = await catalog.create_channel(tenant.id, "tmall", "taobao", "Tmall")
        actor = Actor(tenant_id=tenant.id, role=Role.OPS, name="bench")
        order = await orders.create_order(actor, NewOrder(
            channel_id=channel.id, external_id="B1",
            lines=[NewLine(sku="TEA-001", quantity=1, unit_price=Decimal("100.00"))],
            customer=NewCustomer(name="李四", phone="13812341234"),
            address=NewAddress(name="李四", phone="13812341234", province="上海", city="上海", district="浦东新区",
                               address="世纪大道 1 号"),
            payment=NewPayment(gateway="wechatpay", amount=Decimal("100.00")),
        ))
        admin = (await create_api_key("bench", Role.ADMIN, owner="bench"))[1]
        partner = (await create_api_key("bench", Role.PARTNER, owner="bench"))[1]
        app = create_app(Settings(database_url=url, poll_interval=0.05, poll_seconds=0, tracking_round_seconds=0,
                                  alert_wake_seconds=0, rules_enabled=False, reconcile_hour=0, audit_enabled=False,
                                  notify_enabled=False), manage_database=False)
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
                registered = (await http.post("/graphql", json={"query": REGISTER, "variables": {"document": ONE_ORDER}},
                                              headers={"authorization": f"Bearer {admin}"})).json()
                document_id = registered["data"]["registerPersistedQuery"]["persistedQuery"]["documentId"]
                variables = {"search": f"OG{order.id:09d}"}
                bodies = {"adhoc": {"query": ONE_ORDER, "variables": variables},
                          "persisted": {"documentId": document_id, "variables": variables}}
                headers = {"authorization": f"Bearer {partner}"}
                timings: dict[str, list[float]] = {"adhoc": [], "persisted": []}
                for warm in range(rounds + 20):
                    for name, body in bodies.items():
                        started = time.perf_counter()
                        response = await http.post("/graphql", json=body, headers=headers)
                        elapsed = time.perf_counter() - started
                        assert response.status_code == 200 and "errors" not in response.json(), response.text
                        if warm >= 20:
                            timings[name].append(elapsed * 1000)
        await Tortoise.close_connections()
    adhoc, persisted = (statistics.median(timings[name]) for name in ("adhoc", "persisted"))
    emit("adhoc_one_order_p50", adhoc, "ms")
    emit("persisted_one_order_p50", persisted, "ms")
    emit("persisted_vs_adhoc_one_order", persisted / adhoc, "ratio")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    asyncio.run(main(parser.parse_args().rounds))
