"""The Taobao (TOP) pull API client against the Taobao simulator, over real HTTP."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from starlette.applications import Starlette

from adapters.channels.api import CHANNEL_APIS, http
from adapters.channels.api import taobao as top
from adapters.channels.sim import core
from adapters.channels.sim import taobao as sim
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


def shop(count: int, *, start: datetime = BASE, step: timedelta = timedelta(seconds=20), **faults: Any) -> core.Platform:
    platform = core.Platform(sim.protocol(), faults=core.Faults(**faults))
    for i in range(count):
        platform.place(paid_at=start + i * step, push=False)
    return platform


async def walk(api: top.TaobaoApi, window: Window) -> tuple[list[Listed], list[int | None], int]:
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


async def test_every_order_of_a_window_is_listed_once_across_many_small_pages():
    platform = shop(150)  # 20 s apart: 50 minutes of orders
    window = Window(BASE + timedelta(minutes=5), BASE + timedelta(minutes=40))
    async with served(platform) as base_url:
        api = top.client({**sim.account_config(base_url), "page_size": 7})
        listed, totals, calls = await walk(api, window)
    ids = [item.external_id for item in listed]
    assert len(ids) == len(set(ids)) and set(ids) == in_window(platform, window)
    assert len(ids) == 106 and totals[0] == 106 and calls == 1 + 16  # the probe, then pages 16 … 1
    assert all(item.updated_at == platform.orders[item.external_id].updated_at for item in listed)
    assert all(int(i) > 2**53 for i in ids)  # tids beyond 2^53 arrive exact


async def test_a_window_of_one_page_takes_one_call_and_an_empty_window_none_more():
    platform = shop(10)
    async with served(platform) as base_url:
        api = CHANNEL_APIS.for_channel("taobao", sim.account_config(base_url))
        assert api is not None and api.max_window == timedelta(days=1)
        page = await api.list_updated(Window(BASE, BASE + timedelta(hours=1)), None)
        assert (len(page.orders), page.next_page, page.total) == (10, None, 10)
        empty = await api.list_updated(Window(BASE - timedelta(hours=2), BASE - timedelta(hours=1)), None)
        assert (empty.orders, empty.next_page, empty.total) == ((), None, 0)


async def test_orders_modified_while_paging_leave_no_gap():
    """TOP's advice: page from the last page back, so an order leaving the window shifts only pages already read.

    (The order that slides from an unread page onto the page just read is listed twice: harmless, never lost.)
    """
    platform = shop(120, touch_while_paging=0.5, page_size_max=6)
    window = Window(BASE, BASE + timedelta(hours=1))
    before = in_window(platform, window)
    async with served(platform) as base_url:
        api = top.client({**sim.account_config(base_url), "page_size": 10})  # the platform gives 6 a page
        listed, _totals, _calls = await walk(api, window)
    ids = [item.external_id for item in listed]
    assert platform.calls["touched_while_paging"] > 3
    assert set(ids) <= before
    assert in_window(platform, window) <= set(ids)  # every order still in the window was listed


async def test_fetch_gives_the_whole_trade_the_channel_parser_reads():
    platform = shop(3)
    order = list(platform.orders.values())[1]
    platform.touch(order.external_id, status="WAIT_BUYER_CONFIRM_GOODS", push=False)
    async with served(platform) as base_url:
        body = await top.client(sim.account_config(base_url)).fetch(order.external_id)
    assert body.startswith(b'{"trade_fullinfo_get_response"')
    inbound = CHANNELS["taobao"].parse(body, {}, None)
    lines = order.detail["lines"]
    goods = sum(Decimal(price * num) / 100 for _sku, _title, price, num in lines)
    assert (inbound.external_id, inbound.status_code) == (order.external_id, "WAIT_BUYER_CONFIRM_GOODS")
    assert [(line.sku, line.quantity, line.unit_price) for line in inbound.lines] == [
        (sku, num, Decimal(price) / 100) for sku, _title, price, num in lines]
    assert inbound.goods_total == goods
    assert inbound.total_amount == goods - inbound.discount_total + inbound.shipping_fee
    assert inbound.updated_at == order.updated_at and inbound.paid_at == order.paid_at
    assert len(inbound.shipments) == 1 and not inbound.issues


async def test_an_unknown_trade_is_refused():
    async with served(shop(1)) as base_url:
        with pytest.raises(ApiRefused) as refused:
            await top.client(sim.account_config(base_url)).fetch("3600000000000009999")
    assert refused.value.code == "15/isv.trade-not-exist"


async def test_a_wrong_secret_or_session_is_refused():
    async with served(shop(1)) as base_url:
        with pytest.raises(ApiRefused) as wrong_secret:
            await top.client({**sim.account_config(base_url), "app_secret": "not-the-secret"}).fetch(
                sim.TaobaoProtocol().new_id(1))
        with pytest.raises(ApiRefused) as wrong_session:
            await top.client({**sim.account_config(base_url), "session": "expired"}).list_updated(
                Window(BASE, BASE + timedelta(hours=1)), None)
    assert wrong_secret.value.code == "25" and "not-the-secret" not in wrong_secret.value.message
    assert wrong_session.value.code == "27/invalid-sessionkey" and "authorise" in wrong_session.value.message


async def test_a_window_longer_than_a_day_is_refused_by_the_platform():
    async with served(shop(1)) as base_url:
        api = top.client({**sim.account_config(base_url), "sign_method": "md5"})
        with pytest.raises(ApiRefused) as refused:
            await api.list_updated(Window(BASE, BASE + timedelta(days=1, seconds=1)), None)
        page = await api.list_updated(Window(BASE, BASE + timedelta(days=1)), None)  # exactly a day is fine
    assert refused.value.code == "15/isv.invalid-parameter" and page.total == 1


async def test_throttling_is_top_code_7_and_says_when_to_ask_again():
    platform = shop(1, rate_per_s=0.5, burst=1)
    async with served(platform) as base_url:
        api = top.client(sim.account_config(base_url))
        await api.fetch(sim.TaobaoProtocol().new_id(1))
        with pytest.raises(Throttled) as throttled:
            await api.fetch(sim.TaobaoProtocol().new_id(1))
    assert throttled.value.code == "7/accesscontrol.limited-by-app-access-count"
    assert throttled.value.retry_after == 2.0 and platform.calls["throttled"] == 1


async def test_http_500_is_unavailable():
    async with served(shop(1, error_rate=1.0)) as base_url:
        with pytest.raises(ApiUnavailable) as unavailable:
            await top.client(sim.account_config(base_url)).list_updated(Window(BASE, BASE + timedelta(hours=1)), None)
    assert unavailable.value.code == "HTTP_500"


async def test_an_unreachable_gateway_is_unavailable():
    api = top.client({**sim.account_config("http://127.0.0.1:9"), "timeout_seconds": 1})
    try:
        with pytest.raises(ApiUnavailable):
            await api.fetch("1")
    finally:
        await http.aclose()


@pytest.mark.parametrize(("error", "kind", "retry_after"), [
    ({"code": 7, "msg": "App Call Limited", "sub_code": "accesscontrol.limited-by-app-access-count",
      "sub_msg": "This ban will last for 31 more seconds"}, Throttled, 31.0),
    ({"code": 7, "msg": "App Call Limited", "sub_code": "accesscontrol.limited-by-app-access-count",
      "sub_msg": "This ban will last for 31062 more seconds"}, Throttled, http.MAX_RETRY_AFTER),
    ({"code": 5, "msg": "Session Call Limited"}, Throttled, 1.0),
    ({"code": 15, "msg": "Remote service error", "sub_code": "isv.access-limit", "sub_msg": "too fast"}, Throttled, 1.0),
    ({"code": 10, "msg": "Service currently unavailable"}, ApiUnavailable, None),
    ({"code": 15, "msg": "Remote service error", "sub_code": "isp.top-remote-connection-timeout"}, ApiUnavailable, None),
    ({"code": 27, "msg": "Invalid session", "sub_code": "invalid-sessionkey"}, ApiRefused, None),
    ({"code": 53, "msg": "session expired"}, ApiRefused, None),
    ({"code": 15, "msg": "Remote service error", "sub_code": "isv.invalid-parameter"}, ApiRefused, None),
    ({"code": 25, "msg": "Invalid signature"}, ApiRefused, None),
])
def test_top_error_codes_map_to_the_port(error: dict[str, Any], kind: type, retry_after: float | None) -> None:
    mapped = top.refusal(error)
    assert type(mapped) is kind
    if retry_after is not None:
        assert mapped.retry_after == retry_after


@pytest.mark.parametrize("config", [
    {"app_key": "k", "app_secret": "s"},
    {"app_key": "k", "app_secret": "s", "session": "x", "page_size": 101},
    {"app_key": "k", "app_secret": "s", "session": "x", "sign_method": "sha1"},
])
def test_an_incomplete_account_is_refused_naming_the_key(config: dict[str, Any]) -> None:
    with pytest.raises(ApiRefused) as refused:
        top.client(config)
    assert refused.value.code == "NOT_CONFIGURED"


def test_the_index_pages_like_a_sort_of_the_truth_after_places_and_touches() -> None:
    platform = shop(300, step=timedelta(seconds=3))
    index = platform.index
    start, end = BASE + timedelta(seconds=100), BASE + timedelta(seconds=700)
    span = (int(start.timestamp()), int(end.timestamp()))
    for round_ in range(5):
        inside = [o for o in platform.orders.values() if start <= o.updated_at <= end]
        truth = sorted(inside, key=lambda o: (o.updated_at, o.seq), reverse=True)
        first = index.slice(*span, offset=0, size=25, descending=True)
        third = index.slice(*span, offset=50, size=25, descending=True)
        total = index.count(*span)
        assert total == len(truth) and first == truth[:25] and third == truth[50:75]
        assert platform.window(start, end) == truth[::-1]
        ids = list(platform.orders)
        for external_id in ids[round_ * 40:round_ * 40 + 40:3]:
            platform.touch(external_id, at=BASE + timedelta(seconds=round_ * 150), push=False)
        platform.place(paid_at=BASE + timedelta(seconds=300 + round_), push=False)
        if round_ == 3:  # behind touch()'s back: noticed when it is served
            truth[0].updated_at = BASE + timedelta(seconds=120)
