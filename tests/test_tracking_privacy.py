"""Privacy rules of the tracking page: masking, answers that reveal nothing, sessions, CSRF, logs."""

from __future__ import annotations

import base64
import json
import logging
import statistics
import time

from domain import orders
from domain.statuses import OrderStatus
from tests.conftest import make_world
from tests.helpers import paid_order
from tests.tracking_support import (  # noqa: F401 - fixtures
    LAST4,
    PHONE,
    browser_like,
    client,
    csrf_of,
    fresh_csrf,
    lookup,
    showcase,
    signed_in,
    site_app,
    tracking_app,
    without_tokens,
)

CLEAR = [PHONE, "+86" + PHONE, "陈晓明", "晓明", "文三路", "华星科技大厦"]


async def test_personal_data_is_masked_on_the_page(client, showcase):
    page = await signed_in(client, showcase.number("in_transit"))
    assert "陈* 138****5678" in page.text
    assert "浙江 杭州 西湖区" in page.text
    for secret in CLEAR:
        assert secret not in page.text


async def test_hold_and_cancel_reasons_stay_internal(client, showcase, world):
    ops = world.actor()
    held = await paid_order(ops, world.channel.id, "HOLD-1", phone=PHONE)
    await orders.hold_order(ops, held.id, ["suspected fraud"])
    gone = await paid_order(ops, world.channel.id, "CXL-1", phone=PHONE)
    await orders.cancel_order(ops, gone.id, "duplicate order from angry buyer")
    page = await signed_in(client, showcase.number("packed"))
    assert "商家正在核实订单" in page.text and "订单已取消" in page.text
    for internal in ("suspected fraud", "duplicate order", "angry buyer", "demo-seed", "test-ops"):
        assert internal not in page.text


async def test_not_found_and_wrong_phone_get_the_same_answer(client, showcase):
    missing = await lookup(client, "OG999999999", LAST4)
    wrong = await lookup(client, showcase.number("in_transit"), "0000")
    assert missing.status_code == wrong.status_code == 404
    assert dict(_stable_headers(missing)) == dict(_stable_headers(wrong))
    same_length_reference = showcase.number("in_transit")
    assert without_tokens(missing.text).replace("OG999999999", same_length_reference) == without_tokens(wrong.text)
    assert "没有找到匹配的订单" in wrong.text
    # the channel's own numbers behave the same
    missing_ext = await lookup(client, "3948571029384756199", LAST4)
    wrong_ext = await lookup(client, "3948571029384756102", "0000")
    assert without_tokens(missing_ext.text).replace("3948571029384756199", "3948571029384756102") == without_tokens(wrong_ext.text)


async def test_not_found_and_wrong_phone_take_the_same_time(db, world, showcase):
    app = tracking_app(db, tracking_fail_floor_ms=120)
    async with app.router.lifespan_context(app), browser_like(app) as http:
        token = await fresh_csrf(http)
        timings: dict[str, list[float]] = {"missing": [], "wrong": []}
        for _ in range(4):
            for kind, order in (("missing", "OG999999998"), ("wrong", showcase.number("delivered"))):
                started = time.perf_counter()
                response = await http.post("/track/-/lookup", data={"csrf": token, "order": order, "last4": "0001"})
                timings[kind].append(time.perf_counter() - started)
                assert response.status_code == 404
    missing, wrong = statistics.median(timings["missing"]), statistics.median(timings["wrong"])
    assert min(missing, wrong) >= 0.12
    assert abs(missing - wrong) < 0.03, timings


async def test_the_session_cookie_carries_ids_only_and_resists_tampering(client, showcase, world):
    await signed_in(client, showcase.number("in_transit"))
    name = f"og_trk_{world.tenant.id}"
    value = client.cookies.get(name)
    payload = json.loads(base64.urlsafe_b64decode(value.split(".")[0] + "=="))
    assert set(payload) == {"c", "o", "e"} and all(isinstance(x, int) for x in payload["c"] + payload["o"])
    forged = base64.urlsafe_b64encode(json.dumps({"c": [1, 2, 3, 4], "o": [], "e": payload["e"]}).encode()).decode().rstrip("=")
    client.cookies.set(name, f"{forged}.{value.split('.')[1]}", path="/track")
    assert "我的包裹到哪了" in (await client.get("/track")).text


