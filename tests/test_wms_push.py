"""Allocated orders reach the WMS as delivery orders: once, by their code, through faults and outages, with evidence."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any

from adapters.wms.simulator import Profile
from domain import orders
from domain.actor import Role
from domain.allocation import policy as allocation_policy
from domain.federation.delivery_orders import CURSOR
from domain.federation.delivery_push import PUSH_FAILED_ALERT, claim
from domain.federation.evidence import REF_PREFIX
from domain.statuses import OrderStatus
from events import cursor as cursors
from models import Alert, DeliveryOrder, Order, OrderEvent, Shipment, Stock, SystemExchange
from resolvers import ids
from tests.conftest import GraphQLClient
from tests.live_fixtures import live_server
from tests.stock_fixtures import check_invariants, order, stock_up
from tests.wms_support import FAST, Outbox, fresh_breakers, running_wms, wire_tenant  # noqa: F401


async def _exchange(event: OrderEvent) -> SystemExchange:
    assert event.payload_ref and event.payload_ref.startswith(REF_PREFIX), event.payload_ref
    return await SystemExchange.get(id=int(event.payload_ref[len(REF_PREFIX):]))


async def _events(order_id: int) -> list[OrderEvent]:
    return await OrderEvent.filter(order_id=order_id).order_by("id")


async def _wait(check: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def _leader_ready() -> bool:
    return await cursors.load(CURSOR) is not None


async def test_an_allocated_order_is_pushed_shipped_by_the_wms_and_shipped_here(world: Any, db: str) -> None:
    """Over HTTP both ways: the served app's leader pushes, the simulated WMS ships and calls the app back."""
    async with running_wms() as wms:
        await wire_tenant(world, wms, stock=20)
        async with live_server(db, wms_push_poll_interval=0.05, wms_push_retry_delays=(0.1, 0.2)) as (base, _app):
            wms.sim.callback_url = f"{base}/hooks/acme/wms/SH"
            await _wait(_leader_ready)
            placed = await order(world, "T-E2E-1", {"TEA-001": 2})
            assert placed.status == OrderStatus.ALLOCATED

            async def pushed() -> bool:
                return await DeliveryOrder.filter(order_id=placed.id, status="pushed").exists()

            await _wait(pushed)
            code = f"OG{placed.id:09d}-SH"
            assert wms.sim.created[code] == 1 and wms.sim.orders[code].lines[0][1:] == ("TEA-001", 2)

            shipped = await wms.sim.ship(code, carrier="SF")
            assert shipped["callback"]["status"] == 200 and "<flag>success</flag>" in shipped["callback"]["answer"]

        after = await Order.get(id=placed.id)
        assert after.status == OrderStatus.SHIPPED
        [parcel] = await Shipment.filter(order_id=placed.id)
        assert (parcel.carrier, parcel.tracking_no, parcel.source) == ("SF", shipped["tracking_no"], "wms")
        sh = next(w for w in world.warehouses if w.code == "SH")
        level = await Stock.get(warehouse_id=sh.id, sku="TEA-001")
        assert (level.on_hand, level.reserved) == (18, 0)
        await check_invariants(world.tenant.id)
        assert (await DeliveryOrder.get(order_id=placed.id)).status == "confirmed"

        events = await _events(placed.id)
        types = [e.type for e in events]
        for expected in ("order.allocated", "wms.delivery_queued", "wms.delivery_pushed", "order.shipped",
                         "stock.consumed", "wms.delivery_confirmed"):
            assert expected in types, types
        push = await _exchange(next(e for e in events if e.type == "wms.delivery_pushed"))
        assert (push.operation, push.direction, push.outcome, push.order_id) == ("deliveryorder.create", "out", "ok", placed.id)
        assert "13800000000" not in push.request_body and "王五" not in push.request_body and code in push.request_body
        confirm = await _exchange(next(e for e in events if e.type == "wms.delivery_confirmed"))
        assert (confirm.operation, confirm.direction, confirm.order_id) == ("deliveryorder.confirm", "in", placed.id)
        assert shipped["tracking_no"] in confirm.request_body


