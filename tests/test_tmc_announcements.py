"""Taobao TMC announcements end to end: the simulated shop's message at /hooks/{tenant}/{channel}, the whole trade
fetched back through ``taobao.trade.fullinfo.get`` on the simulator over HTTP, applied once."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
from starlette.applications import Starlette

from adapters.channels.api import http
from adapters.channels.sim import core
from adapters.channels.sim import taobao as sim
from models import (
    Channel,
    ChannelOrderState,
    InboundPayload,
    Order,
    OrderEvent,
    OrderLine,
    QuarantinedPayload,
)
from models.order import order_no
from tests.intake_support import SECRET, add_channel
from tests.live_fixtures import serve_asgi


def app_of(platform: core.Platform) -> Starlette:
    """The simulator's app; without /_sim while ``core.Platform.app`` passes ``on_shutdown`` (gone in Starlette 1.x)."""
    try:
        return platform.app()
    except TypeError:
        return Starlette(routes=platform.protocol.routes(platform))


@contextlib.asynccontextmanager
async def taobao_shop(world: Any, code: str = "tb", *, api: bool = True) -> AsyncIterator[core.Platform]:
    """A simulated Taobao shop served over HTTP, and channel ``code`` whose API account points at it."""
    platform = core.Platform(sim.protocol(), push_secret=SECRET)
    try:
        async with serve_asgi(app_of(platform)) as base_url:
            channel = await add_channel(world, code, "taobao")
            if api:
                channel.config = {**(channel.config or {}), "api": sim.account_config(base_url)}
                await channel.save()
            yield platform
    finally:
        await http.aclose()


async def announce(client: httpx.AsyncClient, push: core.Push, code: str = "tb") -> httpx.Response:
    """Post a TMC message as the relay does."""
    return await client.post(f"/hooks/acme/{code}", content=push.body, headers=push.headers)


async def nothing_applied(world: Any) -> None:
    tenant = world.tenant.id
    assert await Order.filter(tenant_id=tenant).count() == 0
    assert await InboundPayload.filter(tenant_id=tenant).count() == 0
    assert await QuarantinedPayload.filter(tenant_id=tenant).count() == 0


async def test_an_announced_trade_is_fetched_and_created_whole(world, gql):
    async with taobao_shop(world) as platform:
        placed = platform.place(push=False)
        push = platform.protocol.push(placed, SECRET)
        assert json.loads(push.body)["topic"] == "taobao_trade_TradeBuyerPay"
        response = await announce(gql.http, push)
        assert platform.calls["fetch"] == 1
    assert response.status_code == 200, response.text
    order = await Order.get(tenant_id=world.tenant.id, external_id=placed.external_id)
    assert response.json() == {"status": "created", "order": order_no(order.id), "orderStatus": order.status}
    goods, discount, post, payment = (Decimal(fen) / 100 for fen in platform.protocol.amounts(placed))
    assert (order.total_amount, order.goods_total, order.discount_total, order.shipping_fee) == (
        payment, goods, discount, post)
    lines = await OrderLine.filter(order_id=order.id).order_by("id")
    assert [(line.sku, line.quantity, line.unit_price) for line in lines] == [
        (sku, num, Decimal(price) / 100) for sku, _title, price, num in placed.detail["lines"]]
    assert [line.external_line_id for line in lines] == [
        str(int(placed.external_id) + i) for i in range(1, len(lines) + 1)]
    state = await ChannelOrderState.get(order_id=order.id)
    assert state.status_code == "WAIT_SELLER_SEND_GOODS"
    # Lineage: the channel's statement, pointing at the trade as fetched, kept with the message's delivery id.
    created = await OrderEvent.get(order_id=order.id, type="order.created")
    assert (created.actor, created.source) == ("channel:tb", "channel")
    payload = await InboundPayload.get(tenant_id=world.tenant.id)
    assert created.payload_ref == f"sha256:{payload.sha256}"
    assert bytes(payload.body).startswith(b'{"trade_fullinfo_get_response"')
    assert payload.headers["webhook-id"] == push.headers["webhook-id"]


