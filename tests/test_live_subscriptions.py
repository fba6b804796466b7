"""Subscriptions through a real graphql-transport-ws client (gql) against a real uvicorn server."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from gql import Client, GraphQLRequest, gql

from domain import orders
from domain.actor import Role
from domain.alerts.raising import raise_alert
from domain.catalog import setup as catalog
from domain.stock import levels as stock_domain
from domain.unit_of_work import unit_of_work
from models import OrderEvent
from resolvers import ids
from tests.helpers import paid_order
from tests.live_fixtures import (  # noqa: F401 - fixture
    collect,
    live_server,
    redis_url,
    wait_until,
    ws_transport,
)

EVENTS = gql("subscription($after: Int, $filter: OrderEventFilter) { orderEvents(after: $after, filter: $filter) { eventId type: typeCode order { externalId status } } }")


async def _subscribed(app, count: int = 1) -> None:
    """Wait until the server holds ``count`` bus subscriptions: from then on nothing committed is missed."""
    await wait_until(lambda: app.state.bus.subscriber_count >= count, 10)


async def test_a_committed_change_reaches_the_subscriber_within_milliseconds(world, db):
    async with live_server(db) as (base, app):
        task = asyncio.create_task(collect(base, world.keys["partner"], EVENTS, 2))
        await _subscribed(app)
        order = await paid_order(world.actor(), world.channel.id, "LIVE-1")
        await orders.hold_order(world.actor(), order.id, ["address check"])
        received = await asyncio.wait_for(task, 10)
    assert [(r["orderEvents"]["type"], r["orderEvents"]["order"]["externalId"]) for r in received] == [
        ("order.created", "LIVE-1"),
        ("order.hold_added", "LIVE-1"),
    ]


async def test_reconnecting_with_the_last_event_id_loses_nothing(world, db):
    async with live_server(db) as (base, app):
        task = asyncio.create_task(collect(base, world.keys["ops"], EVENTS, 1))
        await _subscribed(app)
        first = await paid_order(world.actor(), world.channel.id, "R-1")
        last_seen = (await asyncio.wait_for(task, 10))[0]["orderEvents"]["eventId"]
        await wait_until(lambda: app.state.bus.subscriber_count == 0, 10)
        # disconnected: these happen while nobody listens
        await orders.hold_order(world.actor(), first.id, ["x"])
        second = await paid_order(world.actor(), world.channel.id, "R-2")
        task = asyncio.create_task(collect(base, world.keys["ops"], EVENTS, 4, {"after": last_seen}))
        await _subscribed(app)
        await orders.cancel_order(world.actor(), second.id, "customer changed mind")
        received = [r["orderEvents"] for r in await asyncio.wait_for(task, 10)]
    expected = await OrderEvent.filter(id__gt=last_seen).order_by("id").values_list("id", flat=True)
    assert [r["eventId"] for r in received] == list(expected)
    assert [r["type"] for r in received] == ["order.hold_added", "alert.raised", "order.created", "order.cancelled"]


async def test_filters_by_type_pattern_status_and_order(world, db):
    async with live_server(db) as (base, app):
        kept = await paid_order(world.actor(), world.channel.id, "F-1")
        other = await paid_order(world.actor(), world.channel.id, "F-2")
        wanted = {"orders": [ids.encode("Order", kept.id)], "types": ["order.hold*"], "statuses": ["ON_HOLD"]}
        task = asyncio.create_task(collect(base, world.keys["ops"], EVENTS, 1, {"filter": wanted}))
        await _subscribed(app)
        await orders.hold_order(world.actor(), other.id, ["not this order"])
        await orders.cancel_order(world.actor(), kept.id, "not this type")
        again = await paid_order(world.actor(), world.channel.id, "F-3")
        await orders.hold_order(world.actor(), again.id, ["nor this"])
        await asyncio.sleep(0.5)
        assert not task.done()
        task.cancel()


async def test_order_status_sends_the_snapshot_first_then_each_change(world, db):
    order = await paid_order(world.actor(), world.channel.id, "S-1")
    query = gql("subscription($id: ID!) { orderStatus(order: $id) { eventId status holdReasons order { status } event { type: typeCode } } }")
    async with live_server(db) as (base, app):
        task = asyncio.create_task(collect(base, world.keys["service"], query, 3, {"id": ids.encode("Order", order.id)}))
        await _subscribed(app)
        await orders.hold_order(world.actor(), order.id, ["fraud check"])
        await orders.release_hold(world.actor(), order.id)
        updates = [r["orderStatus"] for r in await asyncio.wait_for(task, 10)]
    assert updates[0]["event"] is None and updates[0]["status"] == updates[0]["order"]["status"] == "PAID"
    assert [(u["event"]["type"], u["status"], u["holdReasons"]) for u in updates[1:]] == [
        ("order.hold_added", "ON_HOLD", ["fraud check"]),
        ("order.hold_released", "PAID", []),
    ]
    assert updates[1]["eventId"] < updates[2]["eventId"]


async def test_order_status_of_another_tenant_is_not_found(world, other_world, db):
    theirs = await paid_order(other_world.actor(), other_world.channel.id, "THEIRS")
    query = gql("subscription($id: ID!) { orderStatus(order: $id) { eventId } }")
    async with live_server(db) as (base, _):
        async with Client(transport=ws_transport(base, world.keys["admin"])) as session:
            with pytest.raises(Exception) as error:
                async for _ in session.subscribe(GraphQLRequest(query, variable_values={"id": ids.encode("Order", theirs.id)})):
                    pass
    assert "no such order" in str(error.value)


async def test_alerts_are_pushed(world, db):
    query = gql("subscription { alerts { type kind message alert { severity } } }")
    async with live_server(db) as (base, app):
        task = asyncio.create_task(collect(base, world.keys["ops"], query, 1))
        await _subscribed(app)
        async with unit_of_work():
            await raise_alert(tenant_id=world.tenant.id, kind="shipment.stalled", message="no scan for 48 h", severity="critical")
        alert = (await asyncio.wait_for(task, 10))[0]["alerts"]
    assert alert == {"type": "alert.raised", "kind": "shipment.stalled", "message": "no scan for 48 h", "alert": {"severity": "CRITICAL"}}


async def test_stock_levels_snapshot_then_changes_of_the_requested_skus(world, db):
    admin = world.actor(Role.ADMIN)
    sh, gz = world.warehouses[0], world.warehouses[1]
    for sku in ("TEA-001", "CUP-01"):
        await catalog.upsert_sku(world.tenant.id, sku, sku)
    await stock_domain.receive_stock(admin, sh.id, "TEA-001", 10)
    query = gql("subscription { stockLevels(skus: [\"TEA-001\"]) { event { type: typeCode } levels { sku onHand available warehouse { code } } } }")
    async with live_server(db) as (base, app):
        task = asyncio.create_task(collect(base, world.keys["ops"], query, 2))
        await _subscribed(app)
        await stock_domain.receive_stock(admin, gz.id, "CUP-01", 5)  # another SKU: nothing
        await stock_domain.receive_stock(admin, gz.id, "TEA-001", 7)
        updates = [r["stockLevels"] for r in await asyncio.wait_for(task, 10)]
    assert updates[0]["event"] is None
    assert updates[0]["levels"] == [{"sku": "TEA-001", "onHand": 10, "available": 10, "warehouse": {"code": "SH"}}]
    assert updates[1]["event"]["type"] == "stock.received"
    assert updates[1]["levels"] == [{"sku": "TEA-001", "onHand": 7, "available": 7, "warehouse": {"code": "GZ"}}]


async def _raw(base: str):
    return websockets.connect(base.replace("http", "ws", 1) + "/graphql", subprotocols=["graphql-transport-ws"])


async def _closed_code(ws) -> tuple[int, str]:
    with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), timeout=5)
    return closed.value.rcvd.code, closed.value.rcvd.reason


@pytest.mark.parametrize("payload", [{}, {"apiKey": "og_forged"}, {"Authorization": "Bearer nope"}])
async def test_unauthenticated_connection_init_is_rejected(world, db, payload):
    async with live_server(db) as (base, _):
        async with await _raw(base) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            code, _ = await _closed_code(ws)
    assert code == 4403


async def test_a_key_used_for_another_tenant_is_rejected_at_connection_init(world, other_world, db):
    async with live_server(db) as (base, _):
        async with await _raw(base) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"apiKey": world.keys["partner"], "tenant": "rival"}}))
            code, _ = await _closed_code(ws)
        async with await _raw(base) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"apiKey": world.keys["partner"], "tenant": "acme"}}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"
    assert code == 4403


@pytest.mark.parametrize(
    "message",
    [
        "not json at all",
        json.dumps([1, 2, 3]),
        json.dumps({"type": 7}),
        json.dumps({"type": "subscribe", "id": "1", "payload": "subscription { orderEvents { type } }"}),
        json.dumps({"type": "subscribe", "id": 1, "payload": {"query": "subscription { orderEvents { type } }"}}),
        json.dumps({"type": "subscribe", "id": "1", "payload": {"query": "subscription {"}}),
        json.dumps({"type": "subscribe", "id": "1", "payload": {"query": "subscription { orderEvents { type } }", "variables": [1]}}),
        json.dumps({"type": "no_such_type"}),
    ],
)
async def test_malformed_messages_close_with_4400(world, db, message):
    async with live_server(db) as (base, _):
        async with await _raw(base) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"apiKey": world.keys["ops"]}}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"
            await ws.send(message)
            code, _ = await _closed_code(ws)
    assert code == 4400


async def test_a_slow_subscriber_is_closed_with_a_clear_reason_and_resumes_without_loss(world, db):
    """With room for 20 pending events, a burst of 300 overflows: 1013 + reason; resuming catches up from the database."""
    async with live_server(db, live_max_pending=20) as (base, app):
        async with await _raw(base) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"apiKey": world.keys["ops"]}}))
            await asyncio.wait_for(ws.recv(), 5)
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "subscription { orderEvents { eventId } }"}}))
            await _subscribed(app)
            async with unit_of_work():
                for n in range(300):
                    await OrderEvent.create(tenant_id=world.tenant.id, type="test.burst", actor="t", source="t", reason=str(n))
            seen: list[int] = []
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if message["type"] == "next" and message["payload"].get("data"):
                        seen.append(message["payload"]["data"]["orderEvents"]["eventId"])
        assert closed.value.rcvd.code == 1013
        assert "resume" in closed.value.rcvd.reason
        last = seen[-1] if seen else 0
        rest = await collect(base, world.keys["ops"], gql("subscription($after: Int) { orderEvents(after: $after) { eventId } }"),
                             300 - len(seen), {"after": last})
    everything = seen + [r["orderEvents"]["eventId"] for r in rest]
    assert everything == sorted(await OrderEvent.filter(type="test.burst").values_list("id", flat=True))


async def test_over_redis_every_change_reaches_every_subscriber(world, db, redis_url):  # noqa: F811
    """REDIS_URL set: the leader publishes through Redis; identical subscriptions share one execution."""
    async with live_server(db, redis_url=redis_url) as (base, app):
        await wait_until(lambda: app.state.bus.connected.is_set(), 10)
        tasks = [asyncio.create_task(collect(base, world.keys["ops"], EVENTS, 5)) for _ in range(3)]  # with the hold's alert
        await wait_until(lambda: app.state.bus.subscriber_count >= 1 and _shared_listeners(app) >= 3, 10)
        order = await paid_order(world.actor(), world.channel.id, "REDIS-1")
        await orders.hold_order(world.actor(), order.id, ["x"])
        await orders.release_hold(world.actor(), order.id)
        results = [[r["orderEvents"]["eventId"] for r in await asyncio.wait_for(t, 10)] for t in tasks]
    expected = list(await OrderEvent.filter(order_id=order.id).order_by("id").values_list("id", flat=True))
    assert results == [expected] * 3


def _shared_listeners(app) -> int:
    from api.graphql_app import GraphQLApp

    for route in app.routes:
        endpoint = getattr(route, "app", None) or getattr(route, "endpoint", None)
        if isinstance(endpoint, GraphQLApp) and getattr(endpoint, "_shared_streams", None):
            return sum(len(s.listeners) for s in endpoint._shared_streams.streams.values())
    return 0


async def test_identical_subscriptions_share_a_stream_per_role_and_each_role_keeps_its_masking(world, db):
    """Two ops sockets and two partner sockets send one document: two shared streams, phones in clear only for ops."""
    query = gql("subscription { orderEvents(filter: {types: [\"order.hold_added\"]}) { eventId order { shippingAddress { phone name } } } }")
    async with live_server(db) as (base, app):
        order = await paid_order(world.actor(), world.channel.id, "MASK-1", phone="13812345678")
        keys = [world.keys["ops"], world.keys["ops"], world.keys["partner"], world.keys["partner"]]
        tasks = [asyncio.create_task(collect(base, key, query, 1)) for key in keys]
        await wait_until(lambda: _shared_listeners(app) >= 4, 10)
        assert _shared_stream_count(app) == 2  # one per (role, document), not one per socket
        await orders.hold_order(world.actor(), order.id, ["check"])
        results = [(await asyncio.wait_for(task, 10))[0]["orderEvents"]["order"]["shippingAddress"] for task in tasks]
    assert results[0] == results[1] == {"phone": "13812345678", "name": "李四"}
    assert results[2] == results[3] == {"phone": "138****5678", "name": "李*"}


def _shared_stream_count(app) -> int:
    from api.graphql_app import GraphQLApp

    for route in app.routes:
        endpoint = getattr(route, "app", None) or getattr(route, "endpoint", None)
        if isinstance(endpoint, GraphQLApp) and getattr(endpoint, "_shared_streams", None):
            return len(endpoint._shared_streams.streams)
    return 0
