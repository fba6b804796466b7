"""The SP-API Orders client against the simulated Amazon seller, over real HTTP."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from adapters.channels.api import amazon as api
from adapters.channels.api import http
from adapters.channels.sim import amazon as sim
from adapters.channels.sim.core import Faults, Platform
from adapters.formats import CHANNELS
from domain.inbound.channel_api import ApiRefused, ApiUnavailable, Throttled, Window
from tests.live_fixtures import serve_asgi

FORMAT = CHANNELS["amazon"]
NOW = datetime.now(UTC).replace(microsecond=0)
WINDOW = Window(NOW - timedelta(hours=3), NOW - timedelta(hours=1))


@pytest.fixture(autouse=True)
async def _fresh_clients():
    api._TOKENS.clear()
    yield
    await http.aclose()
    api._TOKENS.clear()


def seller(protocol: sim.AmazonProtocol | None = None, **faults: float) -> Platform:
    platform = Platform(protocol or sim.AmazonProtocol(), faults=Faults(**faults))
    for minute in range(0, 240, 3):  # 80 orders over four hours, 41 inside WINDOW (both ends count)
        platform.place(paid_at=NOW - timedelta(hours=4) + timedelta(minutes=minute), push=False)
    return platform


def inside(platform: Platform, window: Window) -> set[str]:
    return {o.external_id for o in platform.orders.values() if window.start <= o.updated_at <= window.end}


async def walk(client: api.SellingPartnerOrdersApi, window: Window) -> list[str]:
    listed, page = [], None
    while True:
        answer = await client.list_updated(window, page)
        listed += [order.external_id for order in answer.orders]
        page = answer.next_page
        if page is None:
            return listed


async def test_every_order_of_the_window_is_listed_exactly_once_across_small_pages() -> None:
    platform = seller(page_size_max=7)
    async with serve_asgi(platform.app()) as base:
        listed = await walk(api.client(sim.account_config(base)), WINDOW)
    assert len(listed) == len(set(listed)) == 41
    assert set(listed) == inside(platform, WINDOW)
    assert (platform.calls["getOrders"], platform.calls["token"]) == (6, 1)


async def test_orders_modified_while_paging_are_never_listed_twice_and_the_rest_never_skipped() -> None:
    platform = seller(page_size_max=5, touch_while_paging=1.0)
    async with serve_asgi(platform.app()) as base:
        listed = await walk(api.client(sim.account_config(base)), WINDOW)
    assert platform.calls["touched_while_paging"] > 0
    assert len(listed) == len(set(listed)) and inside(platform, WINDOW) <= set(listed)


async def test_fetch_joins_the_order_and_every_page_of_its_items_into_what_the_amazon_format_reads() -> None:
    platform = seller(sim.AmazonProtocol(items_page=1))
    async with serve_asgi(platform.app()) as base:
        client = api.client(sim.account_config(base))
        page = await client.list_updated(WINDOW, None)
        listed = page.orders[0]
        body = await client.fetch(listed.external_id)
        assert platform.calls["getOrder"] == 0  # the list already gave the order
        item_calls = platform.calls["getOrderItems"]
        shipped = next(o for o in platform.orders.values() if o.external_id not in {x.external_id for x in page.orders})
        platform.touch(shipped.external_id, status="Shipped", push=False)
        shipped_body = await api.client(sim.account_config(base)).fetch(shipped.external_id)
        assert platform.calls["getOrder"] == 1
    order = platform.orders[listed.external_id]
    inbound = FORMAT.parse(body, {}, None)
    assert (inbound.external_id, inbound.status_code, inbound.updated_at) == (listed.external_id, "Unshipped",
                                                                               listed.updated_at)
    assert [line.sku for line in inbound.lines] == [item["sku"] for item in order.detail["items"]]
    assert item_calls == len(order.detail["items"])  # one item per page here
    assert inbound.total_amount == inbound.goods_total - inbound.discount_total + inbound.shipping_fee + \
        inbound.tax_total
    assert not inbound.issues
    assert FORMAT.parse(shipped_body, {}, None).status_code == "Shipped"


async def test_bad_credentials_are_refused() -> None:
    async with serve_asgi(seller().app()) as base:
        with pytest.raises(ApiRefused) as wrong_secret:
            await api.client({**sim.account_config(base), "client_secret": "nope"}).list_updated(WINDOW, None)
        with pytest.raises(ApiRefused) as wrong_grant:
            await api.client({**sim.account_config(base), "refresh_token": "Atzr|old"}).fetch("902-0000001-0007919")
    assert (wrong_secret.value.code, wrong_grant.value.code) == ("HTTP_401", "HTTP_400")
    with pytest.raises(ApiRefused, match="api.marketplace_ids"):
        api.client({**sim.account_config("http://x"), "marketplace_ids": []})


async def test_the_token_is_renewed_before_it_expires_and_when_the_api_says_it_has_expired() -> None:
    protocol = sim.AmazonProtocol(token_ttl=1)
    platform = seller(protocol)
    async with serve_asgi(platform.app()) as base:
        client = api.client(sim.account_config(base))
        await client.list_updated(WINDOW, None)
        await asyncio.sleep(1.1)
        await client.list_updated(WINDOW, None)
        assert platform.calls["token"] == 2
        protocol.revoke_tokens()  # SP-API now answers 403 "The access token you provided has expired."
        answer = await client.list_updated(WINDOW, None)
    assert platform.calls["token"] == 3 and len(answer.orders) == 41


async def test_throttling_waits_one_over_the_rate_limit_header() -> None:
    platform = seller(rate_per_s=0.5, burst=1)
    async with serve_asgi(platform.app()) as base:
        client = api.client(sim.account_config(base))
        await client.list_updated(WINDOW, None)
        with pytest.raises(Throttled) as throttled:
            await client.list_updated(WINDOW, None)
    assert (throttled.value.code, throttled.value.retry_after) == ("QuotaExceeded", 2.0)


async def test_server_errors_are_unavailable() -> None:
    async with serve_asgi(seller(error_rate=1.0).app()) as base:
        with pytest.raises(ApiUnavailable):
            await api.client(sim.account_config(base)).list_updated(WINDOW, None)


async def test_the_two_minute_rule_is_kept_by_the_client_and_enforced_by_the_simulator() -> None:
    platform = seller()
    async with serve_asgi(platform.app()) as base:
        client = api.client(sim.account_config(base))
        with pytest.raises(Throttled) as early:
            await client.list_updated(Window(NOW - timedelta(hours=1), datetime.now(UTC) - timedelta(seconds=30)),
                                      None)
        assert platform.calls["getOrders"] == 0  # never asked: the answer would be refused or incomplete
        assert early.value.code == "WINDOW_TOO_RECENT" and 90 < early.value.retry_after <= 95
        ok = await client.list_updated(Window(NOW - timedelta(hours=1), datetime.now(UTC) - client.lag), None)
        assert ok.next_page is None
        client.clock = lambda: datetime.now(UTC) + timedelta(minutes=5)  # a client whose clock runs ahead
        with pytest.raises(ApiRefused) as refused:
            await client.list_updated(Window(NOW - timedelta(hours=1), datetime.now(UTC)), None)
    assert refused.value.code == "InvalidInput"


async def test_the_simulator_answers_sp_api_errors_in_its_own_shape() -> None:
    async with serve_asgi(seller().app()) as base:
        async with httpx.AsyncClient(base_url=base) as raw:
            missing = await raw.get("/orders/v0/orders", params={"MarketplaceIds": sim.MARKETPLACE})
            token = (await raw.post("/auth/o2/token", data={
                "grant_type": "refresh_token", "refresh_token": sim.REFRESH_TOKEN, "client_id": sim.CLIENT_ID,
                "client_secret": sim.CLIENT_SECRET})).json()["access_token"]
            big = await raw.get("/orders/v0/orders", headers={"x-amz-access-token": token}, params={
                "MarketplaceIds": sim.MARKETPLACE, "LastUpdatedAfter": "2024-01-01T00:00:00Z",
                "MaxResultsPerPage": "101"})
    assert missing.status_code == 403 and missing.json()["errors"][0]["code"] == "Unauthorized"
    assert big.status_code == 400 and big.json()["errors"][0]["code"] == "InvalidInput"


async def test_a_seller_of_100000_orders_answers_each_page_fast() -> None:
    platform = Platform(sim.AmazonProtocol())
    for index in range(100_000):
        platform.place(paid_at=NOW - timedelta(days=6) + timedelta(seconds=5 * index), push=False)
    window = Window(NOW - timedelta(days=4), NOW - timedelta(days=4) + timedelta(hours=1))
    async with serve_asgi(platform.app()) as base:
        client = api.client(sim.account_config(base))
        await client.list_updated(window, None)
        listed = await walk(client, window)
    assert len(listed) == 721
