"""Creating and moving orders through GraphQL: typed results, nothing half-applied, full lineage."""

from __future__ import annotations

import pytest

from models import Order, OrderEvent
from tests.helpers import CREATE_ORDER, key_actor, order_input, stock_up

TRANSITION = """
mutation Move($input: TransitionOrderInput!) {
  transitionOrder(input: $input) { order { status } errors { code field message fromStatus toStatus } }
}
"""
HOLD = """mutation($input: HoldOrderInput!) { holdOrder(input: $input) { order { status holdReasons } errors { code message } } }"""
RELEASE = """mutation($input: ReleaseHoldInput!) { releaseHold(input: $input) { order { status holdReasons } errors { code message } } }"""
CANCEL = """mutation($input: CancelOrderInput!) { cancelOrder(input: $input) { order { status } errors { code field message } } }"""
LINEAGE = """query($id: ID!) { order(id: $id) { status events { eventId type: typeCode actor source reason before after } } }"""


@pytest.fixture
async def stocked(world):
    """Both SKUs of ``order_input`` on the shelves everywhere, so allocation can reserve."""
    for sku in ("TEA-001", "CUP-01"):
        await stock_up(world.actor(), [w.id for w in world.warehouses], sku=sku)
    return world


async def create(gql, key, **overrides):
    data = await gql(key, CREATE_ORDER, {"input": order_input(**overrides)})
    return data["createOrder"]


async def test_create_order_records_lines_customer_payment_and_lineage(world, gql):
    result = await create(gql, world.keys["ops"])
    assert result["errors"] == []
    order = result["order"]
    assert order["status"] == "PAID"
    assert order["totalAmount"] == "244.00"
    assert order["number"].startswith("OG")
    assert order["tags"] == ["vip"]
    lineage = (await gql(world.keys["ops"], LINEAGE, {"id": order["id"]}))["order"]["events"]
    assert [e["type"] for e in lineage] == ["order.created"]
    assert lineage[0]["after"]["status"] == "PAID" and lineage[0]["actor"] == await key_actor(world.keys["ops"])


async def test_unpaid_and_deposit_orders_start_in_the_right_status(world, gql):
    unpaid = await create(gql, world.keys["ops"], externalId="U1", payment=None)
    deposit = await create(
        gql, world.keys["ops"], externalId="D1", deposit=True, payment={"gateway": "alipay", "amount": "50.00"}
    )
    assert unpaid["order"]["status"] == "PENDING_PAYMENT"
    assert deposit["order"]["status"] == "DEPOSIT_PAID"


async def test_duplicate_external_id_is_refused_and_nothing_is_added(world, gql):
    await create(gql, world.keys["ops"])
    again = await create(gql, world.keys["ops"])
    assert again["order"] is None
    assert again["errors"][0]["code"] == "DUPLICATE" and again["errors"][0]["field"] == "externalId"
    assert await Order.all().count() == 1
    assert await OrderEvent.all().count() == 1


async def test_validation_errors_name_the_field(world, gql):
    cases = [
        ({"lines": []}, "lines"),
        ({"lines": [{"sku": "A", "quantity": 0, "unitPrice": "1.00"}]}, "lines.0.quantity"),
        ({"lines": [{"sku": "A", "quantity": 1, "unitPrice": "-1.00"}]}, "lines.0.unitPrice"),
        ({"currency": "yuan"}, "currency"),
        ({"externalId": "  "}, "externalId"),
        ({"channel": "nope"}, "channel"),
        ({"payment": {"gateway": "alipay", "amount": "10.00"}}, "payment.amount"),
    ]
    for overrides, field in cases:
        result = await create(gql, world.keys["ops"], **overrides)
        assert result["order"] is None, overrides
        assert result["errors"][0]["field"] == field, (overrides, result)
    assert await Order.all().count() == 0


async def test_transition_follows_the_state_machine_and_refuses_illegal_moves(world, stocked, gql):
    key = world.keys["ops"]
    order_id = (await create(gql, key))["order"]["id"]
    moved = (await gql(key, TRANSITION, {"input": {"id": order_id, "status": "ALLOCATED"}}))["transitionOrder"]
    assert moved == {"order": {"status": "ALLOCATED"}, "errors": []}

    refused = (await gql(key, TRANSITION, {"input": {"id": order_id, "status": "DELIVERED"}}))["transitionOrder"]
    assert refused["order"] == {"status": "ALLOCATED"}, "a refused move still carries the order as it is"
    assert refused["errors"][0]["code"] == "ILLEGAL_TRANSITION"
    assert (refused["errors"][0]["fromStatus"], refused["errors"][0]["toStatus"]) == ("ALLOCATED", "DELIVERED")
    lineage = (await gql(key, LINEAGE, {"id": order_id}))["order"]
    assert lineage["status"] == "ALLOCATED"
    types = [e["type"] for e in lineage["events"]]
    assert types[:2] == ["order.created", "order.status_changed"]
    assert "order.status_changed" not in types[2:], "the refused move left no trace but the refusal"


