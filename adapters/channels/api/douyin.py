"""Douyin shop (抖店)'s pull API: ``order.searchList`` lists whole shop orders, ``order.orderDetail`` one.

A call is ``POST {gateway}/order/searchList`` (the method's dots become the
path) with ``app_key``, ``method``, ``access_token``, ``timestamp`` (unix
seconds), ``v=2``, ``sign_method`` and ``sign`` in the query string and the
business parameters as the JSON body (``param_json``, signed byte for byte:
:func:`~adapters.channels.platform_signing.douyin_sign`), as the official
SDKs send it (with ``x-open-no-old-err-code: 1``). Every answer is the
envelope ``{"code": 10000, "msg": "success", "sub_code": "", "sub_msg": "", "log_id": "...", "data": ...}``.

``order.searchList`` takes ``update_time_start``/``update_time_end`` (unix
seconds, both inclusive), ``order_by=update_time``, ``order_asc=true``,
``page`` (from 0) and ``size`` (at most 100) and answers ``data``
``{"shop_order_list": [<shop order, as order.orderDetail's shop_order_detail>], "total": n, "page", "size"}``.
It covers orders created in the last 90 days (``order.orderDetail`` has no
such limit). Douyin documents no longest window; an hour is ours (short
walks, shallow pages). Paging as on Pinduoduo: the first call (page 0)
learns ``total``, then the pages are read from the last back to page 0, so
an order modified mid-walk can cause a repeat but never a gap.

``order.orderDetail`` takes ``shop_order_id`` and answers ``data.shop_order_detail``.

Refusals keep the envelope: ``code`` 60000 is throttling, 20000/20001 (the
platform's service errors) and 50000 are failures worth retrying, anything
else — 40003 with ``isv.signature-invalid`` or ``isv.access-token-expired``,
30001/30002 (permission, authorisation gone), 40004 (a parameter) — is a refusal.

Channel ``config["api"]``: ``app_key``, ``app_secret``, ``access_token``;
optional ``sign_method`` (``hmac-sha256`` or ``md5``), ``base_url``
(``https://openapi-fxg.jinritemai.com``), ``timeout_seconds``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, NoReturn

from adapters import wire
from adapters.channels.api import exact, http
from adapters.channels.api.backward import Cursor, seconds
from adapters.channels.decryption.transport import Account
from adapters.channels.platform_signing import DOUYIN_SIGN_METHODS, DOUYIN_VERSION, douyin_param_json, douyin_sign
from adapters.reader import Reader
from domain.inbound.channel_api import ApiRefused, ApiUnavailable, Listed, Page, Throttled, Window
from domain.inbound.normalized import PayloadError

KIND = "douyin"
DEFAULT_URL = "https://openapi-fxg.jinritemai.com"
LIST_METHOD = "order.searchList"
DETAIL_METHOD = "order.orderDetail"
SUCCESS = 10000
PAGE_SIZE = 100
MAX_WINDOW = timedelta(hours=1)
THROTTLING_CODES = frozenset({60000})
PLATFORM_FAILURE_CODES = frozenset({20000, 20001, 50000})


def refused(answer: Mapping[str, Any]) -> NoReturn:
    """A Douyin envelope whose ``code`` is not 10000, as the port's error."""
    raw = str(answer.get("code", "")).strip() or "UNKNOWN"
    sub_code = str(answer.get("sub_code") or "").strip()
    code = f"{raw}/{sub_code}" if sub_code else raw
    message = f"douyin {code}: {str(answer.get('sub_msg') or answer.get('msg') or 'refused')[:200]}"
    number = int(raw) if raw.isdigit() else None
    if number in THROTTLING_CODES:
        raise Throttled(message, code=code)
    if number in PLATFORM_FAILURE_CODES:
        raise ApiUnavailable(message, code=code)
    raise ApiRefused(message, code=code)


def bad_answer(error: PayloadError) -> ApiUnavailable:
    return ApiUnavailable(f"douyin answered in an unexpected shape at {error.field or '$'}", code="BAD_RESPONSE")


class DouyinApi:
    """One Douyin shop's pull API (the port :class:`~domain.inbound.channel_api.ChannelApi`)."""

    kind = KIND
    max_window = MAX_WINDOW

    def __init__(self, target: Account, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.target = target
        self.clock = clock

    async def list_updated(self, window: Window, page: str | None) -> Page:
        if window.end - window.start > self.max_window:
            raise ApiRefused(f"douyin lists at most {self.max_window} per call here", code="WINDOW_TOO_LONG")
        start, end = seconds(window)
        if start > end:
            return Page((), None, 0)
        cursor = Cursor.read(page, first=0, size=PAGE_SIZE, platform=KIND)
        _, answer = await self._call(LIST_METHOD, {
            "update_time_start": start, "update_time_end": end, "order_by": "update_time", "order_asc": True,
            "page": cursor.number, "size": cursor.size,
        })
        try:
            data = answer.obj("data")
            total = data.req("total", wire.count)
            listed = tuple(_listed(order) for order in data.objs("shop_order_list", required=False))
        except PayloadError as error:
            raise bad_answer(error) from None
        return cursor.page(listed, total)

    async def fetch(self, external_id: str) -> bytes:
        raw, answer = await self._call(DETAIL_METHOD, {"shop_order_id": external_id})
        try:
            found = answer.obj("data").obj("shop_order_detail").req("order_id", wire.ident)
        except PayloadError as error:
            raise bad_answer(error) from None
        if found != external_id:
            raise ApiUnavailable(f"douyin answered order {found} for {external_id}", code="BAD_RESPONSE")
        return raw

    def signed_request(self, method: str, params: Mapping[str, Any]) -> tuple[dict[str, str], str]:
        """(query parameters, body) of one call."""
        body = douyin_param_json(params)
        timestamp = str(int(self.clock().timestamp()))
        query = {"app_key": self.target.app_key, "method": method, "access_token": self.target.token,
                 "timestamp": timestamp, "v": DOUYIN_VERSION, "sign_method": self.target.sign_method}
        query["sign"] = douyin_sign(app_key=self.target.app_key, app_secret=self.target.app_secret, method=method,
                                    param_json=body, timestamp=timestamp, sign_method=self.target.sign_method)
        return query, body

    async def _call(self, method: str, params: Mapping[str, Any]) -> tuple[bytes, Reader]:
        query, body = self.signed_request(method, params)
        response = await http.send(self.target, "POST", "/" + method.replace(".", "/"), params=query,
                                   content=body.encode(), headers={"content-type": "application/json;charset=UTF-8",
                                                                   "x-open-no-old-err-code": "1"})
        try:
            answer = Reader(wire.load_json(response.content))
        except PayloadError:
            raise ApiUnavailable("douyin's answer is not a JSON object", code="BAD_RESPONSE") from None
        if answer.data.get("code") != SUCCESS:
            refused(answer.data)
        return response.content, answer


def _listed(order: Reader) -> Listed:
    return Listed(order.req("order_id", wire.ident), order.req("update_time", wire.unix_time),
                  partial(exact.dumps, order.data))


def client(config: Mapping[str, Any]) -> DouyinApi:
    """The pull API of the shop whose ``config["api"]`` is ``config``."""
    return DouyinApi(http.account(KIND, config, token_key="access_token", default_url=DEFAULT_URL,
                                  sign_methods=DOUYIN_SIGN_METHODS))
