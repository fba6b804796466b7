"""Carrier pushes end to end: normalised carrier codes, local scan times, estimates and routine statuses.

Through POST /hooks/{tenant}/carrier/{provider}, signed as each provider signs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from domain.statuses import OrderStatus, ShipmentStatus
from domain.tracking.carrier_pushes import check_not_moving
from models import Alert, Order, OrderEvent, Shipment, TrackingEvent
from tests.intake_support import (
    FORM,
    add_carriers,
    aftership_headers,
    kdniao_form,
    kuaidi100_form,
    post,
    sample,
    shipped_order,
)

COLLECTED = sample("kuaidi100_collected.json").decode()  # polling, state 1 揽收, com shunfeng
CROSS_BORDER = sample("aftership_cross_border.json")  # slug sf-express, checkpoints in China, the US and Canada
WAYBILL = "SF1456782390015"


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


async def test_a_shipment_stored_as_sf_takes_kuaidi100_and_aftership_pushes(world, gql):
    await add_carriers(world)
    order, sf = await shipped_order(world, "B1", "SF", WAYBILL)
    _, other = await shipped_order(world, "B2", "ZTO", WAYBILL)  # same number, another carrier: must stay untouched

    response = await post(gql.http, "/hooks/acme/carrier/kuaidi100", kuaidi100_form(COLLECTED), FORM)
    assert response.content.decode() == '{"result":true,"returnCode":"200","message":"成功"}'
    await sf.refresh_from_db()
    assert sf.status == ShipmentStatus.PICKED_UP  # 揽收 is the carrier's acceptance scan, not "in transit"
    assert await Alert.filter(order_id=order.id).count() == 0  # a routine polling push is nothing to report

    response = await post(gql.http, "/hooks/acme/carrier/aftership", CROSS_BORDER, aftership_headers(CROSS_BORDER))
    assert response.status_code == 200
    await sf.refresh_from_db()
    assert sf.status == ShipmentStatus.IN_TRANSIT
    assert sf.estimated_delivery == _utc(2024, 3, 15, 6, 59, 59)  # 14 March, end of day in Burnaby BC (PDT)
    scans = await TrackingEvent.filter(shipment_id=sf.id).order_by("occurred_at")
    assert [(s.occurred_at, s.time_inferred, s.raw_code) for s in scans] == [
        (_utc(2024, 3, 8, 13, 2), True, "揽收"),  # Kuaidi100, Beijing time
        (_utc(2024, 3, 8, 15, 15), True, "InTransit"),  # Shenzhen 23:15
        (_utc(2024, 3, 11, 11, 30), True, "InTransit"),  # Los Angeles 04:30 PDT
        (_utc(2024, 3, 12, 16, 5), True, "InTransit"),  # Richmond BC 09:05 PDT
        (_utc(2024, 3, 12, 21, 20), False, "InTransit"),  # sent with its offset
    ]
    assert await TrackingEvent.filter(shipment_id=other.id).count() == 0
    assert await Alert.filter(order_id=order.id).count() == 0

    lineage = await OrderEvent.filter(order_id=order.id, type="intake.tracking_applied").order_by("id")
    assert [row.after["inferred_times"] for row in lineage] == [
        {"count": 1, "zones": {"Asia/Shanghai": 1}},
        {"count": 3, "zones": {"America/Los_Angeles": 1, "America/Vancouver": 1, "Asia/Shanghai": 1}},
    ]
    assert "3 scan times came without a UTC offset and were read as local time in America/Los_Angeles (1)" \
        in lineage[1].reason


async def test_an_unknown_carrier_still_matches_its_only_waybill(world, gql):
    await add_carriers(world)
    _, shipment = await shipped_order(world, "B1", "顺心捷达", "SX2024030800001")
    param = json.loads(COLLECTED)
    param["lastResult"].update(com="shunxinjieda", nu="SX2024030800001")
    text = json.dumps(param, ensure_ascii=False)
    assert (await post(gql.http, "/hooks/acme/carrier/kuaidi100", kuaidi100_form(text), FORM)).status_code == 200
    await shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.PICKED_UP


async def test_routine_pushes_raise_nothing_and_unknown_codes_still_alert(world, gql):
    await add_carriers(world)
    order, shipment = await shipped_order(world, "B1", "YTO", "YT7412345678901")
    data = json.loads(sample("kdniao_request_data.json"))
    fresh = dict(data["Data"][0], State="0", StateEx="0", Traces=[], EstimatedDeliveryTime="")  # subscribed, no trace yet
    await post(gql.http, "/hooks/acme/carrier/kdniao", kdniao_form(json.dumps({**data, "Data": [fresh]})), FORM)
    await shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.LABEL_CREATED
    assert await Alert.filter(order_id=order.id).count() == 0

    novel = dict(data["Data"][0], StateEx="499")  # a StateEx no document lists
    await post(gql.http, "/hooks/acme/carrier/kdniao", kdniao_form(json.dumps({**data, "Data": [novel]})), FORM)
    alert = await Alert.get(order_id=order.id, kind="intake.unmapped_code")
    assert alert.details["codes"] == ["kdniao:499"]
    await shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.IN_TRANSIT  # the coarse State 2 still places it


async def test_kuaidi100_shutdown_after_signing_is_quiet_and_abort_expires_with_an_alert(world, gql):
    await add_carriers(world)
    signed_order, signed = await shipped_order(world, "B1", "SF", WAYBILL)
    param = json.loads(COLLECTED)
    param["status"] = "shutdown"
    param["lastResult"].update(state="301", ischeck="1", data=[
        {"time": "2024-03-10 15:20:00", "ftime": "2024-03-10 15:20:00", "context": "快件已签收，签收人：本人",
         "status": "签收", "areaName": "广东,深圳市,南山区"}, *param["lastResult"]["data"]])
    await post(gql.http, "/hooks/acme/carrier/kuaidi100", kuaidi100_form(json.dumps(param, ensure_ascii=False)), FORM)
    await signed.refresh_from_db()
    assert signed.status == ShipmentStatus.DELIVERED
    assert (await Order.get(id=signed_order.id)).status == OrderStatus.DELIVERED
    assert await Alert.filter(order_id=signed_order.id).count() == 0

    lost_order, lost = await shipped_order(world, "B2", "ZTO", "ZT7700112233")
    aborted = {"status": "abort", "message": "3天查询无记录", "autoCheck": "0", "comOld": "", "comNew": "",
               "lastResult": {"message": "ok", "nu": "ZT7700112233", "com": "zhongtong", "state": "0", "data": []}}
    await post(gql.http, "/hooks/acme/carrier/kuaidi100", kuaidi100_form(json.dumps(aborted, ensure_ascii=False)), FORM)
    await lost.refresh_from_db()
    assert lost.status == ShipmentStatus.EXPIRED
    alert = await Alert.get(order_id=lost_order.id, kind="intake.payload_issues")
    assert "subscription aborted: 3天查询无记录" in alert.message


async def test_a_channel_shipment_with_carrier_scans_is_not_called_idle(world, gql):
    long_ago = datetime.now(UTC) - timedelta(hours=30)
    scanned_order = await Order.create(tenant_id=world.tenant.id, channel_id=world.channel.id, external_id="C1",
                                       status=OrderStatus.SHIPPED, total_amount=10, placed_at=long_ago)
    scanned = await Shipment.create(order_id=scanned_order.id, carrier="SF", tracking_no=WAYBILL, source="channel",
                                    status=ShipmentStatus.LABEL_CREATED, shipped_at=long_ago)
    # the channel (re)reported the parcel after the carrier had scanned it: the stored status lags the scans
    await TrackingEvent.create(shipment_id=scanned.id, status=ShipmentStatus.IN_TRANSIT, raw_code="InTransit",
                               occurred_at=long_ago + timedelta(hours=2), source="carrier:aftership")
    idle_order = await Order.create(tenant_id=world.tenant.id, channel_id=world.channel.id, external_id="C2",
                                    status=OrderStatus.SHIPPED, total_amount=10, placed_at=long_ago)
    idle = await Shipment.create(order_id=idle_order.id, carrier="YTO", tracking_no="YT0000000002", source="channel",
                                 status=ShipmentStatus.LABEL_CREATED, shipped_at=long_ago)
    await TrackingEvent.create(shipment_id=idle.id, status=ShipmentStatus.LABEL_CREATED, raw_code="10",
                               occurred_at=long_ago, source="carrier:kdniao")  # "awaiting pick-up" is not moving
    report = await check_not_moving(world.tenant.id, hours=24)
    assert report.alerted == [idle_order.id]
    assert await Alert.filter(order_id=scanned_order.id).count() == 0
