"""The confirmation sweep: a WMS callback that never arrives still ships the order, once, from the WMS's own answer.

Every test runs the Qimen WMS simulator behind real uvicorn and talks to it over HTTP (its ``/_sim`` controls);
OrderGraph asks it through the real adapter. "Pushed an hour ago" is set on the delivery order row, since the sweep
leaves young ones alone.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from adapters.systems import SYSTEMS
from domain.federation.confirmation_sweep import ConfirmationSweep
from domain.actor import Role
from domain.orders.holds import hold_order, release_hold
from domain.statuses import OrderStatus
from models import Alert, DeliveryOrder, Order, OrderEvent, Shipment, Stock
from tests.federation_support import CountingSystems
from tests.live_fixtures import live_server
from tests.stock_fixtures import check_invariants, order
from tests.wms_support import Outbox, RunningWms, fresh_breakers, hooks_server, running_wms, wire_tenant

#: Each test starts with the WMS's circuit breaker closed (connection keys repeat across tests).
pytestmark = pytest.mark.usefixtures(fresh_breakers.__name__)


async def _sim(wms: RunningWms, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """One call to the simulator's control endpoints."""
    async with httpx.AsyncClient(base_url=wms.base_url, timeout=10) as http:
        answer = await http.request(method, path, json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _pushed(world: Any, outbox: Outbox, external_id: str, *,
                  ago: timedelta | None = timedelta(hours=1)) -> tuple[Order, str]:
    """A paid order allocated to SH, its delivery order pushed to the WMS (``ago`` before now) and accepted there."""
    placed = await order(world, external_id, {"TEA-001": 2})
    await outbox.step()
    row = await DeliveryOrder.get(order_id=placed.id)
    assert row.status == "pushed"
    if ago is not None:
        await DeliveryOrder.filter(id=row.id).update(pushed_at=datetime.now(UTC) - ago)
    return placed, row.code


async def _ship_at_the_wms(wms: RunningWms, code: str, tracking_no: str) -> dict[str, Any]:
    return await _sim(wms, "POST", "/_sim/ship", {"code": code, "carrier": "SF", "tracking_no": tracking_no})


async def _types(order_id: int) -> list[str]:
    return list(await OrderEvent.filter(order_id=order_id).order_by("id").values_list("type", flat=True))


async def test_a_lost_confirmation_ships_the_order_once_with_the_wms_waybill(world: Any, db: str) -> None:
    async with running_wms() as wms, hooks_server(db) as base:
        await _sim(wms, "PUT", "/_sim/callback", {"url": f"{base}/hooks/acme/wms/SH"})
        await _sim(wms, "PUT", "/_sim/profile", {"drop_callback_rate": 1})
        await wire_tenant(world, wms, stock=20)
        outbox = Outbox(db)
        placed, code = await _pushed(world, outbox, "T-LOST")
        shipped = await _ship_at_the_wms(wms, code, "SF5550001111")
        assert shipped["callback"] == {"sent": False, "dropped": True}
        assert (await Order.get(id=placed.id)).status == OrderStatus.ALLOCATED

        sweep = ConfirmationSweep(SYSTEMS)
        [report] = await sweep.round()
        assert (report.asked, report.recovered) == (1, [code])

        assert (await Order.get(id=placed.id)).status == OrderStatus.SHIPPED
        [parcel] = await Shipment.filter(order_id=placed.id)
        assert (parcel.carrier, parcel.tracking_no) == ("SF", "SF5550001111")
        assert (await DeliveryOrder.get(code=code)).status == "confirmed"
        [recovered] = await OrderEvent.filter(order_id=placed.id, type="wms.confirmation_recovered")
        assert recovered.actor == "wms sweep"
        assert "never arrived" in recovered.reason and "sweep" in recovered.reason
        assert recovered.payload_ref and recovered.payload_ref.startswith("exchange:")
        lineage = await _types(placed.id)

        # A second round finds nothing to ask about and changes nothing.
        queries = wms.sim.calls["deliveryorder.query"]
        [again] = await sweep.round()
        assert (again.asked, again.recovered) == (0, [])
        assert wms.sim.calls["deliveryorder.query"] == queries
        assert await _types(placed.id) == lineage

        # The WMS's own callback, arriving late after all, is a duplicate.
        await _sim(wms, "PUT", "/_sim/profile", {"drop_callback_rate": 0})
        late = await _ship_at_the_wms(wms, code, "SF5550001111")
        assert late["callback"]["status"] == 200 and "<flag>success</flag>" in late["callback"]["answer"]

    assert await Shipment.filter(order_id=placed.id).count() == 1
    assert await _types(placed.id) == lineage
    sh = next(w for w in world.warehouses if w.code == "SH")
    stock = await Stock.get(warehouse_id=sh.id, sku="TEA-001")
    assert (stock.on_hand, stock.reserved) == (18, 0)
    await check_invariants(world.tenant.id)


async def test_young_delivery_orders_are_not_asked_about(world: Any, db: str) -> None:
    async with running_wms() as wms:
        await _sim(wms, "PUT", "/_sim/profile", {"drop_callback_rate": 1})
        await wire_tenant(world, wms, stock=20)
        outbox = Outbox(db)
        old, old_code = await _pushed(world, outbox, "T-OLD")
        young, young_code = await _pushed(world, outbox, "T-YOUNG", ago=timedelta(minutes=2))
        await _ship_at_the_wms(wms, old_code, "SF5550002222")
        await _ship_at_the_wms(wms, young_code, "SF5550003333")

        [report] = await ConfirmationSweep(SYSTEMS, after=timedelta(minutes=10)).round()

        assert (report.asked, report.recovered) == (1, [old_code])
        assert wms.sim.calls["deliveryorder.query"] == 1
    assert (await Order.get(id=old.id)).status == OrderStatus.SHIPPED
    assert (await Order.get(id=young.id)).status == OrderStatus.ALLOCATED
    assert (await DeliveryOrder.get(code=young_code)).status == "pushed"


async def test_a_delivery_order_still_being_picked_is_asked_once_per_every_not_once_per_round(world: Any, db: str) -> None:
    async with running_wms() as wms:
        await _sim(wms, "PUT", "/_sim/profile", {"drop_callback_rate": 1})
        await wire_tenant(world, wms, stock=20)
        outbox = Outbox(db)
        placed, code = await _pushed(world, outbox, "T-PICKING")
        sweep = ConfirmationSweep(SYSTEMS, every=timedelta(minutes=5))

        [first] = await sweep.round()
        [second] = await sweep.round()                       # still picking, asked a moment ago: left alone
        assert (first.asked, first.waiting, second.asked) == (1, [code], 0)
        assert wms.sim.calls["deliveryorder.query"] == 1

        await DeliveryOrder.filter(code=code).update(swept_at=datetime.now(UTC) - timedelta(minutes=6))
        await _ship_at_the_wms(wms, code, "SF5550004444")    # shipped meanwhile; the callback was lost
        [third] = await sweep.round()
        assert (third.asked, third.recovered) == (1, [code])
    assert (await Order.get(id=placed.id)).status == OrderStatus.SHIPPED


async def test_a_round_is_bounded_oldest_first_and_the_next_one_carries_on(world: Any, db: str) -> None:
    async with running_wms() as wms:
        await _sim(wms, "PUT", "/_sim/profile", {"drop_callback_rate": 1})
        await wire_tenant(world, wms, stock=20)
        outbox = Outbox(db)
        # The two oldest are still being picked at the WMS; the two after them shipped and their callbacks were lost.
        rows = [await _pushed(world, outbox, f"T-BACKLOG-{n}", ago=timedelta(hours=5 - n)) for n in range(4)]
        for n, (_, code) in enumerate(rows[2:]):
            await _ship_at_the_wms(wms, code, f"SF555000770{n}")
        systems = CountingSystems()
        sweep = ConfirmationSweep(systems, limit=2, batch=1)

        [first] = await sweep.round()
        assert (first.waiting, first.recovered) == ([rows[0][1], rows[1][1]], [])
        assert systems.count("delivery_states") == 2  # one call per batch

        [second] = await sweep.round()  # not the same two again: the round carries on after them
        assert (second.waiting, second.recovered) == ([], [rows[2][1], rows[3][1]])

        [third] = await sweep.round()  # everything seen: back to the oldest
        assert third.waiting == [rows[0][1], rows[1][1]]
    statuses = [(await Order.get(id=placed.id)).status for placed, _ in rows]
    assert statuses == [OrderStatus.ALLOCATED, OrderStatus.ALLOCATED, OrderStatus.SHIPPED, OrderStatus.SHIPPED]


async def test_a_wms_outage_leaves_everything_for_the_next_round(world: Any, db: str) -> None:
    async with running_wms() as wms:
        await wire_tenant(world, wms, stock=20)
        outbox = Outbox(db)
        placed, code = await _pushed(world, outbox, "T-OUTAGE")
        await _sim(wms, "PUT", "/_sim/profile", {"drop_callback_rate": 1})
        await _ship_at_the_wms(wms, code, "SF5550004444")
        await _sim(wms, "PUT", "/_sim/profile", {"drop_callback_rate": 1, "outages": [{"after_s": 0, "for_s": 600}]})
        lineage = await _types(placed.id)
        sweep = ConfirmationSweep(SYSTEMS)

        [down] = await sweep.round()

        assert down.unreachable and (down.asked, down.recovered) == (0, [])
        assert wms.sim.calls["outage"] >= 1
        assert (await Order.get(id=placed.id)).status == OrderStatus.ALLOCATED
        assert (await DeliveryOrder.get(code=code)).status == "pushed"
        assert not await Shipment.filter(order_id=placed.id).exists()
        assert await _types(placed.id) == lineage

        await _sim(wms, "PUT", "/_sim/profile", {"drop_callback_rate": 1})  # the WMS is back
        [back] = await sweep.round()
        assert (back.unreachable, back.recovered) == ("", [code])
    assert (await Order.get(id=placed.id)).status == OrderStatus.SHIPPED


async def test_a_delivery_order_the_wms_never_received_is_pushed_again_by_its_code(world: Any, db: str) -> None:
    async with running_wms() as wms:
        await wire_tenant(world, wms, stock=20)
        outbox = Outbox(db)
        placed, code = await _pushed(world, outbox, "T-NEVER")
        wms.sim.orders.pop(code)  # counted as sent, but the WMS does not have it (restored from a backup, say)

        [report] = await ConfirmationSweep(SYSTEMS).round()

        assert report.repushed == [code]
        assert (await DeliveryOrder.get(code=code)).status == "pending"
        [asked] = await OrderEvent.filter(order_id=placed.id, type="wms.repush_requested")
        assert asked.actor == "wms sweep" and code in asked.reason
        await outbox.step()  # the leader's pusher sends it, by the same code
        assert code in wms.sim.orders and wms.sim.requests[code] == 2
        assert (await DeliveryOrder.get(code=code)).status == "pushed"

        await _ship_at_the_wms(wms, code, "SF5550005555")  # and now the normal path works (no callback URL: lost)
        await DeliveryOrder.filter(code=code).update(pushed_at=datetime.now(UTC) - timedelta(hours=1))
        [later] = await ConfirmationSweep(SYSTEMS).round()
        assert later.recovered == [code]
    assert (await Order.get(id=placed.id)).status == OrderStatus.SHIPPED
    assert await DeliveryOrder.filter(order_id=placed.id).count() == 1


async def test_a_delivery_order_cancelled_at_the_wms_raises_one_alert(world: Any, db: str) -> None:
    async with running_wms() as wms:
        await wire_tenant(world, wms, stock=20)
        outbox = Outbox(db)
        placed, code = await _pushed(world, outbox, "T-CANCEL")
        wms.sim.orders[code].history.append((datetime.now(UTC), "CANCELED"))  # someone cancelled it at the WMS

        sweep = ConfirmationSweep(SYSTEMS)
        [first] = await sweep.round()
        [second] = await sweep.round()

    assert first.cancelled_there == second.cancelled_there == [code]
    [alert] = await Alert.filter(order_id=placed.id)
    assert (alert.kind, alert.subject, alert.severity) == ("federation.escalated", code, "critical")
    assert alert.message.startswith("WMS_CANCELLED:") and code in alert.message
    assert await OrderEvent.filter(order_id=placed.id, type="alert.raised").count() == 1
    assert (await Order.get(id=placed.id)).status == OrderStatus.ALLOCATED
    assert (await DeliveryOrder.get(code=code)).status == "pushed"


async def test_a_shipment_the_order_cannot_take_raises_one_alert_and_waits(world: Any, db: str) -> None:
    async with running_wms() as wms:
        await wire_tenant(world, wms, stock=20)
        outbox = Outbox(db)
        placed, code = await _pushed(world, outbox, "T-HELD")
        await hold_order(world.actor(Role.OPS), placed.id, ["address check"])
        await _ship_at_the_wms(wms, code, "SF5550008888")  # the WMS shipped it all the same; no callback URL: lost
        sweep = ConfirmationSweep(SYSTEMS)

        [first] = await sweep.round()
        [second] = await sweep.round()
        assert first.conflicts == second.conflicts == [code] and first.recovered == []
        assert (await Order.get(id=placed.id)).status == OrderStatus.ON_HOLD
        assert not await Shipment.filter(order_id=placed.id).exists()
        [alert] = await Alert.filter(order_id=placed.id, kind="wms_confirm_conflict")
        assert alert.subject == code and "sweep" in alert.message

        await release_hold(world.actor(Role.OPS), placed.id, reason="address confirmed")
        [third] = await sweep.round()
        assert third.recovered == [code]
    assert (await Order.get(id=placed.id)).status == OrderStatus.SHIPPED
    assert await Alert.filter(order_id=placed.id, kind="wms_confirm_conflict").count() == 1


async def test_the_served_app_sweeps_on_its_own(world: Any, db: str) -> None:
    async with running_wms() as wms, live_server(db, wms_sweep_seconds=0.2, wms_sweep_after_seconds=0,
                                                 wms_sweep_every_seconds=0) as (base, _):
        await _sim(wms, "PUT", "/_sim/callback", {"url": f"{base}/hooks/acme/wms/SH"})
        await _sim(wms, "PUT", "/_sim/profile", {"drop_callback_rate": 1})
        await wire_tenant(world, wms, stock=20)
        placed = await order(world, "T-SERVED", {"TEA-001": 2})
        deadline = time.monotonic() + 20
        while not await DeliveryOrder.filter(order_id=placed.id, status="pushed").exists():  # the leader pushes it
            assert time.monotonic() < deadline, "the leader did not push the delivery order"
            await asyncio.sleep(0.1)
        code = (await DeliveryOrder.get(order_id=placed.id)).code
        await _ship_at_the_wms(wms, code, "SF5550006666")
        while (await Order.get(id=placed.id)).status != OrderStatus.SHIPPED:  # the leader's sweep ships it
            assert time.monotonic() < deadline, "the leader's sweep did not recover the confirmation"
            await asyncio.sleep(0.1)
    assert await OrderEvent.filter(order_id=placed.id, type="wms.confirmation_recovered", actor="wms sweep").count() == 1
