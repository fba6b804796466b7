"""Amazon Selling Partner API, Orders v0: the orders a window changed, and one order whole with its items.

    POST {token_url}  grant_type=refresh_token&refresh_token=…&client_id=…&client_secret=…   (Login with Amazon)
        -> {"access_token": "Atza|…", "token_type": "bearer", "expires_in": 3600}
    GET /orders/v0/orders?MarketplaceIds=A,B&LastUpdatedAfter=…Z&LastUpdatedBefore=…Z&MaxResultsPerPage=100
    GET /orders/v0/orders?MarketplaceIds=A,B&NextToken=…        (NextToken overrides the other criteria)
        -> {"payload": {"Orders": [{"AmazonOrderId", "LastUpdateDate", …}], "NextToken": "…"}}
    GET /orders/v0/orders/{id}                     -> {"payload": {order}}
    GET /orders/v0/orders/{id}/orderItems[?NextToken=…] -> {"payload": {"AmazonOrderId", "OrderItems", "NextToken"?}}

``fetch`` answers ``{"order": {…}, "items": {"AmazonOrderId", "OrderItems": [every page]}}``, which the
amazon webhook format combines (``adapters.formats._amazon``); an order the list just gave is not asked again.

Facts relied on (ordersV0 model in amzn/selling-partner-api-models, the SP-API
docs and changelog): every call carries the LWA access token in
``x-amz-access-token`` and nothing else — AWS SigV4 signing was dropped on
2 October 2023. ``LastUpdatedBefore`` must be at least 2 minutes before the
request (orders reach the API about 2 minutes after they change): a window
ending later is answered :class:`Throttled` until it is old enough, never
cut short. Arrays go comma-separated; ``MaxResultsPerPage`` is 1–100.
Usage plans: getOrders 0.0167 requests/s (burst 20), getOrder and
getOrderItems 0.5/s (burst 30); a 429 (``QuotaExceeded``) is waited out for
1 / ``x-amzn-RateLimit-Limit`` seconds (the plan's rate when the header is
absent). A 403 (``Unauthorized``; "The access token you provided has
expired.") renews the token once, then refuses. Errors read
``{"errors": [{"code", "message", "details"}]}``. Access tokens live 3600 s
and are cached per (token URL, client, refresh token).

Channel ``config["api"]``: ``client_id``, ``client_secret``, ``refresh_token``,
``marketplace_ids`` (a list, or comma-separated); optional ``base_url`` (the
region's endpoint: ``https://sellingpartnerapi-na.amazon.com``, ``-eu``, ``-fe``),
``token_url`` (``https://api.amazon.com/auth/o2/token``), ``timeout_seconds`` (5).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import time
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from adapters import wire
from adapters.channels.api import exact, http
from adapters.channels.decryption.transport import Account
from domain.inbound.channel_api import ApiRefused, ApiUnavailable, Listed, Page, Throttled, Window
from domain.inbound.normalized import PayloadError

KIND = "amazon"
DEFAULT_URL = "https://sellingpartnerapi-na.amazon.com"
TOKEN_URL = "https://api.amazon.com/auth/o2/token"
ORDERS_PATH = "/orders/v0/orders"
PAGE_SIZE = 100
MAX_WINDOW = timedelta(days=7)
#: How old the end of a window must be (the API's rule, plus a margin for clock skew between us and Amazon).
LAG = timedelta(minutes=2, seconds=5)
#: Requests per second of each operation's default usage plan, when a 429 does not say.
DEFAULT_RATES = {"getOrders": 0.0167, "getOrder": 0.5, "getOrderItems": 0.5}
#: Orders a list page gave, kept for ``fetch`` (bounded).
LISTED_KEPT = 2_000

#: (token URL, client id, digest of secret and refresh token) -> (access token, monotonic renewal time)
_TOKENS: dict[tuple[str, str, str], tuple[str, float]] = {}


def _iso(moment: datetime) -> str:
    return datetime.fromtimestamp(math.floor(moment.timestamp()), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _wait(headers: httpx.Headers, operation: str) -> float:
    try:
        rate = float(headers.get("x-amzn-ratelimit-limit", ""))
    except ValueError:
        rate = DEFAULT_RATES[operation]
    return min(max(1 / rate if rate > 0 else 1.0, 0.1), http.MAX_RETRY_AFTER)


def _reason(response: httpx.Response) -> tuple[str, str]:
    """``(code, message)`` of an SP-API error answer (never its details, which may quote the request)."""
    try:
        first = wire.load_json(response.content)["errors"][0]
        return str(first.get("code") or "")[:60], str(first.get("message") or "")[:160]
    except (PayloadError, KeyError, IndexError, TypeError, AttributeError):
        return "", ""


class SellingPartnerOrdersApi:
    """One seller's Orders API in its marketplaces (see the module docstring)."""

    kind = KIND
    max_window = MAX_WINDOW
    lag = LAG

    def __init__(self, target: Account, token_target: Account, token_path: str, marketplaces: tuple[str, ...],
                 refresh_token: str, clock: Any = lambda: datetime.now(UTC)) -> None:
        self.target, self.token_target, self.token_path = target, token_target, token_path
        self.marketplaces, self.refresh_token, self.clock = ",".join(marketplaces), refresh_token, clock
        secrets = f"{target.app_secret}\n{refresh_token}".encode()
        self._cache_key = (token_target.base_url + token_path, target.app_key, hashlib.sha256(secrets).hexdigest())
        self._listed: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def __repr__(self) -> str:
        return f"SellingPartnerOrdersApi({self.target!r}, marketplaces={self.marketplaces!r})"

    async def list_updated(self, window: Window, page: str | None) -> Page:
        params: dict[str, Any] = {"MarketplaceIds": self.marketplaces}
        if page:
            params["NextToken"] = page
        else:
            early = window.end + self.lag - self.clock()
            if early > timedelta(0):
                raise Throttled("SP-API lists only orders modified at least 2 minutes ago: the window is too recent",
                                retry_after=min(early.total_seconds(), http.MAX_RETRY_AFTER), code="WINDOW_TOO_RECENT")
            params.update(LastUpdatedAfter=_iso(window.start), LastUpdatedBefore=_iso(window.end),
                          MaxResultsPerPage=PAGE_SIZE)
        payload = await self._get(ORDERS_PATH, params, "getOrders")
        listed = []
        try:
            for index, order in enumerate(payload.get("Orders") or []):
                external_id = wire.ident(order.get("AmazonOrderId"), f"Orders[{index}].AmazonOrderId")
                updated = wire.iso_time(order.get("LastUpdateDate"), f"Orders[{index}].LastUpdateDate")
                listed.append(Listed(external_id, updated))
                self._keep(external_id, order)
            next_token = payload.get("NextToken") or None
            if next_token is not None and not isinstance(next_token, str):
                raise PayloadError("not a string", field="NextToken")
        except (PayloadError, AttributeError) as error:
            where = getattr(error, "field", "Orders")
            raise ApiUnavailable(f"SP-API's order list is not the documented shape at {where}",
                                 code="BAD_RESPONSE") from None
        return Page(tuple(listed), next_page=next_token)

    async def fetch(self, external_id: str) -> bytes:
        path = f"{ORDERS_PATH}/{quote(external_id, safe='')}"
        order = self._listed.pop(external_id, None) or await self._get(path, {}, "getOrder")
        items: list[Any] = []
        params: dict[str, Any] = {}
        while True:
            payload = await self._get(f"{path}/orderItems", params, "getOrderItems")
            page_items, next_token = payload.get("OrderItems"), payload.get("NextToken")
            if not isinstance(page_items, list):
                raise ApiUnavailable("SP-API's order items answer has no OrderItems", code="BAD_RESPONSE")
            items += page_items
            if not next_token:
                break
            params = {"NextToken": next_token}
        return exact.dumps({"order": order, "items": {"AmazonOrderId": external_id, "OrderItems": items}})

    def _keep(self, external_id: str, order: dict[str, Any]) -> None:
        self._listed[external_id] = order
        self._listed.move_to_end(external_id)
        while len(self._listed) > LISTED_KEPT:
            self._listed.popitem(last=False)

    # ------------------------------------------------------------------ calls and the token

    async def _get(self, path: str, params: dict[str, Any], operation: str) -> dict[str, Any]:
        """The ``payload`` of one GET; an access token the API refuses (403) is renewed once."""
        for renew in (False, True):
            token = await self._token(renew=renew)
            response = await self._send(path, params, token, operation)
            if response.status_code == 403 and not renew:
                self._forget(token)
                continue
            if response.status_code >= 400:
                code, message = _reason(response)
                raise ApiRefused(f"SP-API {operation} answered HTTP {response.status_code} {code}: {message}".rstrip(),
                                 code=code or f"HTTP_{response.status_code}")
            try:
                payload = wire.load_json(response.content)["payload"]
            except (PayloadError, KeyError, TypeError):
                payload = None
            if not isinstance(payload, dict):
                raise ApiUnavailable(f"SP-API's {operation} answer has no payload object", code="BAD_RESPONSE")
            return payload
        raise AssertionError("unreachable")

    async def _send(self, path: str, params: dict[str, Any], token: str, operation: str) -> httpx.Response:
        """One GET; throttling, transport trouble and 5xx raised as the port's errors, other answers returned."""
        client = http.CLIENTS.get(self.target.base_url, self.target.timeout)
        try:
            response = await client.get(path, params=params, headers={"x-amz-access-token": token})
        except httpx.TimeoutException:
            raise ApiUnavailable(f"no answer within {self.target.timeout:g} s", code="TIMEOUT") from None
        except httpx.HTTPError as error:
            raise ApiUnavailable(f"could not reach SP-API ({type(error).__name__})", code="UNREACHABLE") from None
        if response.status_code == 429:
            raise Throttled(f"SP-API {operation} quota exceeded (HTTP 429)",
                            retry_after=_wait(response.headers, operation), code="QuotaExceeded")
        if response.status_code >= 500:
            raise ApiUnavailable(f"SP-API {operation} answered HTTP {response.status_code}",
                                 code=f"HTTP_{response.status_code}")
        return response

    async def _token(self, *, renew: bool) -> str:
        cached = _TOKENS.get(self._cache_key)
        if cached and not renew and time.monotonic() < cached[1]:
            return cached[0]
        answer = await http.call(self.token_target, "POST", self.token_path, data={
            "grant_type": "refresh_token", "refresh_token": self.refresh_token,
            "client_id": self.target.app_key, "client_secret": self.target.app_secret})
        token = answer.get("access_token") if isinstance(answer, dict) else None
        lifetime = answer.get("expires_in") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token or isinstance(lifetime, bool) or not isinstance(lifetime, int) \
                or lifetime <= 0:
            raise ApiUnavailable("LWA's token answer has no access_token/expires_in", code="BAD_RESPONSE")
        _TOKENS[self._cache_key] = (token, time.monotonic() + lifetime - min(60.0, lifetime / 10))
        return token

    def _forget(self, token: str) -> None:
        if _TOKENS.get(self._cache_key, ("", 0.0))[0] == token:
            del _TOKENS[self._cache_key]


