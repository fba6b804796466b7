"""Concurrent deliveries of the same order on PostgreSQL: webhook and poller at once make one correct order.

SQLite serialises writers, so only PostgreSQL with a real pool proves the
unique constraint and the row lock do the work.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from tortoise import Tortoise

from api.app import create_app
from api.database import tortoise_config
from models import InboundDelivery, Order, OrderEvent, OrderLine, Payment
from tests.conftest import settings_for
from tests.intake_support import add_channel, deliver, taobao

pytestmark = pytest.mark.postgres_only


@pytest.fixture
async def wide_http(db: str, world):
    """The app on a pool wide enough for real parallelism (the default is 5 connections)."""
    if not db.startswith("postgres"):
        pytest.skip("concurrency is proven on PostgreSQL")
    await add_channel(world, "tb", "taobao")
    await Tortoise.close_connections()
    await Tortoise.init(config=tortoise_config(f"{db}?minsize=1&maxsize=30"), _enable_global_fallback=True)
    application = create_app(settings_for(db), manage_database=False)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


def _poller_body() -> bytes:
    """What a poller posts for the same trade: the bare trade object, another body, the same modified time."""
    trade = json.loads(taobao())["trade_fullinfo_get_response"]["trade"]
    return json.dumps(trade, ensure_ascii=False).encode()


async def test_webhook_and_poller_at_once_make_one_order(wide_http):
    bodies = [taobao() if n % 2 else _poller_body() for n in range(24)]
    responses = await asyncio.gather(*(deliver(wide_http, "taobao", "tb", body) for body in bodies))
    assert [r.status_code for r in responses] == [200] * 24, [r.text for r in responses if r.status_code != 200]
    outcomes = sorted(r.json()["status"] for r in responses)
    assert outcomes == ["created"] + ["duplicate"] * 23
    assert len({r.json()["order"] for r in responses}) == 1
    assert await Order.all().count() == 1
    order = await Order.get()
    assert await OrderLine.filter(order_id=order.id).count() == 2
    assert await Payment.filter(order_id=order.id).count() == 1
    assert await OrderEvent.filter(type="order.created").count() == 1


async def test_the_same_delivery_id_concurrently_is_applied_once(wide_http):
    body = taobao()
    responses = await asyncio.gather(*(deliver(wide_http, "taobao", "tb", body, msg_id="msg_same") for _ in range(12)))
    assert sorted(r.json()["status"] for r in responses) == ["created"] + ["duplicate"] * 11
    assert await InboundDelivery.all().count() == 1 and await Order.all().count() == 1


async def test_updates_racing_in_any_order_end_at_the_newest(wide_http):
    await deliver(wide_http, "taobao", "tb", taobao())
    updates = [
        taobao("WAIT_SELLER_SEND_GOODS", "2024-03-01 11:00:00"),
        taobao("WAIT_BUYER_CONFIRM_GOODS", "2024-03-02 09:00:00"),
        taobao("PAID_FORBID_CONSIGN", "2024-03-01 12:00:00"),
        taobao("WAIT_SELLER_SEND_GOODS", "2024-03-01 13:00:00"),
    ] * 3
    responses = await asyncio.gather(*(deliver(wide_http, "taobao", "tb", body) for body in updates))
    assert all(r.status_code == 200 for r in responses)
    order = await Order.get()
    assert order.status == "SHIPPED" and order.source_updated_at.isoformat() == "2024-03-02T01:00:00+00:00"
    assert order.hold_reasons == []
    assert await Order.all().count() == 1
