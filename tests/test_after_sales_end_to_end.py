"""Issue 16's story in one test: a customer asks on the tracking page to return one line, the warehouse receives and
inspects it, the units are sellable again, the refund is recorded as a negative payment, and the day's
reconciliation agrees (channel net of the refund = what the gateway confirmed). The shop's side goes through GraphQL
as the warehouse and finance teams would use it; the customer's through the real page (session, CSRF, multipart)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from adapters.systems import SYSTEMS
from domain.actor import Role
from domain.reconciliation.run import reconcile_day
from domain.reconciliation.window import local_today, zone_of
from models import AfterSale, AfterSaleLine, Order, OrderLine, Payment, ReconciliationDiff, Stock
from resolvers import ids
from tests.test_tracking_returns import JPEG, _delivered, _form, _post
from tests.tracking_support import (  # noqa: F401 - fixtures
    client,
    showcase,
    signed_in,
    site_app,
)

APPROVE = """mutation($id: ID!) { approveAfterSale(id: $id, note: "photo shows the dent") {
               afterSale { status } errors { code message } } }"""
RECEIVE = """mutation($id: ID!, $w: ID!, $l: ID!) { receiveAfterSale(id: $id, warehouse: $w,
               lines: [{line: $l, quantity: 1}]) { afterSale { status } errors { code message } } }"""
INSPECT = """mutation($id: ID!, $l: ID!) { inspectAfterSaleLine(id: $id, line: $l, restock: 1) {
               afterSale { status } errors { code message } } }"""
REFUND = """mutation($id: ID!) { refundAfterSale(id: $id) { afterSale { status refundedAmount }
              errors { code message } } }"""


async def test_a_customer_return_is_received_restocked_refunded_and_reconciled(client, showcase, world, gql):
    await _delivered(world, showcase, "in_transit")
    number = showcase.number("in_transit")
    order = await Order.get(id=showcase.ids["in_transit"])
    await signed_in(client, number)
    token, lines = await _form(client, number)
    field = next(iter(lines))
    answer = await _post(client, number, {"csrf": token, field: "1", "kind": "return_refund", "reason": "damaged",
                                          "note": "罐子凹了"}, [("dent.jpg", JPEG, "image/jpeg")])
    assert answer.status_code == 303, answer.text[:400]
    sale = await AfterSale.get(order_id=order.id)
    line = await AfterSaleLine.get(after_sale_id=sale.id)
    order_line = await OrderLine.get(id=line.order_line_id)
    assert (sale.source, sale.status, line.quantity) == ("customer", "REQUESTED", 1)

    ops, sale_id = world.keys["ops"], ids.encode("AfterSale", sale.id)
    warehouse = world.warehouses[0]
    stock_before = await Stock.filter(warehouse_id=warehouse.id, sku=order_line.sku).first()
    available_before = (stock_before.on_hand - stock_before.reserved) if stock_before else 0
    assert (await gql(ops, APPROVE, {"id": sale_id}))["approveAfterSale"]["errors"] == []
    received = await gql(ops, RECEIVE, {"id": sale_id, "w": ids.encode("Warehouse", warehouse.id),
                                        "l": ids.encode("AfterSaleLine", line.id)})
    assert received["receiveAfterSale"] == {"afterSale": {"status": "RECEIVED"}, "errors": []}
    # In quarantine: counted, not sellable yet.
    stock = await Stock.get(warehouse_id=warehouse.id, sku=order_line.sku)
    assert stock.on_hand - stock.reserved == available_before
    inspected = await gql(ops, INSPECT, {"id": sale_id, "l": ids.encode("AfterSaleLine", line.id)})
    assert inspected["inspectAfterSaleLine"]["errors"] == []
    await stock.refresh_from_db()
    assert stock.on_hand - stock.reserved == available_before + 1  # sellable again
    refunded = await gql(ops, REFUND, {"id": sale_id})
    assert refunded["refundAfterSale"]["errors"] == []
    assert refunded["refundAfterSale"]["afterSale"]["status"] == "REFUNDED"
    [refund] = await Payment.filter(order_id=order.id, kind="refund")
    await sale.refresh_from_db()
    assert sale.approved_amount and refund.amount == -sale.approved_amount
    assert refund.after_sale_id == sale.id  # type: ignore[attr-defined]
    again = await gql(ops, REFUND, {"id": sale_id})  # money is never paid back twice
    assert again["refundAfterSale"]["errors"] and await Payment.filter(order_id=order.id, kind="refund").count() == 1

    # The gateway confirmed what was paid and what went back; the day reconciles: no difference for this order.
    await Payment.filter(order_id=order.id).update(confirmed_at=datetime.now(UTC))
    day = local_today(zone_of("Asia/Shanghai")) if order.placed_at.date() == datetime.now(UTC).date() else \
        order.placed_at.astimezone(zone_of("Asia/Shanghai")).date()
    run = await reconcile_day(world.actor(Role.FINANCE), day, systems=SYSTEMS)
    assert run.status in ("done", "partial")  # no ERP/WMS connected in this world: channel vs gateway only
    assert not await ReconciliationDiff.filter(run_id=run.id, order_id=order.id).exists()
    assert Decimal(run.totals["refunded"]["CNY"]) == -refund.amount
    assert run.totals["compared"]["gateway"] >= 1  # this order's money was compared, net of the refund