def client(config: dict[str, Any]) -> SellingPartnerOrdersApi:
    """The seller's client from ``config["api"]``; :class:`ApiRefused` naming a missing or bad key."""
    def refuse(key: str, why: str = "is missing") -> ApiRefused:
        return ApiRefused(f"{KIND}: channel config api.{key} {why}", code="NOT_CONFIGURED")

    for key in ("client_id", "client_secret", "refresh_token"):
        if not isinstance(config.get(key), str) or not config[key].strip():
            raise refuse(key)
    raw = config.get("marketplace_ids")
    ids = raw.split(",") if isinstance(raw, str) else raw if isinstance(raw, list) else []
    marketplaces = tuple(m.strip() for m in ids if isinstance(m, str) and m.strip())
    if not marketplaces or len(marketplaces) > 50:
        raise refuse("marketplace_ids", "must name 1 to 50 marketplaces")
    token_url = config.get("token_url") or TOKEN_URL
    parts = urlsplit(token_url) if isinstance(token_url, str) else None
    if parts is None or parts.scheme not in ("https", "http") or not parts.netloc:
        raise refuse("token_url", "must be an http(s) URL")
    # http.account checks base_url and timeout_seconds under the names it knows.
    target = http.account(KIND, {**config, "app_key": config["client_id"], "app_secret": config["client_secret"],
                                 "token": "(fetched)"}, token_key="token", default_url=DEFAULT_URL,
                          sign_methods=("none",))
    token_target = dataclasses.replace(target, base_url=f"{parts.scheme}://{parts.netloc}")
    return SellingPartnerOrdersApi(target, token_target, parts.path or "/", marketplaces,
                                   config["refresh_token"].strip())
