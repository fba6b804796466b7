"""Kdniao (快递鸟) track monitoring: subscribe (RequestType 8008) and real-time query (RequestType 8001).

Account config: ``ebusiness_id`` (EBusinessID, 商户ID) and ``app_key``
(AppKey; defaults to the account's secret, since Kdniao signs its pushes
with the same AppKey); optional ``base_url`` (``https://api.kdniao.com``),
``timeout_seconds``.

Both calls are ``POST {base}/api/dist`` forms: ``RequestData`` (JSON),
``EBusinessID``, ``RequestType``, ``DataSign`` = Base64(lowercase hex
MD5(RequestData + AppKey)), URL-encoded by the form, and ``DataType=2``
(JSON). RequestData: ``{"ShipperCode", "LogisticCode", "CustomerName"}``,
CustomerName being the last 4 digits of the sender's or receiver's phone,
required for SF and ZTO. Kdniao pushes to the URL set in its console for the
EBusinessID (``/hooks/{tenant}/carrier/kdniao``): the subscription carries
no callback, so ``callback_url`` is not sent.

Answers are JSON with ``Success`` and ``Reason`` (and ``ResultCode``). A
subscription answers ``{"EBusinessID", "UpdateTime", "Success",
"Reason", "EstimatedDeliveryTime"}``; a query answers one waybill in the
shape of a push's ``Data`` item (``ShipperCode``, ``LogisticCode``,
``State``, ``StateEx``, ``Traces[]`` oldest first), read by the push parser.
Kdniao's refusals are told by their reason rather than a stable code table:
a reason naming the signature, the EBusinessID or the account refuses the
credentials; one naming the company means the carrier is not served;
"repeated/already subscribed" is a success; "too frequent" is throttling; a
query without traces ("暂无轨迹") is an empty result.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from adapters.carriers import kdniao as push_format
from adapters.carriers.api.common import Target, account, company_code, json_answer, request, short
from domain.inbound.normalized import InboundTracking, PayloadError
from domain.inbound.tracking_api import CREDENTIALS, UNSUPPORTED_CARRIER, ApiRefused, ApiUnavailable, Throttled

PROVIDER = push_format.PROVIDER
DEFAULT_URL = "https://api.kdniao.com"
PATH = "/api/dist"
SUBSCRIBE, QUERY = "8008", "8001"
#: The push RequestType of the track-monitoring (增值版) subscription; the push parser reads 101 and 102.
PUSH_REQUEST_TYPE = "102"

_ALREADY = ("重复订阅", "已订阅", "already")
_THROTTLED = ("频繁", "超过并发", "too frequent", "rate limit")
_CREDENTIAL_WORDS = ("签名", "DataSign", "EBusinessID", "商户", "用户", "账号", "AppKey")
_COMPANY_WORDS = ("快递公司", "ShipperCode")
_NOTHING_YET = ("暂无轨迹", "没有物流轨迹", "无轨迹")


def data_sign(request_data: str, app_key: str) -> str:
    """DataSign before the form's URL-encoding (the push format's own sign)."""
    return push_format.sign(request_data, app_key)


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class KdniaoApi:
    provider = PROVIDER

    def __init__(self, target: Target) -> None:
        self.target = target

    async def _call(self, request_type: str, data: dict[str, str]) -> dict[str, Any]:
        request_data = _compact(data)
        form = {"RequestData": request_data, "EBusinessID": self.target["ebusiness_id"], "RequestType": request_type,
                "DataSign": data_sign(request_data, self.target["app_key"]), "DataType": "2"}
        return json_answer(self.target, await request(self.target, "POST", PATH, data=form))

    @staticmethod
    def _waybill(carrier: str, tracking_no: str, phone_tail: str) -> dict[str, str]:
        data = {"ShipperCode": company_code(PROVIDER, carrier), "LogisticCode": tracking_no}
        if phone_tail:
            data["CustomerName"] = phone_tail
        return data

    async def subscribe(self, carrier: str, tracking_no: str, *, callback_url: str, phone_tail: str = "") -> None:
        answer = await self._call(SUBSCRIBE, self._waybill(carrier, tracking_no, phone_tail))
        reason = str(answer.get("Reason") or "")
        if answer.get("Success") is True or any(word in reason for word in _ALREADY):
            return
        raise _refusal(answer, "subscription")

    async def query(self, carrier: str, tracking_no: str, *, phone_tail: str = "") -> list[InboundTracking]:
        answer = await self._call(QUERY, self._waybill(carrier, tracking_no, phone_tail))
        if answer.get("Success") is not True:
            if any(word in str(answer.get("Reason") or "") for word in _NOTHING_YET):
                return []
            raise _refusal(answer, "query")
        if not answer.get("Traces") and not answer.get("State"):
            return []
        return read_answer(answer)


def read_answer(answer: Mapping[str, Any]) -> list[InboundTracking]:
    """A query answer through the push parser: it is one ``Data`` item of a push."""
    form = {"RequestType": PUSH_REQUEST_TYPE, "RequestData": _compact({"Data": [dict(answer)]})}
    try:
        return push_format.parse_push(form)
    except PayloadError as error:
        raise ApiUnavailable(f"kdniao query answer unreadable: {error}", code="BAD_RESPONSE") from None


def _refusal(answer: Mapping[str, Any], what: str) -> Exception:
    reason = str(answer.get("Reason") or "")
    text = f"kdniao {what} refused: {short(answer.get('ResultCode'))} {short(reason) or 'no reason given'}".strip()
    if any(word in reason for word in _THROTTLED):
        return Throttled(text, retry_after=1.0, code=str(answer.get("ResultCode") or "THROTTLED"))
    if any(word in reason for word in _COMPANY_WORDS):
        return ApiRefused(text, code=UNSUPPORTED_CARRIER)
    if any(word in reason for word in _CREDENTIAL_WORDS):
        return ApiRefused(text, code=CREDENTIALS)
    return ApiRefused(text, code=str(answer.get("ResultCode") or "REFUSED"))


def client(config: Mapping[str, Any], secret: str = "") -> KdniaoApi:
    """An account's client; ``app_key`` defaults to the account's secret (the AppKey that signs pushes)."""
    return KdniaoApi(account(PROVIDER, config, DEFAULT_URL, required=("ebusiness_id", "app_key"),
                             defaults={"app_key": secret}))

