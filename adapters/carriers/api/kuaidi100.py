"""Kuaidi100 (快递100) subscription and real-time query.

Account config: ``key`` (授权key) and ``customer`` (公司编号, needed for queries only);
optional ``base_url`` (``https://poll.kuaidi100.com``), ``timeout_seconds``.
The push ``salt`` is the account's secret, so the pushes this subscription
asks for are signed with the key ``adapters.carriers.kuaidi100.verify`` checks.

Subscribe: ``POST {base}/poll``, form ``schema=json`` and ``param`` = JSON
``{"company", "number", "key", "parameters": {"callbackurl", "salt",
"resultv2": "4", "phone"}}`` (``phone``: the receiver's phone or its last 4
digits, required for SF). Answer ``{"result", "returnCode", "message"}``:
200 accepted; 501 already subscribed and still polled (success for us);
600 not a valid key, 601 key expired (refused: the account); 700 bad data
or callback, 701 company refused, 702 company not recognised (refused);
500 server error (unavailable).

Query: ``POST {base}/poll/query.do``, form ``customer``, ``param`` = JSON
``{"com", "num", "phone", "resultv2": "4"}`` and ``sign`` = uppercase hex
MD5(param + key + customer). A found waybill answers the shape of a push's
``lastResult`` (``message``, ``nu``, ``com``, ``state``, ``data[]`` newest
first) and is read by the push parser. Failures are ``{"result": false,
"returnCode", "message"}``: 500 nothing found yet (empty result), 400
incomplete data or unknown company, 408 phone check failed, 503 signature
wrong, 601 key expired (refused), 501 server error (unavailable), 502 server
busy (throttled). Kuaidi100 asks that one waybill be queried at most every
30 minutes, or it is locked: the caller spaces queries.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from adapters import signing
from adapters.carriers import kuaidi100 as push_format
from adapters.carriers.api.common import Target, account, company_code, json_answer, request, short
from domain.inbound.normalized import InboundTracking, PayloadError
from domain.inbound.tracking_api import (
    CREDENTIALS,
    NOT_CONFIGURED,
    UNSUPPORTED_CARRIER,
    ApiRefused,
    ApiUnavailable,
    Throttled,
)

PROVIDER = push_format.PROVIDER
DEFAULT_URL = "https://poll.kuaidi100.com"
#: resultv2=4: detailed state codes and place names in every trace (what the status tables read).
RESULT_V2 = "4"
_SUBSCRIBED = frozenset({"200", "501"})
_REFUSED_CREDENTIALS = frozenset({"600", "601", "503"})
_UNSUPPORTED = frozenset({"701", "702"})
_BUSY_RETRY_AFTER = 2.0


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def query_sign(param: str, key: str, customer: str) -> str:
    """sign = uppercase hex MD5(param + key + customer)."""
    return signing.md5_hex(param + key + customer).upper()


class Kuaidi100Api:
    provider = PROVIDER

    def __init__(self, target: Target, salt: str) -> None:
        self.target = target
        self.salt = salt

    async def subscribe(self, carrier: str, tracking_no: str, *, callback_url: str, phone_tail: str = "") -> None:
        if not callback_url.startswith(("https://", "http://")):
            raise ApiRefused("kuaidi100 pushes to the callback URL of each subscription: no callback base is set",
                             code=NOT_CONFIGURED)
        parameters = {"callbackurl": callback_url, "salt": self.salt, "resultv2": RESULT_V2}
        if phone_tail:
            parameters["phone"] = phone_tail
        param = {"company": company_code(PROVIDER, carrier), "number": tracking_no, "key": self.target["key"],
                 "parameters": parameters}
        response = await request(self.target, "POST", "/poll", data={"schema": "json", "param": _compact(param)})
        answer = json_answer(self.target, response)
        code = str(answer.get("returnCode", ""))
        if answer.get("result") is True or code in _SUBSCRIBED:
            return
        raise _error(code, answer.get("message"), "subscription")

    async def query(self, carrier: str, tracking_no: str, *, phone_tail: str = "") -> list[InboundTracking]:
        body: dict[str, str] = {"com": company_code(PROVIDER, carrier), "num": tracking_no, "resultv2": RESULT_V2}
        if phone_tail:
            body["phone"] = phone_tail
        param = _compact(body)
        customer = self.target["customer"]
        if not customer:
            raise ApiRefused("kuaidi100: carrier account config.customer is missing (needed to query)",
                             code=NOT_CONFIGURED)
        form = {"customer": customer, "param": param, "sign": query_sign(param, self.target["key"], customer)}
        answer = json_answer(self.target, await request(self.target, "POST", "/poll/query.do", data=form))
        if answer.get("result") is False or ("data" not in answer and "returnCode" in answer):
            code = str(answer.get("returnCode", ""))
            if code == "500":  # 查询无结果: nothing known of this waybill yet
                return []
            raise _error(code, answer.get("message"), "query")
        return read_answer(answer)


def read_answer(answer: Mapping[str, Any]) -> list[InboundTracking]:
    """A query answer through the push parser: it is the ``lastResult`` of a push (without a subscription state)."""
    try:
        return push_format.parse_push({"param": _compact({"lastResult": answer})})
    except PayloadError as error:
        raise ApiUnavailable(f"kuaidi100 query answer unreadable: {error}", code="BAD_RESPONSE") from None


def _error(code: str, message: object, what: str) -> Exception:
    text = f"kuaidi100 {what} refused: returnCode {code or '?'} {short(message)}".strip()
    if code == "502":
        return Throttled(text, retry_after=_BUSY_RETRY_AFTER, code=code)
    if code in ("500", "501"):
        return ApiUnavailable(text, code=code)
    if code in _UNSUPPORTED:
        return ApiRefused(text, code=UNSUPPORTED_CARRIER)
    return ApiRefused(text, code=CREDENTIALS if code in _REFUSED_CREDENTIALS else code or "REFUSED")


def client(config: Mapping[str, Any], secret: str = "") -> Kuaidi100Api:
    """An account's client; the push salt is the account's secret (``config["salt"]`` overrides it)."""
    target = account(PROVIDER, config, DEFAULT_URL, required=("key",))
    return Kuaidi100Api(target, target["salt"] or secret)
