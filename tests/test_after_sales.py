"""After-sales (RMA) as their own aggregate: each kind's life, the policy, the money and stock checks, channels.

Every test runs on SQLite and PostgreSQL. The Taobao shop is the simulator
served over HTTP; its refund message goes through the real webhook endpoint
and the approval comes back to it through the leader's push job.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from decimal import Decimal
from typing import Any

import pytest

from domain import orders
from domain.actor import Role
from domain.after_sales import decisions
from domain.after_sales.machine import IllegalAfterSaleMove
from domain.after_sales.policy import set_policy
from domain.after_sales.queries import after_sales_of
from domain.after_sales.requests import open_after_sale
from domain.allocation import policy as allocation_policy
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.orders import fulfilment
from domain.orders.create import NewAddress, NewCustomer, NewLine, NewOrder, NewPayment
from domain.statuses import OrderStatus
from models import (
    AfterSale,
    AfterSalePhoto,
    Alert,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    Quarantine,
    Reservation,
    Stock,
)
from tests.intake_support import SECRET, add_channel, deliver, sample
from tests.stock_fixtures import check_invariants, place_warehouses, stock_up
from tests.test_tmc_announcements import announce, taobao_shop

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def paid(world: Any, external_id: str, lines: dict[str, tuple[int, str]], *, phone: str = "13800000001",
               tags: list[str] | None = None) -> Order:
    """A paid order of ``{sku: (quantity, unit price)}``, paid in full by Alipay."""
    new_lines = [NewLine(sku=sku, quantity=quantity, unit_price=Decimal(price)) for sku, (quantity, price) in lines.items()]
    total = sum((line.unit_price * line.quantity for line in new_lines), Decimal("0"))
    return await orders.create_order(world.actor(Role.OPS), NewOrder(
        channel_id=world.channel.id, external_id=external_id, lines=new_lines,
        customer=NewCustomer(name="王五", phone=phone),
        address=NewAddress(name="王五", phone=phone, province="上海", city="上海", address="路 1 号"),
        payment=NewPayment(gateway="alipay", amount=total, reference=f"ALI{external_id}"), tags=tags or []))


async def shipped(world: Any, external_id: str, lines: dict[str, tuple[int, str]]) -> Order:
    """A paid order allocated by warehouse priority (SH first) and handed to SF."""
    order = await paid(world, external_id, lines)
    ops = world.actor()
    await fulfilment.allocate_order(ops, order.id)
    for status in (OrderStatus.PICKING, OrderStatus.PACKED):
        await orders.transition_order(ops, order.id, status)
    await fulfilment.ship_order(ops, order.id, "SF", f"SF{external_id}")
    return await Order.get(id=order.id)


async def lines_of(order: Order) -> list[OrderLine]:
    return list(await OrderLine.filter(order_id=order.id).order_by("id"))


def sh(world: Any) -> Any:
    return next(w for w in world.warehouses if w.code == "SH")


async def available(world: Any, sku: str) -> int:
    stock = await Stock.get(warehouse_id=sh(world).id, sku=sku)
    return stock.on_hand - stock.reserved


async def events(order_id: int, prefix: str = "after_sale.") -> list[OrderEvent]:
    return [e for e in await OrderEvent.filter(order_id=order_id).order_by("id") if e.type.startswith(prefix)]


async def allocating(world: Any, stock: dict[str, int]) -> None:
    await stock_up(world, {sku: {"SH": quantity} for sku, quantity in stock.items()})
    await place_warehouses(world)
    await allocation_policy.save_policy(world.actor(Role.OPS), {"strategy": "priority", "auto_allocate": False})


# ------------------------------------------------------------------ refund only, the policy


async def test_a_150_refund_only_is_auto_approved_refunded_once_and_closed(world):
    order = await paid(world, "R150", {"TEA": (1, "150.00"), "CUP": (1, "50.00")})
    tea = (await lines_of(order))[0]
    sale = await open_after_sale(world.actor(), order.id, "refund_only", [(tea.id, 1)], "arrived broken")
    assert (sale.status, sale.requested_amount, sale.approved_amount) == ("APPROVED", Decimal("150.00"), Decimal("150.00"))
    assert [line.quantity for line in sale.lines] == [1]
    requested, approved = await events(order.id)
    assert (requested.type, requested.actor, requested.before) == ("after_sale.requested", "test-ops", None)
    assert approved.type == "after_sale.approved" and approved.actor == "policy: auto-approve ≤ ¥200"
    assert (approved.before["status"], approved.after["status"]) == ("REQUESTED", "APPROVED")
    assert sale.push_state == ""  # opened here: nothing is owed to a channel

    refunded = await decisions.refund(world.actor(), sale.id)
    assert (refunded.status, refunded.refunded_amount) == ("REFUNDED", Decimal("150.00"))
    refund = await Payment.get(order_id=order.id, kind="refund")
    assert (refund.amount, refund.gateway, refund.after_sale_id, refund.status) == (
        Decimal("-150.00"), "alipay", sale.id, "REFUNDED")
    with pytest.raises(IllegalAfterSaleMove) as twice:
        await decisions.refund(world.actor(), sale.id)
    assert (twice.value.code, twice.value.from_status, twice.value.to_status) == ("ILLEGAL_TRANSITION", "REFUNDED", "REFUNDED")
    assert await Payment.filter(order_id=order.id, kind="refund").count() == 1
    closed = await decisions.close(world.actor(), sale.id)
    assert closed.status == "CLOSED"
    assert [e.type for e in await events(order.id)][-2:] == ["after_sale.refunded", "after_sale.closed"]


async def test_250_waits_for_a_person_and_so_does_a_risky_buyer(world):
    big = await paid(world, "R250", {"TEA": (1, "250.00")})
    waiting = await open_after_sale(world.actor(), big.id, "refund_only", [((await lines_of(big))[0].id, 1)], "changed mind")
    assert waiting.status == "REQUESTED" and waiting.respond_by is not None
    assert waiting.respond_by > waiting.created_at

    tagged = await paid(world, "RISK-TAG", {"TEA": (1, "150.00")}, phone="13800000009", tags=["high_risk"])
    held = await open_after_sale(world.actor(), tagged.id, "refund_only", [((await lines_of(tagged))[0].id, 1)], "x")
    assert held.status == "REQUESTED"

    # A buyer who already opened 3 after-sales in 30 days waits too, however small the refund.
    for n in range(3):
        earlier = await paid(world, f"SERIAL{n}", {"TEA": (1, "10.00")}, phone="13800000077")
        await open_after_sale(world.actor(), earlier.id, "refund_only", [((await lines_of(earlier))[0].id, 1)], "again")
    fourth = await paid(world, "SERIAL3", {"TEA": (1, "10.00")}, phone="13800000077")
    sale = await open_after_sale(world.actor(), fourth.id, "refund_only", [((await lines_of(fourth))[0].id, 1)], "again")
    assert sale.status == "REQUESTED"
    approved = await decisions.approve(world.actor(), sale.id, note="checked the photos")
    assert (approved.status, approved.decided_by) == ("APPROVED", "test-ops")


async def test_policy_is_data_per_channel(world):
    await set_policy(world.actor(), world.channel.id, {"auto_approve_refund_up_to": "100"})
    order = await paid(world, "POL", {"TEA": (1, "150.00")})
    sale = await open_after_sale(world.actor(), order.id, "refund_only", [((await lines_of(order))[0].id, 1)], "x")
    assert sale.status == "REQUESTED"  # ¥150 is above this channel's ¥100
    with pytest.raises(ValidationFailed) as bad:
        await set_policy(world.actor(), None, {"auto_approve_refund_up_to": "lots"})
    assert bad.value.field == "auto_approve_refund_up_to"
    with pytest.raises(ValidationFailed, match="unknown policy keys"):
        await set_policy(world.actor(), None, {"auto_approve": True})


# ------------------------------------------------------------------ bad input


async def test_a_refund_above_what_was_paid_is_refused_and_money_never_double_counted(world):
    await set_policy(world.actor(), None, {"auto_approve_refund_up_to": "0"})  # every request waits for a person
    order = await paid(world, "OVER", {"TEA": (2, "100.00"), "GIFT": (1, "0.00")})
    tea, gift = await lines_of(order)
    with pytest.raises(ValidationFailed) as above:
        await open_after_sale(world.actor(), order.id, "refund_only", [(tea.id, 1)], "x", amount=Decimal("200.01"))
    assert above.value.field == "amount" and "paid 200.00" in above.value.message
    first = await open_after_sale(world.actor(), order.id, "refund_only", [(tea.id, 1)], "x", amount=Decimal("180.00"))
    # The ¥180 held by the first request leaves ¥20: a request for the other unit asks that at most.
    second = await open_after_sale(world.actor(), order.id, "refund_only", [(tea.id, 1)], "y")
    assert second.requested_amount == Decimal("20.00")
    with pytest.raises(ValidationFailed, match="nothing on this order can be refunded"):
        await open_after_sale(world.actor(), order.id, "refund_only", [(gift.id, 1)], "z")
    with pytest.raises(ValidationFailed, match=r"above what may still go back \(20.00"):
        await decisions.approve(world.actor(), second.id, amount=Decimal("21.00"))
    for sale in (first, second):
        await decisions.approve(world.actor(), sale.id)
        await decisions.refund(world.actor(), sale.id)
    refunds = [p.amount for p in await Payment.filter(order_id=order.id, kind="refund").order_by("id")]
    assert refunds == [Decimal("-180.00"), Decimal("-20.00")]  # exactly what was paid, not a fen more
    assert await AfterSale.filter(order_id=order.id).count() == 2
    assert await OrderEvent.filter(order_id=order.id, type="after_sale.requested").count() == 2


async def test_nothing_half_applied_on_bad_lines_and_photos(world):
    order = await paid(world, "BAD", {"TEA": (1, "10.00")})
    tea = (await lines_of(order))[0]
    actor = world.actor()
    cases = [
        (dict(kind="refund_only", lines=[(tea.id, 2)]), "lines.0.quantity"),
        (dict(kind="refund_only", lines=[(tea.id, 0)]), "lines.0.quantity"),
        (dict(kind="refund_only", lines=[]), "lines"),
        (dict(kind="refund_only", lines=[(tea.id, 1), (tea.id, 1)]), "lines.1.lineId"),
        (dict(kind="swap", lines=[(tea.id, 1)]), "kind"),
        (dict(kind="refund_only", lines=[(tea.id, 1)], photos=[("image/jpeg", b"<html>not a photo</html>")]), "photos.0"),
        (dict(kind="refund_only", lines=[(tea.id, 1)], photos=[("image/png", PNG)] * 6), "photos"),
        (dict(kind="refund_only", lines=[(tea.id, 1)], photos=[("image/png", PNG + b"\x00" * (2 * 1024 * 1024))]), "photos.0"),
        (dict(kind="exchange", lines=[(tea.id, 1)], amount=Decimal("5.00")), "lines.0.quantity"),  # nothing shipped
    ]
    for kwargs, field in cases:
        with pytest.raises(ValidationFailed) as refused:
            await open_after_sale(actor, order.id, reason="x", **kwargs)
        assert refused.value.field.startswith(field), (kwargs, refused.value.field)
    with pytest.raises(NotFound):
        await open_after_sale(actor, order.id, "refund_only", [(tea.id + 999, 1)], "x")
    with pytest.raises(NotFound):
        await open_after_sale(world.actor(), 999_999, "refund_only", [(tea.id, 1)], "x")
    assert await AfterSale.filter(order_id=order.id).count() == 0
    assert await events(order.id) == []
    kept = await open_after_sale(actor, order.id, "refund_only", [(tea.id, 1)], "x",
                                 photos=[("image/jpeg", PNG), ("application/octet-stream", b"RIFF\x00\x00\x00\x00WEBPVP8 ")])
    stored = await AfterSalePhoto.filter(after_sale_id=kept.id).order_by("id")
    assert [p.content_type for p in stored] == ["image/png", "image/webp"]  # by the bytes, not the claim


async def test_a_return_of_more_than_was_delivered_is_refused(world):
    await allocating(world, {"TEA": 5})
    order = await paid(world, "NOTYET", {"TEA": (2, "10.00")})
    tea = (await lines_of(order))[0]
    with pytest.raises(ValidationFailed, match="0 shipped or delivered") as unshipped:
        await open_after_sale(world.actor(), order.id, "return_refund", [(tea.id, 1)], "x")
    assert unshipped.value.field == "lines.0.quantity"
    sent = await shipped(world, "SENT", {"TEA": (2, "10.00")})
    line = (await lines_of(sent))[0]
    with pytest.raises(ValidationFailed, match="at most 2"):
        await open_after_sale(world.actor(), sent.id, "return_refund", [(line.id, 3)], "x")
    await open_after_sale(world.actor(), sent.id, "return_refund", [(line.id, 2)], "x")
    with pytest.raises(ValidationFailed, match="2 already in other after-sales: at most 0"):
        await open_after_sale(world.actor(), sent.id, "exchange", [(line.id, 1)], "x")


async def test_the_same_external_id_is_the_same_after_sale(world):
    order = await paid(world, "DUP", {"TEA": (1, "300.00")})
    tea = (await lines_of(order))[0]
    first = await open_after_sale(world.actor(), order.id, "refund_only", [(tea.id, 1)], "x", source="channel",
                                  external_id="RF-1")
    again = await open_after_sale(world.actor(), order.id, "refund_only", [(tea.id, 1)], "x", source="channel",
                                  external_id="RF-1")
    assert again.id == first.id and await AfterSale.filter(order_id=order.id).count() == 1
    assert await OrderEvent.filter(order_id=order.id, type="after_sale.requested").count() == 1


# ------------------------------------------------------------------ returns and exchanges


async def test_return_received_inspected_restocked_written_off_and_refunded(world):
    await allocating(world, {"TEA": 5})
    order = await shipped(world, "RET", {"TEA": (2, "80.00")})
    line = (await lines_of(order))[0]
    assert await available(world, "TEA") == 3
    sale = await open_after_sale(world.actor(), order.id, "return_refund", [(line.id, 2)], "wrong colour")
    assert sale.status == "REQUESTED"  # returns are never auto-approved
    sale = await decisions.approve(world.actor(), sale.id)
    assert sale.status == "AWAITING_RETURN" and sale.return_by is not None
    with pytest.raises(IllegalAfterSaleMove):
        await decisions.refund(world.actor(), sale.id)  # the goods first
    sale = await decisions.mark_returned(world.actor(), sale.id, "SF", "SF-BACK-1")
    assert (sale.status, sale.return_tracking_no) == ("AWAITING_RETURN", "SF-BACK-1")
    sale_line = (await after_sales_of(order.id))[0].lines[0]
    with pytest.raises(ValidationFailed, match="at most 2 more"):
        await decisions.receive(world.actor(), sale.id, sh(world).id, [(sale_line.id, 3)])
    sale = await decisions.receive(world.actor(), sale.id, sh(world).id, [(sale_line.id, 2)])
    assert sale.status == "RECEIVED"
    stock = await Stock.get(warehouse_id=sh(world).id, sku="TEA")
    assert (await Quarantine.get(stock_id=stock.id)).quantity == 2
    assert await available(world, "TEA") == 3  # quarantined units are not sellable yet

    await decisions.inspect(world.actor(), sale.id, sale_line.id, restock=1, write_off=1, note="one scratched")
    assert await available(world, "TEA") == 4  # the good one is sellable again
    stock = await Stock.get(warehouse_id=sh(world).id, sku="TEA")
    assert (stock.on_hand, (await Quarantine.get(stock_id=stock.id)).quantity) == (4, 0)  # the scratched one left
    with pytest.raises(ValidationFailed, match="0 received units"):
        await decisions.inspect(world.actor(), sale.id, sale_line.id, restock=1)

    sale = await decisions.refund(world.actor(), sale.id)
    assert sale.status == "REFUNDED"
    assert (await Payment.get(order_id=order.id, kind="refund")).amount == Decimal("-160.00")
    types = [e.type for e in await events(order.id)]
    assert types == ["after_sale.requested", "after_sale.approved", "after_sale.awaiting_return",
                     "after_sale.return_shipped", "after_sale.received", "after_sale.inspected", "after_sale.refunded"]
    await check_invariants(world.tenant.id)


async def test_an_exchange_sends_a_replacement_order_allocated_the_normal_way(world):
    await allocating(world, {"TEA": 5, "TEA-L": 3})
    order = await shipped(world, "EXC", {"TEA": (1, "80.00")})
    line = (await lines_of(order))[0]
    with pytest.raises(NotFound):
        await open_after_sale(world.actor(), order.id, "exchange", [(line.id, 1)], "too small",
                              replacements={line.id: "NO-SUCH-SKU"})
    sale = await open_after_sale(world.actor(), order.id, "exchange", [(line.id, 1)], "too small",
                                 replacements={line.id: "TEA-L"})
    assert sale.requested_amount == 0
    sale = await decisions.approve(world.actor(), sale.id)
    with pytest.raises(IllegalAfterSaleMove):
        await decisions.exchange(world.actor(), sale.id)  # not received yet
    sale_line = (await after_sales_of(order.id))[0].lines[0]
    await decisions.receive(world.actor(), sale.id, sh(world).id, [(sale_line.id, 1)])
    sale = await decisions.exchange(world.actor(), sale.id)
    assert sale.status == "EXCHANGED"
    replacement = await Order.get(external_id="EXC-EX1")
    assert (replacement.channel_id, replacement.customer_id, replacement.total_amount) == (
        order.channel_id, order.customer_id, Decimal("0.00"))
    assert replacement.status == OrderStatus.ALLOCATED
    new_line = await OrderLine.get(order_id=replacement.id)
    assert (new_line.sku, new_line.quantity, new_line.unit_price) == ("TEA-L", 1, Decimal("0.00"))
    reservation = await Reservation.get(line_id=new_line.id)
    assert (reservation.status, reservation.quantity) == ("ACTIVE", 1)
    assert (await Stock.get(warehouse_id=sh(world).id, sku="TEA-L")).reserved == 1
    assert (await after_sales_of(order.id))[0].lines[0].replacement_line_id == new_line.id
    assert await Payment.filter(order_id=order.id, kind="refund").count() == 0
    with pytest.raises(Conflict):
        await decisions.refund(world.actor(), sale.id)
    await check_invariants(world.tenant.id)


async def test_the_buyer_withdraws_and_a_rejection_needs_a_reason(world):
    order = await paid(world, "WD", {"TEA": (1, "500.00")})
    tea = (await lines_of(order))[0]
    sale = await open_after_sale(world.actor(), order.id, "refund_only", [(tea.id, 1)], "x", source="customer")
    with pytest.raises(ValidationFailed):
        await decisions.reject(world.actor(), sale.id, " ")
    with pytest.raises(ValidationFailed, match="needs a reason"):
        await decisions.close(world.actor(), sale.id)
    assert (await decisions.cancel(world.actor(source="customer"), sale.id, "found it")).status == "CLOSED"
    again = await open_after_sale(world.actor(), order.id, "refund_only", [(tea.id, 1)], "x")  # withdrawn covers nothing
    assert (await decisions.reject(world.actor(), again.id, "used")).status == "REJECTED"
    with pytest.raises(IllegalAfterSaleMove):
        await decisions.approve(world.actor(), again.id)


# ------------------------------------------------------------------ GraphQL


REQUEST = """
mutation R($input: RequestAfterSaleInput!) {
  requestAfterSale(input: $input) {
    afterSale { id status kind requestedAmount approvedAmount source allowedMoves lines { id quantity amount } }
    errors { code field message fromStatus toStatus }
  }
}
"""


async def test_graphql_request_decide_refund_list_and_typed_errors(world, gql):
    order = await paid(world, "GQL", {"TEA": (2, "150.00")})
    tea = (await lines_of(order))[0]
    from resolvers import ids

    order_gid, line_gid = ids.encode("Order", order.id), ids.encode("OrderLine", tea.id)
    photo = base64.b64encode(PNG).decode()
    data = await gql(world.keys["ops"], REQUEST, {"input": {
        "order": order_gid, "kind": "REFUND_ONLY", "reason": "broken",
        "lines": [{"orderLine": line_gid, "quantity": 2}], "photos": [{"contentType": "image/png", "dataBase64": photo}]}})
    made = data["requestAfterSale"]
    assert made["errors"] == [] and made["afterSale"]["status"] == "REQUESTED"  # ¥300 is above ¥200
    assert made["afterSale"]["requestedAmount"] == "300.00" and made["afterSale"]["allowedMoves"] == ["APPROVED", "REJECTED", "CLOSED"]
    sale_id = made["afterSale"]["id"]

    refused = (await gql(world.keys["ops"], 'mutation($id: ID!) { refundAfterSale(id: $id) { afterSale { id } '
                         'errors { code fromStatus toStatus } } }', {"id": sale_id}))["refundAfterSale"]
    assert refused == {"afterSale": {"id": sale_id}, "errors": [{"code": "ILLEGAL_TRANSITION", "fromStatus": "REQUESTED",
                                                     "toStatus": "REFUNDED"}]}
    over = (await gql(world.keys["ops"], 'mutation($id: ID!) { approveAfterSale(id: $id, amount: "300.01") { '
                      'errors { code field } } }', {"id": sale_id}))["approveAfterSale"]
    assert over["errors"] == [{"code": "VALIDATION", "field": "amount"}]
    approved = (await gql(world.keys["ops"], 'mutation($id: ID!) { approveAfterSale(id: $id, amount: "250.00", note: "ok") '
                          '{ afterSale { status approvedAmount decidedBy } errors { code } } }', {"id": sale_id}))
    decided = approved["approveAfterSale"]["afterSale"]
    assert (decided["status"], decided["approvedAmount"]) == ("APPROVED", "250.00") and decided["decidedBy"]
    refunded = (await gql(world.keys["ops"], 'mutation($id: ID!) { refundAfterSale(id: $id) { afterSale { status '
                          'refundedAmount } errors { code } } }', {"id": sale_id}))["refundAfterSale"]
    assert refunded == {"afterSale": {"status": "REFUNDED", "refundedAmount": "250.00"}, "errors": []}

    listed = await gql(world.keys["ops"], """
      query($order: ID!) {
        afterSales(filter: {status: [REFUNDED], order: $order}, first: 5) { nodes { id orderNumber photos { contentType } }
                                                                           pageInfo { hasNextPage } }
        none: afterSales(filter: {kind: [EXCHANGE]}) { nodes { id } }
        node(id: $order) { ... on Order { afterSales { id status refundedAmount } payments { amount } } }
      }""", {"order": order_gid})
    assert [n["id"] for n in listed["afterSales"]["nodes"]] == [sale_id]
    assert listed["afterSales"]["nodes"][0]["photos"] == [{"contentType": "image/png"}]
    assert listed["none"]["nodes"] == []
    assert listed["node"]["afterSales"] == [{"id": sale_id, "status": "REFUNDED", "refundedAmount": "250.00"}]
    assert sorted(p["amount"] for p in listed["node"]["payments"]) == ["-250.00", "300.00"]
    one = await gql(world.keys["auditor"], 'query($id: ID!) { afterSale(id: $id) { status } }', {"id": sale_id})
    assert one["afterSale"] == {"status": "REFUNDED"}
    denied = (await gql(world.keys["auditor"], 'mutation($id: ID!) { closeAfterSale(id: $id) { errors { code } } }',
                        {"id": sale_id}))["closeAfterSale"]
    assert denied["errors"] == [{"code": "FORBIDDEN"}]

    policy = await gql(world.keys["admin"], 'mutation { setAfterSalePolicy(policy: {auto_approve_refund_up_to: "99.5", '
                       'return_days: 10}) { policy { autoApproveRefundUpTo returnDays respondHours } errors { code field } } }')
    assert policy["setAfterSalePolicy"] == {"policy": {"autoApproveRefundUpTo": "99.50", "returnDays": 10, "respondHours": 48},
                                            "errors": []}
    bad = await gql(world.keys["admin"], 'mutation { setAfterSalePolicy(policy: {return_days: 0}) { errors { code field } } }')
    assert bad["setAfterSalePolicy"]["errors"] == [{"code": "VALIDATION", "field": "return_days"}]


# ------------------------------------------------------------------ channels


async def wait_for(condition: Any, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_a_taobao_refund_opens_an_after_sale_and_the_approval_is_pushed_to_the_shop(world, gql):
    async with taobao_shop(world) as platform:
        placed = platform.place(push=False)
        placed.detail.update(lines=[("SKU-A", "美利奴羊毛围巾", 5000, 2)], post=0, discount=0)  # ¥100 paid
        assert (await announce(gql.http, platform.protocol.push(placed, SECRET))).status_code == 200
        refund = platform.request_refund(placed.external_id, line=1, push=False)
        message = platform.protocol.push_refund(placed, refund, "created", SECRET)
        assert json.loads(message.body)["topic"] == "taobao_refund_RefundCreated"
        answer = await announce(gql.http, message)
        assert answer.status_code == 200 and answer.json()["status"] == "updated", answer.text
        order = await Order.get(tenant_id=world.tenant.id, external_id=placed.external_id)
        sale = await AfterSale.get(order_id=order.id)
        assert (sale.source, sale.external_id, sale.kind, sale.requested_amount, sale.channel_status) == (
            "channel", refund["refund_id"], "refund_only", Decimal("100.00"), "WAIT_SELLER_AGREE")
        assert sale.status == "APPROVED"  # ¥100 ≤ ¥200: the policy approved it on arrival

        async def pushed() -> bool:
            return bool(platform.after_sale_calls)

        await wait_for(pushed)  # the leader's push job, woken by the commit
        call = platform.after_sale_calls[0]
        assert (call["method"], call["refund_id"], call["amount"]) == ("taobao.rp.refunds.agree", refund["refund_id"], "100")

        async def recorded() -> bool:
            return (await AfterSale.get(id=sale.id)).push_state == "done"

        await wait_for(recorded)
        assert await OrderEvent.filter(order_id=order.id, type="after_sale.pushed").count() == 1
        # The same message again changes nothing; the platform's "refunded" then settles the money once.
        assert (await announce(gql.http, message)).json()["status"] in ("duplicate", "unchanged")
        settled = platform.protocol.push_refund(placed, refund, "refunded", SECRET)
        assert (await announce(gql.http, settled)).status_code == 200
        assert (await announce(gql.http, platform.protocol.push_refund(placed, refund, "refunded", SECRET))).status_code == 200
    sale = await AfterSale.get(id=sale.id)
    assert sale.status == "REFUNDED"
    refunds = await Payment.filter(order_id=order.id, kind="refund")
    assert [(p.amount, p.reference) for p in refunds] == [(Decimal("-100.00"), refund["refund_id"])]
    assert len(platform.after_sale_calls) == 1  # the channel's own moves are not pushed back


async def test_a_refused_push_is_an_alert_and_a_rejection_is_pushed(world, gql):
    async with taobao_shop(world) as platform:
        placed = platform.place(push=False)
        placed.detail.update(lines=[("SKU-B", "羊绒混纺围巾", 30000, 1)], post=0, discount=0)  # ¥300: waits
        assert (await announce(gql.http, platform.protocol.push(placed, SECRET))).status_code == 200
        refund = platform.request_refund(placed.external_id, line=1, push=False)
        assert (await announce(gql.http, platform.protocol.push_refund(placed, refund, "created", SECRET))).status_code == 200
        sale = await AfterSale.get(external_id=refund["refund_id"])
        assert sale.status == "REQUESTED" and sale.push_state == ""
        await decisions.reject(world.actor(), sale.id, "the seal is broken")

        async def pushed() -> bool:
            return bool(platform.after_sale_calls)

        await wait_for(pushed)
        assert platform.after_sale_calls[0]["method"] == "taobao.refund.refuse"
        assert platform.after_sale_calls[0]["message"] == "the seal is broken"

        # A second refund the shop no longer knows: the platform refuses, a person is told.
        other = platform.place(push=False)
        other.detail.update(lines=[("SKU-A", "美利奴羊毛围巾", 4500, 1)], post=0, discount=0)  # ¥45: approved at once
        assert (await announce(gql.http, platform.protocol.push(other, SECRET))).status_code == 200
        gone = platform.request_refund(other.external_id, line=1, push=False)
        platform.protocol.refunds.pop(gone["refund_id"])  # the trade still names it; agreeing to it fails
        assert (await announce(gql.http, platform.protocol.push_refund(other, gone, "created", SECRET))).status_code == 200
        sale = await AfterSale.get(external_id=gone["refund_id"])
        assert sale.status == "APPROVED"

        async def failed() -> bool:
            return (await AfterSale.get(id=sale.id)).push_state == "failed"

        await wait_for(failed)
    alert = await Alert.get(order_id=sale.order_id, kind="after_sale.push_failed")
    assert "refund-not-exist" in alert.message or "no such refund" in alert.message


async def test_a_shopify_refund_opens_an_already_refunded_after_sale_once(world, gql):
    await add_channel(world, "shop", "shopify")
    body = sample("shopify_order.json")
    assert (await deliver(gql.http, "shopify", "shop", body)).status_code == 200
    payload = json.loads(body)
    payload.update(updated_at="2024-03-03T08:00:00-05:00", financial_status="partially_refunded", refunds=[{
        "id": 900000000000000001, "note": "one scarf damaged",
        "refund_line_items": [{"id": 1, "line_item_id": 15234567890123456, "quantity": 1, "restock_type": "no_restock",
                               "subtotal": "45.00"}],
        "transactions": [{"id": 2, "kind": "refund", "status": "success", "amount": "45.00"}]}])
    updated = json.dumps(payload).encode()
    answer = await deliver(gql.http, "shopify", "shop", updated)
    assert answer.status_code == 200 and answer.json()["status"] == "updated", answer.text
    again = await deliver(gql.http, "shopify", "shop", updated, webhook_id="another-delivery")
    assert again.status_code == 200
    order = await Order.get(tenant_id=world.tenant.id, external_id="5123456789012345678")
    sale = await AfterSale.get(order_id=order.id)
    assert (sale.source, sale.external_id, sale.kind, sale.status, sale.reason) == (
        "channel", "900000000000000001", "refund_only", "REFUNDED", "one scarf damaged")
    assert [p.amount for p in await Payment.filter(order_id=order.id, kind="refund")] == [Decimal("-45.00")]
    assert sale.push_state == ""  # Shopify made the refund itself: nothing to push
