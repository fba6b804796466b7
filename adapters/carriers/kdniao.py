"""Kdniao (快递鸟) trace pushes.

A push is a form POST: ``RequestData`` (JSON), ``DataSign`` and
``RequestType`` (101 trace, 102 value-added trace).  ``RequestData`` holds
``Data[]``, one entry per waybill, each with its full trace history.
Times are 'yyyy-MM-dd HH:mm:ss' Beijing time without an offset (each scan is
marked ``time_inferred``, zone ``Asia/Shanghai``) and occasionally malformed:
such a trace is skipped and reported, the rest of the push still lands.
``EstimatedDeliveryTime`` is a date ('yyyy-MM-dd': the end of that day in
Beijing time) or a date and time.
``status_code`` is ``StateEx`` when given (detailed) else ``State``; the
coarse ``State`` is kept in ``extra_codes["State"]``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import unquote

from adapters import signing, wire
from adapters.carriers.common import (
    collect_events,
    decode_embedded_json,
    json_reply,
    lenient_time,
)
from adapters.carriers.local_time import CHINA, china_scan_time, delivery_estimate
from adapters.reader import Reader
from domain.inbound.normalized import (
    InboundTracking,
    InboundTrackingEvent,
    PayloadError,
)

PROVIDER = "kdniao"
TRACE_REQUEST_TYPES = frozenset({"101", "102"})


def sign(request_data: str, app_key: str) -> str:
    """DataSign = Base64(lowercase hex MD5(RequestData + AppKey)), before URL-encoding."""
    return base64.b64encode(signing.md5_hex(request_data + app_key).encode("ascii")).decode("ascii")


def verify(form: Mapping[str, str], app_key: str) -> bool:
    """Check ``DataSign`` of a decoded form (:func:`adapters.wire.parse_form`).

    Senders differ in how they URL-encode the Base64 value, so the sign is also
    compared once more URL-decoded and with spaces read back as ``+``.
    """
    request_data, data_sign = form.get("RequestData"), (form.get("DataSign") or "").strip()
    if not app_key or not request_data or not data_sign:
        return False
    expected = sign(request_data, app_key)
    candidates = {data_sign, unquote(data_sign), data_sign.replace(" ", "+")}
    return any(signing.same(expected, candidate) for candidate in candidates)


def _event(trace: Reader) -> InboundTrackingEvent:
    stamp = trace.req("AcceptTime", china_scan_time)
    return InboundTrackingEvent(
        status_code=trace.text("Action"),
        occurred_at=stamp.at,
        description=trace.text("AcceptStation"),
        location=trace.text("Location"),
        time_inferred=stamp.inferred,
        time_zone=stamp.zone,
    )


def _estimate(value: object, field: str) -> datetime:
    return delivery_estimate(value, field, CHINA)


def _tracking(item: Reader) -> InboundTracking:
    issues: list[str] = []
    state = item.opt("State", wire.ident) or ""
    state_ex = item.opt("StateEx", wire.ident) or ""
    if item.opt("Success", wire.boolean) is False:
        issues.append(f"{item.path}: Kdniao reports no success: {item.text('Reason') or 'no reason given'}")
    return InboundTracking(
        provider=PROVIDER,
        carrier=item.req("ShipperCode", wire.ident),
        tracking_no=item.req("LogisticCode", wire.ident),
        status_code=state_ex or state,
        events=collect_events(item.objs("Traces", required=False), _event, issues),
        estimated_delivery=lenient_time(item, "EstimatedDeliveryTime", _estimate, issues),
        extra_codes={"State": state} if state else {},
        issues=tuple(issues),
    )


def parse_push(form: Mapping[str, str]) -> list[InboundTracking]:
    """A decoded push form -> one :class:`InboundTracking` per ``Data`` entry."""
    request_type = (form.get("RequestType") or "").strip()
    if request_type not in TRACE_REQUEST_TYPES:
        raise PayloadError(f"{request_type!r} is not a trace push (expected 101 or 102)", field="RequestType")
    body = decode_embedded_json(form.get("RequestData"), "RequestData")
    return [_tracking(item) for item in body.objs("Data")]


def reply(success: bool, reason: str = "", *, ebusiness_id: str = "", now: datetime | None = None) -> tuple[str, bytes]:
    """The acknowledgement Kdniao expects: ``{EBusinessID, UpdateTime, Success, Reason}`` (UpdateTime in China time)."""
    moment = (now or datetime.now(wire.UTC)).astimezone(wire.CHINA_TZ)
    return json_reply({
        "EBusinessID": ebusiness_id,
        "UpdateTime": moment.strftime("%Y-%m-%d %H:%M:%S"),
        "Success": success,
        "Reason": reason,
    })
