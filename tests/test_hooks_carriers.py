"""Carrier tracking pushes end to end: Kdniao, Kuaidi100, AfterShip through POST /hooks/{tenant}/carrier/{provider}."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from api.intake_tasks import run_once
from api.settings import Settings
from domain.statuses import OrderStatus, ShipmentStatus
from domain.tracking.carrier_pushes import check_not_moving
from models import (
    Alert,
    InboundPayload,
    Order,
    OrderEvent,
    QuarantinedPayload,
    Shipment,
    TrackingEvent,
)
from tests.intake_support import (
    FORM,
    KDNIAO_KEY,
    add_carriers,
    aftership_headers,
    kdniao_form,
    kuaidi100_form,
    post,
    sample,
    shipped_order,
)

KDNIAO_DATA = sample("kdniao_request_data.json").decode()
KUAIDI100_PARAM = sample("kuaidi100_param.json").decode()
AFTERSHIP_BODY = sample("aftership_webhook.json")


async def _statuses(shipment: Shipment) -> list[tuple[str, str]]:
    return [(e.status, e.raw_code) for e in await TrackingEvent.filter(shipment_id=shipment.id).order_by("occurred_at", "id")]


async def test_kdniao_push_updates_both_waybills_and_answers_in_its_format(world, gql):
    await add_carriers(world)
    yto_order, yto = await shipped_order(world, "A1", "YTO", "YT7412345678901")
    sf_order, sf = await shipped_order(world, "A2", "SF", "SF1234567890123")
    response = await post(gql.http, "/hooks/acme/carrier/kdniao", kdniao_form(KDNIAO_DATA), FORM)
    assert response.status_code == 200
    reply = json.loads(response.content)
    assert reply["Success"] is True and reply["EBusinessID"] == "1237100" and reply["Reason"] == ""
    await yto.refresh_from_db()
    assert yto.status == ShipmentStatus.OUT_FOR_DELIVERY
    assert await _statuses(yto) == [("PICKED_UP", "1"), ("IN_TRANSIT", "2"), ("OUT_FOR_DELIVERY", "202")]
    await sf.refresh_from_db()
    # one SF trace has a malformed time: skipped and reported, the rest lands
    assert sf.status == ShipmentStatus.DELIVERED and len(await _statuses(sf)) == 2
    assert (await Order.get(id=sf_order.id)).status == OrderStatus.DELIVERED
    assert (await Order.get(id=yto_order.id)).status == OrderStatus.SHIPPED
    assert await Alert.filter(order_id=sf_order.id, kind="intake.payload_issues").count() == 1
    applied = await OrderEvent.get(order_id=yto_order.id, type="intake.tracking_applied")
    payload = await InboundPayload.get(kind="carrier")
    assert applied.payload_ref == f"sha256:{payload.sha256}"


async def test_repeated_push_adds_no_scans(world, gql):
    await add_carriers(world)
    _, yto = await shipped_order(world, "A1", "YTO", "YT7412345678901")
    for _ in range(3):
        assert (await post(gql.http, "/hooks/acme/carrier/kdniao", kdniao_form(KDNIAO_DATA), FORM)).status_code == 200
    assert await TrackingEvent.filter(shipment_id=yto.id).count() == 3
    assert await OrderEvent.filter(type="intake.tracking_applied").count() == 1


async def test_kuaidi100_reply_is_exact_and_scans_dedup_across_providers(world, gql):
    await add_carriers(world)
    _, yto = await shipped_order(world, "A1", "YTO", "YT7412345678901")
    response = await post(gql.http, "/hooks/acme/carrier/kuaidi100", kuaidi100_form(KUAIDI100_PARAM), FORM)
    assert response.status_code == 200
    assert response.content.decode() == '{"result":true,"returnCode":"200","message":"成功"}'
    await yto.refresh_from_db()
    assert yto.status == ShipmentStatus.OUT_FOR_DELIVERY
    assert [s for s, _ in await _statuses(yto)] == ["PICKED_UP", "IN_TRANSIT", "OUT_FOR_DELIVERY"]


async def test_aftership_first_in_transit_is_the_pick_up(world, gql):
    await add_carriers(world)
    order, ups = await shipped_order(world, "S1", "UPS", "1Z999AA10123456784")
    response = await post(gql.http, "/hooks/acme/carrier/aftership", AFTERSHIP_BODY, aftership_headers(AFTERSHIP_BODY))
    assert response.status_code == 200 and json.loads(response.content) == {"success": True}
    await ups.refresh_from_db()
    assert ups.status == ShipmentStatus.PICKED_UP
    assert ups.estimated_delivery == datetime(2024, 3, 5, 23, 0, tzinfo=UTC)
    # the checkpoint without a UTC offset is read in its own place's zone (Portland, Oregon), not dropped
    scans = await TrackingEvent.filter(shipment_id=ups.id).order_by("occurred_at")
    assert [(s.occurred_at, s.time_inferred) for s in scans] == [
        (datetime(2024, 3, 1, 18, 0, tzinfo=UTC), False), (datetime(2024, 3, 2, 17, 12, tzinfo=UTC), False),
        (datetime(2024, 3, 3, 6, 40, tzinfo=UTC), True)]
    assert await Alert.filter(order_id=order.id).count() == 0


async def test_bad_signatures_are_refused_in_the_provider_format(world, gql):
    await add_carriers(world)
    await shipped_order(world, "A1", "YTO", "YT7412345678901")
    response = await post(gql.http, "/hooks/acme/carrier/kdniao", kdniao_form(KDNIAO_DATA, key="wrong-key-123"), FORM)
    assert response.status_code == 401 and json.loads(response.content)["Success"] is False
    response = await post(gql.http, "/hooks/acme/carrier/kuaidi100", kuaidi100_form(KUAIDI100_PARAM, salt="nope"), FORM)
    assert response.status_code == 401 and json.loads(response.content)["result"] is False
    response = await post(gql.http, "/hooks/acme/carrier/aftership", AFTERSHIP_BODY, aftership_headers(AFTERSHIP_BODY, "nope"))
    assert response.status_code == 401
    assert await InboundPayload.all().count() == 0 and await TrackingEvent.all().count() == 0


async def test_unknown_waybill_is_parked_acknowledged_and_applied_once_the_shipment_exists(world, gql):
    await add_carriers(world)
    response = await post(gql.http, "/hooks/acme/carrier/kuaidi100", kuaidi100_form(KUAIDI100_PARAM), FORM)
    assert response.status_code == 200 and json.loads(response.content)["result"] is True
    parked = await QuarantinedPayload.get(kind="carrier")
    assert parked.reason_code == "unknown_waybill" and parked.status == "open"
    _, yto = await shipped_order(world, "A1", "YTO", "YT7412345678901")
    done = await run_once(Settings(pickup_alert_hours=24))
    assert done["parked_resolved"] == 1
    assert await TrackingEvent.filter(shipment_id=yto.id).count() == 3
    await parked.refresh_from_db()
    assert parked.status == "replayed"


async def test_unregistered_provider_account_is_quarantined(world, gql):
    response = await post(gql.http, "/hooks/acme/carrier/kdniao", kdniao_form(KDNIAO_DATA), FORM)
    assert response.status_code == 404 and json.loads(response.content)["Success"] is False
    assert (await QuarantinedPayload.get(kind="carrier")).reason_code == "unknown_provider"


async def test_malformed_push_is_quarantined(world, gql):
    await add_carriers(world)
    body = kdniao_form('{"Data": [')
    response = await post(gql.http, "/hooks/acme/carrier/kdniao", body, FORM)
    assert response.status_code == 400 and json.loads(response.content)["Success"] is False
    row = await QuarantinedPayload.get(kind="carrier")
    assert row.reason_code == "malformed" and row.verified


async def test_late_older_push_does_not_move_the_status_back(world, gql):
    await add_carriers(world)
    _, yto = await shipped_order(world, "A1", "YTO", "YT7412345678901")
    await post(gql.http, "/hooks/acme/carrier/kdniao", kdniao_form(KDNIAO_DATA), FORM)
    older = json.loads(KDNIAO_DATA)
    older["Data"] = [older["Data"][0]]
    older["Data"][0]["State"], older["Data"][0]["StateEx"] = "2", "201"
    older["Data"][0]["Traces"] = older["Data"][0]["Traces"][:2] + [
        {"AcceptTime": "2024-03-02 07:00:00", "AcceptStation": "到达杭州", "Location": "杭州市", "Action": "201"}]
    text = json.dumps(older, ensure_ascii=False)
    await post(gql.http, "/hooks/acme/carrier/kdniao", kdniao_form(text), FORM)
    await yto.refresh_from_db()
    assert yto.status == ShipmentStatus.OUT_FOR_DELIVERY
    assert await TrackingEvent.filter(shipment_id=yto.id).count() == 4  # the late scan is filed


async def test_shipped_but_not_moving(world, gql):
    await add_carriers(world)
    long_ago = datetime.now(UTC) - timedelta(hours=30)
    idle_order, _ = await shipped_order(world, "A1", "YTO", "YT0000000001", shipped_at=long_ago)
    moving_order, _ = await shipped_order(world, "A2", "YTO", "YT7412345678901", shipped_at=long_ago)
    fresh_order, _ = await shipped_order(world, "A3", "ZTO", "ZT1", shipped_at=datetime.now(UTC))
    await post(gql.http, "/hooks/acme/carrier/kdniao", kdniao_form(KDNIAO_DATA), FORM)
    report = await check_not_moving(world.tenant.id, hours=24)
    assert report.alerted == [idle_order.id]
    again = await check_not_moving(world.tenant.id, hours=24)
    assert again.alerted == [idle_order.id]
    assert await Alert.filter(kind="shipment.not_moving", cleared_at__isnull=True).count() == 1
    # a pick-up scan clears it
    data = json.loads(KDNIAO_DATA)
    data["Data"] = [dict(data["Data"][0], LogisticCode="YT0000000001")]
    await post(gql.http, "/hooks/acme/carrier/kdniao", kdniao_form(json.dumps(data, ensure_ascii=False)), FORM)
    assert await Alert.filter(kind="shipment.not_moving", cleared_at__isnull=True).count() == 0
    assert moving_order.id not in report.alerted and fresh_order.id not in report.alerted


async def test_channel_shipped_without_any_tracking_is_not_moving(world, gql):
    order = await Order.create(tenant_id=world.tenant.id, channel_id=world.channel.id, external_id="X",
                               status=OrderStatus.SHIPPED, total_amount=1, placed_at=datetime.now(UTC))
    await Order.filter(id=order.id).update(updated_at=datetime.now(UTC) - timedelta(hours=48))
    report = await check_not_moving(world.tenant.id, hours=24)
    assert report.alerted == [order.id]
    alert = await Alert.get(order_id=order.id, kind="shipment.not_moving")
    assert "no carrier tracking" in alert.message


async def test_same_number_two_carriers_is_told_apart_by_carrier_code(world, gql):
    await add_carriers(world)
    _, yto = await shipped_order(world, "A1", "YTO", "YT7412345678901")
    _, other = await shipped_order(world, "A2", "ZTO", "YT7412345678901")
    await post(gql.http, "/hooks/acme/carrier/kuaidi100", kuaidi100_form(KUAIDI100_PARAM), FORM)  # com=yuantong
    assert await TrackingEvent.filter(shipment_id=yto.id).count() == 3
    assert await TrackingEvent.filter(shipment_id=other.id).count() == 0
    assert KDNIAO_KEY  # the same fixtures serve every provider
