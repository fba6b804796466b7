"""The Pinduoduo pull API client against the Pinduoduo simulator, over real HTTP."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from starlette.applications import Starlette

from adapters.channels.api import CHANNEL_APIS, http
from adapters.channels.api import pinduoduo as pdd
from adapters.channels.sim import core
from adapters.channels.sim import pinduoduo as sim
from adapters.formats import CHANNELS
from domain.inbound.channel_api import ApiRefused, ApiUnavailable, Listed, Throttled, Window
from tests.live_fixtures import serve_asgi

BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)


def app_of(platform: core.Platform) -> Starlette:
    """The simulator's app; without /_sim while ``core.Platform.app`` passes ``on_shutdown`` (gone in Starlette 1.x)."""
    try:
        return platform.app()
    except TypeError:
        return Starlette(routes=platform.protocol.routes(platform))


@contextlib.asynccontextmanager
async def served(platform: core.Platform) -> AsyncIterator[str]:
    try:
        async with serve_asgi(app_of(platform)) as base_url:
            yield base_url
    finally:
        await http.aclose()


def shop(count: int, *, step: timedelta = timedelta(seconds=20), **faults: Any) -> core.Platform:
    platform = core.Platform(sim.protocol(), faults=core.Faults(**faults))
    for i in range(count):
        platform.place(paid_at=BASE + i * step, push=False)
    return platform


def api_for(base_url: str, **changes: Any) -> pdd.PinduoduoApi:
    api = CHANNEL_APIS.for_channel("pinduoduo", {**sim.account_config(base_url), **changes})
    assert isinstance(api, pdd.PinduoduoApi)
    return api


async def walk(api: pdd.PinduoduoApi, window: Window) -> tuple[list[Listed], list[int | None], int]:
    """Every page of ``window``: the orders listed, each page's total, the number of calls."""
    listed: list[Listed] = []
    totals: list[int | None] = []
    page: str | None = None
    calls = 0
    while True:
        result = await api.list_updated(window, page)
        calls += 1
        listed += result.orders
        totals.append(result.total)
        page = result.next_page
        if page is None:
            return listed, totals, calls


def in_window(platform: core.Platform, window: Window) -> set[str]:
    return {o.external_id for o in platform.orders.values() if window.start <= o.updated_at <= window.end}


def expected_total(order: core.SimOrder) -> Decimal:
    detail = order.detail
    return Decimal(detail["goods"] - detail["seller"] - detail["platform"] + detail["postage"]) / 100


async def test_every_order_of_a_window_is_listed_once_across_small_pages():
    platform = shop(100, page_size_max=7)  # 20 s apart: 33 minutes of orders
    window = Window(BASE + timedelta(minutes=2), BASE + timedelta(minutes=32))
    async with served(platform) as base_url:
        listed, totals, calls = await walk(api_for(base_url), window)
    ids = [item.external_id for item in listed]
    assert len(ids) == len(set(ids)) == 91 and set(ids) == in_window(platform, window)
    assert totals[0] == 91 and calls == 1 + 13  # page 1 learns the total, then pages 13 … 1
    assert all(item.updated_at == platform.orders[item.external_id].updated_at for item in listed)


async def test_listed_bodies_are_whole_orders_the_channel_format_reads():
    platform = shop(12)
    window = Window(BASE, BASE + timedelta(minutes=30))
    async with served(platform) as base_url:
        listed, _, calls = await walk(api_for(base_url), window)
    assert calls == 1 and len(listed) == 12  # one page: the list answers whole orders, nothing to fetch
    for item in listed:
        assert item.body is not None
        order = CHANNELS["pinduoduo"].parse(item.body, {}, None)
        truth = platform.orders[item.external_id]
        assert order.external_id == item.external_id and order.status_code == "1" and order.issues == ()
        assert order.total_amount == expected_total(truth) and order.updated_at == truth.updated_at
        assert [(line.sku, line.quantity) for line in order.lines] == [
            (line["sku"], line["count"]) for line in truth.detail["lines"]]
        assert {line.sku for line in order.lines} <= {"SKU-A", "SKU-B", "SKU-C", "SKU-D", "SKU-E"}
        assert order.sealed is not None and order.sealed.name_cipher.startswith("~")


