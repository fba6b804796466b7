"""WMS callbacks at POST /hooks/{tenant}/wms/{warehouse}: verified, applied once, parked when early, refused when bad."""

from __future__ import annotations

from typing import Any

from adapters.systems import SYSTEMS
from adapters.wms import qimen_wire as qw
from domain.federation.evidence import REF_PREFIX
from domain.federation.wms_callbacks import retry_parked_wms
from domain.statuses import OrderStatus
from models import Alert, DeliveryOrder, Order, OrderEvent, QuarantinedPayload, Shipment, Stock, SystemExchange
from tests.stock_fixtures import check_invariants, order
from tests.wms_support import (  # noqa: F401
    Outbox,
    confirm_body,
    fresh_breakers,
    hooks_server,
    post_callback,
    running_wms,
    signed_callback,
    stock_change_body,
    wire_tenant,
)


async def _on_hand(world: Any, sku: str = "TEA-001") -> tuple[int, int]:
    sh = next(w for w in world.warehouses if w.code == "SH")
    row = await Stock.get(warehouse_id=sh.id, sku=sku)
    return row.on_hand, row.reserved


async def _count(order_id: int | None, type: str) -> int:
    return await OrderEvent.filter(order_id=order_id, type=type).count()


async def test_a_repeated_confirmation_changes_nothing(world: Any, db: str) -> None:
    async with running_wms() as wms, hooks_server(db) as base:
        wms.sim.callback_url = f"{base}/hooks/acme/wms/SH"
        await wire_tenant(world, wms, stock=20)
        placed = await order(world, "T-DUP", {"TEA-001": 2})
        await Outbox(db).step()
        code = f"OG{placed.id:09d}-SH"

        first = await wms.sim.ship(code, carrier="ZTO")
        again = await wms.sim.ship(code)  # the WMS sends the same confirmation again
        assert first["callback"]["status"] == again["callback"]["status"] == 200
        assert "<flag>success</flag>" in again["callback"]["answer"]

    assert (await Order.get(id=placed.id)).status == OrderStatus.SHIPPED
    [parcel] = await Shipment.filter(order_id=placed.id)
    assert (parcel.carrier, parcel.tracking_no) == ("ZTO", first["tracking_no"])
    assert await _on_hand(world) == (18, 0)
    assert await _count(placed.id, "wms.delivery_confirmed") == 1
    assert await _count(placed.id, "stock.consumed") == 1
    assert not await QuarantinedPayload.exists()
    await check_invariants(world.tenant.id)


async def test_a_confirmation_that_arrives_before_its_delivery_order_is_parked_then_applied(world: Any, db: str) -> None:
    async with running_wms() as wms, hooks_server(db) as base:
        await wire_tenant(world, wms, stock=20)
        placed = await order(world, "T-EARLY", {"TEA-001": 2})
        code = f"OG{placed.id:09d}-SH"
        body = confirm_body(code, carrier="顺丰速运", tracking_no="SF7766554433")

        early = await post_callback(base, "SH", "deliveryorder.confirm", body)
        assert early.status_code == 200 and qw.read_answer(early.content).success
        parked = await QuarantinedPayload.get(kind="wms")
        assert (parked.reason_code, parked.status, parked.verified) == ("unknown_delivery_order", "open", True)
        assert (await Order.get(id=placed.id)).status == OrderStatus.ALLOCATED

        await Outbox(db).feed()  # now OrderGraph knows the delivery order
        assert await retry_parked_wms(SYSTEMS) == 1

    assert (await Order.get(id=placed.id)).status == OrderStatus.SHIPPED
    [parcel] = await Shipment.filter(order_id=placed.id)
    assert (parcel.carrier, parcel.tracking_no) == ("SF", "SF7766554433")  # the carrier normalised
    assert (await QuarantinedPayload.get(id=parked.id)).status == "replayed"
    assert (await DeliveryOrder.get(code=code)).status == "confirmed"
    assert await _on_hand(world) == (18, 0)


async def test_bad_callbacks_are_refused_with_4xx_in_the_wms_format_and_quarantined(world: Any, db: str) -> None:
    async with running_wms() as wms, hooks_server(db) as base:
        await wire_tenant(world, wms, stock=20)
        placed = await order(world, "T-BAD", {"TEA-001": 2})
        await Outbox(db).step()
        code = f"OG{placed.id:09d}-SH"
        body = confirm_body(code)

        forged = await post_callback(base, "SH", "deliveryorder.confirm", body,
                                     query=signed_callback("deliveryorder.confirm", body, secret="guessed-secret"))
        unsigned = await post_callback(base, "SH", "deliveryorder.confirm", body, query={})
        garbage = b"<request><deliveryOrder>"
        malformed = await post_callback(base, "SH", "deliveryorder.confirm", garbage)
        elsewhere = confirm_body(code, warehouse="BJ09")
        wrong_warehouse = await post_callback(base, "SH", "deliveryorder.confirm", elsewhere)
        unknown = await post_callback(base, "XX", "deliveryorder.confirm", body)
        no_wms = await post_callback(base, "GZ", "deliveryorder.confirm", body)

    for answer, status in ((forged, 401), (unsigned, 401), (malformed, 400), (wrong_warehouse, 422)):
        assert answer.status_code == status
        envelope = qw.read_answer(answer.content)
        assert not envelope.success and envelope.message
    assert (unknown.status_code, no_wms.status_code) == (404, 404)
    rows = {row.reason_code: row for row in await QuarantinedPayload.filter(kind="wms")}
    assert set(rows) == {"signature", "malformed", "invalid_payload", "unknown_warehouse"}
    assert (rows["signature"].verified, rows["signature"].http_status) == (False, 401)
    assert rows["signature"].seen_count == 2  # the same body, forged and unsigned
    assert rows["malformed"].field == "$"
    assert rows["invalid_payload"].field == "confirmations[0].warehouseCode"
    assert (await Order.get(id=placed.id)).status == OrderStatus.ALLOCATED
    assert not await Shipment.exists(order_id=placed.id)
    # The WMS's own unusable callbacks count against it; forged ones (anyone could send them) do not.
    failed = await SystemExchange.filter(direction="in", outcome="error").values_list("status_code", flat=True)
    assert sorted(failed) == [400, 422]


