"""The Qimen WMS adapter against the simulator over HTTP: signing, idempotent pushes, refusals, queries, callbacks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from adapters.wms import qimen_wire as qw
from adapters.wms.qimen import QimenConfig, QimenWms
from adapters.wms.simulator import APP_SECRET, Profile
from domain.federation.ports import (
    CallbackRefused,
    DeliveryLine,
    DeliveryRequest,
    Exchange,
    Receiver,
    SystemRefused,
    SystemUnavailable,
    WmsStatus,
)
from tests.wms_support import confirm_body, fresh_breakers, running_wms, signed_callback  # noqa: F401

RECEIVER = Receiver(name="张伟", phone="13800138001", province="浙江省", city="杭州市", district="西湖区",
                    address="文三路 100 号 5 幢 301 室", postal_code="310012")


def request(code: str, *lines: tuple[str, int]) -> DeliveryRequest:
    return DeliveryRequest(code=code, order_no=code.split("-")[0], warehouse_code="SH01", owner_code="OG-OWNER",
                           receiver=RECEIVER, placed_at=datetime(2026, 11, 30, 1, 0, tzinfo=UTC), shop="Tmall flagship",
                           lines=tuple(DeliveryLine(line_ref=str(n), sku=sku, quantity=qty, title="龙井")
                                       for n, (sku, qty) in enumerate(lines or (("TEA-001", 2),), 1)))


def adapter(config: dict, **overrides: object) -> QimenWms:
    return QimenWms({**config, **overrides, "retries": overrides.get("retries", 1)},
                    key=f"test:{uuid.uuid4().hex[:10]}")


def evidence(trace: list[Exchange]) -> str:
    return "\n".join(f"{e.url}\n{e.request_body}\n{e.response_body}\n{e.error}" for e in trace)


async def test_push_creates_one_delivery_order_and_a_retry_is_answered_as_a_duplicate() -> None:
    async with running_wms() as wms:
        port = adapter(wms.config)
        first: list[Exchange] = []
        created = await port.push_delivery(request("OG000000001-SH"), trace=first)
        again: list[Exchange] = []
        repeated = await port.push_delivery(request("OG000000001-SH"), trace=again)

        assert created.wms_order_id and not created.duplicate
        assert repeated.duplicate and repeated.wms_order_id == created.wms_order_id
        assert wms.sim.created["OG000000001-SH"] == 1 and wms.sim.requests["OG000000001-SH"] == 2
        order = wms.sim.orders["OG000000001-SH"]
        assert order.warehouse_code == "SH01" and order.lines == [("1", "TEA-001", 2)]
        assert [e.operation for e in first] == ["deliveryorder.create"] and first[0].outcome == "ok"


async def test_the_evidence_of_a_push_masks_the_receiver_and_stars_the_signature() -> None:
    async with running_wms() as wms:
        trace: list[Exchange] = []
        await adapter(wms.config).push_delivery(request("OG000000002-SH"), trace=trace)
        kept = evidence(trace)
        for clear in ("张伟", "13800138001", "文三路", APP_SECRET):
            assert clear not in kept
        assert "138****8001" in kept and "<name>张*</name>" in kept
        assert "sign=%2A%2A%2A" in trace[0].url and "method=taobao.qimen.deliveryorder.create" in trace[0].url
        assert "<itemCode>TEA-001</itemCode>" in kept  # what matters to the warehouse stays readable


async def test_a_lost_answer_is_unavailable_and_the_retry_with_the_same_code_finds_it_created_once() -> None:
    async with running_wms(profile=Profile(lost_answer_rate=1.0)) as wms:
        port = adapter(wms.config, retries=2)
        trace: list[Exchange] = []
        with pytest.raises(SystemUnavailable):
            await port.push_delivery(request("OG000000003-SH"), trace=trace)
        assert [e.status_code for e in trace] == [502, 502, 502] and {e.outcome for e in trace} == {"error"}
        wms.sim.profile = Profile()
        result = await port.push_delivery(request("OG000000003-SH"), trace=[])
        assert result.duplicate and result.wms_order_id == wms.sim.orders["OG000000003-SH"].wms_id
        assert wms.sim.created["OG000000003-SH"] == 1 and wms.sim.requests["OG000000003-SH"] == 4


async def test_a_wrong_secret_is_refused_by_the_wms_in_qimens_own_words() -> None:
    async with running_wms() as wms:
        with pytest.raises(SystemRefused) as refused:
            await adapter(wms.config, app_secret="not-the-secret").push_delivery(request("OG000000004-SH"), trace=[])
        assert refused.value.code == qw.SIGN_FAILURE
        assert "OG000000004-SH" not in wms.sim.orders


async def test_an_outage_is_unavailable_with_the_503s_as_evidence() -> None:
    async with running_wms(profile=Profile.read({"outages": [{"after_s": 0, "for_s": 60}]})) as wms:
        trace: list[Exchange] = []
        with pytest.raises(SystemUnavailable):
            await adapter(wms.config).push_delivery(request("OG000000005-SH"), trace=trace)
        assert [(e.status_code, e.outcome) for e in trace] == [(503, "error"), (503, "error")]


async def test_cancel_before_shipping_cancels_after_shipping_is_refused_with_the_wms_reason() -> None:
    async with running_wms() as wms:
        port = adapter(wms.config)
        wms.sim.set_stock("SH01", "TEA-001", 10)
        await port.push_delivery(request("OG000000006-SH"), trace=[])
        await port.push_delivery(request("OG000000007-SH"), trace=[])
        await wms.sim.ship("OG000000007-SH")

        await port.cancel_delivery("OG000000006-SH", "SH01", reason="buyer asked", trace=[])
        assert wms.sim.orders["OG000000006-SH"].status == "CANCELED"
        with pytest.raises(SystemRefused) as refused:
            await port.cancel_delivery("OG000000007-SH", "SH01", reason="buyer asked", trace=[])
        assert "已发货" in refused.value.message and refused.value.code == "ORDER_DELIVERED"
        await port.cancel_delivery("OG000000099-SH", "SH01", reason="never sent", trace=[])  # nothing to cancel


async def test_delivery_states_map_qimen_statuses_and_read_waybills_and_shipped_quantities() -> None:
    async with running_wms() as wms:
        port = adapter(wms.config)
        wms.sim.set_stock("SH01", "TEA-001", 10)
        await port.push_delivery(request("OG000000008-SH"), trace=[])
        await port.push_delivery(request("OG000000009-SH", ("TEA-001", 3)), trace=[])
        await wms.sim.ship("OG000000009-SH", carrier="YTO", tracking_no="YT9876543210")
        trace: list[Exchange] = []
        states = await port.delivery_states(["OG000000008-SH", "OG000000009-SH", "OG000000404-SH"], "SH01", trace=trace)

        assert states["OG000000008-SH"].status == WmsStatus.ACCEPTED and states["OG000000008-SH"].raw_status == "ACCEPT"
        shipped = states["OG000000009-SH"]
        assert shipped.status == WmsStatus.SHIPPED and shipped.shipped == {"TEA-001": 3}
        assert [(p.carrier, p.tracking_no) for p in shipped.parcels] == [("YTO", "YT9876543210")]
        assert shipped.updated_at is not None and shipped.updated_at.tzinfo is not None
        assert states["OG000000404-SH"].status == WmsStatus.UNKNOWN
        assert len(trace) == 3  # the interface asks one delivery order per call


async def test_stale_answers_show_the_order_as_it_was() -> None:
    async with running_wms() as wms:
        port = adapter(wms.config)
        wms.sim.set_stock("SH01", "TEA-001", 10)
        await port.push_delivery(request("OG000000010-SH"), trace=[])
        await wms.sim.ship("OG000000010-SH")
        wms.sim.profile = Profile(stale_seconds=60)
        states = await port.delivery_states(["OG000000010-SH"], "SH01", trace=[])
        assert states["OG000000010-SH"].status == WmsStatus.UNKNOWN  # a minute ago the WMS had not received it


async def test_stock_is_asked_in_batches_and_reports_sellable_on_hand_with_drift() -> None:
    async with running_wms(profile=Profile(stock_drift={"SKU-3": -2})) as wms:
        for n, quantity in enumerate((5, 0, 9, 4), 1):
            wms.sim.set_stock("SH01", f"SKU-{n}", quantity)
        trace: list[Exchange] = []
        figures = await adapter(wms.config, inventory_batch=2).stock("SH01", ["SKU-1", "SKU-2", "SKU-3", "SKU-4", "NOPE"],
                                                                     trace=trace)
        assert {sku: f.on_hand for sku, f in figures.items()} == {"SKU-1": 5, "SKU-2": 0, "SKU-3": 7, "SKU-4": 4}
        assert len(trace) == 3 and all(e.operation == "inventory.query" for e in trace)


async def test_locked_units_are_not_available() -> None:
    async with running_wms() as wms:
        wms.sim.set_stock("SH01", "TEA-001", 10)
        port = adapter(wms.config)
        await port.push_delivery(request("OG000000011-SH", ("TEA-001", 4)), trace=[])
        figure = (await port.stock("SH01", ["TEA-001"], trace=[]))["TEA-001"]
        assert (figure.on_hand, figure.available) == (10, 6)


# ------------------------------------------------------------------ callbacks (no server needed)


CONFIG = {"router_url": "http://127.0.0.1:1/router/qimen/service", "app_key": "sim-qimen-app-key",
          "app_secret": APP_SECRET, "customer_id": "sim-customer"}


def test_a_signed_confirmation_is_read_into_parcels_and_quantities() -> None:
    body = confirm_body("OG000000042-SH", carrier="SF", tracking_no="SF1234567890", lines=(("TEA-001", 2), ("CUP-01", 1)))
    callback = adapter(CONFIG).read_callback(body, {}, signed_callback("deliveryorder.confirm", body))
    [confirmation] = callback.confirmations
    assert confirmation.code == "OG000000042-SH" and confirmation.warehouse_code == "SH01" and confirmation.final
    assert [(p.carrier, p.tracking_no) for p in confirmation.parcels] == [("SF", "SF1234567890")]
    assert confirmation.shipped == {"TEA-001": 2, "CUP-01": 1}
    assert confirmation.confirmed_at == datetime(2026, 11, 30, 2, 15, tzinfo=UTC)  # 10:15 GMT+8
    assert callback.operation == "deliveryorder.confirm" and "SF1234567890" in callback.evidence


@pytest.mark.parametrize("query_change, field", [
    ({"sign": ""}, "sign"),
    ({"sign": "0" * 32}, "sign"),
    ({"app_key": "someone-else"}, "app_key"),
])
def test_unsigned_or_badly_signed_callbacks_are_refused_401(query_change: dict, field: str) -> None:
    body = confirm_body("OG000000042-SH")
    query = {**signed_callback("deliveryorder.confirm", body), **query_change}
    with pytest.raises(CallbackRefused) as refused:
        adapter(CONFIG).read_callback(body, {}, query)
    assert refused.value.status == 401 and refused.value.field == field


def test_a_body_changed_after_signing_is_refused() -> None:
    body = confirm_body("OG000000042-SH")
    query = signed_callback("deliveryorder.confirm", body)
    with pytest.raises(CallbackRefused) as refused:
        adapter(CONFIG).read_callback(body.replace(b"SF1234567890", b"SF0000000000"), {}, query)
    assert refused.value.status == 401


@pytest.mark.parametrize("body, status, field", [
    (b"<request><deliveryOrder>", 400, "$"),
    (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><request>&a;</request>', 400, "$"),
    (qw.to_xml("request", {"deliveryOrder": {"warehouseCode": "SH01"},
                           "packages": {"package": [{"logisticsCode": "SF", "expressCode": "SF1"}]}}),
     422, "deliveryOrder/deliveryOrderCode"),
    (qw.to_xml("request", {"deliveryOrder": {"deliveryOrderCode": "OG1-SH", "warehouseCode": "SH01"}}), 422, "packages"),
    (qw.to_xml("request", {"deliveryOrder": {"deliveryOrderCode": "OG1-SH", "warehouseCode": "SH01"},
                           "packages": {"package": [{"logisticsCode": "SF", "expressCode": "SF1"}]},
                           "orderLines": {"orderLine": [{"itemCode": "TEA-001", "actualQty": "two"}]}}),
     422, "orderLines/orderLine[0]/actualQty"),
])
def test_malformed_confirmations_are_refused_naming_the_element(body: bytes, status: int, field: str) -> None:
    with pytest.raises(CallbackRefused) as refused:
        adapter(CONFIG).read_callback(body, {}, signed_callback("deliveryorder.confirm", body))
    assert (refused.value.status, refused.value.field) == (status, field)


def test_stock_change_reports_keep_sellable_units_and_need_a_message_id() -> None:
    body = qw.to_xml("request", {"items": {"item": [
        {"warehouseCode": "SH01", "itemCode": "TEA-001", "outBizCode": "SC-1", "orderType": "PDCY", "quantity": -3,
         "inventoryType": "ZP", "changeTime": "2026-11-30 09:00:00"},
        {"warehouseCode": "SH01", "itemCode": "TEA-001", "outBizCode": "SC-2", "quantity": 5, "inventoryType": "CC"},
    ]}})
    callback = adapter(CONFIG).read_callback(body, {}, signed_callback("stockchange.report", body))
    [change] = callback.stock_changes
    assert (change.sku, change.quantity, change.reference, change.reason) == ("TEA-001", -3, "SC-1", "PDCY")
    assert change.occurred_at == datetime(2026, 11, 30, 1, 0, tzinfo=UTC)

    missing = qw.to_xml("request", {"items": {"item": [{"warehouseCode": "SH01", "itemCode": "TEA-001", "quantity": 1}]}})
    with pytest.raises(CallbackRefused) as refused:
        adapter(CONFIG).read_callback(missing, {}, signed_callback("stockchange.report", missing))
    assert (refused.value.status, refused.value.field) == (422, "items/item[0]/outBizCode")


def test_methods_it_does_not_handle_are_refused_by_name() -> None:
    body = qw.to_xml("request", {"entryOrder": {"entryOrderCode": "E1"}})
    with pytest.raises(CallbackRefused) as refused:
        adapter(CONFIG).read_callback(body, {}, signed_callback("entryorder.confirm", body))
    assert refused.value.field == "method" and "entryorder.confirm" in refused.value.reason


def test_replies_are_qimen_envelopes() -> None:
    kind, ok = adapter(CONFIG).reply(True, "")
    _, no = adapter(CONFIG).reply(False, "signature does not match")
    assert kind.startswith("text/xml")
    assert qw.read_answer(ok).success and not qw.read_answer(no).success
    assert qw.read_answer(no).message == "signature does not match"


@pytest.mark.parametrize("change, named", [
    ({"router_url": ""}, "router_url"),
    ({"router_url": "ftp://wms"}, "router_url"),
    ({"sign_method": "sha1"}, "sign_method"),
    ({"timeout": 0}, "timeout"),
    ({"colour": "blue"}, "colour"),
    ({"duplicate_codes": "ORDER_EXIST"}, "duplicate_codes"),
])
def test_a_bad_config_is_refused_naming_the_key(change: dict, named: str) -> None:
    with pytest.raises(ValueError) as refused:
        QimenConfig.read({**CONFIG, **change})
    assert str(refused.value).startswith(named)


# ------------------------------------------------------------------ the command


async def test_the_cli_serves_the_simulator_with_a_fault_profile_and_prints_the_config_to_register(tmp_path) -> None:
    import asyncio
    import json
    import os
    import subprocess
    import sys

    import httpx

    from tests.live_fixtures import free_port

    faults = tmp_path / "faults.json"
    faults.write_text(json.dumps({"latency_ms": 5, "stock_drift": {"TEA-001": 3}}))
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "sim", "wms", "--port", str(port), "--profile", str(faults)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        config = None
        assert process.stdout is not None
        while config is None:
            line = await asyncio.to_thread(process.stdout.readline)
            assert line, "the simulator exited: " + (process.stderr.read() if process.stderr else "")
            if "qimen connection config:" in line:
                config = json.loads(line.split("qimen connection config:", 1)[1])
        async with httpx.AsyncClient(timeout=5) as client:
            for _ in range(100):
                try:
                    put = await client.put(f"http://127.0.0.1:{port}/_sim/inventory",
                                           json={"warehouse": "SH01", "levels": {"TEA-001": 10}})
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.1)
            assert put.status_code == 200
            profile = (await client.get(f"http://127.0.0.1:{port}/_sim/profile")).json()
        assert profile["latency_ms"] == 5
        figures = await adapter(config).stock("SH01", ["TEA-001"], trace=[])
        assert figures["TEA-001"].on_hand == 13  # the drift the profile asked for
    finally:
        process.terminate()
        process.wait(timeout=10)
        from adapters import system_http

        await system_http.aclose()

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"error_rate": 3}))
    refused = subprocess.run([sys.executable, "-m", "api.cli", "sim", "wms", "--profile", str(bad)],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "error_rate" in refused.stderr