async def test_delivery_cannot_be_set_by_hand(world, stocked, gql):
    key = world.keys["ops"]
    order_id = (await create(gql, key))["order"]["id"]
    for status in ("ALLOCATED", "PICKING", "PACKED", "SHIPPED"):
        await gql(key, TRANSITION, {"input": {"id": order_id, "status": status}})
    refused = (await gql(key, TRANSITION, {"input": {"id": order_id, "status": "DELIVERED"}}))["transitionOrder"]
    assert refused["errors"][0]["code"] == "ILLEGAL_TRANSITION"
    assert "carrier tracking" in refused["errors"][0]["message"]


async def test_holds_stack_and_the_last_release_restores_the_status(world, gql):
    key = world.keys["ops"]
    order_id = (await create(gql, key))["order"]["id"]
    first = (await gql(key, HOLD, {"input": {"id": order_id, "reasons": ["address unverified"]}}))["holdOrder"]
    assert first["order"] == {"status": "ON_HOLD", "holdReasons": ["address unverified"]}
    both = (await gql(key, HOLD, {"input": {"id": order_id, "reasons": ["fraud check", "address unverified"]}}))["holdOrder"]
    assert both["order"]["holdReasons"] == ["address unverified", "fraud check"]

    blocked = (await gql(key, TRANSITION, {"input": {"id": order_id, "status": "ALLOCATED"}}))["transitionOrder"]
    assert blocked["errors"][0]["code"] == "ILLEGAL_TRANSITION"

    unknown = (await gql(key, RELEASE, {"input": {"id": order_id, "reasons": ["weather"], "reason": "x"}}))["releaseHold"]
    assert unknown["errors"][0]["code"] == "VALIDATION"
    unexplained = (await gql(key, RELEASE, {"input": {"id": order_id, "reasons": ["fraud check"]}}))["releaseHold"]
    assert unexplained["errors"] == [{"code": "VALIDATION", "message": "say why the hold is lifted"}]
    partial = (await gql(key, RELEASE, {"input": {"id": order_id, "reasons": ["fraud check"], "reason": "checked"}}))["releaseHold"]
    assert partial["order"] == {"status": "ON_HOLD", "holdReasons": ["address unverified"]}
    done = (await gql(key, RELEASE, {"input": {"id": order_id, "reason": "address confirmed by phone"}}))["releaseHold"]
    assert done["order"] == {"status": "PAID", "holdReasons": []}

    events = (await gql(key, LINEAGE, {"id": order_id}))["order"]["events"]
    assert [e["type"] for e in events] == [
        "order.created", "order.hold_added", "alert.raised", "order.hold_added", "alert.updated",
        "order.hold_released", "alert.updated", "order.hold_released", "alert.cleared",
    ]  # a held order is on the exception board: its alert follows the reasons
    assert events[1]["before"]["status"] == "PAID" and events[1]["after"]["status"] == "ON_HOLD"
    assert events[-2]["after"]["status"] == "PAID" and events[-1]["after"]["state"] == "resolved"


async def test_cancel_needs_a_reason_and_is_refused_after_shipping(world, stocked, gql):
    key = world.keys["ops"]
    order_id = (await create(gql, key))["order"]["id"]
    no_reason = (await gql(key, CANCEL, {"input": {"id": order_id, "reason": " "}}))["cancelOrder"]
    assert no_reason["errors"][0]["code"] == "ILLEGAL_TRANSITION"
    await gql(key, HOLD, {"input": {"id": order_id, "reasons": ["stock check"]}})
    cancelled = (await gql(key, CANCEL, {"input": {"id": order_id, "reason": "buyer asked"}}))["cancelOrder"]
    assert cancelled == {"order": {"status": "CANCELLED"}, "errors": []}

    shipped_id = (await create(gql, key, externalId="T2"))["order"]["id"]
    for status in ("ALLOCATED", "PICKING", "PACKED", "SHIPPED"):
        await gql(key, TRANSITION, {"input": {"id": shipped_id, "status": status}})
    refused = (await gql(key, CANCEL, {"input": {"id": shipped_id, "reason": "too late"}}))["cancelOrder"]
    assert refused["errors"][0]["code"] == "ILLEGAL_TRANSITION"


async def test_unknown_order_is_a_typed_not_found(world, gql):
    result = (await gql(world.keys["ops"], CANCEL, {"input": {"id": "T3JkZXI6OTk5OQ==", "reason": "x"}}))["cancelOrder"]
    assert result["errors"][0]["code"] == "NOT_FOUND"
    garbage = (await gql(world.keys["ops"], CANCEL, {"input": {"id": "not-an-id", "reason": "x"}}))["cancelOrder"]
    assert garbage["errors"][0]["code"] == "NOT_FOUND"


async def test_read_only_roles_cannot_change_orders(world, gql):
    order_id = (await create(gql, world.keys["ops"]))["order"]["id"]
    for role in ("warehouse", "partner", "auditor", "finance"):
        result = (await gql(world.keys[role], CANCEL, {"input": {"id": order_id, "reason": "x"}}))["cancelOrder"]
        assert result["errors"][0]["code"] == "FORBIDDEN", role
        created = await create(gql, world.keys[role], externalId=f"R-{role}")
        assert created["errors"][0]["code"] == "FORBIDDEN", role
    assert await Order.all().count() == 1
