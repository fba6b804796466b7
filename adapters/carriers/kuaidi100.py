"""Kuaidi100 (快递100) subscription pushes.

A push is a form POST: ``param`` (JSON) and ``sign`` = uppercase hex
MD5(param + salt).  ``lastResult.state`` (detailed ``resultv2`` codes when
enabled) is the ``status_code``; ``lastResult.data[]`` arrives newest first
and is returned oldest first, each trace's code being ``statusCode`` or, when
only the state name is sent (resultv2=1), ``status`` ("揽收").  Times are
'yyyy-MM-dd HH:mm:ss' Beijing time without an offset (each scan is marked
``time_inferred``, zone ``Asia/Shanghai``); ``lastResult.arrivalTime``
(resultv2=8) is the estimated delivery.  Kuaidi100 retries unless the reply
is exactly ``{"result":true,"returnCode":"200","message":"成功"}``.

``param.status`` is the subscription's state, kept in
``extra_codes["push_status"]``. Per Kuaidi100's push documentation:
``polling`` (being tracked) and ``updateall`` (a full re-push) are routine;
``shutdown`` means tracking ended, which it does when the parcel is signed
for, so a shutdown is only reported when the state is not a final one (the
provider stops while the parcel is still out there: no more pushes will
come). ``abort`` means Kuaidi100 gave up ("3天查询无记录" nothing found in 3
days, "60天无变化" no change in 60 days): reported, and the waybill needs a
person. One abort is different: with ``comNew`` set, Kuaidi100 found the
carrier code wrong and re-subscribed the waybill under ``comNew``, so
tracking goes on; it is reported (the shipment's carrier is probably wrong)
but does not end the tracking.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from adapters import signing, wire
from adapters.carriers.common import collect_events, decode_embedded_json, json_reply, lenient_time
from adapters.carriers.local_time import CHINA, china_scan_time, delivery_estimate
from adapters.reader import Reader
from domain.inbound.normalized import InboundTracking, InboundTrackingEvent

PROVIDER = "kuaidi100"
#: ``lastResult.state`` values at which a parcel's journey ends (signed, returned and signed, revoked, refused).
FINAL_STATES = frozenset({"3", "301", "302", "303", "304", "4", "401", "14"})


def sign(param: str, salt: str) -> str:
    """sign = uppercase hex MD5(param + salt)."""
    return signing.md5_hex(param + salt).upper()


def verify(form: Mapping[str, str], salt: str) -> bool:
    """Check ``sign`` of a decoded form (:func:`adapters.wire.parse_form`); hex case is not significant."""
    param, received = form.get("param"), (form.get("sign") or "").strip()
    if not salt or not param or not received:
        return False
    return signing.same(sign(param, salt), received.upper())


def _event(trace: Reader) -> InboundTrackingEvent:
    stamp = trace.req("time" if trace.has("time") else "ftime", china_scan_time)
    return InboundTrackingEvent(
        status_code=trace.first_text("statusCode", "status"),
        occurred_at=stamp.at,
        description=trace.text("context"),
        location=trace.first_text("areaName", "location"),
        time_inferred=stamp.inferred,
        time_zone=stamp.zone,
    )


def _estimate(value: object, field: str) -> datetime:
    return delivery_estimate(value, field, CHINA)


def _subscription(body: Reader, state: str, com: str, issues: list[str]) -> dict[str, str]:
    """``extra_codes`` for ``param.status``, reporting the subscription states worth a person's look (module doc)."""
    push_status = body.text("status")
    if push_status == "abort" and body.text("comNew"):
        corrected = body.text("comNew")
        issues.append(f"param.status: Kuaidi100 found the carrier code {body.text('comOld') or com!r} wrong and "
                      f"re-subscribed the waybill as {corrected!r}; tracking goes on under that code")
        return {"carrier_corrected": corrected}
    if push_status == "abort":
        issues.append(f"param.status: subscription aborted: {body.text('message') or 'no reason given'}")
    elif push_status == "shutdown" and state not in FINAL_STATES:
        issues.append(f"param.status: Kuaidi100 stopped tracking (shutdown) while the parcel is not signed for "
                      f"(state {state or 'not given'}): no further pushes will come")
    return {"push_status": push_status} if push_status else {}


def parse_push(form: Mapping[str, str]) -> list[InboundTracking]:
    """A decoded push form -> a one-element list (Kuaidi100 pushes one waybill at a time)."""
    body = decode_embedded_json(form.get("param"), "param")
    last = body.obj("lastResult")
    issues: list[str] = []
    state = last.opt("state", wire.ident) or ""
    if not state:
        issues.append(f"{last.at('state')}: no state given")
    carrier = last.req("com", wire.ident)
    extra_codes = _subscription(body, state, carrier, issues)
    return [InboundTracking(
        provider=PROVIDER,
        carrier=carrier,
        tracking_no=last.req("nu", wire.ident),
        status_code=state,
        events=collect_events(last.objs("data", required=False), _event, issues),
        estimated_delivery=lenient_time(last, "arrivalTime", _estimate, issues),
        extra_codes=extra_codes,
        issues=tuple(issues),
    )]


def reply(success: bool, reason: str = "") -> tuple[str, bytes]:
    """Exactly ``{"result":true,"returnCode":"200","message":"成功"}`` on success, else a 500 body (it retries)."""
    if success:
        return json_reply({"result": True, "returnCode": "200", "message": "成功"})
    return json_reply({"result": False, "returnCode": "500", "message": reason or "失败"})
