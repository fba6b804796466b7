"""Douyin shop's own message push at /hooks/{tenant}/{channel}: verified by event-sign, the order fetched whole."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal


from adapters.channels.api import http
from adapters.channels.sim import core
from adapters.channels.sim import douyin as sim
from adapters.formats import CHANNELS
from models import Channel, InboundPayload, Order, OrderLine, QuarantinedPayload
from tests.intake_support import add_channel, post, standard_headers
from tests.live_fixtures import serve_asgi

PAID = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)


@contextlib.asynccontextmanager
async def douyin_shop(world, code: str = "dy") -> AsyncIterator[tuple[core.Platform, Channel]]:
    """A simulated Douyin shop with two orders, and a channel whose secret and API account are the shop app's."""
    platform = core.Platform(sim.protocol())
    for _ in range(2):
        platform.place(paid_at=PAID, push=False)
    app = platform.app()
    try:
        async with serve_asgi(app) as base_url:
            channel = await add_channel(world, code, "douyin", secret=sim.APP.app_secret)
            channel.config = {**(channel.config or {}), "api": sim.account_config(base_url)}
            await channel.save()
            yield platform, channel
    finally:
        await http.aclose()


async def test_a_douyin_push_creates_the_whole_order_fetched_through_order_detail(world, gql):
    async with douyin_shop(world) as (platform, _channel):
        order = platform.orders[sim.protocol().new_id(2)]
        push = platform.protocol.push(order, sim.APP.app_secret)
        response = await post(gql.http, "/hooks/acme/dy", push.body, push.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"code": 0, "msg": "success"}  # what Douyin wants back, or it pushes again
    assert platform.calls["order.orderDetail"] == 1
    message = json.loads(push.body)[0]
    assert message["tag"] == "101" and json.loads(message["data"])["p_id"] == int(order.external_id)
    created = await Order.get(external_id=order.external_id)
    detail = order.detail
    assert created.total_amount == Decimal(detail["goods"] - detail["shop"] - detail["platform"] + detail["post"]) / 100
    lines = await OrderLine.filter(order_id=created.id).order_by("id")
    assert [(line.sku, line.quantity) for line in lines] == [(line["sku"], line["count"]) for line in detail["lines"]]
    kept = await InboundPayload.get(tenant_id=world.tenant.id)
    assert json.loads(bytes(kept.body))["data"]["shop_order_detail"]["order_id"] == order.external_id


async def test_a_push_with_a_bad_event_sign_is_refused(world, gql):
    async with douyin_shop(world) as (platform, _channel):
        push = platform.protocol.push(platform.orders[sim.protocol().new_id(1)], "not-the-app-secret-at-all")
        response = await post(gql.http, "/hooks/acme/dy", push.body, push.headers)
    assert response.status_code == 401 and "event-sign" in response.json()["reason"]
    assert platform.calls["order.orderDetail"] == 0 and await Order.all().count() == 0  # type: ignore[attr-defined]


async def test_a_message_naming_no_order_is_kept_with_the_reason(world, gql):
    async with douyin_shop(world) as (platform, _channel):
        body = json.dumps([{"tag": "400", "msg_id": "1", "data": json.dumps({"product_id": 1, "shop_id": 77977})}])
        headers = {"app-id": sim.APP.app_key, "content-type": "application/json",
                   "event-sign": sim.event_sign(sim.APP.app_key, body.encode(), sim.APP.app_secret)}
        response = await post(gql.http, "/hooks/acme/dy", body.encode(), headers)
    assert response.status_code == 422 and response.json()["code"] != 0 and "400" in response.json()["msg"]
    assert await QuarantinedPayload.filter(tenant_id=world.tenant.id, source="dy").count() == 1


def test_a_push_of_several_messages_announces_every_order_once():
    messages = [{"tag": "113", "msg_id": "1", "data": json.dumps({"shop_id": 77977})},
                {"tag": "102", "msg_id": "2", "data": '{"p_id":6919000000000000010,"s_ids":[6919000000000000011]}'},
                {"tag": "101", "msg_id": "3", "data": '{"p_id":6919000000000000020}'},
                {"tag": "105", "msg_id": "4", "data": '{"p_id":6919000000000000010}'}]
    douyin = CHANNELS["douyin"]
    assert douyin.announced(json.dumps(messages).encode(), {}) == ("6919000000000000010", "6919000000000000020")
    assert douyin.announced(b'{"data": {"shop_order_detail": {"order_id": "1"}}}', {}) == ()  # a whole order


async def test_a_push_naming_two_orders_creates_both(world, gql):
    async with douyin_shop(world) as (platform, _channel):
        first, second = (platform.orders[sim.protocol().new_id(n)] for n in (1, 2))
        bodies = [json.loads(platform.protocol.push(order, sim.APP.app_secret).body)[0] for order in (first, second)]
        body = json.dumps(bodies).encode()
        headers = {"app-id": sim.APP.app_key, "content-type": "application/json",
                   "event-sign": sim.event_sign(sim.APP.app_key, body, sim.APP.app_secret)}
        response = await post(gql.http, "/hooks/acme/dy", body, headers)
    assert (response.status_code, response.json()) == (200, {"code": 0, "msg": "success"})
    assert platform.calls["order.orderDetail"] == 2
    assert {o.external_id for o in await Order.filter(tenant_id=world.tenant.id)} == {first.external_id, second.external_id}


async def test_a_relayed_message_naming_two_orders_applies_both_under_one_delivery_id(world, gql):
    async with douyin_shop(world) as (platform, channel):
        relay = await add_channel(world, "dy-relay", "douyin")  # our relay signs with a Standard Webhooks secret
        relay.config = {**(relay.config or {}), "api": channel.config["api"]}
        await relay.save()
        first, second = (platform.orders[sim.protocol().new_id(n)] for n in (1, 2))
        body = json.dumps([json.loads(platform.protocol.push(order, sim.APP.app_secret).body)[0]
                           for order in (first, second)]).encode()
        response = await post(gql.http, "/hooks/acme/dy-relay", body, standard_headers(body, msg_id="msg_relay_1"))
        again = await post(gql.http, "/hooks/acme/dy-relay", body, standard_headers(body, msg_id="msg_relay_1"))
    assert response.status_code == 200, response.text
    assert [o["status"] for o in response.json()["orders"]] == ["created", "created"]
    assert [o["status"] for o in again.json()["orders"]] == ["duplicate", "duplicate"]
    assert await Order.filter(tenant_id=world.tenant.id).count() == 2
