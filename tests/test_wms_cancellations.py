"""A cancelled order's delivery order is cancelled in the WMS; a WMS that already shipped it says so, and a person is told."""

from __future__ import annotations

from typing import Any

from adapters.wms.simulator import Profile
from domain import orders
from domain.actor import Role
from domain.federation.delivery_push import CANCEL_REFUSED_ALERT
from domain.federation.evidence import REF_PREFIX
from models import Alert, DeliveryOrder, OrderEvent, SystemExchange
from tests.stock_fixtures import order
from tests.wms_support import Outbox, fresh_breakers, hooks_server, running_wms, wire_tenant  # noqa: F401


async def _lineage(order_id: int, type: str) -> OrderEvent:
    return await OrderEvent.get(order_id=order_id, type=type)


async def test_cancelling_a_pushed_order_cancels_its_delivery_order_in_the_wms(world: Any, db: str) -> None:
    async with running_wms() as wms:
        await wire_tenant(world, wms)
        placed = await order(world, "T-CANCEL", {"TEA-001": 1})
        outbox = Outbox(db)
        await outbox.step()
        code = f"OG{placed.id:09d}-SH"
        assert wms.sim.orders[code].status == "ACCEPT"

        await orders.cancel_order(world.actor(Role.OPS), placed.id, "buyer asked")
        await outbox.step()

        assert wms.sim.orders[code].status == "CANCELED"
        row = await DeliveryOrder.get(code=code)
        assert row.status == "cancelled" and row.cancelled_at is not None
        event = await _lineage(placed.id, "wms.delivery_cancelled")
        exchange = await SystemExchange.get(id=int(event.payload_ref[len(REF_PREFIX):]))
        assert (exchange.operation, exchange.outcome) == ("order.cancel", "ok")
        assert "buyer asked" in exchange.request_body


async def test_a_cancellation_refused_because_the_parcel_left_raises_an_alert_with_the_wms_reason(world: Any, db: str) -> None:
    async with running_wms() as wms, hooks_server(db) as base:
        wms.sim.callback_url = f"{base}/hooks/acme/wms/SH"
        await wire_tenant(world, wms)
        placed = await order(world, "T-TOO-LATE", {"TEA-001": 1})
        outbox = Outbox(db)
        await outbox.step()
        code = f"OG{placed.id:09d}-SH"
        wms.sim.profile = Profile(drop_callback_rate=1.0)  # the WMS ships, and its confirmation never arrives
        shipped = await wms.sim.ship(code)
        assert shipped["callback"] == {"sent": False, "dropped": True}

        await orders.cancel_order(world.actor(Role.OPS), placed.id, "buyer asked")
        await outbox.step()
        await outbox.step()  # nothing more happens: a refusal is not retried

    row = await DeliveryOrder.get(code=code)
    assert row.status == "cancel_refused" and "已发货" in row.last_error and row.attempts == 2
    alert = await Alert.get(order_id=placed.id, kind=CANCEL_REFUSED_ALERT)
    assert alert.severity == "critical" and "已发货" in alert.message
    assert alert.details["wms_code"] == "ORDER_DELIVERED"
    event = await _lineage(placed.id, "wms.delivery_cancel_refused")
    assert event.after["wms_reason"] == row.last_error
    exchange = await SystemExchange.get(id=int(event.payload_ref[len(REF_PREFIX):]))
    assert (exchange.operation, exchange.outcome) == ("order.cancel", "error") and "已发货" in exchange.error


async def test_a_de_allocated_order_is_withdrawn_from_the_wms(world: Any, db: str) -> None:
    async with running_wms() as wms:
        await wire_tenant(world, wms)
        placed = await order(world, "T-BACK", {"TEA-001": 1})
        outbox = Outbox(db)
        await outbox.step()
        from domain.statuses import OrderStatus

        await orders.transition_order(world.actor(Role.OPS), placed.id, OrderStatus.PAID, "wrong warehouse")
        await outbox.step()
        code = f"OG{placed.id:09d}-SH"
        assert (await DeliveryOrder.get(code=code)).status == "cancelled"
        assert wms.sim.orders[code].status == "CANCELED"
