"""The WeChat Channels pull API client against the simulated shop, over real HTTP."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from adapters.channels.api import http
from adapters.channels.api import wechat as api
from adapters.channels.sim import wechat as sim
from adapters.channels.sim.core import Faults, Platform
from adapters.formats import CHANNELS
from domain.inbound.channel_api import ApiRefused, ApiUnavailable, Throttled, Window
from domain.inbound.normalized import PayloadError
from tests.live_fixtures import serve_asgi

FORMAT = CHANNELS["wechat_channels"]
NOW = datetime.now(UTC).replace(microsecond=0)
WINDOW = Window(NOW - timedelta(hours=3), NOW - timedelta(hours=1))


@pytest.fixture(autouse=True)
async def _fresh_clients():
    api._TOKENS.clear()
    yield
    await http.aclose()
    api._TOKENS.clear()


def shop(protocol: sim.WeChatProtocol | None = None, **faults: float) -> Platform:
    platform = Platform(protocol or sim.WeChatProtocol(), faults=Faults(**faults))
    for minute in range(0, 240, 3):  # 80 orders over four hours, 41 of them inside WINDOW (both ends count)
        platform.place(paid_at=NOW - timedelta(hours=4) + timedelta(minutes=minute), push=False)
    return platform


def inside(platform: Platform, window: Window) -> set[str]:
    return {o.external_id for o in platform.orders.values() if window.start <= o.updated_at <= window.end}


async def walk(client: api.WeChatChannelsApi, window: Window) -> list[str]:
    listed, page = [], None
    while True:
        answer = await client.list_updated(window, page)
        listed += [order.external_id for order in answer.orders]
        page = answer.next_page
        if page is None:
            return listed


async def test_every_order_of_the_window_is_listed_exactly_once_across_small_pages() -> None:
    platform = shop(page_size_max=7)
    async with serve_asgi(platform.app()) as base:
        client = api.client(sim.account_config(base))
        listed = await walk(client, WINDOW)
    assert len(listed) == len(set(listed)) == 41
    assert set(listed) == inside(platform, WINDOW)
    assert platform.calls["order.list"] == 6  # ceil(41 / 7)
    assert platform.calls["token"] == 1  # one token for every call


async def test_orders_modified_while_paging_are_never_listed_twice_and_the_rest_never_skipped() -> None:
    platform = shop(page_size_max=5, touch_while_paging=1.0)
    async with serve_asgi(platform.app()) as base:
        listed = await walk(api.client(sim.account_config(base)), WINDOW)
    assert platform.calls["touched_while_paging"] > 0
    assert len(listed) == len(set(listed))
    assert inside(platform, WINDOW) <= set(listed)  # moved orders left the window; none that stayed was skipped


async def test_fetched_bodies_parse_to_the_listed_order() -> None:
    platform = shop()
    shipped = next(iter(platform.orders))
    async with serve_asgi(platform.app()) as base:
        client = api.client(sim.account_config(base))
        platform.touch(shipped, status="30", push=False)
        body = await client.fetch(shipped)
        other = next(o for o in platform.orders.values() if WINDOW.start <= o.updated_at <= WINDOW.end)
        plain = await client.fetch(other.external_id)
    order = FORMAT.parse(body, {}, None)
    assert (order.external_id, order.status_code, len(order.shipments)) == (shipped, "30", 1)
    inbound = FORMAT.parse(plain, {}, None)
    assert inbound.external_id == other.external_id and inbound.status_code == "20"
    assert inbound.updated_at == other.updated_at and inbound.paid_at == other.paid_at
    assert {line.sku for line in inbound.lines} <= {"SKU-A", "SKU-B", "SKU-C", "SKU-D", "SKU-E"}
    assert sum(line.unit_price * line.quantity for line in inbound.lines) == inbound.goods_total
    assert inbound.total_amount == inbound.goods_total - inbound.discount_total + inbound.shipping_fee
    assert not inbound.issues


async def test_bad_credentials_are_refused() -> None:
    async with serve_asgi(shop().app()) as base:
        with pytest.raises(ApiRefused) as wrong_secret:
            await api.client({**sim.account_config(base), "app_secret": "nope"}).list_updated(WINDOW, None)
        with pytest.raises(ApiRefused) as wrong_app:
            await api.client({**sim.account_config(base), "app_id": "wx0000"}).fetch("1")
    assert (wrong_secret.value.code, wrong_app.value.code) == ("40125", "40013")
    with pytest.raises(ApiRefused, match="api.app_secret"):
        api.client({"app_id": "wx1"})


async def test_the_token_is_renewed_before_it_expires_and_when_the_platform_condemns_it() -> None:
    protocol = sim.WeChatProtocol(token_ttl=1)
    platform = shop(protocol)
    async with serve_asgi(platform.app()) as base:
        client = api.client(sim.account_config(base))
        await client.list_updated(WINDOW, None)
        await asyncio.sleep(1.1)
        await client.list_updated(WINDOW, None)  # renewed before asking: the cached one had expired
        assert platform.calls["token"] == 2
        protocol.revoke_tokens()  # the platform now answers 42001 to the token the client still trusts
        answer = await client.list_updated(WINDOW, None)
    assert platform.calls["token"] == 3 and len(answer.orders) == 41


async def test_throttling_is_throttled_with_the_quota_wait() -> None:
    platform = shop(rate_per_s=0.001, burst=2)
    async with serve_asgi(platform.app()) as base:
        client = api.client(sim.account_config(base))
        await client.list_updated(WINDOW, None)
        await client.list_updated(WINDOW, None)
        with pytest.raises(Throttled) as throttled:
            await client.list_updated(WINDOW, None)
    assert (throttled.value.code, throttled.value.retry_after) == ("45011", 60.0)


async def test_server_errors_are_unavailable_and_long_windows_refused() -> None:
    async with serve_asgi(shop(error_rate=1.0).app()) as base:
        with pytest.raises(ApiUnavailable):
            await api.client(sim.account_config(base)).list_updated(WINDOW, None)
    assert api.WeChatChannelsApi.max_window == timedelta(days=7)
    async with serve_asgi(shop().app()) as base:
        with pytest.raises(ApiRefused):
            await api.client(sim.account_config(base)).list_updated(Window(NOW - timedelta(days=8), NOW), None)


def test_an_order_message_announces_its_order_and_is_signed_with_standard_webhooks() -> None:
    protocol = sim.WeChatProtocol()
    platform = Platform(protocol)
    order = platform.place(paid_at=NOW, push=False)
    push = protocol.push(order, "whsec_c2ltLXNlY3JldA==")
    message = json.loads(push.body)
    assert (message["MsgType"], message["Event"], message["order_info"]["order_id"]) == (
        "event", "channels_ec_order_pay", int(order.external_id))
    assert FORMAT.verify("whsec_c2ltLXNlY3JldA==", push.body, push.headers, tolerance=300) is None
    assert FORMAT.announced(push.body, push.headers) == (order.external_id,)
    platform.touch(order.external_id, status="30", push=False)
    assert json.loads(protocol.push(order, "s").body)["Event"] == "channels_ec_order_deliver"
    assert FORMAT.announced(json.dumps(protocol.render(order)).encode(), {}) == ()  # a whole order is not a message
    with pytest.raises(PayloadError):
        FORMAT.announced(b'{"MsgType": "event", "Event": "channels_ec_order_pay", "order_info": {}}', {})


async def test_a_shop_of_100000_orders_answers_each_page_fast() -> None:
    platform = Platform(sim.WeChatProtocol(), faults=Faults(page_size_max=100))
    for index in range(100_000):
        platform.place(paid_at=NOW - timedelta(days=6) + timedelta(seconds=5 * index), push=False)
    window = Window(NOW - timedelta(days=4), NOW - timedelta(days=4) + timedelta(hours=1))
    async with serve_asgi(platform.app()) as base:
        client = api.client(sim.account_config(base))
        await client.list_updated(window, None)  # the token and the index are built once
        listed = await walk(client, window)
    assert len(listed) == 721  # one order every 5 s over an inclusive hour


async def test_the_access_token_in_the_query_string_never_reaches_the_logs(caplog) -> None:
    import logging

    from api.logging import configure_logging
    from api.settings import Settings

    configure_logging(Settings())
    caplog.set_level(logging.DEBUG)
    platform = shop()
    async with serve_asgi(platform.app()) as base:
        client = api.client(sim.account_config(base))
        await walk(client, WINDOW)
    tokens = [token for token, _ in api._TOKENS.values()] if api._TOKENS else []
    assert tokens, "the call must have used an access token"
    assert "order/list/get" not in caplog.text  # no request line at all
    assert not any(token in caplog.text for token in tokens)
