"""order.diagnosis and diagnose(orders:): who is out of line, since when, the evidence, and repairs that work.

The rules are checked on their own first (no database, no network); then the
whole thing against the simulated WMS and ERP over HTTP: the issue's dropped
confirmation (the WMS shipped, OrderGraph never heard) is RED, names the WMS
as ahead, and its suggested action ships the order with the WMS's waybill.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from adapters.erp.sim_faults import Profile as ErpProfile
from adapters.wms.simulator import Profile as WmsProfile
from api.app import create_app
from domain.federation.diagnosis import (
    ActionKind,
    Delivery,
    Evidence,
    System,
    Unreachable,
    Verdict,
    judge,
)
from domain.federation.facts import ChannelFact, OrderFacts, ReservationFact, ShipmentFact
from domain.federation.ports import DeliveryState, Parcel, SalesOrderState, StockFigure, WmsStatus
from domain.statuses import OrderStatus
from models import Alert, DeliveryOrder, OrderEvent, Shipment, SystemExchange
from resolvers import ids
from tests.conftest import GraphQLClient, World, settings_for
from tests.federation_support import SKU, CountingSystems, all_pushed, code_of, federated, pushed_orders

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def facts(status: OrderStatus = OrderStatus.ALLOCATED, **extra: Any) -> OrderFacts:
    values: dict[str, Any] = dict(
        id=42, status=status, effective=status, currency="CNY", total_amount=Decimal("100.00"), warehouse_id=1,
        lines={SKU: 1}, line_warehouses={SKU: {1}}, shipments=[],
        reservations=[ReservationFact(7, 1, SKU, 1)] if status in (OrderStatus.ALLOCATED, OrderStatus.PICKING) else [],
        channel=None, status_since=NOW - timedelta(hours=3), status_event_id=900)
    values.update(extra)
    return OrderFacts(**values)


def delivery(status: WmsStatus, *, ours: str = "pushed", parcels: tuple[Parcel, ...] = (), shipped: dict | None = None,
             raw: str = "") -> Delivery:
    state = DeliveryState(code="OG000000042-SH", status=status, raw_status=raw or status.value, shipped=shipped or {},
                          parcels=parcels, updated_at=NOW - timedelta(hours=2))
    return Delivery(id=5, code="OG000000042-SH", warehouse_id=1, status=ours, pushed_at=NOW - timedelta(hours=3),
                    created_at=NOW - timedelta(hours=3), event_id=901, last_error="", attempts=1, wms=state,
                    exchange_ids=(77,))


SF = Parcel("SF", "SF1234567890", {})


def erp(known: bool = True, shipped: int = 0, amount: str = "100.00") -> SalesOrderState:
    return SalesOrderState(order_no="OG000000042", status="C", known=known, ordered={SKU: 1} if known else {},
                           shipped={SKU: shipped} if known else {}, amount=amount if known else "",
                           updated_at=NOW - timedelta(hours=1))


# ------------------------------------------------------------------ the rules


def test_every_system_agreeing_is_green() -> None:
    found = judge(Evidence(order=facts(), now=NOW, erp=erp(), erp_exchange_ids=(70,),
                           deliveries=[delivery(WmsStatus.ACCEPTED)], wms_warehouses={1},
                           wms_stock={(1, SKU): StockFigure(SKU, 10)}))
    assert found.verdict == Verdict.GREEN and found.discrepancies == [] and found.summary == "every system agrees"


def test_a_wms_that_shipped_while_we_still_allocate_is_red_and_names_ordergraph() -> None:
    found = judge(Evidence(order=facts(OrderStatus.PICKING), now=NOW, erp=erp(), erp_exchange_ids=(70,),
                           deliveries=[delivery(WmsStatus.SHIPPED, parcels=(SF,), shipped={SKU: 1}, raw="DELIVERED")],
                           wms_warehouses={1}))
    assert found.verdict == Verdict.RED
    [ahead] = [d for d in found.discrepancies if d.code == "WMS_AHEAD"]
    assert ahead.out_of_line == System.ORDERGRAPH and "WMS is ahead of OrderGraph" in ahead.message
    assert "SF SF1234567890" in ahead.message and "PICKING" in ahead.message
    assert ahead.since == NOW - timedelta(hours=2)               # when the WMS says it shipped
    assert ahead.exchange_ids == [77] and ahead.event_ids == [901, 900]
    assert [a.kind for a in ahead.actions] == [ActionKind.APPLY_WMS_CONFIRMATION]
    assert ahead.actions[0].mutation == "applyWmsConfirmation"


def test_a_wms_that_lost_an_accepted_delivery_order_is_out_of_line() -> None:
    found = judge(Evidence(order=facts(), now=NOW, deliveries=[delivery(WmsStatus.UNKNOWN)], wms_warehouses={1}))
    [lost] = found.discrepancies
    assert (lost.code, lost.severity, lost.out_of_line) == ("WMS_LOST_DELIVERY", Verdict.RED, System.WMS)
    assert lost.actions[0].kind == ActionKind.REPUSH_TO_WMS


def test_an_allocated_order_never_pushed_to_its_wms_is_yellow() -> None:
    found = judge(Evidence(order=facts(event_times={"order.allocated": (899, NOW - timedelta(hours=4))}), now=NOW,
                           wms_warehouses={1}))
    [missing] = found.discrepancies
    assert (missing.code, missing.severity, missing.out_of_line) == ("WMS_NOT_PUSHED", Verdict.YELLOW, System.ORDERGRAPH)
    assert missing.since == NOW - timedelta(hours=4) and missing.event_ids == [899]


def test_waybills_that_differ_blame_the_side_the_carrier_does_not_scan() -> None:
    ours = ShipmentFact(3, 1, "SF", "SF0000000001", "IN_TRANSIT", "ops", NOW - timedelta(hours=5), NOW, 2)
    found = judge(Evidence(order=facts(OrderStatus.SHIPPED, shipments=[ours]), now=NOW, erp=erp(shipped=1),
                           deliveries=[delivery(WmsStatus.SHIPPED, ours="confirmed", parcels=(SF,), shipped={SKU: 1})],
                           wms_warehouses={1}))
    [mismatch] = found.discrepancies
    assert mismatch.code == "WAYBILL_MISMATCH" and mismatch.out_of_line == System.WMS
    assert "carrier scans ours" in mismatch.message


def test_erp_checks_missing_orders_quantities_amounts_and_lag() -> None:
    missing = judge(Evidence(order=facts(), now=NOW, erp=erp(known=False), erp_exchange_ids=(70,)))
    assert [(d.code, d.out_of_line) for d in missing.discrepancies] == [("ERP_MISSING", System.ERP)]
    shipped_here = facts(OrderStatus.SHIPPED, event_times={"order.shipped": (950, NOW - timedelta(minutes=30))})
    behind = judge(Evidence(order=shipped_here, now=NOW, erp=erp(amount="99.00"), erp_exchange_ids=(70,)))
    assert {d.code for d in behind.discrepancies} == {"ERP_BEHIND", "ERP_AMOUNT"}
    assert behind.verdict == Verdict.YELLOW
    ahead = judge(Evidence(order=facts(), now=NOW, erp=erp(shipped=1), erp_exchange_ids=(70,)))
    assert [(d.code, d.severity, d.out_of_line) for d in ahead.discrepancies] == [("ERP_AHEAD", Verdict.RED, System.ORDERGRAPH)]


def test_the_channel_cancelled_while_we_fulfil_suggests_a_resync() -> None:
    channel = ChannelFact("taobao", "TRADE_CLOSED_BY_TAOBAO", None, True, NOW - timedelta(minutes=10), "payload:ab")
    found = judge(Evidence(order=facts(channel=channel), now=NOW))
    [cancelled] = found.discrepancies
    assert cancelled.code == "CHANNEL_CANCELLED" and cancelled.out_of_line == System.ORDERGRAPH
    assert [a.kind for a in cancelled.actions] == [ActionKind.RESYNC_FROM_CHANNEL, ActionKind.ESCALATE]
    lagging = ChannelFact("taobao", "WAIT_SELLER_SEND_GOODS", OrderStatus.PAID, False, NOW - timedelta(days=1), None)
    behind = judge(Evidence(order=facts(OrderStatus.SHIPPED, channel=lagging), now=NOW))
    assert [(d.code, d.out_of_line) for d in behind.discrepancies] == [("CHANNEL_BEHIND", System.CHANNEL)]


def test_a_system_that_could_not_be_asked_keeps_the_verdict_from_green() -> None:
    found = judge(Evidence(order=facts(), now=NOW, unreachable=[Unreachable(System.ERP, "erp", "UNAVAILABLE", "down")]))
    assert found.verdict == Verdict.YELLOW and "could not ask ERP erp" in found.summary


def test_stock_the_wms_does_not_have_suggests_releasing_the_reservation() -> None:
    found = judge(Evidence(order=facts(), now=NOW, deliveries=[delivery(WmsStatus.ACCEPTED)], wms_warehouses={1},
                           wms_stock={(1, SKU): StockFigure(SKU, 0)}, stock_exchange_ids={1: (80,)}))
    [short] = found.discrepancies
    assert short.code == "WMS_STOCK_SHORT" and short.exchange_ids == [80]
    assert short.actions[0].kind == ActionKind.FORCE_RELEASE_RESERVATION and short.actions[0].reservation_id == 7
    assert short.actions[0].mutation == "releaseReservation"


# ------------------------------------------------------------------ end to end, over HTTP

DIAGNOSIS = """
query($id: ID!) { order(id: $id) { status diagnosis {
  verdict summary elapsedMs
  discrepancies { code severity outOfLine message since exchangeIds eventIds
                  evidence { ref outcome operation }
                  actions { kind label mutation input } }
  unreachable { system connection code } } } }
