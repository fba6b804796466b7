"""The Douyin shop pull API client against the Douyin simulator, over real HTTP."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from starlette.applications import Starlette

from adapters.channels.api import CHANNEL_APIS, http
from adapters.channels.api import douyin as dy
from adapters.channels.sim import core
from adapters.channels.sim import douyin as sim
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


def api_for(base_url: str, **changes: Any) -> dy.DouyinApi:
    api = CHANNEL_APIS.for_channel("douyin", {**sim.account_config(base_url), **changes})
    assert isinstance(api, dy.DouyinApi)
    return api


async def walk(api: dy.DouyinApi, window: Window) -> tuple[list[Listed], list[int | None], int]:
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
    return Decimal(detail["goods"] - detail["shop"] - detail["platform"] + detail["post"]) / 100


async def test_every_order_of_a_window_is_listed_once_across_small_pages():
    platform = shop(100, page_size_max=7)  # 20 s apart: 33 minutes of orders
    window = Window(BASE + timedelta(minutes=2), BASE + timedelta(minutes=32))
    async with served(platform) as base_url:
        listed, totals, calls = await walk(api_for(base_url), window)
    ids = [item.external_id for item in listed]
    assert len(ids) == len(set(ids)) == 91 and set(ids) == in_window(platform, window)
    assert totals[0] == 91 and calls == 1 + 13  # page 0 learns the total, then pages 12 … 0
    assert all(item.updated_at == platform.orders[item.external_id].updated_at for item in listed)
    assert all(int(i) > 2**53 for i in ids)  # shop order ids beyond 2^53 stay exact


async def test_listed_and_fetched_bodies_read_as_the_same_whole_order():
    platform = shop(12)
    window = Window(BASE, BASE + timedelta(minutes=30))
    async with served(platform) as base_url:
        api = api_for(base_url, sign_method="md5")
        listed, _, calls = await walk(api, window)
        fetched = {item.external_id: await api.fetch(item.external_id) for item in listed[:3]}
        with pytest.raises(ApiRefused):
            await api.fetch("6919000000000000001")
    assert calls == 1 and len(listed) == 12
    for item in listed:
        assert item.body is not None
        order = CHANNELS["douyin"].parse(item.body, {}, None)
        truth = platform.orders[item.external_id]
        assert order.external_id == item.external_id and order.status_code == "105" and order.issues == ()
        assert order.total_amount == expected_total(truth) and order.updated_at == truth.updated_at
        assert [(line.sku, line.quantity) for line in order.lines] == [
            (line["sku"], line["count"]) for line in truth.detail["lines"]]
        assert order.sealed is not None and order.sealed.phone_cipher.startswith("$")
    for external_id, body in fetched.items():
        assert json.loads(body)["code"] == 10000
        assert CHANNELS["douyin"].parse(body, {}, None) == CHANNELS["douyin"].parse(
            next(item.body for item in listed if item.external_id == external_id), {}, None)


async def test_a_shipped_order_carries_its_waybill():
    platform = shop(2)
    shipped = platform.protocol.new_id(1)
    platform.touch(shipped, status="3", push=False)
    async with served(platform) as base_url:
        order = CHANNELS["douyin"].parse(await api_for(base_url).fetch(shipped), {}, None)
    assert order.status_code == "3" and [s.tracking_no for s in order.shipments] == ["75100000000001"]


async def test_a_change_while_paging_repeats_an_order_but_never_loses_one():
    platform = shop(100, page_size_max=7, touch_while_paging=1.0)
    window = Window(BASE + timedelta(minutes=2), BASE + timedelta(minutes=32))
    async with served(platform) as base_url:
        listed, _, _ = await walk(api_for(base_url), window)
    assert platform.calls["touched_while_paging"] >= 10
    assert in_window(platform, window) <= {item.external_id for item in listed}


async def test_a_wrong_secret_is_refused():
    async with served(shop(1)) as base_url:
        with pytest.raises(ApiRefused) as refused:
            await api_for(base_url, app_secret="not-the-app-secret").list_updated(
                Window(BASE, BASE + timedelta(minutes=5)), None)
    assert refused.value.code == "40003/isv.signature-invalid"


async def test_a_window_longer_than_the_clients_hour_is_refused_before_asking():
    platform = shop(1)
    async with served(platform) as base_url:
        with pytest.raises(ApiRefused) as refused:
            await api_for(base_url).list_updated(Window(BASE, BASE + timedelta(minutes=61)), None)
    assert refused.value.code == "WINDOW_TOO_LONG" and platform.calls["http"] == 0


async def test_throttling_is_douyins_own_error_code():
    async with served(shop(1, rate_per_s=0.01, burst=1)) as base_url:
        api = api_for(base_url)
        window = Window(BASE, BASE + timedelta(minutes=5))
        await api.list_updated(window, None)
        with pytest.raises(Throttled) as throttled:
            await api.list_updated(window, None)
    assert throttled.value.code == "60000" and throttled.value.retry_after > 0


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
    assert len(listed) == totals[0] == 1801 and calls == 20
