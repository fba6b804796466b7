"""AfterShip Tracking API (version 2024-04): create a tracking, read it back.

Account config: ``api_key`` (sent as the ``as-api-key`` header); optional
``base_url`` (``https://api.aftership.com``), ``timeout_seconds``. AfterShip
pushes to the webhook URL set in its admin (``/hooks/{tenant}/carrier/aftership``,
signed with the webhook secret that is the account's secret): a tracking
carries no callback, so ``callback_url`` is not sent.

Subscribe: ``POST /tracking/2024-04/trackings`` with JSON
``{"tracking_number", "slug", "destination_postal_code"?}``; answered 201
(or 200) ``{"meta": {"code"}, "data": {<tracking>}}``. HTTP 400 with
``meta.code`` 4003 "Tracking already exists" is a success for us; 401 is a
bad key; 429 (``Retry-After``, ``X-RateLimit-Reset``) is throttling; 4005
(invalid slug) / 4010 means the courier is not served; other 4xx refuse.

Query: ``GET /tracking/2024-04/trackings?tracking_numbers={n}&slug={slug}``
answers ``data.trackings[]``; each tracking object is what a webhook's
``msg`` carries and is read by the push parser (only the one with our number).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import httpx

from adapters.carriers import aftership as push_format
from adapters.carriers.api.common import Target, account, company_code, json_answer, request, short
from domain.inbound.normalized import InboundTracking, PayloadError
from domain.inbound.tracking_api import CREDENTIALS, UNSUPPORTED_CARRIER, ApiRefused, ApiUnavailable, Throttled

PROVIDER = push_format.PROVIDER
DEFAULT_URL = "https://api.aftership.com"
VERSION_PATH = "/tracking/2024-04"
KEY_HEADER = "as-api-key"
ALREADY_EXISTS = 4003
_UNSUPPORTED = frozenset({4005, 4010})


class AfterShipApi:
    provider = PROVIDER

    def __init__(self, target: Target) -> None:
        self.target = target
        self.headers = {KEY_HEADER: target["api_key"], "content-type": "application/json"}

    async def subscribe(self, carrier: str, tracking_no: str, *, callback_url: str, phone_tail: str = "") -> None:
        body = {"tracking_number": tracking_no, "slug": company_code(PROVIDER, carrier)}
        response = await request(self.target, "POST", f"{VERSION_PATH}/trackings", json=body, headers=self.headers)
        if response.status_code in (200, 201):
            return
        answer = json_answer(self.target, response)
        if _meta_code(answer) == ALREADY_EXISTS:
            return
        raise _refusal(response, answer, "subscription")

    async def query(self, carrier: str, tracking_no: str, *, phone_tail: str = "") -> list[InboundTracking]:
        params = {"tracking_numbers": tracking_no, "slug": company_code(PROVIDER, carrier)}
        response = await request(self.target, "GET", f"{VERSION_PATH}/trackings", params=params,
                                 headers=self.headers)
        answer = json_answer(self.target, response)
        if response.status_code != 200:
            raise _refusal(response, answer, "query")
        data = answer.get("data")
        trackings = data.get("trackings") if isinstance(data, dict) else None
        if not isinstance(trackings, list):
            raise ApiUnavailable("aftership query answer has no data.trackings list", code="BAD_RESPONSE")
        return [parsed for item in trackings
                if isinstance(item, dict) and str(item.get("tracking_number", "")) == tracking_no
                for parsed in read_tracking(item)]


def read_tracking(tracking: Mapping[str, Any]) -> list[InboundTracking]:
    """A tracking object through the webhook parser: it is a webhook's ``msg``."""
    try:
        return push_format.parse_push({"msg": dict(tracking)})
    except PayloadError as error:
        raise ApiUnavailable(f"aftership tracking unreadable: {error}", code="BAD_RESPONSE") from None


def _meta_code(answer: Mapping[str, Any]) -> int | None:
    meta = answer.get("meta")
    code = meta.get("code") if isinstance(meta, dict) else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def _refusal(response: httpx.Response, answer: Mapping[str, Any], what: str) -> Exception:
    code = _meta_code(answer)
    meta = answer.get("meta") if isinstance(answer.get("meta"), dict) else {}
    text = f"aftership {what} refused: HTTP {response.status_code} meta.code {code} {short(meta.get('message'))}"
    if code == 429:
        return Throttled(text, retry_after=_reset_in(response.headers), code="429")
    if response.status_code == 401 or code == 401:
        return ApiRefused(text, code=CREDENTIALS)
    if code in _UNSUPPORTED:
        return ApiRefused(text, code=UNSUPPORTED_CARRIER)
    return ApiRefused(text, code=str(code or f"HTTP_{response.status_code}"))


def _reset_in(headers: Mapping[str, str]) -> float:
    """Seconds until ``X-RateLimit-Reset`` (a Unix time), at least 1."""
    try:
        return min(max(float(headers.get("x-ratelimit-reset", "")) - time.time(), 1.0), 60.0)
    except ValueError:
        return 1.0


def client(config: Mapping[str, Any], secret: str = "") -> AfterShipApi:
    """An account's client (the webhook secret, ``secret``, is not needed to call the API)."""
    return AfterShipApi(account(PROVIDER, config, DEFAULT_URL, required=("api_key",)))
