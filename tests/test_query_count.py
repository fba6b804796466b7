"""The read path's query-count guarantee: DataLoaders keep SQL statements flat in page size.

Statements are counted from the ``tortoise.db_client`` logger, which logs every
executed statement at DEBUG. Only statements issued while a request runs in
this context are counted (the outbox dispatcher polls in its own task).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain import orders
from domain.actor import Role
from domain.orders import fulfilment
from domain.orders.create import NewAddress, NewCustomer, NewLine, NewOrder, NewPayment
from domain.statuses import OrderStatus, ShipmentStatus
from resolvers import ids
from tests.helpers import stock_up
from tests.statement_log import counted_statements

PAGE = """
query Page($first: Int!) {
  orders(first: $first) {
    edges { cursor node {
      id number status totalAmount createdAt
      channel { code }
      customer { name phone }
      shippingAddress { city address }
      lines { id sku quantity unitPrice warehouse { code } }
      shipments { carrier trackingNo status trackingEvents { status description occurredAt } }
      events(last: 5) { eventId type: typeCode actor source reason createdAt }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

LINEAGE = """
query Lineage($id: ID!) {
  order(id: $id) {
    id number status
    lines { sku quantity }
    shipments { trackingNo trackingEvents { status occurredAt } }
    events { eventId type: typeCode actor source reason before after payloadRef createdAt }
  }
}
"""


ORDER_FIELDS = """
fragment OrderFields on Order {
  id number status
  channel { code } customer { name phone } warehouse { code }
  lines { sku quantity warehouse { code } }
  shipments { trackingNo warehouse { code } trackingEvents { status occurredAt } }
  payments { gateway amount } tags alerts { kind }
  events { eventId type: typeCode } recent: events(last: 2) { eventId type: typeCode }
}
"""


async def _seed_shipped_orders(world, count: int) -> list[int]:  # noqa: ANN001 - tests.conftest.World
    """``count`` shipped orders with 2 lines, a shipment with 2 carrier scans and 7+ lineage events each."""
    ops = world.actor(Role.OPS)
    carrier = world.actor(Role.SERVICE, source="carrier")
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for sku in ("TEA-001", "CUP-01"):
        await stock_up(ops, [w.id for w in world.warehouses], sku, quantity=2 * count + 10)
    order_ids = []
    for n in range(count):
        order = await orders.create_order(
            ops,
            NewOrder(
                channel_id=world.channel.id,
                external_id=f"QC{n:04d}",
                lines=[
                    NewLine(sku="TEA-001", quantity=1, unit_price=Decimal("100.00"), title="龙井"),
                    NewLine(sku="CUP-01", quantity=2, unit_price=Decimal("20.00"), title="杯"),
                ],
                customer=NewCustomer(name="李四", phone=f"1381234{n:04d}"),
                address=NewAddress(name="李四", phone=f"1381234{n:04d}", province="上海", city="上海", address="世纪大道 1 号"),
                payment=NewPayment(gateway="alipay", amount=Decimal("140.00")),
                placed_at=start + timedelta(minutes=n),
            ),
        )
        await fulfilment.allocate_order(ops, order.id, world.warehouses[n % 3].id)
        await orders.transition_order(ops, order.id, OrderStatus.PICKING)
        await orders.transition_order(ops, order.id, OrderStatus.PACKED)
        shipment = await fulfilment.ship_order(ops, order.id, "SF", f"SF{n:010d}")
        for hours, status in ((2, ShipmentStatus.PICKED_UP), (9, ShipmentStatus.IN_TRANSIT)):
            await fulfilment.record_tracking(carrier, shipment.id, status, start + timedelta(hours=hours), description=status)
        order_ids.append(order.id)
    return order_ids


async def _page_statements(gql, key: str, first: int) -> list[tuple[str, list]]:  # noqa: ANN001 - tests.conftest.GraphQLClient
    with counted_statements() as statements:
        data = await gql(key, PAGE, {"first": first})
    edges = data["orders"]["edges"]
    assert len(edges) == first
    for edge in edges:
        node = edge["node"]
        assert len(node["lines"]) == 2 and all(line["warehouse"] for line in node["lines"])
        assert len(node["shipments"]) == 1 and len(node["shipments"][0]["trackingEvents"]) == 2
        assert len(node["events"]) == 5 and node["channel"]["code"] == "tmall" and node["customer"]["name"]
    return list(statements)


async def test_page_statements_do_not_grow_with_page_size(world, gql):
    await _seed_shipped_orders(world, 50)
    key = world.keys["ops"]
    await gql(key, PAGE, {"first": 1})  # warm-up: nothing below depends on first-call effects
    ten = await _page_statements(gql, key, 10)
    fifty = await _page_statements(gql, key, 50)
    assert len(ten) == len(fifty), (ten, fifty)
    assert len(fifty) <= 12, fifty


async def test_full_lineage_of_one_order_is_a_bounded_number_of_statements(world, gql):
    (order_id,) = await _seed_shipped_orders(world, 1)
    with counted_statements() as statements:
        data = await gql(world.keys["ops"], LINEAGE, {"id": ids.encode("Order", order_id)})
    events = data["order"]["events"]
    assert events[0]["type"] == "order.created" and "order.shipped" in {e["type"] for e in events}
    assert len(events) >= 7 and [e["eventId"] for e in events] == sorted(e["eventId"] for e in events)
    assert len(statements) <= 6, statements


async def test_a_prefetched_page_reads_the_same_as_single_orders(world, gql):
    """A page (relations prefetched) and ``order(id)`` (relations through DataLoaders) agree."""
    await _seed_shipped_orders(world, 3)
    key = world.keys["ops"]
    page = await gql(key, "{ orders(first: 3) { nodes { ...OrderFields } edges { node { id } } } }" + ORDER_FIELDS)
    nodes = page["orders"]["nodes"]
    singles = [
        (await gql(key, "query One($id: ID!) { order(id: $id) { ...OrderFields } }" + ORDER_FIELDS, {"id": n["id"]}))["order"]
        for n in nodes
    ]
    assert len(nodes) == 3 and nodes == singles
    assert all(len(n["recent"]) == 2 and n["lines"][0]["warehouse"] for n in nodes)