"""


@pytest.fixture
async def client(db: str) -> AsyncIterator[tuple[GraphQLClient, Any]]:
    app = create_app(settings_for(db, federation_cache_seconds=0, federation_budget_seconds=5.0, drift_check_seconds=0),
                     manage_database=False)
    async with app.router.lifespan_context(app):
        app.state.federation.systems = CountingSystems()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            yield GraphQLClient(http), app


async def run_action(gql: GraphQLClient, key: str, action: dict[str, Any], selection: str) -> dict[str, Any]:
    """Run a suggested action exactly as the diagnosis hands it over: its mutation with its input."""
    kinds = {"applyWmsConfirmation": "OrderRepairInput", "repushToWms": "OrderRepairInput",
             "resyncFromChannel": "OrderRepairInput", "escalateOrder": "EscalateOrderInput",
             "releaseReservation": "ReleaseReservationInput"}
    name = action["mutation"]
    document = f"mutation($input: {kinds[name]}!) {{ {name}(input: $input) {{ {selection} errors {{ code message }} }} }}"
    data = await gql(key, document, {"input": action["input"]})
    assert data[name]["errors"] == [], data
    return data[name]


async def test_a_dropped_confirmation_is_red_and_the_suggested_action_ships_the_order(world: World, client) -> None:
    gql, _ = client
    async with federated(world) as fed:
        [order] = await pushed_orders(world, fed, 1)
        code = await code_of(order.id)
        shipped = await fed.wms.ship(code, carrier="SF", tracking_no="SF7788990011")
        assert shipped["callback"]["sent"] is False           # the confirmation never reaches OrderGraph
        key = world.keys["ops"]
        data = await gql(key, DIAGNOSIS, {"id": ids.encode("Order", order.id)})
        assert data["order"]["status"] == "ALLOCATED"
        diagnosis = data["order"]["diagnosis"]
        assert diagnosis["verdict"] == "RED"
        ahead = next(d for d in diagnosis["discrepancies"] if d["code"] == "WMS_AHEAD")
        assert ahead["outOfLine"] == "ORDERGRAPH" and ahead["message"].startswith("WMS is ahead of OrderGraph")
        assert "SF7788990011" in ahead["message"] and ahead["since"] is not None
        assert ahead["evidence"] and all(e["operation"] == "deliveryorder.query" for e in ahead["evidence"])
        # The answer that revealed it is marked disagreed, so the failure rate counts it.
        assert {e["outcome"] for e in ahead["evidence"]} == {"disagreed"}
        exchange_pk = ids.decode(ahead["exchangeIds"][0], "SystemExchange")[1]
        assert (await SystemExchange.get(id=exchange_pk)).outcome == "disagreed"
        [action] = ahead["actions"]
        assert action["kind"] == "APPLY_WMS_CONFIRMATION" and action["mutation"] == "applyWmsConfirmation"

        result = await run_action(gql, key, action, "order { status shipments { carrier trackingNo source } }")
        assert result["order"]["status"] == "SHIPPED"
        assert result["order"]["shipments"] == [{"carrier": "SF", "trackingNo": "SF7788990011", "source": "wms"}]
        row = await DeliveryOrder.get(order_id=order.id)
        assert row.status == "confirmed"

        # Lineage shows the walk and the shipment through the one write path, pointing at the WMS's answer.
        events = await OrderEvent.filter(order_id=order.id).order_by("id").values_list("type", "payload_ref")
        types = [t for t, _ in events]
        assert types.index("order.status_changed") < types.index("order.shipped") < types.index("wms.delivery_confirmed")
        ref = dict(events)["wms.delivery_confirmed"]
        assert ref and ref.startswith("exchange:")
        evidence = await gql(key, "query($r: String!) { systemExchange(ref: $r) { operation responseBody } }", {"r": ref})
        assert "SF7788990011" in evidence["systemExchange"]["responseBody"]

        # Once the ERP has booked the out-stock too, every system agrees.
        async with httpx.AsyncClient(base_url=fed.erp_url) as http:
            answer = await http.post(f"/_sim/orders/OG{order.id:09d}/ship", json={"quantities": {SKU: 1}})
            assert answer.status_code == 200, answer.text
        again = await gql(key, DIAGNOSIS, {"id": ids.encode("Order", order.id)})
        assert again["order"]["diagnosis"]["verdict"] == "GREEN", again

        # Applying it twice is refused, nothing changes.
        refused = await gql(key, """mutation($i: OrderRepairInput!) { applyWmsConfirmation(input: $i) { order { status }
                                    errors { code message } } }""", {"i": action["input"]})
        assert refused["applyWmsConfirmation"]["errors"][0]["code"] == "CONFLICT"
        assert await Shipment.filter(order_id=order.id).count() == 1


async def test_a_delivery_order_the_wms_lost_is_pushed_again_by_the_same_code(world: World, client) -> None:
    gql, _ = client
    async with federated(world) as fed:
        [order] = await pushed_orders(world, fed, 1)
        code = await code_of(order.id)
        fed.wms.orders.pop(code)                               # the WMS lost it (a restore from backup, say)
        key = world.keys["ops"]
        diagnosis = (await gql(key, DIAGNOSIS, {"id": ids.encode("Order", order.id)}))["order"]["diagnosis"]
        lost = next(d for d in diagnosis["discrepancies"] if d["code"] == "WMS_LOST_DELIVERY")
        assert diagnosis["verdict"] == "RED" and lost["outOfLine"] == "WMS"
        [action] = lost["actions"]
        assert action["mutation"] == "repushToWms" and action["input"]["reason"]
        await run_action(gql, key, action, "order { status }")
        assert (await DeliveryOrder.get(order_id=order.id)).status == "pending"
        await all_pushed([order.id])                           # by the app's leader or by us: one sender per row
        assert code in fed.wms.orders
        assert (await gql(key, DIAGNOSIS, {"id": ids.encode("Order", order.id)}))["order"]["diagnosis"]["verdict"] == "GREEN"
        assert await OrderEvent.filter(order_id=order.id, type="wms.repush_requested").count() == 1


async def test_escalating_raises_one_alert_on_the_order(world: World, client) -> None:
    gql, _ = client
    async with federated(world) as fed:
        [order] = await pushed_orders(world, fed, 1, book_in_erp=False)
        key = world.keys["ops"]
        diagnosis = (await gql(key, DIAGNOSIS, {"id": ids.encode("Order", order.id)}))["order"]["diagnosis"]
        missing = next(d for d in diagnosis["discrepancies"] if d["code"] == "ERP_MISSING")
        assert diagnosis["verdict"] == "YELLOW" and missing["outOfLine"] == "ERP"
        [action] = missing["actions"]
        assert action["kind"] == "ESCALATE" and action["input"]["code"] == "ERP_MISSING"
        result = await run_action(gql, key, action, "alert { kind severity message }")
        assert result["alert"]["kind"] == "FEDERATION_ESCALATED" and result["alert"]["severity"] == "CRITICAL"
        await run_action(gql, key, action, "alert { kind }")
        assert await Alert.filter(order_id=order.id, kind="federation.escalated", cleared_at__isnull=True).count() == 1


async def test_diagnosis_asks_the_systems_in_parallel(world: World, client) -> None:
    gql, _ = client
    async with federated(world) as fed:
        [order] = await pushed_orders(world, fed, 1)
        key = world.keys["ops"]
        await gql(key, DIAGNOSIS, {"id": ids.encode("Order", order.id)})       # the ERP session is opened once
        fed.erp.profile = ErpProfile(latency_ms=300)
        fed.wms.profile = WmsProfile(latency_ms=300)
        started = time.perf_counter()
        data = await gql(key, DIAGNOSIS, {"id": ids.encode("Order", order.id)})
        elapsed = time.perf_counter() - started
        assert data["order"]["diagnosis"]["verdict"] == "GREEN"
        # ERP query, WMS delivery query and WMS stock query: 900 ms one after another, ~300 ms at once.
        assert elapsed < 0.75, elapsed


async def test_a_batch_diagnosis_asks_each_system_once_and_survives_an_outage(world: World, client) -> None:
    gql, app = client
    counted: CountingSystems = app.state.federation.systems
    async with federated(world) as fed:
        orders = await pushed_orders(world, fed, 10)
        fed.erp.profile = ErpProfile(down=True)
        query = "query($o: [ID!]!) { diagnose(orders: $o) { orderNumber verdict unreachable { system connection } } }"
        data = await gql(world.keys["ops"], query, {"o": [ids.encode("Order", o.id) for o in orders]})
        found = data["diagnose"]
        assert [d["orderNumber"] for d in found] == [f"OG{o.id:09d}" for o in orders]
        assert all(d["verdict"] == "YELLOW" and d["unreachable"] == [{"system": "ERP", "connection": "erp"}] for d in found)
        assert counted.count("sales_orders") == 1 and counted.count("delivery_states") == 1 and counted.count("stock") == 1
        too_many = await gql.post(world.keys["ops"], query, {"o": [ids.encode("Order", 1)] * 101})
        assert too_many.json()["errors"][0]["extensions"]["code"] == "VALIDATION"


async def test_other_tenants_orders_are_not_diagnosed(world: World, other_world: World, client) -> None:
    gql, _ = client
    from tests.helpers import paid_order

    theirs = await paid_order(other_world.actor(), other_world.channel.id, "THEIRS1")
    data = await gql(world.keys["ops"], "query($o: [ID!]!) { diagnose(orders: $o) { verdict } }",
                     {"o": [ids.encode("Order", theirs.id)]})
    assert data["diagnose"] == []



async def test_a_cancellation_the_channel_sent_is_resynced_by_the_suggested_action(world: World, client) -> None:
    """The channel's last word (kept by intake) says cancelled while we still fulfil: RED, and re-sync applies it."""
    from models import ChannelOrderState, Reservation

    gql, _ = client
    async with federated(world) as fed:
        [order] = await pushed_orders(world, fed, 1)
        # What intake keeps when a person's hold stopped the cancellation from applying, and the hold is gone now.
        await ChannelOrderState.create(order_id=order.id, tenant_id=world.tenant.id, source="taobao",
                                       status_code="TRADE_CLOSED", source_updated_at=NOW)
        key = world.keys["ops"]
        diagnosis = (await gql(key, DIAGNOSIS, {"id": ids.encode("Order", order.id)}))["order"]["diagnosis"]
        cancelled = next(d for d in diagnosis["discrepancies"] if d["code"] == "CHANNEL_CANCELLED")
        assert diagnosis["verdict"] == "RED" and cancelled["outOfLine"] == "ORDERGRAPH"
        assert cancelled["since"].startswith("2026-11-30T08:00:00")
        resync = next(a for a in cancelled["actions"] if a["kind"] == "RESYNC_FROM_CHANNEL")
        result = await run_action(gql, key, resync, "order { status }")
        assert result["order"]["status"] == "CANCELLED"
        assert await Reservation.filter(order_id=order.id, status="ACTIVE").count() == 0
        cancel = await OrderEvent.get(order_id=order.id, type="order.cancelled")
        assert cancel.actor == "resync:tmall" and "TRADE_CLOSED" in cancel.reason
        resynced = await OrderEvent.get(order_id=order.id, type="order.resynced_from_channel")
        assert resynced.after["status"] == "CANCELLED" and resynced.before == {"status": "ALLOCATED"}
