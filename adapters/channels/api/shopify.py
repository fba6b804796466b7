"""Shopify Admin REST API: the orders a window changed, whole, and one order by id.

    GET /admin/api/2024-10/orders.json?status=any&updated_at_min=…&updated_at_max=…&limit=250
    GET /admin/api/2024-10/orders.json?limit=250&page_info=…    (the page_info of ``Link: <…>; rel="next"``)
        -> {"orders": [{…}, …]}          X-Shopify-Shop-Api-Call-Limit: 7/40
    GET /admin/api/2024-10/orders/{id}.json -> {"order": {…}}

The list answers whole orders, so each becomes a ``Listed.body`` exactly as an
``orders/updated`` webhook carries it (one order object, read by the shopify
webhook format); ``fetch`` unwraps ``{"order": …}`` the same way.

Facts relied on (shopify.dev REST Admin reference and the paginated-requests
guide): the token travels in ``X-Shopify-Access-Token``; ``status=any`` is
needed (the default lists open orders only); ``updated_at_min`` and
``updated_at_max`` are inclusive ISO-8601 times; ``limit`` is at most 250;
paging is by cursor only: the next page is the ``page_info`` of the Link
header's ``rel="next"`` URL and may be sent with ``limit`` (and ``fields``)
only — the filters travel inside it; no Link ``next`` means the last page.
Throttling is a leaky bucket (40 calls, 2/s on standard plans) reported in
``X-Shopify-Shop-Api-Call-Limit``; past it a 429 with ``Retry-After``
seconds (:class:`Throttled`). 401 (bad token), 402 (shop frozen), 403
(scope), 404 and 423 (locked shop) are refusals. The REST Admin API is
"legacy" since 2024-10 (new public apps must use GraphQL since 2025-04) but
still serves custom and existing apps; version 2024-10 is the default here.

Channel ``config["api"]``: ``base_url`` (the shop, ``https://{shop}.myshopify.com``),
``access_token``; optional ``api_version`` (``2024-10``), ``timeout_seconds`` (5).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from adapters import wire
from adapters.channels.api import exact, http
from adapters.channels.decryption.transport import Account
from domain.inbound.channel_api import ApiRefused, ApiUnavailable, Listed, Page, Window
from domain.inbound.normalized import PayloadError

KIND = "shopify"
API_VERSION = "2024-10"
PAGE_SIZE = 250
#: Shopify sets no limit on the window; a month keeps one walk's pages few (read_orders reaches 60 days back).
MAX_WINDOW = timedelta(days=30)
_VERSION = re.compile(r"\d{4}-\d{2}|unstable")


def _iso(moment: datetime) -> str:
    return datetime.fromtimestamp(math.floor(moment.timestamp()), UTC).isoformat()


def _next_page_info(response: httpx.Response) -> str | None:
    """``page_info`` of the Link header's ``rel="next"`` URL (``None``: this was the last page)."""
    link = response.links.get("next")
    if not link:
        return None
    values = parse_qs(urlsplit(link.get("url", "")).query).get("page_info") or [""]
    if not values[0]:
        raise ApiUnavailable("Shopify's Link rel=\"next\" has no page_info", code="BAD_RESPONSE")
    return values[0]


class ShopifyOrdersApi:
    """One shop's orders through the Admin REST API (see the module docstring)."""

    kind = KIND
    max_window = MAX_WINDOW

    def __init__(self, target: Account, api_version: str) -> None:
        self.target, self.api_version = target, api_version
        #: The last ``X-Shopify-Shop-Api-Call-Limit`` seen, as (calls in the bucket, bucket size).
        self.call_limit: tuple[int, int] | None = None

    def __repr__(self) -> str:
        return f"ShopifyOrdersApi({self.target.base_url!r}, {self.api_version!r})"

    async def list_updated(self, window: Window, page: str | None) -> Page:
        params: dict[str, Any] = {"limit": PAGE_SIZE}
        if page:
            params["page_info"] = page
        else:
            params.update(status="any", updated_at_min=_iso(window.start), updated_at_max=_iso(window.end))
        response = await self._get(f"/admin/api/{self.api_version}/orders.json", params)
        orders = self._decode(response, "orders")
        if not isinstance(orders, list):
            raise ApiUnavailable("Shopify's order list has no orders array", code="BAD_RESPONSE")
        return Page(tuple(self._listed(order, f"orders[{i}]") for i, order in enumerate(orders)),
                    next_page=_next_page_info(response))

    async def fetch(self, external_id: str) -> bytes:
        response = await self._get(f"/admin/api/{self.api_version}/orders/{quote(external_id, safe='')}.json", {})
        order = self._decode(response, "order")
        if not isinstance(order, dict):
            raise ApiUnavailable("Shopify's order answer has no order object", code="BAD_RESPONSE")
        return exact.dumps(order)

    def _listed(self, order: Any, where: str) -> Listed:
        try:
            if not isinstance(order, dict):
                raise PayloadError("not an object", field=where)
            return Listed(wire.ident(order.get("id"), f"{where}.id"),
                          wire.iso_time(order.get("updated_at"), f"{where}.updated_at"), partial(exact.dumps, order))
        except PayloadError as error:
            raise ApiUnavailable(f"Shopify's order list is not the documented shape at {error.field}",
                                 code="BAD_RESPONSE") from None

    async def _get(self, path: str, params: dict[str, Any]) -> httpx.Response:
        response = await http.send(self.target, "GET", path, params=params,
                                   headers={"x-shopify-access-token": self.target.token})
        used, _, size = response.headers.get("x-shopify-shop-api-call-limit", "").partition("/")
        if used.isdigit() and size.isdigit():
            self.call_limit = (int(used), int(size))
        return response

    @staticmethod
    def _decode(response: httpx.Response, key: str) -> Any:
        try:
            answer = wire.load_json(response.content)
        except PayloadError:
            raise ApiUnavailable("Shopify's answer is not JSON", code="BAD_RESPONSE") from None
        return answer.get(key) if isinstance(answer, dict) else None


def client(config: dict[str, Any]) -> ShopifyOrdersApi:
    """The shop's client from ``config["api"]``; :class:`ApiRefused` naming a missing or bad key."""
    if not isinstance(config.get("base_url"), str) or not config["base_url"].strip():
        raise ApiRefused(f"{KIND}: channel config api.base_url (https://{{shop}}.myshopify.com) is missing",
                         code="NOT_CONFIGURED")
    version = config.get("api_version") or API_VERSION
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        raise ApiRefused(f"{KIND}: channel config api.api_version must read YYYY-MM", code="NOT_CONFIGURED")
    # A custom app's Admin API token is the whole credential; http.account checks it, base_url and the timeout.
    target = http.account(KIND, {**config, "app_key": "(shop)", "app_secret": "(none)"}, token_key="access_token",
                          default_url="", sign_methods=("none",))
    return ShopifyOrdersApi(target, version)
