"""A refused order mutation still answers with the order as it is now, next to the error, so a client re-renders.

Nothing changed (the refusal rolled back), so the order in the payload is the
one before the call; an id that names no order of the tenant stays ``null``.
"""

from __future__ import annotations

from models import Order
from resolvers import ids
from tests.helpers import paid_order

ORDER_FIELDS = "order { id status holdReasons } errors { code field }"
MUTATIONS = {
    "transitionOrder": ("TransitionOrderInput", {"status": "DELIVERED"}),
    "cancelOrder": ("CancelOrderInput", {"reason": "buyer asked"}),
    "shipOrder": ("ShipOrderInput", {"carrier": "SF", "trackingNo": "SF1"}),
    "holdOrder": ("HoldOrderInput", {"reasons": ["  "]}),
    "releaseHold": ("ReleaseHoldInput", {"reasons": ["never held"], "reason": "check"}),
    "allocateOrder": ("AllocateOrderInput", {"warehouseId": ids.encode("Warehouse", 999_999), "reason": "near"}),
    "splitOrder": ("SplitOrderInput", {"parcels": []}),
}


def _document(name: str, input_type: str) -> str:
    return f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {ORDER_FIELDS} }} }}"


async def test_each_refused_order_mutation_carries_the_unchanged_order(world, gql):
    order = await paid_order(world.actor(), world.channel.id, "R1")
    await Order.filter(id=order.id).update(status="SHIPPED")  # shipped: it can no longer be cancelled, held or re-shipped
    gid = ids.encode("Order", order.id)
    for name, (input_type, fields) in MUTATIONS.items():
        payload = (await gql(world.keys["ops"], _document(name, input_type), {"input": {"id": gid, **fields}}))[name]
        assert payload["errors"], name
        assert payload["order"] == {"id": gid, "status": "SHIPPED", "holdReasons": []}, (name, payload)
    assert (await Order.get(id=order.id)).status == "SHIPPED"


async def test_a_refused_transition_returns_the_order_and_the_reason(world, gql):
    order = await paid_order(world.actor(), world.channel.id, "R2")
    gid = ids.encode("Order", order.id)
    document = _document("transitionOrder", "TransitionOrderInput").replace("errors { code field }",
                                                                             "errors { code fromStatus toStatus }")
    payload = (await gql(world.keys["ops"], document, {"input": {"id": gid, "status": "DELIVERED"}}))["transitionOrder"]
    assert payload == {"order": {"id": gid, "status": "PAID", "holdReasons": []},
                       "errors": [{"code": "ILLEGAL_TRANSITION", "fromStatus": "PAID", "toStatus": "DELIVERED"}]}


async def test_a_forbidden_role_gets_the_order_as_its_role_sees_it(world, gql):
    order = await paid_order(world.actor(), world.channel.id, "R3")
    gid = ids.encode("Order", order.id)
    document = ("mutation($input: CancelOrderInput!) { cancelOrder(input: $input) "
                "{ order { id status customer { phone } } errors { code } } }")
    payload = (await gql(world.keys["auditor"], document, {"input": {"id": gid, "reason": "x"}}))["cancelOrder"]
    assert payload["errors"] == [{"code": "FORBIDDEN"}]
    assert payload["order"]["status"] == "PAID"
    assert payload["order"]["customer"]["phone"] != "13812341234", "an auditor sees the phone masked, here too"


async def test_an_id_naming_no_order_of_the_tenant_stays_null(world, other_world, gql):
    theirs = await paid_order(other_world.actor(), other_world.channel.id, "R4")
    for gid in (ids.encode("Order", theirs.id), ids.encode("Order", 999_999), "not-an-id", ids.encode("Warehouse", 1)):
        payload = (await gql(world.keys["ops"], _document("cancelOrder", "CancelOrderInput"),
                             {"input": {"id": gid, "reason": "x"}}))["cancelOrder"]
        assert payload["order"] is None and payload["errors"][0]["code"] == "NOT_FOUND", (gid, payload)
