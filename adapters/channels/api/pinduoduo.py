"""Pinduoduo's pull API: ``pdd.order.number.list.increment.get`` lists whole orders, ``pdd.order.information.get`` one.

Both are form POSTs to the POP gateway (``{base_url}/api/router``) with the
common parameters ``type``, ``client_id``, ``access_token``, ``timestamp``
(unix seconds, within 10 minutes of the platform's clock), ``data_type=JSON``,
``version=V1`` and ``sign`` (:func:`~adapters.channels.platform_signing.pdd_sign`
over every parameter, business ones included).

The list call takes ``start_updated_at``/``end_updated_at`` (unix seconds,
at most 30 minutes apart), ``is_lucky_flag=0``, ``order_status=5`` and
``refund_status=5`` (all), ``page`` (from 1) and ``page_size`` (at most 100),
and answers whole orders, each as ``pdd.order.information.get``'s
``order_info``::

    {"order_sn_increment_get_response": {"total_count": 230, "order_sn_list": [{"order_sn": "...", ...}]}}

PDD documents that only paging from the last page back to the first misses
no order (an order modified while we page leaves the window and pulls the
later ones one place forward). So the first call (page 1) learns
``total_count`` — and gives the orders when they all fit on it — and the
following calls read the last page down to page 1. ``use_has_next`` would
drop ``total_count`` and with it that walk, so it is not used. The page
size is the one the platform really gave on page 1 (it may cap what we ask).

A refusal is ``{"error_response": {"error_code": 10019, "error_msg": "...", "sub_code": ..., "sub_msg": ...}}``:
52101/52102/52103/70031 are throttling, 50000/50001/50002/52001/52002 the
platform's own failures; anything else (20004 bad sign, 10019 expired token,
20032 wrong token, 10016 unknown client_id, …) is a refusal.

Channel ``config["api"]``: ``app_key`` (the POP ``client_id``),
``app_secret`` (``client_secret``), ``access_token``; optional ``base_url``
(``https://gw-api.pinduoduo.com``), ``timeout_seconds``.
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
from adapters.channels.platform_signing import pdd_sign
from adapters.reader import Reader
from domain.inbound.channel_api import ApiRefused, ApiUnavailable, Listed, Page, Throttled, Window
from domain.inbound.normalized import PayloadError

KIND = "pinduoduo"
PATH = "/api/router"
DEFAULT_URL = "https://gw-api.pinduoduo.com"
LIST_TYPE = "pdd.order.number.list.increment.get"
DETAIL_TYPE = "pdd.order.information.get"
PAGE_SIZE = 100
MAX_WINDOW = timedelta(minutes=30)
THROTTLING_CODES = frozenset({"52101", "52102", "52103", "70031"})
PLATFORM_FAILURE_CODES = frozenset({"50000", "50001", "50002", "52001", "52002"})


def refused(error: Mapping[str, Any]) -> NoReturn:
    """A POP ``error_response`` as the port's error."""
    code = str(error.get("error_code", "")).strip() or "UNKNOWN"
    message = f"pinduoduo {code}: {str(error.get('sub_msg') or error.get('error_msg') or 'refused')[:200]}"
    if code in THROTTLING_CODES:
        raise Throttled(message, code=code)
    if code in PLATFORM_FAILURE_CODES:
        raise ApiUnavailable(message, code=code)
    raise ApiRefused(message, code=code)


def bad_answer(error: PayloadError) -> ApiUnavailable:
    return ApiUnavailable(f"pinduoduo answered in an unexpected shape at {error.field or '$'}", code="BAD_RESPONSE")


class PinduoduoApi:
    """One Pinduoduo shop's pull API (the port :class:`~domain.inbound.channel_api.ChannelApi`)."""

    kind = KIND
    max_window = MAX_WINDOW

    def __init__(self, target: Account, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.target = target
        self.clock = clock

    async def list_updated(self, window: Window, page: str | None) -> Page:
        if window.end - window.start > self.max_window:
            raise ApiRefused(f"pinduoduo lists at most {self.max_window} per call", code="WINDOW_TOO_LONG")
        start, end = seconds(window)
        if start > end:
            return Page((), None, 0)
        cursor = Cursor.read(page, first=1, size=PAGE_SIZE, platform=KIND)
        _, answer = await self._call(LIST_TYPE, {
            "start_updated_at": str(start), "end_updated_at": str(end), "is_lucky_flag": "0", "order_status": "5",
            "refund_status": "5", "page": str(cursor.number), "page_size": str(cursor.size),
        })
        try:
            found = answer.obj("order_sn_increment_get_response")
            total = found.req("total_count", wire.count)
            orders = found.objs("order_sn_list", required=False) or found.objs("order_list", required=False)
            listed = tuple(_listed(order) for order in orders)
        except PayloadError as error:
            raise bad_answer(error) from None
        return cursor.page(listed, total)

    async def fetch(self, external_id: str) -> bytes:
        raw, answer = await self._call(DETAIL_TYPE, {"order_sn": external_id})
        try:
            found = answer.obj("order_info_get_response").obj("order_info").req("order_sn", wire.ident)
        except PayloadError as error:
            raise bad_answer(error) from None
        if found != external_id:
            raise ApiUnavailable(f"pinduoduo answered order {found} for {external_id}", code="BAD_RESPONSE")
        return raw

    def signed_form(self, type_: str, business: Mapping[str, str]) -> dict[str, str]:
        form = {"type": type_, "client_id": self.target.app_key, "access_token": self.target.token,
                "timestamp": str(int(self.clock().timestamp())), "data_type": "JSON", "version": "V1", **business}
        form["sign"] = pdd_sign(form, self.target.app_secret)
        return form

    async def _call(self, type_: str, business: Mapping[str, str]) -> tuple[bytes, Reader]:
        response = await http.send(self.target, "POST", PATH, data=self.signed_form(type_, business))
        try:
            answer = Reader(wire.load_json(response.content))
        except PayloadError:
            raise ApiUnavailable("pinduoduo's answer is not a JSON object", code="BAD_RESPONSE") from None
        if "error_response" in answer.data:
            error = answer.data["error_response"]
            refused(error if isinstance(error, Mapping) else {})
        return response.content, answer


def _listed(order: Reader) -> Listed:
    return Listed(order.req("order_sn", wire.ident), order.req("updated_at", wire.china_time),
                  partial(exact.dumps, order.data))


def client(config: Mapping[str, Any]) -> PinduoduoApi:
    """The pull API of the shop whose ``config["api"]`` is ``config``."""
    return PinduoduoApi(http.account(KIND, config, token_key="access_token", default_url=DEFAULT_URL,
                                     sign_methods=("md5",)))
