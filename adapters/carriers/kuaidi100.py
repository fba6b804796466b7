"""Kuaidi100 (快递100) subscription pushes.

A push is a form POST: ``param`` (JSON) and ``sign`` = uppercase hex
MD5(param + salt).  ``param.status`` is the subscription state (polling,
shutdown, abort, updateall) and goes to ``extra_codes["push_status"]``;
``lastResult.state`` (detailed ``resultv2`` codes when enabled) is the
``status_code``; ``lastResult.data[]`` arrives newest first and is returned
oldest first.  Kuaidi100 retries unless the reply is exactly
``{"result":true,"returnCode":"200","message":"成功"}``.
"""

from __future__ import annotations

from collections.abc import Mapping

from adapters import signing, wire
from adapters.carriers.common import collect_events, decode_embedded_json, json_reply
from adapters.reader import Reader
from domain.inbound.normalized import InboundTracking, InboundTrackingEvent

PROVIDER = "kuaidi100"


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
    time_key = "time" if trace.has("time") else "ftime"
    return InboundTrackingEvent(
        status_code=trace.first_text("statusCode", "status"),
        occurred_at=trace.req(time_key, wire.china_time),
        description=trace.text("context"),
        location=trace.first_text("areaName", "location"),
    )


def parse_push(form: Mapping[str, str]) -> list[InboundTracking]:
    """A decoded push form -> a one-element list (Kuaidi100 pushes one waybill at a time)."""
    body = decode_embedded_json(form.get("param"), "param")
    last = body.obj("lastResult")
    issues: list[str] = []
    push_status = body.text("status")
    if push_status == "abort":
        issues.append(f"param.status: subscription aborted: {body.text('message') or 'no reason given'}")
    state = last.opt("state", wire.ident) or ""
    if not state:
        issues.append(f"{last.at('state')}: no state given")
    return [InboundTracking(
        provider=PROVIDER,
        carrier=last.req("com", wire.ident),
        tracking_no=last.req("nu", wire.ident),
        status_code=state,
        events=collect_events(last.objs("data", required=False), _event, issues),
        estimated_delivery=None,
        extra_codes={"push_status": push_status} if push_status else {},
        issues=tuple(issues),
    )]


def reply(success: bool, reason: str = "") -> tuple[str, bytes]:
    """Exactly ``{"result":true,"returnCode":"200","message":"成功"}`` on success, else a 500 body (it retries)."""
    if success:
        return json_reply({"result": True, "returnCode": "200", "message": "成功"})
    return json_reply({"result": False, "returnCode": "500", "message": reason or "失败"})
