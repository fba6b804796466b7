"""Kdniao trace pushes: form decoding, DataSign, many waybills per push, malformed traces."""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import quote, urlencode

import pytest
from adapters_samples import raw, utc

from adapters import wire
from adapters.carriers import kdniao
from domain.inbound import status_maps
from domain.inbound.normalized import (
    InboundTracking,
    InboundTrackingEvent,
    PayloadError,
)

APP_KEY = "56da2cf8-c8a2-44b2-b6fa-476cd7d1ba17"
REQUEST_DATA = raw("kdniao_request_data.json").decode("utf-8")
BEIJING = "Asia/Shanghai"


def _sign(request_data: str, app_key: str = APP_KEY) -> str:
    return base64.b64encode(hashlib.md5((request_data + app_key).encode("utf-8")).hexdigest().encode()).decode()


def _body(request_data: str = REQUEST_DATA, request_type: str = "101", data_sign: str | None = None) -> bytes:
    sign = _sign(request_data) if data_sign is None else data_sign
    return urlencode({"RequestData": request_data, "DataSign": sign, "RequestType": request_type}).encode("ascii")


def test_verify_accepts_the_right_key_only() -> None:
    form = wire.parse_form(_body())
    assert kdniao.verify(form, APP_KEY)
    assert not kdniao.verify(form, "another-app-key")
    assert not kdniao.verify(wire.parse_form(_body().replace(b"YT7412345678901", b"YT7412345678902", 1)), APP_KEY)
    assert not kdniao.verify({"RequestData": REQUEST_DATA}, APP_KEY)
    assert not kdniao.verify(form, "")


def test_verify_tolerates_a_double_url_encoded_sign() -> None:
    form = wire.parse_form(_body(data_sign=quote(_sign(REQUEST_DATA), safe="")))
    assert form["DataSign"] != _sign(REQUEST_DATA)
    assert kdniao.verify(form, APP_KEY)


def test_parses_every_waybill_and_skips_only_the_malformed_trace() -> None:
    first, second = kdniao.parse_push(wire.parse_form(_body()))
    assert first == InboundTracking(
        provider="kdniao",
        carrier="YTO",
        tracking_no="YT7412345678901",
        status_code="202",
        events=(  # Beijing time on the wire, no offset: placed in Asia/Shanghai and marked so
            InboundTrackingEvent("1", utc(2024, 3, 1, 10, 20, 0), "【杭州市西湖区公司】已揽收", "杭州市", True, BEIJING),
            InboundTrackingEvent("2", utc(2024, 3, 1, 22, 10, 0), "快件已到达【杭州转运中心】", "杭州市", True, BEIJING),
            InboundTrackingEvent("202", utc(2024, 3, 2, 1, 30, 0), "【杭州市文新】派件员正在为您派件", "杭州市", True, BEIJING),
        ),
        estimated_delivery=utc(2024, 3, 2, 10, 0, 0),
        extra_codes={"State": "2"},
        issues=(),
    )
    assert (second.carrier, second.tracking_no, second.status_code) == ("SF", "SF1234567890123", "301")
    assert [e.status_code for e in second.events] == ["1", "301"]
    assert second.estimated_delivery is None
    assert len(second.issues) == 1
    assert second.issues[0].startswith("RequestData.Data[1].Traces[1].AcceptTime: expected 'yyyy-MM-dd HH:mm:ss'")
    assert "trace skipped" in second.issues[0]


def test_detailed_state_ex_is_preferred_and_maps() -> None:
    first, second = kdniao.parse_push(wire.parse_form(_body()))
    assert status_maps.lookup("kdniao", first.status_code) == {"shipment": "OUT_FOR_DELIVERY"}
    assert status_maps.lookup("kdniao", first.extra_codes["State"]) == {"shipment": "IN_TRANSIT"}
    assert status_maps.lookup("kdniao", second.status_code) == {"shipment": "DELIVERED"}


def test_value_added_push_and_missing_state_ex_and_failed_item() -> None:
    data = json.loads(REQUEST_DATA)
    del data["Data"][0]["StateEx"]
    data["Data"][1].update(Success=False, Reason="暂无轨迹信息", State="0", StateEx="", Traces=[],
                           EstimatedDeliveryTime="2024-13-40 99:00:00")
    request_data = json.dumps(data, ensure_ascii=False)
    first, second = kdniao.parse_push(wire.parse_form(_body(request_data, request_type="102")))
    assert first.status_code == "2"
    assert second.status_code == "0" and second.events == ()
    assert any("暂无轨迹信息" in issue for issue in second.issues)
    assert any("EstimatedDeliveryTime" in issue and "ignored" in issue for issue in second.issues)


def test_a_date_only_estimate_is_the_end_of_that_day_in_beijing() -> None:
    data = json.loads(REQUEST_DATA)
    data["Data"][0]["EstimatedDeliveryTime"] = "2024-03-03"
    first, _ = kdniao.parse_push(wire.parse_form(_body(json.dumps(data, ensure_ascii=False))))
    assert first.estimated_delivery == utc(2024, 3, 3, 15, 59, 59)
    assert first.issues == ()


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"RequestType": "103", "RequestData": REQUEST_DATA}, "RequestType"),
        ({"RequestType": "101"}, "RequestData"),
        ({"RequestType": "101", "RequestData": "{broken"}, "RequestData"),
        ({"RequestType": "101", "RequestData": "[]"}, "RequestData"),
        ({"RequestType": "101", "RequestData": '{"Data": [{"ShipperCode": "SF"}]}'},
         "RequestData.Data[0].LogisticCode"),
    ],
)
def test_malformed_pushes_name_the_field(form: dict, field: str) -> None:
    with pytest.raises(PayloadError) as err:
        kdniao.parse_push(form)
    assert err.value.field == field


def test_reply_format() -> None:
    content_type, body = kdniao.reply(True, ebusiness_id="1237100", now=utc(2024, 3, 2, 2, 0, 0))
    assert content_type.startswith("application/json")
    assert body == b'{"EBusinessID":"1237100","UpdateTime":"2024-03-02 10:00:00","Success":true,"Reason":""}'
    _, failure = kdniao.reply(False, "签名错误", ebusiness_id="1237100", now=utc(2024, 3, 2, 2, 0, 0))
    assert json.loads(failure) == {"EBusinessID": "1237100", "UpdateTime": "2024-03-02 10:00:00",
                                   "Success": False, "Reason": "签名错误"}
