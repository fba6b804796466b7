"""Taobao / Tmall (TOP) pull API: ``trades.sold.increment.get`` names trades, ``trade.fullinfo.get`` gives one.

Every call is a form POST to the TOP router (``/router/rest``) with the
system parameters ``method``, ``app_key``, ``session``, ``timestamp`` (China
time ``yyyy-MM-dd HH:mm:ss``; the gateway allows 10 minutes of skew),
``format=json``, ``v=2.0``, ``sign_method`` and ``sign``
(:func:`~adapters.channels.platform_signing.top_sign`). An answer is HTTP 200
either way: ``{"<method>_response": {...}}`` or ``{"error_response": {"code",
"msg", "sub_code", "sub_msg"}}``.

``taobao.trades.sold.increment.get`` (trades by *modification* time, three
months back at most): ``start_modified``/``end_modified`` in China time, at
most one day apart (TOP advises 30 minutes); ``page_size`` 1-100 (TOP
advises 40-50); results sorted by ``modified`` **newest first**, and TOP
says to page *from the last page back to the first* so that no trade is
missed: a trade modified while we page leaves the window, which shifts only
the pages we have already read. That needs ``total_results``, which TOP
leaves out when ``use_has_next=true`` (the faster mode that answers only
``has_next``), so this client asks with ``use_has_next=false``: the first
call (page 1) gives the count and, when the window fits in one page, its
trades; otherwise it is only the probe and the next calls walk pages
``last … 1`` (a trade that slid onto the page just read is listed again:
harmless). The token is ``"<page_no>:<page_size>:<total>"``; a gateway that
answers fewer trades than asked on a full page sets the page size. (A
window ending in the current second can also *gain* a trade while paged,
which may hide one at a page boundary until the poller's next, overlapping
run; TOP asks for no lag, so none is set.) Trades arrive as
``{"trades": {"trade": [{"tid", "status", "modified"}]}}`` (no ``trades``
key when empty).

``taobao.trade.fullinfo.get`` (``tid``, ``fields``) answers
``{"trade_fullinfo_get_response": {"trade": {... "orders": {"order": [...]}}}}``,
returned verbatim for :func:`adapters.channels.taobao.parse_order`. ``tid`` and
``oid`` exceed 2^53: decoded with :func:`adapters.wire.load_json`, kept as text.

Errors: codes 4-8 (User/Session/Partner/App call limited, "App Call Exceeds
Limited Frequency"; ``sub_code`` ``accesscontrol.limited-by-*``,
``isv.access-limit``; ``sub_msg`` "This ban will last for N more seconds",
read as ``retry_after``) are throttling; 10
("Service currently unavailable") and ``isp.*`` sub-codes (TOP's own
failures, usually under code 15 "Remote service error") are transient; 26,
27 and 53 (session missing, invalid, expired) and every ``isv.*`` (our
request) are refusals.

Channel ``config["api"]``: ``app_key``, ``app_secret``, ``session`` (the shop's
TOP session key); optional ``sign_method`` (``hmac-sha256``, ``md5``, ``hmac``),
``page_size`` (1-100, default 50), ``base_url`` (``https://eco.taobao.com``),
``timeout_seconds``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters import wire
from adapters.channels.api import http
from adapters.channels.api.backward import Cursor
from adapters.channels.decryption.taobao import DEFAULT_URL, PATH, SESSION_CODES, SESSION_SUB_CODES, SIGN_METHODS
from adapters.channels.decryption.transport import Account
from adapters.channels.platform_signing import top_sign, top_timestamp
from adapters.reader import Reader
from domain.inbound.channel_api import (
    ApiRefused,
    ApiUnavailable,
    ChannelApiError,
    Listed,
    Page,
    Throttled,
    Window,
)
from domain.inbound.normalized import PayloadError

SOURCE = "taobao"
LIST_METHOD = "taobao.trades.sold.increment.get"
FULLINFO_METHOD = "taobao.trade.fullinfo.get"
MAX_WINDOW = timedelta(days=1)
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50
LIST_FIELDS = "tid,status,modified"
#: Everything :func:`adapters.channels.taobao.parse_order` reads (``orders`` brings every sub-order field).
FULLINFO_FIELDS = ",".join((
    "tid", "type", "status", "step_trade_status", "payment", "total_fee", "post_fee", "discount_fee", "adjust_fee",
    "order_tax_fee", "created", "pay_time", "consign_time", "modified", "buyer_nick", "buyer_open_uid",
    "seller_nick", "oaid", "receiver_name", "receiver_mobile", "receiver_phone", "receiver_state", "receiver_city",
    "receiver_district", "receiver_town", "receiver_address", "receiver_zip", "receiver_country", "alipay_no",
    "shipping_type", "promotion_details", "orders",
))
#: TOP's call-limit codes: user, session, partner, app, app frequency.
THROTTLE_CODES = frozenset({"4", "5", "6", "7", "8"})
THROTTLE_SUB_CODES = ("accesscontrol.", "isv.access-limit")
UNAVAILABLE_CODES = frozenset({"10"})
_BAN = re.compile(r"ban will last for (\d+) more seconds", re.IGNORECASE)


def client(config: Mapping[str, Any]) -> TaobaoApi:
    """The shop's TOP client from ``config`` (the channel's ``config["api"]``); :class:`ApiRefused` naming a bad key."""
    target = http.account(SOURCE, config, token_key="session", default_url=DEFAULT_URL, sign_methods=SIGN_METHODS)
    size = config.get("page_size", DEFAULT_PAGE_SIZE)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_PAGE_SIZE:
        raise ApiRefused(f"{SOURCE}: api.page_size must be an integer from 1 to {MAX_PAGE_SIZE}", code="NOT_CONFIGURED")
    return TaobaoApi(target, size)


def china(moment: datetime) -> str:
    """A UTC time as TOP writes it (China time, whole seconds: a window's edges lose their fraction)."""
    return moment.astimezone(wire.CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


class TaobaoApi:
    """The port :class:`~domain.inbound.channel_api.ChannelApi` for one Taobao or Tmall shop."""

    kind = SOURCE
    max_window = MAX_WINDOW

    def __init__(self, target: Account, page_size: int = DEFAULT_PAGE_SIZE,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.target = target
        self.page_size = page_size
        self.clock = clock

    async def list_updated(self, window: Window, page: str | None) -> Page:
        cursor = Cursor.read(page, first=1, size=self.page_size, platform=SOURCE)
        answer, _ = await self._call(LIST_METHOD, {
            "fields": LIST_FIELDS, "start_modified": china(window.start), "end_modified": china(window.end),
            "page_no": str(cursor.number), "page_size": str(cursor.size), "use_has_next": "false",
        })
        try:
            response = Reader(answer).obj("trades_sold_increment_get_response")
            trades = response.obj("trades").objs("trade") if response.has("trades") else []
            listed = tuple(Listed(t.req("tid", wire.ident), t.opt("modified", wire.china_time)) for t in trades)
            counted = response.opt("total_results", wire.count)
            more = bool(response.opt("has_next", wire.boolean))
        except PayloadError as error:
            raise _bad_answer(error) from None
        if counted is None and more:
            raise ApiUnavailable("the platform gave no total_results for a window of several pages",
                                 code="BAD_RESPONSE")
        return cursor.page(listed, counted if counted is not None else len(listed))

    async def fetch(self, external_id: str) -> bytes:
        answer, raw = await self._call(FULLINFO_METHOD, {"fields": FULLINFO_FIELDS, "tid": external_id})
        try:
            Reader(answer).obj("trade_fullinfo_get_response").obj("trade")
        except PayloadError as error:
            raise _bad_answer(error) from None
        return raw

    def signed_form(self, method: str, params: Mapping[str, str]) -> dict[str, str]:
        form = {"method": method, "app_key": self.target.app_key, "session": self.target.token,
                "timestamp": top_timestamp(self.clock()), "format": "json", "v": "2.0",
                "sign_method": self.target.sign_method, **params}
        form["sign"] = top_sign(form, self.target.app_secret, self.target.sign_method)
        return form

    async def _call(self, method: str, params: Mapping[str, str]) -> tuple[Any, bytes]:
        """The decoded answer and its bytes; an ``error_response`` raised as the port's error."""
        response = await http.send(self.target, "POST", PATH, data=self.signed_form(method, params))
        try:
            answer = wire.load_json(response.content)
        except PayloadError:
            raise ApiUnavailable("the platform's answer is not JSON", code="BAD_RESPONSE") from None
        if isinstance(answer, dict) and "error_response" in answer:
            error = answer["error_response"]
            raise refusal(error if isinstance(error, Mapping) else {})
        return answer, response.content


def refusal(error: Mapping[str, Any]) -> ChannelApiError:
    """A TOP ``error_response`` as the port's error (``code/sub_code``; the messages are the platform's)."""
    code = str(error.get("code", "")).strip()
    sub_code = str(error.get("sub_code") or "").strip()
    message = str(error.get("sub_msg") or error.get("msg") or "refused")[:200]
    label = f"{code}/{sub_code}" if sub_code else code or "UNKNOWN"
    text = f"{SOURCE} {label}: {message}"
    ban = _BAN.search(f"{error.get('sub_msg') or ''} {error.get('msg') or ''}")
    if code in THROTTLE_CODES or sub_code.startswith(THROTTLE_SUB_CODES) or ban:
        seconds = float(ban.group(1)) if ban else 1.0
        return Throttled(text, retry_after=min(max(seconds, 0.1), http.MAX_RETRY_AFTER), code=label)
    if code in SESSION_CODES or sub_code in SESSION_SUB_CODES:
        return ApiRefused(f"{text} (authorise the shop again)", code=label)
    if code in UNAVAILABLE_CODES or sub_code.startswith("isp."):
        return ApiUnavailable(text, code=label)
    return ApiRefused(text, code=label)


def _bad_answer(error: PayloadError) -> ApiUnavailable:
    """An answer without the documented shape: the path only, never the value."""
    return ApiUnavailable(f"unexpected answer at {error.field or '$'}", code="BAD_RESPONSE")
