"""The pick queue: urgent tiers first then ship-by, priority changes with who and why, exactly one picker."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from gql import Client
from gql import gql as gql_document

from domain.actor import Role
from domain.allocation import pick_queue
from domain.allocation import policy as allocation_policy
from domain.errors import Conflict, NotFound, ValidationFailed
from models import Order, OrderEvent
from resolvers import ids
from tests.helpers import key_actor
from tests.served import served
from tests.stock_fixtures import order, place_warehouses, stock_up
from tests.test_subscriptions_ws import transport

QUEUE = """query($w: ID!, $first: Int, $after: String) { pickQueue(warehouse: $w, first: $first, after: $after) {
  warehouse { code } entries { position priority shipBy cursor lines { sku quantity } order { externalId status } }
  pageInfo { hasNextPage endCursor } } }"""
PRIORITY = "mutation($i: SetOrderPriorityInput!) { setOrderPriority(input: $i) { order { externalId } errors { code field } } }"
CLAIM = "mutation($i: ClaimPickInput!) { claimPick(input: $i) { order { externalId status } errors { code message } } }"


async def _three_orders(world) -> tuple[str, list[Order]]:  # noqa: ANN001
    await place_warehouses(world)
    await stock_up(world, {"TEA": 20})
    await allocation_policy.save_policy(world.actor(), {"strategy": "priority"})  # everything goes to SH
    placed = [await order(world, f"Q{n}", {"TEA": 1}) for n in range(3)]
    sh = next(w for w in world.warehouses if w.code == "SH")
    return ids.encode("Warehouse", sh.id), placed


def _names(data: dict) -> list[str]:
    return [entry["order"]["externalId"] for entry in data["pickQueue"]["entries"]]


async def test_queue_orders_by_tier_then_ship_by_and_records_who_raised_it(world, gql):
    warehouse, placed = await _three_orders(world)
    key = world.keys["ops"]
    assert _names(await gql(key, QUEUE, {"w": warehouse})) == ["Q0", "Q1", "Q2"]  # same tier: by ship-by (placement)

    raised = await gql(key, PRIORITY, {"i": {"id": ids.encode("Order", placed[2].id), "tier": "URGENT_4H", "reason": "VIP complained"}})
    assert raised["setOrderPriority"]["errors"] == []
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    await gql(key, PRIORITY, {"i": {"id": ids.encode("Order", placed[1].id), "tier": "URGENT_24H", "reason": "live stream", "shipBy": soon}})
    data = await gql(key, QUEUE, {"w": warehouse})
    assert _names(data) == ["Q2", "Q1", "Q0"]
    assert [e["priority"] for e in data["pickQueue"]["entries"]] == ["URGENT_4H", "URGENT_24H", "STANDARD"]
    assert [e["position"] for e in data["pickQueue"]["entries"]] == [1, 2, 3]

    event = await OrderEvent.filter(order_id=placed[2].id, type="order.priority_changed").get()
    assert event.actor == await key_actor(key)  # the API key that did it, by its label
    assert (event.reason, event.before["priority"], event.after["priority"]) == ("VIP complained", "STANDARD", "URGENT_4H")

    first_page = await gql(key, QUEUE, {"w": warehouse, "first": 2})
    assert first_page["pickQueue"]["pageInfo"]["hasNextPage"]
    rest = await gql(key, QUEUE, {"w": warehouse, "first": 2, "after": first_page["pickQueue"]["pageInfo"]["endCursor"]})
    assert _names(rest) == ["Q0"] and rest["pickQueue"]["entries"][0]["position"] == 3


async def test_bad_priority_input(world, gql):
    _, placed = await _three_orders(world)
    key = world.keys["ops"]
    order_id = ids.encode("Order", placed[0].id)
    no_reason = await gql(key, PRIORITY, {"i": {"id": order_id, "tier": "URGENT_4H", "reason": " "}})
    assert no_reason["setOrderPriority"]["errors"] == [{"code": "VALIDATION", "field": "reason"}]
    unknown = await gql.post(key, PRIORITY, {"i": {"id": order_id, "tier": "YESTERDAY", "reason": "x"}})
    assert unknown.json()["errors"]  # not a tier: the schema refuses it
    with pytest.raises(ValidationFailed):
        await pick_queue.set_priority(world.actor(), placed[0].id, "YESTERDAY", "x")
    forbidden = await gql(world.keys["auditor"], PRIORITY, {"i": {"id": order_id, "tier": "URGENT_4H", "reason": "x"}})
    assert forbidden["setOrderPriority"]["errors"][0]["code"] == "FORBIDDEN"
    assert (await Order.get(id=placed[0].id)).priority == "STANDARD"


async def test_claims_take_the_head_and_never_the_same_order_twice(world, gql):
    warehouse, placed = await _three_orders(world)
    key = world.keys["warehouse"]
    first = await gql(key, CLAIM, {"i": {"warehouse": warehouse}})
    assert first["claimPick"]["order"] == {"externalId": "Q0", "status": "PICKING"}
    again = await gql(key, CLAIM, {"i": {"warehouse": warehouse, "order": ids.encode("Order", placed[0].id)}})
    assert again["claimPick"]["errors"][0]["code"] == "CONFLICT"
    assert _names(await gql(key, QUEUE, {"w": warehouse})) == ["Q1", "Q2"]


async def test_concurrent_pickers_get_different_orders(world, db):
    if not db.startswith("postgres"):
        pytest.skip("row locks only mean something on PostgreSQL")
    _, placed = await _three_orders(world)
    sh = next(w for w in world.warehouses if w.code == "SH")
    pickers = [world.actor(Role.WAREHOUSE)] * 5

    async def take(actor):  # noqa: ANN001, ANN202
        try:
            return (await pick_queue.claim(actor, sh.id)).id
        except NotFound:
            return None

    got = await asyncio.gather(*(take(actor) for actor in pickers))
    claimed = [order_id for order_id in got if order_id is not None]
    assert sorted(claimed) == sorted(p.id for p in placed)  # each order exactly once, extra pickers find the queue empty
    with pytest.raises(Conflict):
        await pick_queue.claim(world.actor(Role.WAREHOUSE), sh.id, placed[0].id)


SUBSCRIBE = "subscription($w: ID!) { pickQueue(warehouse: $w) { entries { priority order { externalId } } } }"


async def test_queue_subscription_sends_a_snapshot_then_changes(world, db):
    warehouse, placed = await _three_orders(world)
    received: list[list[str]] = []

    async def listen() -> None:
        request = gql_document(SUBSCRIBE)
        request.variable_values = {"w": warehouse}
        async with Client(transport=transport(base, world.keys["warehouse"])) as session:
            async for result in session.subscribe(request):
                received.append([e["order"]["externalId"] for e in result["pickQueue"]["entries"]])
                if len(received) == 2:
                    return

    with served(db) as base:
        listener = asyncio.create_task(listen())
        for _ in range(50):
            if received:
                break
            await asyncio.sleep(0.1)
        await pick_queue.set_priority(world.actor(), placed[2].id, "URGENT_4H", "escalated by phone")
        await asyncio.wait_for(listener, timeout=10)
    assert received == [["Q0", "Q1", "Q2"], ["Q2", "Q0", "Q1"]]
