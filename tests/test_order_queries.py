"""Finding orders: filters, search, keyset pagination, and the graph's relations both ways."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain import orders
from domain.catalog import setup as catalog
from domain.orders import fulfilment
from models import Order
from resolvers import ids
from tests.helpers import paid_order, stock_up

PAGE = """
query($first: Int!, $after: String, $filter: OrderFilter, $sort: OrderSortField!, $dir: SortDirection!) {
  orders(first: $first, after: $after, filter: $filter, sort: $sort, direction: $dir) {
    edges { cursor node { externalId } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def _walk(gql, key, first, **variables):
    seen, after = [], None
    while True:
        page = (await gql(key, PAGE, {"first": first, "after": after, "sort": "CREATED_AT", "dir": "DESC", **variables}))["orders"]
        seen += [edge["node"]["externalId"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


async def test_keyset_pages_visit_every_order_once_even_with_equal_timestamps(world, gql):
    for n in range(23):
        await paid_order(world.actor(), world.channel.id, f"E{n:02d}")
    same = datetime(2026, 1, 1, tzinfo=UTC)
    await Order.all().update(created_at=same)  # every sort value equal: only the id breaks ties
    walked = await _walk(gql, world.keys["ops"], 5)
    assert sorted(walked) == sorted(f"E{n:02d}" for n in range(23))
    assert len(walked) == len(set(walked))


async def test_ascending_and_descending_orders(world, gql):
    for n in range(4):
        order = await paid_order(world.actor(), world.channel.id, f"P{n}")
        await Order.filter(id=order.id).update(placed_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=n))
    key = world.keys["ops"]
    asc = await gql(key, PAGE, {"first": 10, "sort": "PLACED_AT", "dir": "ASC"})
    desc = await gql(key, PAGE, {"first": 10, "sort": "PLACED_AT", "dir": "DESC"})
    assert [e["node"]["externalId"] for e in asc["orders"]["edges"]] == ["P0", "P1", "P2", "P3"]
    assert [e["node"]["externalId"] for e in desc["orders"]["edges"]] == ["P3", "P2", "P1", "P0"]


async def test_filters_combine(world, gql):
    actor = world.actor()
    await stock_up(actor, [w.id for w in world.warehouses])
    douyin = await catalog.create_channel(world.tenant.id, "douyin", "douyin", "抖音")
    a = await paid_order(actor, world.channel.id, "A", tags=["vip", "gift"])
    b = await paid_order(actor, douyin.id, "B", tags=["vip"], phone="13900009999")
    c = await paid_order(actor, world.channel.id, "C")
    await fulfilment.allocate_order(actor, a.id, world.warehouses[2].id)
    await orders.hold_order(actor, c.id, ["fraud check"])
    key = world.keys["ops"]

    async def ext(filter):
        return sorted(await _walk(gql, key, 50, filter=filter))

    assert await ext({"status": ["ALLOCATED"]}) == ["A"]
    assert await ext({"status": ["PAID", "ON_HOLD"]}) == ["B", "C"]
    assert await ext({"channel": [ids.encode("Channel", douyin.id)]}) == ["B"]
    assert await ext({"warehouse": [ids.encode("Warehouse", world.warehouses[2].id)]}) == ["A"]
    assert await ext({"tags": ["vip"]}) == ["A", "B"]
    assert await ext({"tags": ["vip", "gift"]}) == ["A"]
    assert await ext({"search": "9999"}) == ["B"]
    assert await ext({"search": f"OG{c.id:09d}"}) == ["C"]
    assert await ext({"search": "李"}) == ["A", "B", "C"]
    assert await ext({"customer": ids.encode("Customer", b.customer_id)}) == ["B"]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert await ext({"createdAfter": future}) == []
    assert await ext({"updatedBefore": future, "channel": [ids.encode("Channel", world.channel.id)]}) == ["A", "C"]


async def test_relations_in_both_directions(world, gql):
    actor = world.actor()
    order = await paid_order(actor, world.channel.id, "R1")
    await stock_up(actor, [world.warehouses[0].id], quantity=11)
    await fulfilment.allocate_order(actor, order.id, world.warehouses[0].id)
    query = """
    query($id: ID!, $w: ID!) {
      order(id: $id) {
        warehouse { code }
        customer { orders { edges { node { externalId } } } }
        channel { code orders { edges { node { externalId } } } }
        lines { sku warehouse { code } stock { available warehouse { code } } }
        allowedTransitions
      }
      node(id: $w) { ... on Warehouse { code orders { edges { node { externalId } } } } }
    }"""
    data = await gql(world.keys["ops"], query, {"id": ids.encode("Order", order.id), "w": ids.encode("Warehouse", world.warehouses[0].id)})
    got = data["order"]
    assert got["warehouse"] == {"code": "SH"}
    assert got["customer"]["orders"]["edges"] == [{"node": {"externalId": "R1"}}]
    assert got["channel"]["orders"]["edges"] == [{"node": {"externalId": "R1"}}]
    assert got["lines"][0]["warehouse"] == {"code": "SH"}
    assert got["lines"][0]["stock"][0]["warehouse"] == {"code": "SH"}
    assert got["lines"][0]["stock"][0]["available"] in (10, 11)  # 10 once allocation reserves the unit
    assert set(got["allowedTransitions"]) == {"PICKING", "PAID", "CANCELLED"}
    assert data["node"]["orders"]["edges"] == [{"node": {"externalId": "R1"}}]


async def test_every_node_type_round_trips_through_node(world, gql):
    actor = world.actor()
    order = await paid_order(actor, world.channel.id, "N1")
    await stock_up(actor, [world.warehouses[0].id])
    await fulfilment.allocate_order(actor, order.id, world.warehouses[0].id)
    for status in ("PICKING", "PACKED"):
        await orders.transition_order(actor, order.id, status)
    await fulfilment.ship_order(actor, order.id, "SF", "SF1234567890")
    data = (await gql(
        world.keys["ops"],
        "query($id: ID!) { order(id: $id) { id customer { id } channel { id } lines { id } shipments { id } payments { id } events { id } } }",
        {"id": ids.encode("Order", order.id)},
    ))["order"]
    node_ids = [data["id"], data["customer"]["id"], data["channel"]["id"], data["lines"][0]["id"], data["shipments"][0]["id"],
                data["payments"][0]["id"], data["events"][0]["id"]]
    for node_id in node_ids:
        found = await gql(world.keys["ops"], "query($id: ID!) { node(id: $id) { id __typename } }", {"id": node_id})
        assert found["node"]["id"] == node_id
