"""The Shopify Admin REST client against the simulated shop, over real HTTP."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from adapters.channels.api import http
from adapters.channels.api import shopify as api
from adapters.channels.sim import shopify as sim
from adapters.channels.sim.core import Faults, Platform
from adapters.formats import CHANNELS
from domain.inbound.channel_api import ApiRefused, ApiUnavailable, Throttled, Window
from tests.live_fixtures import serve_asgi

FORMAT = CHANNELS["shopify"]
NOW = datetime.now(UTC).replace(microsecond=0)
WINDOW = Window(NOW - timedelta(hours=3), NOW - timedelta(hours=1))


@pytest.fixture(autouse=True)
async def _close_clients():
    yield
    await http.aclose()


def shop(**faults: float) -> Platform:
    platform = Platform(sim.ShopifyProtocol(), faults=Faults(**faults))
    for minute in range(0, 240, 3):  # 80 orders over four hours, 41 inside WINDOW (both ends count)
        platform.place(paid_at=NOW - timedelta(hours=4) + timedelta(minutes=minute), push=False)
    return platform


def inside(platform: Platform, window: Window) -> set[str]:
    return {o.external_id for o in platform.orders.values() if window.start <= o.updated_at <= window.end}


async def walk(client: api.ShopifyOrdersApi, window: Window) -> list:
    listed, page = [], None
    while True:
        answer = await client.list_updated(window, page)
        listed += answer.orders
        page = answer.next_page
        if page is None:
            return listed


async def test_link_header_paging_lists_every_order_of_the_window_exactly_once_and_whole() -> None:
    platform = shop(page_size_max=7)
    async with serve_asgi(platform.app()) as base:
        client = api.client(sim.account_config(base))
        listed = await walk(client, WINDOW)
    ids = [order.external_id for order in listed]
    assert len(ids) == len(set(ids)) == 41 and set(ids) == inside(platform, WINDOW)
    assert platform.calls["orders.list"] == 6 and platform.calls["orders.get"] == 0
    for order in listed:  # each body is one order as the orders/updated webhook carries it
        inbound = FORMAT.parse(order.body, {}, None)
        assert (inbound.external_id, inbound.updated_at) == (order.external_id, order.updated_at)
        assert inbound.status_code == "paid/unfulfilled" and not inbound.issues
        assert {line.sku for line in inbound.lines} <= {"SKU-A", "SKU-B", "SKU-C", "SKU-D", "SKU-E"}
    assert client.call_limit == (1, 40)


async def test_orders_modified_while_paging_are_never_listed_twice_and_the_rest_never_skipped() -> None:
    platform = shop(page_size_max=5, touch_while_paging=1.0)
    async with serve_asgi(platform.app()) as base:
        ids = [order.external_id for order in await walk(api.client(sim.account_config(base)), WINDOW)]
    assert platform.calls["touched_while_paging"] > 0
    assert len(ids) == len(set(ids)) and inside(platform, WINDOW) <= set(ids)


async def test_fetch_unwraps_the_order_and_keeps_big_ids_and_amounts_exact() -> None:
    platform = shop()
    order = next(iter(platform.orders.values()))
    async with serve_asgi(platform.app()) as base:
        platform.touch(order.external_id, status="paid/fulfilled", push=False)
        body = await api.client(sim.account_config(base)).fetch(order.external_id)
    assert body.startswith(b'{"id":' + order.external_id.encode())
    inbound = FORMAT.parse(body, {}, None)
    assert (inbound.external_id, inbound.status_code, len(inbound.shipments)) == (
        order.external_id, "paid/fulfilled", 1)
    assert inbound.total_amount == inbound.goods_total - inbound.discount_total + inbound.shipping_fee + \
        inbound.tax_total


async def test_bad_credentials_are_refused() -> None:
    async with serve_asgi(shop().app()) as base:
        with pytest.raises(ApiRefused) as refused:
            await api.client({**sim.account_config(base), "access_token": "shpat_wrong"}).list_updated(WINDOW, None)
    assert refused.value.code == "HTTP_401"
    with pytest.raises(ApiRefused, match="api.base_url"):
        api.client({"access_token": "shpat_x"})
    with pytest.raises(ApiRefused, match="api.access_token"):
        api.client({"base_url": "https://x.myshopify.com"})


async def test_throttling_is_throttled_with_retry_after_and_the_call_limit_is_noted() -> None:
    platform = shop(rate_per_s=0.5, burst=2)
    async with serve_asgi(platform.app()) as base:
        client = api.client(sim.account_config(base))
        await client.list_updated(WINDOW, None)
        assert client.call_limit == (1, 2)
        await client.list_updated(WINDOW, None)
        assert client.call_limit == (2, 2)
        with pytest.raises(Throttled) as throttled:
            await client.list_updated(WINDOW, None)
    assert throttled.value.code == "HTTP_429" and 1.0 <= throttled.value.retry_after <= 2.0


async def test_server_errors_are_unavailable() -> None:
    async with serve_asgi(shop(error_rate=1.0).app()) as base:
        with pytest.raises(ApiUnavailable):
            await api.client(sim.account_config(base)).fetch("1")


async def test_a_page_info_carries_the_filters_and_refuses_new_ones() -> None:
    async with serve_asgi(shop(page_size_max=10).app()) as base:
        headers = {"X-Shopify-Access-Token": sim.ACCESS_TOKEN}
        async with httpx.AsyncClient(base_url=base, headers=headers) as raw:
            first = await raw.get("/admin/api/2024-10/orders.json", params={
                "status": "any", "updated_at_min": WINDOW.start.isoformat(), "updated_at_max": WINDOW.end.isoformat(),
                "limit": 10})
            next_url = first.links["next"]["url"]
            mixed = await raw.get(next_url + "&status=any")
            second = await raw.get(next_url)
    assert first.status_code == second.status_code == 200 and len(second.json()["orders"]) == 10
    assert mixed.status_code == 400


def test_the_webhook_is_the_whole_order_signed_as_shopify_signs() -> None:
    protocol = sim.ShopifyProtocol()
    platform = Platform(protocol)
    order = platform.place(paid_at=NOW, push=False)
    push = protocol.push(order, "shpss_secret")
    headers = {name.lower(): value for name, value in push.headers.items()}
    assert headers["x-shopify-topic"] == "orders/create" and headers["x-shopify-webhook-id"]
    assert FORMAT.verify("shpss_secret", push.body, headers, tolerance=300) is None
    assert FORMAT.verify("other", push.body, headers, tolerance=300) is not None
    assert FORMAT.parse(push.body, headers, None).external_id == order.external_id
    platform.touch(order.external_id, status="paid/fulfilled", push=False)
    assert protocol.push(order, "s").headers["X-Shopify-Topic"] == "orders/updated"


async def test_a_shop_of_100000_orders_answers_each_page_fast() -> None:
    platform = Platform(sim.ShopifyProtocol())
    for index in range(100_000):
        platform.place(paid_at=NOW - timedelta(days=6) + timedelta(seconds=5 * index), push=False)
    window = Window(NOW - timedelta(days=4), NOW - timedelta(days=4) + timedelta(hours=3))
    async with serve_asgi(platform.app()) as base:
        client = api.client(sim.account_config(base))
        await client.list_updated(window, None)
        listed = await walk(client, window)
    assert len(listed) == 2_161  # one order every 5 s over three inclusive hours: 9 pages of 250