async def test_an_order_page_needs_a_session_that_covers_it(client, showcase, world):
    response = await client.get(f"/track/{showcase.number('in_transit')}")
    assert response.status_code == 303 and response.headers["location"] == f"/track?order={showcase.number('in_transit')}"
    stranger = await paid_order(world.actor(), world.channel.id, "OTHER-1", phone="13900001111")
    await signed_in(client, showcase.number("in_transit"))
    response = await client.get(f"/track/OG{stranger.id:09d}")
    assert response.status_code == 303  # not theirs: back to the look-up
    token = csrf_of((await client.get("/track")).text)
    refused = await client.post(f"/track/OG{stranger.id:09d}/confirm", data={"csrf": token})
    assert "error=action" in refused.headers["location"]


async def test_a_session_is_per_tenant(site_app, showcase, db):
    rival = await make_world("rival")
    theirs = await paid_order(rival.actor(), rival.channel.id, "R-1", phone=PHONE)
    async with browser_like(site_app) as http:
        await signed_in(http, showcase.number("in_transit"))
        page = await http.get("/track/rival")
        assert "我的包裹到哪了" in page.text  # acme's session opens nothing at rival
        assert (await http.get(f"/track/rival/OG{theirs.id:09d}")).status_code == 303


async def test_posts_need_the_csrf_token_and_the_same_site(client, showcase):
    await client.get("/track")
    no_token = await client.post("/track/-/lookup", data={"order": showcase.number("in_transit"), "last4": LAST4})
    assert no_token.status_code == 403 and "页面已过期" in no_token.text
    token = await fresh_csrf(client)
    cross = await client.post(
        "/track/-/lookup", data={"csrf": token, "order": showcase.number("in_transit"), "last4": LAST4},
        headers={"origin": "https://evil.example", "sec-fetch-site": "cross-site"},
    )
    assert cross.status_code == 403
    other_visitor = browser_like(client._transport.app)  # a token minted for someone else's cookie
    async with other_visitor:
        await other_visitor.get("/track")
        stolen = await other_visitor.post("/track/-/lookup", data={"csrf": token, "order": showcase.number("in_transit"), "last4": LAST4})
        assert stolen.status_code == 403
    ok = await client.post("/track/-/lookup", data={"csrf": token, "order": showcase.number("in_transit"), "last4": LAST4})
    assert ok.status_code == 303


async def test_csrf_tokens_are_masked_differently_on_every_page(client):
    first = csrf_of((await client.get("/track")).text)
    second = csrf_of((await client.get("/track")).text)
    assert first != second


async def test_no_personal_data_in_the_logs(client, showcase, site_app, caplog):
    """At the shipped level (INFO; aiosqlite's DEBUG query log carries parameters) and ours at DEBUG."""
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="ordergraph")
    await lookup(client, showcase.number("in_transit"), "0000")
    page = await signed_in(client, showcase.number("delivered"))
    await client.post(f"/track/{showcase.number('delivered')}/confirm", data={"csrf": csrf_of(page.text)})
    token = await fresh_csrf(client, "/track?via=sms")
    await client.post("/track/-/otp", data={"csrf": token, "phone": PHONE})
    sender = site_app.state.tracking.sms
    for _ in range(50):  # the text goes out in the background
        if sender.sent:
            break
        await _tick()
    assert sender.sent, "the development sender got the code"
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "dev sms" in text  # the code is logged for developers ...
    for secret in CLEAR + [PHONE[-8:]]:
        assert secret not in text  # ... the phone and the name never


async def test_status_of_orders_that_are_not_yet_shipped_reads_right(client, showcase, world):
    ops = world.actor()
    unpaid = await orders.create_order(ops, _unpaid(world.channel.id))
    page = await signed_in(client, f"OG{unpaid.id:09d}")
    assert "等待付款" in page.text and unpaid.status == OrderStatus.PENDING_PAYMENT


def _unpaid(channel_id: int):  # noqa: ANN202
    from decimal import Decimal

    from domain.orders.create import NewAddress, NewCustomer, NewLine, NewOrder

    return NewOrder(
        channel_id=channel_id, external_id="UNPAID-1", lines=[NewLine(sku="TEA-001", quantity=1, unit_price=Decimal("9.90"))],
        customer=NewCustomer(name="陈晓明", phone=PHONE), address=NewAddress(name="陈晓明", phone=PHONE, province="上海", city="上海", district="浦东新区"),
    )


def _stable_headers(response):  # noqa: ANN001, ANN202
    skip = {"content-security-policy", "set-cookie", "content-length", "date"}
    return sorted((k, v) for k, v in response.headers.items() if k not in skip)


async def _tick() -> None:
    import asyncio

    await asyncio.sleep(0.02)