async def test_two_percent_injected_failures_end_with_every_order_pushed_exactly_once(world: Any, db: str) -> None:
    async with running_wms(profile=Profile(error_rate=0.02, lost_answer_rate=0.02), seed=13) as wms:
        await wire_tenant(world, wms, stock=200)
        placed = [await order(world, f"T-FAULT-{n}", {"TEA-001": 1}) for n in range(40)]
        outbox = Outbox(db)

        async def all_pushed() -> bool:
            return await DeliveryOrder.filter(status="pushed").count() == len(placed)

        await outbox.settle(all_pushed, timeout=60)

        codes = {f"OG{o.id:09d}-SH" for o in placed}
        assert set(await DeliveryOrder.all().values_list("code", flat=True)) == codes
        assert set(wms.sim.orders) == codes                          # none lost
        assert all(wms.sim.created[code] == 1 for code in codes)     # none duplicated
        assert sum(wms.sim.requests.values()) >= len(codes)
        assert wms.sim.calls["injected_errors"] + wms.sim.calls["lost_answers"] > 0  # the faults did happen


async def test_an_outage_leaves_intake_working_and_the_pushes_catch_up(world: Any, db: str) -> None:
    async with running_wms(profile=Profile.read({"outages": [{"after_s": 0, "for_s": 600}]})) as wms:
        await wire_tenant(world, wms, config={**wms.config, "retries": 0})
        outbox = Outbox(db, replace(FAST, delays=(0.5,)))
        started = time.monotonic()
        placed = [await order(world, f"T-OUT-{n}", {"TEA-001": 1}) for n in range(3)]
        assert time.monotonic() - started < 5
        assert all(o.status == OrderStatus.ALLOCATED for o in placed)
        await outbox.step()

        rows = await DeliveryOrder.all().order_by("id")
        assert [(r.status, r.attempts, r.last_error) for r in rows] == [("pending", 1, "wms deliveryorder.create: HTTP 503")] * 3
        failed = [e for e in await _events(placed[0].id) if e.type == "wms.delivery_push_failed"]
        assert failed and failed[0].after["final"] is False
        assert (await _exchange(failed[0])).outcome == "error"
        assert not wms.sim.orders

        wms.sim.profile = Profile()

        async def all_pushed() -> bool:
            return await DeliveryOrder.filter(status="pushed").count() == 3

        await outbox.settle(all_pushed)
        assert all(wms.sim.created[r.code] == 1 for r in rows)
        types = [e.type for e in await _events(placed[0].id)]
        assert types.index("wms.delivery_push_failed") < types.index("wms.delivery_pushed")


async def test_a_push_the_wms_refuses_is_failed_alerted_and_not_retried(world: Any, db: str) -> None:
    async with running_wms() as wms:
        await wire_tenant(world, wms, config={**wms.config, "app_key": "unknown-app"})
        placed = await order(world, "T-REFUSED", {"TEA-001": 1})
        outbox = Outbox(db)
        await outbox.step()
        await outbox.step()

        row = await DeliveryOrder.get(order_id=placed.id)
        assert (row.status, row.attempts, row.last_error) == ("failed", 1, "Invalid app key")
        alert = await Alert.get(order_id=placed.id, kind=PUSH_FAILED_ALERT)
        assert "Invalid app key" in alert.message and alert.severity == "critical"
        failed = next(e for e in await _events(placed.id) if e.type == "wms.delivery_push_failed")
        assert failed.after["final"] is True
        assert (await _exchange(failed)).outcome == "error"


async def test_held_orders_wait_and_orders_cancelled_before_the_push_never_reach_the_wms(world: Any, db: str) -> None:
    async with running_wms() as wms:
        await wire_tenant(world, wms)
        ops = world.actor(Role.OPS)
        held = await order(world, "T-HELD", {"TEA-001": 1})
        gone = await order(world, "T-GONE", {"TEA-001": 1})
        await orders.hold_order(ops, held.id, ["address check"])
        outbox = Outbox(db)
        await outbox.feed()  # both are queued; neither has been sent
        await orders.cancel_order(ops, gone.id, "buyer changed their mind")
        await outbox.step()

        waiting = await DeliveryOrder.get(order_id=held.id)
        assert (waiting.status, waiting.attempts) == ("pending", 0)
        withdrawn = await DeliveryOrder.get(order_id=gone.id)
        assert withdrawn.status == "cancelled" and "buyer changed their mind" in withdrawn.last_error
        assert "wms.delivery_withdrawn" in [e.type for e in await _events(gone.id)]
        assert not wms.sim.orders

        await orders.release_hold(ops, held.id)
        await outbox.step()
        assert (await DeliveryOrder.get(order_id=held.id)).status == "pushed"
        assert list(wms.sim.orders) == [f"OG{held.id:09d}-SH"]


