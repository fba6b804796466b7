"""Lineage in GraphQL speaks global ids: ``OrderEvent.before/after`` never carry a database id."""

from __future__ import annotations

import json
import re

from domain.lineage.global_ids import in_global_ids
from domain.orders import fulfilment
from models import OrderEvent
from resolvers import ids
from tests.helpers import paid_order, stock_up

EVENTS = "query($id: ID!) { order(id: $id) { events(last: 50) { type before after } } }"
NODE = "query($id: ID!) { node(id: $id) { __typename ... on Warehouse { code } } }"


def test_known_id_keys_become_global_ids_and_the_rest_stays():
    side = {"warehouse_id": 3, "line_ids": [7, 8], "tenant_id": 1, "sku": "A", "qty": 2, "warehouse_ids": [],
            "nested": [{"order_id": 5, "flag": True}], "channel_id": None}
    assert in_global_ids(side) == {
        "warehouse_id": ids.encode("Warehouse", 3), "line_ids": [ids.encode("OrderLine", 7), ids.encode("OrderLine", 8)],
        "tenant_id": 1, "sku": "A", "qty": 2, "warehouse_ids": [], "nested": [{"order_id": ids.encode("Order", 5),
                                                                               "flag": True}], "channel_id": None}


async def test_an_allocation_event_names_its_warehouse_by_global_id(world, gql):
    await stock_up(world.actor(), [world.warehouses[0].id])
    order = await paid_order(world.actor(), world.channel.id, "G1")
    await fulfilment.allocate_order(world.actor(), order.id, world.warehouses[0].id)
    stored = [row.after for row in await OrderEvent.filter(order_id=order.id)]
    assert any("warehouse_id" in json.dumps(after) for after in stored), "the stored rows keep their raw ids"

    events = (await gql(world.keys["ops"], EVENTS, {"id": ids.encode("Order", order.id)}))["order"]["events"]
    shown = json.dumps([[event["before"], event["after"]] for event in events])
    raw = re.findall(r'"(\w+_ids?)": \[?(\d+)', shown)
    assert raw == [], f"raw database ids shown: {raw}"
    warehouse_ids = set(re.findall(r'"warehouse_id": "([^"]+)"', shown))
    assert warehouse_ids == {ids.encode("Warehouse", world.warehouses[0].id)}
    [warehouse_id] = warehouse_ids
    assert (await gql(world.keys["ops"], NODE, {"id": warehouse_id}))["node"] == {"__typename": "Warehouse", "code": "SH"}
