"""Order.erp, Order.wms and Warehouse.liveStock against the simulated Kingdee ERP and Qimen WMS, over HTTP.

A page of orders asks each system once (not once per order); answers are
reused for a few seconds; a system that is down or slow errors only its own
field, with ``extensions.code = SYSTEM_UNAVAILABLE``, while everything else
answers; the evidence each answer came from is readable, redacted.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from adapters.erp.sim_faults import Profile as ErpProfile
from adapters.wms.simulator import Profile as WmsProfile
from api.app import create_app
from models import OrderEvent, SystemExchange
from resolvers import ids
from tests.conftest import GraphQLClient, World, settings_for
from tests.federation_support import SKU, WMS_CODE, CountingSystems, federated, pushed_orders, stock_everywhere

PAGE = """
query Page($first: Int!) {
  orders(first: $first, sort: CREATED_AT, direction: ASC) {
    nodes {
      number status
      erp { connection known status orderedQuantity shippedQuantity amount evidenceId cached }
      wms { code connection pushed status rawStatus waybills { carrier trackingNo } evidenceId cached }
    }
  }
}
"""


@pytest.fixture
async def client(db: str) -> AsyncIterator[tuple[GraphQLClient, Any]]:
    """The app with its adapters counted (the real ones, over HTTP), a 30 s cache and a 1 s budget per request."""
    app = create_app(settings_for(db, federation_cache_seconds=30, federation_budget_seconds=1.0,
                                  drift_check_seconds=0), manage_database=False)
    async with app.router.lifespan_context(app):
        app.state.federation.systems = CountingSystems()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            yield GraphQLClient(http), app


async def test_a_page_of_50_orders_asks_the_erp_once_and_the_wms_once(world: World, client) -> None:
    gql, app = client
    counted: CountingSystems = app.state.federation.systems
    async with federated(world) as fed:
        orders = await pushed_orders(world, fed, 50)
        fed.erp.calls.clear()
        fed.wms.calls.clear()
        data = await gql(world.keys["ops"], PAGE, {"first": 50})
        nodes = data["orders"]["nodes"]
        assert [n["number"] for n in nodes] == [f"OG{o.id:09d}" for o in orders]
        assert all(n["erp"]["known"] and n["erp"]["orderedQuantity"] == 1 and n["erp"]["connection"] == "erp" for n in nodes)
        assert all(n["erp"]["shippedQuantity"] == 0 and Decimal(n["erp"]["amount"]) == Decimal("100") for n in nodes), nodes[0]
        assert all(len(n["wms"]) == 1 and n["wms"][0]["status"] == "ACCEPTED" and n["wms"][0]["pushed"] == "pushed"
                   for n in nodes)
        # One adapter call per system for the whole page ...
        assert counted.count("sales_orders") == 1
        assert counted.count("delivery_states") == 1
        # ... which Kingdee answers in one ExecuteBillQuery, and Qimen (one order per deliveryorder.query, by its
        # standard) with exactly one query per delivery order: never one per field or per order resolver.
        assert fed.erp.calls["query:SAL_SaleOrder"] == 1
        assert fed.wms.calls["deliveryorder.query"] == 50
        assert not any(n["erp"]["cached"] or n["wms"][0]["cached"] for n in nodes)

        # The same page again within the TTL: from the cache, nobody asked.
        again = await gql(world.keys["ops"], PAGE, {"first": 50})
        assert all(n["erp"]["cached"] and n["wms"][0]["cached"] for n in again["orders"]["nodes"])
        assert counted.count("sales_orders") == 1 and fed.wms.calls["deliveryorder.query"] == 50
        assert again["orders"]["nodes"][0]["erp"]["evidenceId"] == nodes[0]["erp"]["evidenceId"]


async def test_each_answer_links_its_redacted_evidence(world: World, client) -> None:
    gql, _ = client
    async with federated(world) as fed:
        [order] = await pushed_orders(world, fed, 1)
        query = """query($id: ID!) { order(id: $id) { erp { evidence { system operation outcome responseBody ref } }
                                                      wms { evidence { system operation outcome requestBody } } } }"""
        data = await gql(world.keys["auditor"], query, {"id": ids.encode("Order", order.id)})
        erp, [wms] = data["order"]["erp"]["evidence"], data["order"]["wms"]
        assert erp["system"] == "erp" and erp["outcome"] == "ok" and f"OG{order.id:09d}" in erp["responseBody"]
        assert erp["ref"].startswith("exchange:")
        assert wms["evidence"]["operation"] == "deliveryorder.query" and f"OG{order.id:09d}" in wms["evidence"]["requestBody"]

        # The push's evidence is reachable from lineage, and a masked role reads no receiver in clear there.
        pushed = await OrderEvent.filter(order_id=order.id, type="wms.delivery_pushed").first()
        assert pushed is not None and pushed.payload_ref and pushed.payload_ref.startswith("exchange:")
        shown = await gql(world.keys["auditor"], "query($ref: String!) { systemExchange(ref: $ref) { operation requestBody } }",
                          {"ref": pushed.payload_ref})
        body = shown["systemExchange"]["requestBody"]
        assert shown["systemExchange"]["operation"] == "deliveryorder.create"
        assert "13800000001" not in body and "李四" not in body and "世纪大道 1 号" not in body


async def test_an_erp_outage_errors_only_the_erp_field(world: World, client) -> None:
    gql, _ = client
    async with federated(world) as fed:
        await pushed_orders(world, fed, 3)
        fed.erp.profile = ErpProfile(down=True)
        response = await gql.post(world.keys["ops"], PAGE, {"first": 10})
        body = response.json()
        assert response.status_code == 200
        nodes = body["data"]["orders"]["nodes"]
        assert len(nodes) == 3
        assert all(n["erp"] is None and n["wms"][0]["status"] == "ACCEPTED" and n["status"] == "ALLOCATED" for n in nodes)
        errors = body["errors"]
        assert {tuple(e["path"][-1:]) for e in errors} == {("erp",)} and len(errors) == 3
        assert all(e["extensions"]["code"] == "SYSTEM_UNAVAILABLE" and e["extensions"]["system"] == "ERP"
                   and e["extensions"]["connection"] == "erp" for e in errors)
        # The failed exchange is evidence too, and counts against the ERP's failure rate.
        assert await SystemExchange.filter(system="erp").exclude(outcome="ok").count() >= 1


async def test_a_slow_wms_errors_only_its_field_within_the_request_budget(world: World, client) -> None:
    gql, _ = client
    async with federated(world) as fed:
        await pushed_orders(world, fed, 2)
        fed.wms.profile = WmsProfile(latency_ms=4000)
        started = time.perf_counter()
        response = await gql.post(world.keys["ops"], PAGE, {"first": 10})
        elapsed = time.perf_counter() - started
        body = response.json()
        assert elapsed < 3.0, elapsed                         # the 1 s budget, not the WMS's 4 s
        assert all(n["wms"] is None and n["erp"]["known"] for n in body["data"]["orders"]["nodes"])
        assert {e["extensions"]["reason"] for e in body["errors"]} == {"TIMEOUT"}
        assert all(e["path"][-1] == "wms" and e["extensions"]["code"] == "SYSTEM_UNAVAILABLE" for e in body["errors"])
        assert await SystemExchange.filter(system="wms", outcome="timeout").count() >= 1


async def test_live_stock_shows_ours_next_to_the_wms_and_the_erp(world: World, client) -> None:
    gql, _ = client
    async with federated(world) as fed:
        await stock_everywhere(world, fed, 40)
        fed.wms.set_stock(WMS_CODE, SKU, 37)          # three units the WMS no longer has
        query = """query($w: ID!, $skus: [String!]!) { node(id: $w) { ... on Warehouse { code liveStock(skus: $skus) {
                     skus ours { sku onHand available }
                     wms { system connection warehouseCode figures { sku onHand ours difference } evidenceId }
                     erp { system warehouseCode figures { sku onHand ours difference } } } } } }"""
        data = await gql(world.keys["warehouse"], query, {"w": ids.encode("Warehouse", fed.warehouse_id), "skus": [SKU, "NOPE-1"]})
        live = data["node"]["liveStock"]
        assert live["ours"] == [{"sku": SKU, "onHand": 40, "available": 40}]
        assert live["wms"]["warehouseCode"] == WMS_CODE and live["wms"]["evidenceId"]
        assert live["wms"]["figures"][0] == {"sku": SKU, "onHand": 37, "ours": 40, "difference": -3}
        assert live["wms"]["figures"][1] == {"sku": "NOPE-1", "onHand": 0, "ours": None, "difference": 0}
        assert live["erp"]["figures"][0] == {"sku": SKU, "onHand": 40, "ours": 40, "difference": 0}

        fed.wms.profile = WmsProfile.read({"outages": [{"after_s": 0, "for_s": 60}]})
        response = await gql.post(world.keys["warehouse"], query, {"w": ids.encode("Warehouse", fed.warehouse_id), "skus": ["CUP-01"]})
        body = response.json()
        assert body["data"]["node"]["liveStock"]["erp"]["figures"][0]["sku"] == "CUP-01"
        assert body["data"]["node"]["liveStock"]["wms"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["SYSTEM_UNAVAILABLE"]

        bad = await gql.post(world.keys["ops"], query, {"w": ids.encode("Warehouse", fed.warehouse_id), "skus": []})
        assert bad.status_code == 200
        assert bad.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "skus"}


async def test_the_failure_rate_counts_failed_and_disagreed_exchanges(world: World, client) -> None:
    gql, app = client
    async with federated(world) as fed:
        await pushed_orders(world, fed, 2)
        fed.erp.profile = ErpProfile(down=True)
        await gql.post(world.keys["ops"], PAGE, {"first": 10})
        data = await gql(world.keys["ops"], "{ crossSystemFailureRate(days: 7) { connection system total failed ratio target "
                                            "days { day total failed } } }")
        rates = {r["connection"]: r for r in data["crossSystemFailureRate"]}
        erp = rates["erp"]
        assert erp["failed"] >= 1 and erp["total"] >= erp["failed"] and erp["ratio"] == pytest.approx(erp["failed"] / erp["total"])
        assert erp["target"] == 0.003 and len(erp["days"]) == 7
        assert erp["days"][-1]["day"] == datetime.now(UTC).date().isoformat() and erp["days"][-1]["failed"] == erp["failed"]
        assert rates["wms-sh"]["failed"] == 0 and rates["wms-sh"]["total"] >= 3   # two pushes and the page's queries

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            metrics = (await http.get("/metrics")).text
        line = next(line for line in metrics.splitlines()
                    if line.startswith('ordergraph_cross_system_failure_ratio{system="acme/erp"}'))
        assert float(line.split()[-1]) == pytest.approx(erp["ratio"])

        refused = await gql.post(world.keys["ops"], "{ crossSystemFailureRate(days: 90) { connection } }")
        assert refused.json()["errors"][0]["extensions"]["code"] == "VALIDATION"


async def test_an_order_without_erp_or_wms_answers_null_and_empty(world: World, client) -> None:
    gql, _ = client
    from tests.helpers import paid_order

    order = await paid_order(world.actor(), world.channel.id, "PLAIN1")
    data = await gql(world.keys["ops"], "query($id: ID!) { order(id: $id) { erp { known } wms { code } } }",
                     {"id": ids.encode("Order", order.id)})
    assert data["order"] == {"erp": None, "wms": []}



async def test_with_redis_the_answers_are_shared_by_every_worker(world: World, db: str) -> None:
    """Two app instances (two workers) on one Redis: the second serves the page from the first one's answers."""
    from tests.live_fixtures import redis_url_or_skip

    redis_url = await redis_url_or_skip()
    from redis import asyncio as aioredis

    flush = aioredis.from_url(redis_url)
    for key in [k async for k in flush.scan_iter("og:fed:*")]:
        await flush.delete(key)
    await flush.aclose()
    async with federated(world) as fed:
        await pushed_orders(world, fed, 5)
        counts = []
        for _ in range(2):
            app = create_app(settings_for(db, redis_url=redis_url, federation_cache_seconds=30, drift_check_seconds=0),
                             manage_database=False)
            async with app.router.lifespan_context(app):
                counted = CountingSystems()
                app.state.federation.systems = counted
                async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
                    data = await GraphQLClient(http)(world.keys["ops"], PAGE, {"first": 10})
                counts.append((counted.count("sales_orders"), counted.count("delivery_states"),
                               [n["erp"]["cached"] for n in data["orders"]["nodes"]]))
        assert counts[0] == (1, 1, [False] * 5)
        assert counts[1] == (0, 0, [True] * 5)
