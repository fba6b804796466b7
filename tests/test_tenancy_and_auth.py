"""Keys, roles and tenants: no key is 401, and tenant A never sees or touches tenant B."""

from __future__ import annotations

from domain.actor import Role
from models import Order, OrderEvent
from resolvers import ids
from tests.helpers import paid_order

ORDER = "query($id: ID!) { order(id: $id) { id externalId } }"
NODE = "query($id: ID!) { node(id: $id) { id ... on Order { externalId } } }"


async def test_missing_or_wrong_key_is_401_and_runs_nothing(world, gql):
    for key in (None, "og_not-a-real-key", "Bearer", "sk_live_123"):
        response = await gql.post(key, "{ viewer { role } }")
        assert response.status_code == 401, key
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    header = await gql.http.post("/graphql", json={"query": "{ viewer { role } }"}, headers={"x-api-key": world.keys["auditor"]})
    assert header.status_code == 200 and header.json()["data"]["viewer"]["role"] == "auditor"


async def test_a_revoked_key_stops_working(world, gql):
    from datetime import UTC, datetime

    from domain.tenants.accounts import hash_key
    from models import ApiKey

    key = world.keys["ops"]
    assert (await gql.post(key, "{ viewer { role } }")).status_code == 200
    await ApiKey.filter(key_hash=hash_key(key)).update(revoked_at=datetime.now(UTC))
    assert (await gql.post(key, "{ viewer { role } }")).status_code == 401


async def test_tenant_cannot_read_another_tenants_orders_by_any_entry_point(world, other_world, gql):
    theirs = await paid_order(other_world.actor(), other_world.channel.id, "THEIRS-1")
    mine = await paid_order(world.actor(), world.channel.id, "MINE-1")
    their_id = ids.encode("Order", theirs.id)
    key = world.keys["admin"]

    assert (await gql(key, ORDER, {"id": their_id}))["order"] is None
    assert (await gql(key, NODE, {"id": their_id}))["node"] is None
    assert (await gql(key, NODE, {"id": ids.encode("Channel", other_world.channel.id)}))["node"] is None
    assert (await gql(key, NODE, {"id": ids.encode("Warehouse", other_world.warehouses[0].id)}))["node"] is None
    by_external = await gql(key, 'query { orderByExternalId(channel: "tmall", externalId: "THEIRS-1") { id } }')
    assert by_external["orderByExternalId"] is None
    listed = await gql(key, "{ orders(first: 100) { edges { node { externalId } } totalCount } }")
    assert [e["node"]["externalId"] for e in listed["orders"]["edges"]] == ["MINE-1"]
    assert listed["orders"]["totalCount"] == 1
    searched = await gql(key, '{ orders(filter: {search: "THEIRS"}) { edges { node { id } } } }')
    assert searched["orders"]["edges"] == []
    warehouses = await gql(key, "{ warehouses { id } }")
    assert {w["id"] for w in warehouses["warehouses"]} == {ids.encode("Warehouse", w.id) for w in world.warehouses}
    assert mine.tenant_id != theirs.tenant_id


async def test_tenant_cannot_mutate_another_tenants_orders(world, other_world, gql):
    theirs = await paid_order(other_world.actor(), other_world.channel.id, "THEIRS-1")
    their_id = ids.encode("Order", theirs.id)
    key = world.keys["admin"]
    mutations = [
        ('mutation($id: ID!) { cancelOrder(input: {id: $id, reason: "x"}) { errors { code } } }', "cancelOrder"),
        ('mutation($id: ID!) { holdOrder(input: {id: $id, reasons: ["x"]}) { errors { code } } }', "holdOrder"),
        ("mutation($id: ID!) { transitionOrder(input: {id: $id, status: ALLOCATED}) { errors { code } } }", "transitionOrder"),
        ('mutation($id: ID!) { releaseHold(input: {id: $id, reason: "x"}) { errors { code } } }', "releaseHold"),
    ]
    for mutation, field in mutations:
        result = await gql(key, mutation, {"id": their_id})
        assert result[field]["errors"] == [{"code": "NOT_FOUND"}], field
    allocate = await gql(
        key,
        "mutation($id: ID!, $w: ID!) { allocateOrder(input: {id: $id, warehouseId: $w}) { errors { code } } }",
        {"id": their_id, "w": ids.encode("Warehouse", world.warehouses[0].id)},
    )
    assert allocate["allocateOrder"]["errors"] == [{"code": "NOT_FOUND"}]
    # and my own order cannot be allocated to *their* warehouse
    mine = await paid_order(world.actor(), world.channel.id, "MINE-1")
    cross = await gql(
        key,
        "mutation($id: ID!, $w: ID!) { allocateOrder(input: {id: $id, warehouseId: $w}) { errors { code field } } }",
        {"id": ids.encode("Order", mine.id), "w": ids.encode("Warehouse", other_world.warehouses[0].id)},
    )
    assert cross["allocateOrder"]["errors"] == [{"code": "NOT_FOUND", "field": "warehouseId"}]
    assert (await Order.get(id=theirs.id)).status == "PAID"
    assert await OrderEvent.filter(order_id=theirs.id).count() == 1


async def test_channel_codes_are_per_tenant(world, other_world, gql):
    """Both tenants have a channel 'tmall': creating an order uses the caller's."""
    from tests.helpers import CREATE_ORDER, order_input

    result = await gql(world.keys["ops"], CREATE_ORDER, {"input": order_input("X-1")})
    order = await Order.get(id=ids.decode(result["createOrder"]["order"]["id"])[1])
    assert order.tenant_id == world.tenant.id and order.channel_id == world.channel.id


async def test_roles_without_personal_data_rights_see_masked_values(world, gql):
    order = await paid_order(world.actor(), world.channel.id, "PII-1", phone="13812345678")
    query = "query($id: ID!) { order(id: $id) { customer { name phone } shippingAddress { name phone district address } } }"
    variables = {"id": ids.encode("Order", order.id)}
    clear = (await gql(world.keys["ops"], query, variables))["order"]
    assert clear["customer"] == {"name": "李四", "phone": "13812345678"}
    for role in (Role.WAREHOUSE, Role.PARTNER, Role.AUDITOR, Role.FINANCE):
        masked = (await gql(world.keys[role.value], query, variables))["order"]
        assert masked["customer"] == {"name": "李*", "phone": "138****5678"}, role
        assert masked["shippingAddress"] == {"name": "李*", "phone": "138****5678", "district": "浦东新区", "address": "****"}
