"""Kuaidi100 subscription pushes: sign, newest-first traces, abort, the exact reply."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import urlencode

import pytest
from adapters_samples import raw, utc

from adapters import wire
from adapters.carriers import kuaidi100
from domain.inbound import status_maps
from domain.inbound.normalized import (
    InboundTracking,
    InboundTrackingEvent,
    PayloadError,
)

SALT = "k100-salt-7f3a"
PARAM = raw("kuaidi100_param.json").decode("utf-8")
BEIJING = "Asia/Shanghai"


def _body(param: str = PARAM, sign: str | None = None) -> bytes:
    if sign is None:
        sign = hashlib.md5((param + SALT).encode("utf-8")).hexdigest().upper()
    return urlencode({"param": param, "sign": sign}).encode("ascii")


def test_verify_accepts_the_right_salt_only() -> None:
    form = wire.parse_form(_body())
    assert kuaidi100.verify(form, SALT)
    assert kuaidi100.verify({**form, "sign": form["sign"].lower()}, SALT)
    assert not kuaidi100.verify(form, "wrong-salt")
    assert not kuaidi100.verify(wire.parse_form(_body().replace(b"yuantong", b"zhongtong", 1)), SALT)
    assert not kuaidi100.verify({"param": PARAM}, SALT)


def test_parses_the_push_oldest_event_first() -> None:
    assert kuaidi100.parse_push(wire.parse_form(_body())) == [InboundTracking(
        provider="kuaidi100",
        carrier="yuantong",
        tracking_no="YT7412345678901",
        status_code="5",
        events=(  # Beijing time on the wire, no offset: placed in Asia/Shanghai and marked so
            InboundTrackingEvent("1", utc(2024, 3, 1, 10, 20, 0), "【杭州市西湖区公司】已揽收", "浙江,杭州市,西湖区",
                                 True, BEIJING),
            InboundTrackingEvent("0", utc(2024, 3, 1, 22, 10, 0), "快件已到达【杭州转运中心】", "浙江,杭州市", True, BEIJING),
            InboundTrackingEvent("5", utc(2024, 3, 2, 1, 30, 0), "【杭州市文新】派件员正在为您派件", "浙江,杭州市,西湖区",
                                 True, BEIJING),
        ),
        estimated_delivery=None,
        extra_codes={"push_status": "polling"},
        issues=(),
    )]
    assert status_maps.lookup("kuaidi100", "5") == {"shipment": "OUT_FOR_DELIVERY"}


def test_abort_push_and_a_malformed_trace() -> None:
    param = json.loads(PARAM)
    param.update(status="abort", message="3天查询无记录")
    param["lastResult"]["data"][1]["time"] = "2024-03-02 6:10"
    (tracking,) = kuaidi100.parse_push({"param": json.dumps(param, ensure_ascii=False)})
    assert tracking.extra_codes == {"push_status": "abort"}
    assert status_maps.lookup("kuaidi100.push_status", "abort") == {"shipment": "EXPIRED"}
    assert [e.status_code for e in tracking.events] == ["1", "5"]
    assert tracking.issues[0] == "param.status: subscription aborted: 3天查询无记录"
    assert tracking.issues[1].startswith("param.lastResult.data[1].time:")


def test_trace_without_status_code_falls_back_to_text_and_ftime() -> None:
    param = json.loads(PARAM)
    entry = param["lastResult"]["data"][0]
    del entry["statusCode"], entry["time"]
    (tracking,) = kuaidi100.parse_push({"param": json.dumps(param)})
    assert tracking.events[-1].status_code == "派件"
    assert tracking.events[-1].occurred_at == utc(2024, 3, 2, 1, 30, 0)


def _param(name: str = "kuaidi100_collected.json", **changes: object) -> str:
    param = json.loads(raw(name).decode("utf-8"))
    last_changes = changes.pop("lastResult", {})
    param.update(changes)
    param["lastResult"].update(last_changes)  # type: ignore[arg-type]
    return json.dumps(param, ensure_ascii=False)


def test_a_polling_push_at_collection_is_a_pick_up_and_nothing_to_report() -> None:
    (tracking,) = kuaidi100.parse_push({"param": _param()})
    assert (tracking.carrier, tracking.status_code, tracking.extra_codes) == ("shunfeng", "1", {"push_status": "polling"})
    (scan,) = tracking.events
    assert (scan.status_code, scan.occurred_at, scan.time_inferred) == ("揽收", utc(2024, 3, 8, 13, 2, 0), True)
    assert tracking.issues == ()
    # resultv2=1 traces carry only the state's name: it maps like the code
    assert status_maps.lookup("kuaidi100", "揽收") == status_maps.lookup("kuaidi100", "1") == {"shipment": "PICKED_UP"}


def test_shutdown_after_signing_is_routine_but_shutdown_before_is_reported() -> None:
    (signed,) = kuaidi100.parse_push({"param": _param(status="shutdown", lastResult={"state": "301", "ischeck": "1"})})
    assert signed.extra_codes == {"push_status": "shutdown"} and signed.issues == ()
    (stopped,) = kuaidi100.parse_push({"param": _param(status="shutdown", lastResult={"state": "0"})})
    assert stopped.issues == ("param.status: Kuaidi100 stopped tracking (shutdown) while the parcel is not signed for "
                              "(state 0): no further pushes will come",)


def test_an_abort_that_corrects_the_carrier_code_does_not_end_tracking() -> None:
    (tracking,) = kuaidi100.parse_push({"param": _param(status="abort", autoCheck="0", comNew="zhongtong")})
    assert tracking.extra_codes == {"carrier_corrected": "zhongtong"}  # no push_status: nothing expired
    assert tracking.issues == ("param.status: Kuaidi100 found the carrier code 'shunfeng' wrong and re-subscribed the "
                               "waybill as 'zhongtong'; tracking goes on under that code",)


@pytest.mark.parametrize(("arrival", "expected"), [("2024-03-10", utc(2024, 3, 10, 15, 59, 59)),
                                                   ("2024-03-10 18:00:00", utc(2024, 3, 10, 10, 0, 0)),
                                                   ("2024-03-10 18", utc(2024, 3, 10, 10, 0, 0))])
def test_arrival_time_is_the_estimated_delivery_in_beijing_time(arrival: str, expected: object) -> None:
    (tracking,) = kuaidi100.parse_push({"param": _param(lastResult={"arrivalTime": arrival})})
    assert tracking.estimated_delivery == expected and tracking.issues == ()
    (bad,) = kuaidi100.parse_push({"param": _param(lastResult={"arrivalTime": "明天"})})
    assert bad.estimated_delivery is None
    assert bad.issues == ("param.lastResult.arrivalTime: expected a date or an ISO-8601 date and time, got '明天'; "
                          "ignored",)


@pytest.mark.parametrize(
    ("form", "field"),
    [({}, "param"), ({"param": "not json"}, "param"), ({"param": '{"status": "polling"}'}, "param.lastResult"),
     ({"param": '{"lastResult": {"com": "yuantong"}}'}, "param.lastResult.nu")],
)
def test_malformed_pushes_name_the_field(form: dict, field: str) -> None:
    with pytest.raises(PayloadError) as err:
        kuaidi100.parse_push(form)
    assert err.value.field == field


def test_reply_is_exactly_what_kuaidi100_expects() -> None:
    content_type, body = kuaidi100.reply(True)
    assert content_type.startswith("application/json")
    assert body == '{"result":true,"returnCode":"200","message":"成功"}'.encode("utf-8")
    _, failure = kuaidi100.reply(False, "sign mismatch")
    assert json.loads(failure) == {"result": False, "returnCode": "500", "message": "sign mismatch"}