async def test_two_senders_never_hold_the_same_delivery_order(world: Any, db: str) -> None:
    async with running_wms() as wms:
        await wire_tenant(world, wms, stock=50)
        for n in range(12):
            await order(world, f"T-RACE-{n}", {"TEA-001": 1})
        await Outbox(db).feed()
        first, second = await asyncio.gather(claim(12, 30), claim(12, 30))
        mine, theirs = {c.id for c in first}, {c.id for c in second}
        assert not mine & theirs
        assert mine | theirs == set(await DeliveryOrder.all().values_list("id", flat=True))
        assert not await claim(12, 30)  # every row is leased now


SAVE = """
mutation Save($input: SaveSystemConnectionInput!) {
  saveSystemConnection(input: $input) { connection { code kind adapter config } errors { code field message } }
}"""
LINK = """
mutation Link($input: LinkWarehouseSystemsInput!) {
  linkWarehouseSystems(input: $input) { link { warehouseCode wms wmsWarehouseCode ownerCode } errors { code field message } }
}"""
DELIVERIES = """
query D($order: ID!) { deliveryOrders(order: $order) { code status wms warehouseCode attempts wmsOrderId lastError } }"""


async def test_a_merchant_connects_a_wms_in_graphql_and_follows_the_delivery_orders(world: Any, gql: GraphQLClient) -> None:
    admin = world.keys["admin"]
    async with running_wms() as wms:
        broken = {k: v for k, v in wms.config.items() if k != "app_secret"}
        answer = await gql(admin, SAVE, {"input": {"code": "wms-sh", "kind": "WMS", "adapter": "qimen", "config": broken}})
        [error] = answer["saveSystemConnection"]["errors"]
        assert (error["code"], error["field"]) == ("VALIDATION", "config") and error["message"].startswith("app_secret")

        answer = await gql(admin, SAVE, {"input": {"code": "wms-sh", "kind": "WMS", "adapter": "qimen", "config": wms.config}})
        saved = answer["saveSystemConnection"]["connection"]
        assert saved["config"]["app_secret"] == "***" and saved["config"]["router_url"] == wms.config["router_url"]
        sh = next(w for w in world.warehouses if w.code == "SH")
        answer = await gql(admin, LINK, {"input": {"warehouse": ids.encode("Warehouse", sh.id), "wms": "wms-sh",
                                                    "wmsWarehouseCode": "SH01", "ownerCode": "OG-OWNER"}})
        assert answer["linkWarehouseSystems"]["link"] == {"warehouseCode": "SH", "wms": "wms-sh",
                                                          "wmsWarehouseCode": "SH01", "ownerCode": "OG-OWNER"}
        answer = await gql(world.keys["ops"], SAVE, {"input": {"code": "x", "kind": "WMS", "adapter": "qimen", "config": {}}})
        assert answer["saveSystemConnection"]["errors"][0]["code"] == "FORBIDDEN"

        await allocation_policy.save_policy(world.actor(), {"strategy": "priority", "auto_allocate": True})
        await stock_up(world, {"TEA-001": {"SH": 5}})
        wms.sim.set_stock("SH01", "TEA-001", 5)
        await _wait(_leader_ready)  # the app's leader runs the feed and the pusher
        placed = await order(world, "T-GQL", {"TEA-001": 1})

        async def listed() -> list[dict]:
            return (await gql(world.keys["ops"], DELIVERIES, {"order": ids.encode("Order", placed.id)}))["deliveryOrders"]

        async def pushed() -> bool:
            return [d["status"] for d in await listed()] == ["PUSHED"]

        await _wait(pushed)
        [delivery] = await listed()
        assert delivery["code"] == f"OG{placed.id:09d}-SH" and delivery["wms"] == "wms-sh"
        assert delivery["wmsOrderId"] == wms.sim.orders[delivery["code"]].wms_id and delivery["attempts"] == 1
        assert (await gql(world.keys["ops"], DELIVERIES, {"order": ids.encode("Order", 999)}))["deliveryOrders"] == []