async def test_a_later_announcement_updates_the_order_and_the_lineage_says_announced(world, gql):
    async with taobao_shop(world) as platform:
        placed = platform.place(push=False)
        assert (await announce(gql.http, platform.protocol.push(placed, SECRET))).status_code == 200
        platform.touch(placed.external_id, status="WAIT_BUYER_CONFIRM_GOODS", push=False)
        push = platform.protocol.push(placed, SECRET)
        assert json.loads(push.body)["topic"] == "taobao_trade_TradeSellerShip"
        response = await announce(gql.http, push)
    assert response.status_code == 200 and response.json()["status"] == "updated", response.text
    order = await Order.get(tenant_id=world.tenant.id, external_id=placed.external_id)
    assert (await ChannelOrderState.get(order_id=order.id)).status_code == "WAIT_BUYER_CONFIRM_GOODS"
    applied = await OrderEvent.filter(order_id=order.id, type="intake.applied").order_by("-id").first()
    assert applied is not None and applied.actor == "channel:tb"
    assert applied.after["via"] == "announced" and applied.after["status_code"] == "WAIT_BUYER_CONFIRM_GOODS"
    assert "SF" in applied.reason  # the waybill the fetched trade names


async def test_the_same_message_twice_is_one_order(world, gql):
    async with taobao_shop(world) as platform:
        placed = platform.place(push=False)
        push = platform.protocol.push(placed, SECRET)
        first = await announce(gql.http, push)
        again = await announce(gql.http, push)
        # TMC delivers at least once: a redelivery under a new message id fetches the same trade.
        redelivered = await announce(gql.http, platform.protocol.push(placed, SECRET))
    assert first.json()["status"] == "created"
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert redelivered.status_code == 200 and redelivered.json()["status"] == "duplicate"
    assert first.json()["order"] == again.json()["order"] == redelivered.json()["order"]
    assert await Order.filter(tenant_id=world.tenant.id).count() == 1
    assert await OrderEvent.filter(type="order.created").count() == 1


async def test_a_message_while_the_platform_is_down_or_throttling_asks_for_it_again(world, gql):
    async with taobao_shop(world) as platform:
        placed = platform.place(push=False)
        push = platform.protocol.push(placed, SECRET)
        platform.faults = core.Faults(error_rate=1.0)
        down = await announce(gql.http, push)
        await nothing_applied(world)
        platform.faults = core.Faults(rate_per_s=0.01, burst=1)
        platform.bucket.take()  # the shop's call budget is spent
        throttled = await announce(gql.http, push)
        await nothing_applied(world)
        platform.faults = core.Faults()
        retried = await announce(gql.http, push)  # TMC redelivers; the platform answers again
    assert down.status_code == 503 and down.json()["error"] == "fetch_failed"
    assert "HTTP 500" in down.json()["reason"] and placed.external_id in down.json()["reason"]
    assert throttled.status_code == 503 and throttled.json()["status"] == "retry"
    assert "App Call Limited" in throttled.json()["reason"] or "ban will last" in throttled.json()["reason"]
    assert retried.status_code == 200 and retried.json()["status"] == "created"


async def test_a_message_for_a_channel_without_an_api_account_is_quarantined(world, gql):
    async with taobao_shop(world, api=False) as platform:
        placed = platform.place(push=False)
        response = await announce(gql.http, platform.protocol.push(placed, SECRET))
        assert platform.calls["fetch"] == 0
    answer = response.json()
    assert (response.status_code, answer["status"], answer["error"]) == (422, "quarantined", "announcement_unfetched")
    assert placed.external_id in answer["reason"]
    row = await QuarantinedPayload.get(tenant_id=world.tenant.id, reason_code="announcement_unfetched")
    assert row.verified
    assert await Order.filter(tenant_id=world.tenant.id).count() == 0


async def test_a_message_the_platform_refuses_to_serve_is_quarantined(world, gql):
    async with taobao_shop(world) as platform:
        channel = await Channel.get(tenant_id=world.tenant.id, code="tb")
        channel.config = {**channel.config, "api": {**channel.config["api"], "session": "expired-session"}}
        await channel.save()
        placed = platform.place(push=False)
        response = await announce(gql.http, platform.protocol.push(placed, SECRET))
    answer = response.json()
    assert (response.status_code, answer["error"]) == (422, "fetch_refused")
    assert "Invalid session" in answer["reason"] or "27" in answer["reason"]
    assert await Order.filter(tenant_id=world.tenant.id).count() == 0


async def test_a_forged_message_is_refused_before_anything_is_fetched(world, gql):
    async with taobao_shop(world) as platform:
        placed = platform.place(push=False)
        response = await announce(gql.http, platform.protocol.push(placed, "whsec_" + "Zm9yZ2Vk" * 4))
        assert platform.calls["fetch"] == 0
    assert response.status_code == 401
    await nothing_applied(world)
