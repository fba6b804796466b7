"""The tracking page end to end in-process: look up, see every order and its timeline, act on it."""

from __future__ import annotations

import gzip
import re

from domain.statuses import OrderStatus
from domain.tenants.branding import set_branding
from models import Order, OrderEvent, OrderFeedback
from tests.conftest import make_world
from tests.tracking_support import (  # noqa: F401 - fixtures
    LAST4,
    browser_like,
    client,
    csrf_of,
    fresh_csrf,
    lookup,
    showcase,
    signed_in,
    site_app,
)


async def test_first_view_is_a_server_rendered_form_in_chinese(client):
    response = await client.get("/track")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="zh-CN">' in html
    assert '<form method="post" action="/track/-/lookup"' in html
    assert '<label for="order">订单号</label>' in html and '<label for="last4">' in html
    assert "我的包裹到哪了" in html


async def test_first_view_is_small_and_compressed(client, showcase):
    response = await client.get("/track", headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    wire = len(gzip.compress(response.content))  # what was sent, about
    assert len(response.content) < 60_000 and wire < 15_000
    page = await signed_in(client, showcase.number("in_transit"))
    assert len(page.content) < 60_000


async def test_lookup_by_order_number_shows_all_of_the_customers_orders_across_channels(client, showcase):
    page = await signed_in(client, showcase.number("in_transit"))
    assert page.status_code == 200
    cards = re.findall(r'<article class="card" id="card-(OG\d{9})"', page.text)
    assert sorted(cards) == sorted(showcase.number(s) for s in ("in_transit", "delivered", "packed"))
    for channel in ("Tmall flagship", "抖音小店", "微信小程序"):
        assert channel in page.text


async def test_lookup_by_the_channels_own_order_number(client, showcase):
    response = await lookup(client, "6934157720488215541")
    assert response.status_code == 303
    assert showcase.number("delivered") in response.headers["location"]


async def test_the_timeline_of_a_parcel_on_its_way(client, showcase):
    page = await signed_in(client, showcase.number("in_transit"))
    card = _card(page.text, showcase.number("in_transit"))
    assert '<h2 class="status" id="h-' in card and ">运输中</h2>" in card
    assert '<li class="now" aria-current="step">运输中</li>' in card
    assert "预计" in card and "送达" in card
    assert 'data-copy="SF1428857306914"' in card and "顺丰速运" in card
    titles = re.findall(r"<li class=\"[^\"]*\"><b>([^<]+)</b>", card)
    assert titles[0] == "运输中" and titles[-1] == "订单已提交"
    assert titles.index("已交给顺丰速运") < titles.index("上海仓已接单") < titles.index("付款成功")
    assert re.search(r'<li class="cur"><b>运输中</b>快件到达 【杭州转运中心】', card)
    # the last scan was 03:00 UTC: 11:00 in Shanghai
    assert "11:00" in card and "【杭州转运中心】" in card


async def test_one_order_page_has_its_timeline_open(client, showcase):
    await signed_in(client, showcase.number("in_transit"))
    page = await client.get(f"/track/{showcase.number('packed')}")
    assert page.status_code == 200
    assert re.findall(r'id="card-(OG\d{9})"', page.text) == [showcase.number("packed")]
    assert '<details class="tl" open>' in page.text
    assert ">仓库正在备货</h2>" in page.text and "确认收货" not in page.text


async def test_confirm_receipt_with_one_tap_goes_into_the_lineage(client, showcase):
    page = await signed_in(client, showcase.number("delivered"))
    number = showcase.number("delivered")
    card = _card(page.text, number)
    assert "确认收货" in card
    response = await client.post(f"/track/{number}/confirm", data={"csrf": csrf_of(card), "back": "/track"})
    assert response.status_code == 303 and "done=confirmed" in response.headers["location"]
    order = await Order.get(id=showcase.ids["delivered"])
    assert order.status == OrderStatus.COMPLETED
    event = await OrderEvent.filter(order_id=order.id, type="order.receipt_confirmed").get()
    assert event.source == "customer" and event.actor.startswith("customer:")
    assert event.before["status"] == "DELIVERED" and event.after["status"] == "COMPLETED"
    after = await client.get(response.headers["location"])
    assert "已确认收货" in after.text
    assert "为本次购物打分" in _card(after.text, number)
    assert "您已确认收货" in _card(after.text, number)


async def test_confirm_receipt_is_refused_where_the_state_machine_says_no(client, showcase):
    page = await signed_in(client, showcase.number("packed"))
    number = showcase.number("packed")
    response = await client.post(f"/track/{number}/confirm", data={"csrf": csrf_of(page.text), "back": "/track"})
    assert response.status_code == 303 and "error=action" in response.headers["location"]
    assert (await Order.get(id=showcase.ids["packed"])).status == OrderStatus.PACKED


async def test_rating_with_a_comment_once(client, showcase):
    page = await signed_in(client, showcase.number("delivered"))
    number = showcase.number("delivered")
    token = csrf_of(page.text)
    await client.post(f"/track/{number}/confirm", data={"csrf": token, "back": "/track"})
    for bad in ("0", "6", "x"):
        response = await client.post(f"/track/{number}/rate", data={"csrf": token, "rating": bad, "back": "/track"})
        assert "error=action" in response.headers["location"]
    response = await client.post(
        f"/track/{number}/rate", data={"csrf": token, "rating": "4", "comment": " 茶香很好，包装稍有压痕\x00 ", "back": "/track"}
    )
    assert "done=rated" in response.headers["location"]
    feedback = await OrderFeedback.get(order_id=showcase.ids["delivered"])
    assert (feedback.rating, feedback.comment) == (4, "茶香很好，包装稍有压痕")
    event = await OrderEvent.filter(order_id=showcase.ids["delivered"], type="order.rated").get()
    assert event.source == "customer" and event.after["rating"] == 4 and event.after["comment"] is True
    again = await client.post(f"/track/{number}/rate", data={"csrf": token, "rating": "5", "back": "/track"})
    assert "error=action" in again.headers["location"]
    page = await client.get("/track")
    card = _card(page.text, number)
    assert "★★★★☆" in card and "您评价了 4 星" in card and "提交评价" not in card


async def test_packed_orders_cannot_be_rated(client, showcase):
    page = await signed_in(client, showcase.number("packed"))
    response = await client.post(
        f"/track/{showcase.number('packed')}/rate", data={"csrf": csrf_of(page.text), "rating": "5", "back": "/track"}
    )
    assert "error=action" in response.headers["location"]
    assert not await OrderFeedback.exists(order_id=showcase.ids["packed"])


async def test_english_from_the_browser_and_a_toggle_that_sticks(site_app, showcase):
    async with browser_like(site_app, lang="en-GB,en;q=0.9,zh;q=0.5") as http:
        page = await http.get("/track")
        assert '<html lang="en">' in page.text and "Where is my parcel?" in page.text
        assert 'href="/track?lang=zh"' in page.text
        switched = await http.get("/track", params={"lang": "zh"})
        assert "我的包裹到哪了" in switched.text and switched.cookies.get("og_lang") == "zh"
        assert "我的包裹到哪了" in (await http.get("/track")).text
        orders = await signed_in(http, showcase.number("in_transit"))
        assert "运输中" in orders.text
        english = await http.get("/track", params={"lang": "en"})
        assert "On the way" in english.text and "SF Express" in english.text and "Tracking details" in english.text


async def test_chinese_when_the_browser_says_nothing(site_app):
    async with browser_like(site_app, lang="") as http:
        assert '<html lang="zh-CN">' in (await http.get("/track")).text


async def test_other_tenants_live_under_their_slug_with_their_branding(site_app, showcase, db):
    rival = await make_world("rival")
    await set_branding(rival.tenant.id, name="对手茶庄", accent_color="#ffd400", logo_url="https://cdn.example.com/rival.png")
    async with browser_like(site_app) as http:
        page = await http.get("/track/rival")
        assert page.status_code == 200 and "对手茶庄" in page.text
        assert 'action="/track/rival/-/lookup"' in page.text
        assert '<img class="logo" src="https://cdn.example.com/rival.png"' in page.text
        assert "--solid:#ffd400;--on-solid:#1a1a1a" in page.text  # a light accent gets dark text
        miss = await lookup(http, showcase.number("in_transit"), base="/track/rival")
        assert miss.status_code == 404  # acme's order is not rival's
        assert (await http.get("/track/nobody-here")).status_code == 404
        assert (await http.get("/track/Bad_Slug")).status_code == 404


async def test_sign_out_ends_the_session(client, showcase):
    page = await signed_in(client, showcase.number("in_transit"))
    response = await client.post("/track/-/logout", data={"csrf": csrf_of(page.text)})
    assert response.status_code == 303
    assert "我的包裹到哪了" in (await client.get("/track")).text


async def test_security_headers_on_every_page(client):
    response = await client.get("/track")
    nonce = re.search(r'<script nonce="([^"]+)">', response.text).group(1)
    csp = response.headers["content-security-policy"]
    assert f"script-src 'nonce-{nonce}'" in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_the_demo_logo_is_served(client):
    response = await client.get("/track/-/static/qingming-logo.svg")
    assert response.status_code == 200 and response.headers["content-type"].startswith("image/svg+xml")
    assert (await client.get("/track/-/static/..%2Fsite.py")).status_code == 404
    assert (await client.get("/track/-/static/track.css")).status_code == 404


def _card(html: str, number: str) -> str:
    start = html.index(f'id="card-{number}"')
    return html[start : html.index("</article>", start)]


async def test_full_width_input_from_chinese_keyboards_works(client, showcase):
    number = showcase.number("in_transit")
    wide = "".join(chr(ord(ch) + 0xFEE0) for ch in number.lower())
    response = await lookup(client, f" {wide} ", "５６７８")
    assert response.status_code == 303 and number in response.headers["location"]


async def test_production_without_a_tracking_secret_switches_the_page_off(db, world):
    from api.settings import DEV_TRACKING_SECRET
    from tests.tracking_support import tracking_app

    app = tracking_app(db, env="production", tracking_secret=DEV_TRACKING_SECRET)
    async with app.router.lifespan_context(app), browser_like(app) as http:
        assert (await http.get("/track")).status_code == 503
        assert (await http.post("/track/-/lookup", data={})).status_code == 503
    app = tracking_app(db, env="production", tracking_secret="a-real-secret-of-some-length")
    async with app.router.lifespan_context(app), browser_like(app) as http:
        assert (await http.get("/track")).status_code == 200