async def test_fetch_gives_the_whole_order_as_pdd_order_information_get():
    platform = shop(3)
    shipped = platform.protocol.new_id(2)
    platform.touch(shipped, status="2", push=False)
    async with served(platform) as base_url:
        api = api_for(base_url)
        body = await api.fetch(shipped)
        with pytest.raises(ApiRefused):
            await api.fetch("241130-000000000000000")
    assert b'"order_info_get_response"' in body
    order = CHANNELS["pinduoduo"].parse(body, {}, None)
    assert order.external_id == shipped and order.status_code == "2"
    assert order.total_amount == expected_total(platform.orders[shipped])
    assert [shipment.tracking_no for shipment in order.shipments] == ["YT0000000000002"]


async def test_a_change_while_paging_repeats_an_order_but_never_loses_one():
    platform = shop(100, page_size_max=7, touch_while_paging=1.0)  # one order leaves the window after each page
    window = Window(BASE + timedelta(minutes=2), BASE + timedelta(minutes=32))
    async with served(platform) as base_url:
        listed, _, _ = await walk(api_for(base_url), window)
    assert platform.calls["touched_while_paging"] >= 10
    assert in_window(platform, window) <= {item.external_id for item in listed}


async def test_a_wrong_secret_is_refused():
    async with served(shop(1)) as base_url:
        with pytest.raises(ApiRefused) as refused:
            await api_for(base_url, app_secret="not-the-client-secret").list_updated(
                Window(BASE, BASE + timedelta(minutes=5)), None)
    assert refused.value.code == "20004"


async def test_a_window_longer_than_30_minutes_is_refused():
    platform = shop(1)
    too_long = Window(BASE, BASE + timedelta(minutes=31))
    async with served(platform) as base_url:
        api = api_for(base_url)
        with pytest.raises(ApiRefused) as by_client:
            await api.list_updated(too_long, None)
        assert by_client.value.code == "WINDOW_TOO_LONG" and platform.calls["http"] == 0
        api.max_window = timedelta(hours=1)  # past our own guard, the gateway refuses it as well
        with pytest.raises(ApiRefused) as by_gateway:
            await api.list_updated(too_long, None)
    assert by_gateway.value.code == "21001"


async def test_throttling_is_pdds_own_error_code():
    async with served(shop(1, rate_per_s=0.01, burst=1)) as base_url:
        api = api_for(base_url)
        window = Window(BASE, BASE + timedelta(minutes=5))
        await api.list_updated(window, None)
        with pytest.raises(Throttled) as throttled:
            await api.list_updated(window, None)
    assert throttled.value.code == "70031" and throttled.value.retry_after > 0


async def test_a_server_error_is_unavailable():
    async with served(shop(1, error_rate=1.0)) as base_url:
        with pytest.raises(ApiUnavailable) as unavailable:
            await api_for(base_url).fetch(sim.protocol().new_id(1))
    assert unavailable.value.code == "HTTP_500"


async def test_a_hundred_thousand_orders_are_served_a_page_at_a_time():
    platform = core.Platform(sim.protocol())
    start = datetime(2024, 3, 1, tzinfo=UTC)
    for i in range(100_000):
        platform.place(paid_at=start + timedelta(seconds=i), push=False)
    window = Window(start + timedelta(hours=20), start + timedelta(hours=20, minutes=30))
    async with served(platform) as base_url:
        api = api_for(base_url)
        await api.list_updated(window, None)  # indexes the shop once
        listed, totals, calls = await walk(api, window)
        platform.touch(listed[0].external_id, push=False)  # moves out of the window, in O(log n)
        assert (await api.list_updated(window, None)).total == 1800
    assert len(listed) == totals[0] == 1801 and calls == 20