async def test_a_stock_change_is_booked_once_even_when_sent_twice(world: Any, db: str) -> None:
    async with running_wms() as wms, hooks_server(db) as base:
        await wire_tenant(world, wms, stock=20)
        body = stock_change_body("PD-20261130-1", -3)
        first = await post_callback(base, "SH", "stockchange.report", body)
        second = await post_callback(base, "SH", "stockchange.report", body)
        gained = await post_callback(base, "SH", "stockchange.report", stock_change_body("PD-20261130-2", 5))

    assert first.status_code == second.status_code == gained.status_code == 200
    assert qw.read_answer(second.content).success
    assert await _on_hand(world) == (22, 0)
    booked = await OrderEvent.filter(type="stock.wms_changed").order_by("id")
    assert [(e.after["reference"], e.after["quantity"]) for e in booked] == [("PD-20261130-1", -3), ("PD-20261130-2", 5)]
    exchange = await SystemExchange.get(id=int(booked[0].payload_ref[len(REF_PREFIX):]))
    assert (exchange.operation, exchange.direction) == ("stockchange.report", "in")
    await check_invariants(world.tenant.id)


async def test_stock_changes_of_our_own_shipments_unknown_skus_and_impossible_losses(world: Any, db: str) -> None:
    async with running_wms() as wms, hooks_server(db) as base:
        await wire_tenant(world, wms, stock=20)
        placed = await order(world, "T-STOCK", {"TEA-001": 15})
        await Outbox(db).step()
        code = f"OG{placed.id:09d}-SH"
        ours = await post_callback(base, "SH", "stockchange.report",
                                   stock_change_body("OUT-1", -15, order_code=code, order_type="JYCK"))
        unknown = await post_callback(base, "SH", "stockchange.report", stock_change_body("PD-9", 2, sku="NOT-IN-CATALOGUE"))
        too_many = await post_callback(base, "SH", "stockchange.report", stock_change_body("PD-10", -8))

    assert ours.status_code == 200 and await _on_hand(world) == (20, 15)  # the confirmation books it, not this
    assert unknown.status_code == 422
    held = await QuarantinedPayload.get(reason_code="invalid_payload")
    assert "NOT-IN-CATALOGUE" in held.reason
    assert too_many.status_code == 200 and await _on_hand(world) == (20, 15)  # 15 of 20 are promised: 8 cannot go
    alert = await Alert.get(kind="wms_stock_conflict")
    assert alert.severity == "critical" and alert.details["reference"] == "PD-10"
    kept = await QuarantinedPayload.get(reason_code="conflict")  # for a person to replay once reservations move
    assert "PD-10" in kept.reason and kept.status == "open"
    await check_invariants(world.tenant.id)


async def test_a_split_order_ships_warehouse_by_warehouse_as_each_wms_confirms(world: Any, db: str) -> None:
    from domain.actor import Role
    from domain.federation.connections import link_warehouse
    from tests.stock_fixtures import stock_up

    async with running_wms() as wms, hooks_server(db) as base:
        await wire_tenant(world, wms, stock=5)
        gz = next(w for w in world.warehouses if w.code == "GZ")
        await link_warehouse(world.actor(Role.ADMIN), gz.id, wms="wms-sh", wms_warehouse_code="GZ01")
        await stock_up(world, {"CUP-01": {"GZ": 5}})
        wms.sim.set_stock("GZ01", "CUP-01", 5)
        placed = await order(world, "T-SPLIT", {"TEA-001": 1, "CUP-01": 2})
        await Outbox(db).step()
        assert set(wms.sim.orders) == {f"OG{placed.id:09d}-SH", f"OG{placed.id:09d}-GZ"}

        wms.sim.callback_url = f"{base}/hooks/acme/wms/SH"
        await wms.sim.ship(f"OG{placed.id:09d}-SH")
        assert (await Order.get(id=placed.id)).status == OrderStatus.PARTIALLY_SHIPPED
        wms.sim.callback_url = f"{base}/hooks/acme/wms/GZ"
        await wms.sim.ship(f"OG{placed.id:09d}-GZ", carrier="JD")

    assert (await Order.get(id=placed.id)).status == OrderStatus.SHIPPED
    parcels = {(s.warehouse_id, s.carrier) for s in await Shipment.filter(order_id=placed.id)}
    assert parcels == {(next(w.id for w in world.warehouses if w.code == "SH"), "SF"), (gz.id, "JD")}
    await check_invariants(world.tenant.id)
