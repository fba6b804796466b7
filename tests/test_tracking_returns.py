"""The customer's return on the tracking page, and what a customer noticed about the page (issue 16, item 4).

Routes in-process (the whole app through httpx's ASGI transport): a verified
customer opens a return with a photo and follows it on the order's timeline;
bad uploads, quantities above what arrived, missing reasons, stale pages and
visitors without a session are refused with a sentence and leave nothing
behind. Then: confirm receipt only at the door, the thank-you inside the
card, the customer's own actions apart from the carrier's scans, the English
page without untranslated fixed words, and the shop's contact link.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from html.parser import HTMLParser

import httpx
import pytest

from domain.actor import Role
from domain.after_sales import decisions
from domain.errors import ValidationFailed
from domain.orders import fulfilment
from domain.statuses import AfterSaleStatus, OrderStatus, ShipmentStatus
from domain.tenants.branding import safe_contact_url, set_branding
from models import AfterSale, AfterSaleLine, AfterSalePhoto, Order, OrderEvent, OrderLine, Shipment, Tenant
from public_tracking import returns as return_pages
from public_tracking.live import relevant
from tests.conftest import make_world
from tests.tracking_support import (  # noqa: F401 - fixtures
    browser_like,
    client,
    csrf_of,
    showcase,
    signed_in,
    site_app,
)

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 2000
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 1500
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")


def _card(html: str, number: str) -> str:
    start = html.index(f'id="card-{number}"')
    return html[start : html.index("</article>", start)]


def _timeline(card: str) -> str:
    start = card.index('<details class="tl"')
    return card[start : card.index("</details>", start)]


def _mine(card: str) -> str:
    """The customer's own actions, apart from the timeline."""
    start = card.index('<section class="mine"')
    return card[start : card.index("</section>", start)]


async def _form(http: httpx.AsyncClient, number: str) -> tuple[str, dict[str, int]]:
    """The return form's CSRF token and its line inputs (name -> the most that may go back)."""
    page = await http.get(f"/track/{number}/return")
    assert page.status_code == 200, page.text[:400]
    lines = {name: int(most) for name, most in re.findall(r'name="(qty-\d+)" min="0" max="(\d+)"', page.text)}
    return csrf_of(page.text), lines


async def _post(http: httpx.AsyncClient, number: str, data: dict[str, str], photos: list[tuple[str, bytes, str]] = (),
                **kwargs: object) -> httpx.Response:
    files = [("photos", photo) for photo in photos] or [("photos", ("", b"", "application/octet-stream"))]
    return await http.post(f"/track/{number}/return", data=data, files=files, **kwargs)


async def _nothing_saved(order_id: int) -> None:
    assert await AfterSale.filter(order_id=order_id).count() == 0
    assert await AfterSalePhoto.all().count() == 0
    assert not await OrderEvent.filter(order_id=order_id, type__startswith="after_sale.").exists()


async def _delivered(world, showcase, state: str = "in_transit") -> None:  # noqa: ANN001
    """The carrier delivers the showcase's parcel on its way (two lines: 2 × tea and 1 × cup)."""
    shipment = await Shipment.get(order_id=showcase.ids[state])
    carrier = world.actor(Role.SERVICE, source="carrier")
    await fulfilment.record_tracking(carrier, shipment.id, ShipmentStatus.DELIVERED, datetime.now(UTC), description="已签收")


# the return ------------------------------------------------------------------------------------


async def test_a_verified_customer_returns_one_line_with_a_photo_and_follows_it(client, showcase, world):
    number = showcase.number("delivered")
    page = await signed_in(client, number)
    card = _card(page.text, number)
    assert f'href="/track/{number}/return"' in card and "申请退货 / 退款 / 换货" in card
    token, lines = await _form(client, number)
    (field, most), = lines.items()
    assert most == 1
    response = await _post(client, number, {"csrf": token, field: "1", "kind": "return_refund", "reason": "damaged",
                                            "note": "盒子压坏了，茶罐有凹痕"}, [("box.jpg", JPEG, "image/jpeg")])
    assert response.status_code == 303, response.text[:600]
    assert response.headers["location"] == f"/track/{number}?done=return&o={number}#card-{number}"

    sale = await AfterSale.get(order_id=showcase.ids["delivered"])
    assert (sale.kind, sale.status, sale.source) == ("return_refund", AfterSaleStatus.REQUESTED, "customer")
    assert sale.reason == "damaged: 盒子压坏了，茶罐有凹痕" and str(sale.requested_amount) == "399.00"
    line = await AfterSaleLine.get(after_sale_id=sale.id)
    assert (line.order_line_id, line.quantity) == (int(field[4:]), 1)
    photo = await AfterSalePhoto.get(after_sale_id=sale.id)
    assert (photo.content_type, photo.size, bytes(photo.data)) == ("image/jpeg", len(JPEG), JPEG)
    event = await OrderEvent.get(order_id=sale.order_id, type="after_sale.requested")  # type: ignore[attr-defined]
    assert event.source == "customer" and re.fullmatch(r"customer:\d+", event.actor)

    after = await client.get(response.headers["location"])
    card = _card(after.text, number)
    assert 'role="status">售后申请已提交' in card  # the note sits in the card it is about
    timeline = _timeline(card)
    assert "<b>退货退款申请已提交，等待商家处理</b>白毫银针礼盒 ×1" in timeline
    mine = _mine(card)
    assert "<b>您申请了退货退款</b><br>白毫银针礼盒 ×1" in mine
    assert "退货退款</b> · 申请退款 ¥399.00" in card and '<li class="now" aria-current="step">已申请</li>' in card
    assert f"/track/{number}/return" not in card  # nothing left to ask back

    ops = world.actor()
    await decisions.approve(ops, sale.id, note="ok")
    await decisions.receive(ops, sale.id, world.warehouses[0].id, [(line.id, 1)])
    await decisions.refund(ops, sale.id)
    card = _card((await client.get(f"/track/{number}")).text, number)
    assert "<b>已退款 ¥399.00</b>" in card and "<b>商家已收到退回的商品</b>" in card
    assert "退货退款</b> · 已退款 ¥399.00" in card
    assert '<li class="now" aria-current="step">已退款</li>' in card
    titles = re.findall(r'<li class="[^"]*"><b>([^<]+)</b>', card)
    assert titles[0] == "已退款 ¥399.00"  # the newest step on top, above the carrier's
    assert titles.index("已退款 ¥399.00") < titles.index("商家已收到退回的商品") < titles.index("已签收")


async def test_two_lines_choose_one_and_only_what_is_left_can_be_asked_again(client, showcase, world):
    await _delivered(world, showcase)
    number = showcase.number("in_transit")
    await signed_in(client, number)
    token, lines = await _form(client, number)
    assert sorted(lines.values()) == [1, 2]
    tea = next(name for name, most in lines.items() if most == 2)
    response = await _post(client, number, {"csrf": token, tea: "1", "kind": "exchange", "reason": "other",
                                            "note": "想换一罐新茶"}, [("a.png", PNG, "image/png")])
    assert response.status_code == 303, response.text[:600]
    token, lines = await _form(client, number)
    assert lines[tea] == 1  # one of two already asked back
    page = await client.get(f"/track/{number}/return")
    assert "已申请 1 件" in page.text
    refused = await _post(client, number, {"csrf": token, tea: "2", "kind": "return_refund", "reason": "quality"})
    assert refused.status_code == 422 and "数量超过了已签收且尚未申请的数量" in refused.text
    assert await AfterSale.filter(order_id=showcase.ids["in_transit"]).count() == 1


@pytest.mark.parametrize(
    ("case", "status", "words"),
    [
        ("six photos", 413, "最多上传 5 张照片"),
        ("a photo over 2 MB", 413, "照片“big.jpg”超过 2 MB"),
        ("a page named .jpg", 415, "“evil.jpg”不是 JPG、PNG 或 WebP 图片"),
        ("more than arrived", 422, "数量超过了已签收且尚未申请的数量"),
        ("no line chosen", 422, "请选择要退换的商品和数量"),
        ("a line of another order", 422, "数量超过了已签收且尚未申请的数量"),
        ("no reason", 422, "请选择原因"),
        ("other without words", 422, "选择“其他”时，请写明原因"),
        ("an unknown kind", 422, "请选择仅退款、退货退款或换货"),
        ("a quantity that is not a number", 422, "数量超过了已签收且尚未申请的数量"),
    ],
)
async def test_bad_requests_are_refused_in_words_and_nothing_is_saved(client, showcase, case, status, words):
    number = showcase.number("delivered")
    await signed_in(client, number)
    token, lines = await _form(client, number)
    (field, _), = lines.items()
    data = {"csrf": token, field: "1", "kind": "refund_only", "reason": "damaged"}
    photos = [("box.jpg", JPEG, "image/jpeg")]
    if case == "six photos":
        photos = [(f"p{n}.jpg", JPEG, "image/jpeg") for n in range(6)]
    elif case == "a photo over 2 MB":
        photos = [("ok.jpg", JPEG, "image/jpeg"), ("big.jpg", JPEG[:4] + b"\x00" * (2 * 1024 * 1024), "image/jpeg")]
    elif case == "a page named .jpg":
        photos = [("evil.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg")]
    elif case == "more than arrived":
        data[field] = "2"
    elif case == "no line chosen":
        data[field] = "0"
    elif case == "a line of another order":
        other = await OrderLine.filter(order_id=showcase.ids["packed"]).first()
        data = {**data, field: "0", f"qty-{other.id}": "1"}
    elif case == "no reason":
        data["reason"] = ""
    elif case == "other without words":
        data["reason"] = "other"
    elif case == "an unknown kind":
        data["kind"] = "free_money"
    elif case == "a quantity that is not a number":
        data[field] = "1e3"
    response = await _post(client, number, data, photos)
    assert response.status_code == status, response.text[:600]
    assert words in response.text and "本次申请未保存" in response.text
    assert 'role="alert"' in response.text and 'enctype="multipart/form-data"' in response.text  # the form, to fix and resend
    await _nothing_saved(showcase.ids["delivered"])


async def test_an_upload_over_the_total_is_refused_before_it_is_read(client, showcase):
    number = showcase.number("delivered")
    await signed_in(client, number)
    token, lines = await _form(client, number)
    (field, _), = lines.items()
    huge = [(f"p{n}.jpg", JPEG[:4] + b"\x00" * (2 * 1024 * 1024 + 300_000), "image/jpeg") for n in range(5)]
    response = await _post(client, number, {"csrf": token, field: "1", "kind": "refund_only", "reason": "damaged"}, huge)
    assert response.status_code == 413 and "上传的内容太大" in response.text

    async def chunks():  # no Content-Length: counted while it streams
        yield b"--x\r\nContent-Disposition: form-data; name=\"photos\"; filename=\"a.jpg\"\r\n\r\n"
        for _ in range(12):
            yield b"\x00" * (1024 * 1024)

    streamed = await client.post(f"/track/{number}/return", content=chunks(),
                                 headers={"content-type": "multipart/form-data; boundary=x"})
    assert streamed.status_code == 413 and "上传的内容太大" in streamed.text
    await _nothing_saved(showcase.ids["delivered"])


async def test_a_visitor_without_a_session_is_sent_to_the_look_up(site_app, showcase, world):
    number = showcase.number("delivered")
    async with browser_like(site_app) as stranger:
        form = await stranger.get(f"/track/{number}/return")
        assert form.status_code == 303 and form.headers["location"] == f"/track?order={number}"
        token = csrf_of((await stranger.get("/track")).text)
        line = await OrderLine.filter(order_id=showcase.ids["delivered"]).first()
        response = await _post(stranger, number, {"csrf": token, f"qty-{line.id}": "1", "kind": "refund_only",
                                                  "reason": "damaged"}, [("a.jpg", JPEG, "image/jpeg")])
        assert response.status_code == 303 and response.headers["location"] == f"/track?order={number}"
    rival = await make_world("rival")
    await set_branding(rival.tenant.id, name="对手茶庄")
    async with browser_like(site_app) as other_shop:  # a session at another shop opens nothing here
        await signed_in(other_shop, showcase.number("packed"))
        response = await other_shop.get(f"/track/rival/{number}/return")
        assert response.status_code == 303
    await _nothing_saved(showcase.ids["delivered"])


async def test_a_stale_or_cross_site_form_is_refused(client, showcase):
    number = showcase.number("delivered")
    await signed_in(client, number)
    _, lines = await _form(client, number)
    (field, _), = lines.items()
    response = await _post(client, number, {"csrf": "forged", field: "1", "kind": "refund_only", "reason": "damaged"})
    assert response.status_code == 403 and "页面已过期" in response.text
    token, _ = await _form(client, number)
    cross = await _post(client, number, {"csrf": token, field: "1", "kind": "refund_only", "reason": "damaged"},
                        headers={"origin": "https://evil.example", "sec-fetch-site": "cross-site"})
    assert cross.status_code == 403
    await _nothing_saved(showcase.ids["delivered"])


async def test_orders_that_have_not_arrived_cannot_be_returned(client, showcase):
    number = showcase.number("in_transit")
    page = await signed_in(client, number)
    assert f"/track/{number}/return" not in page.text
    form = await client.get(f"/track/{number}/return")
    assert form.status_code == 409 and "签收后才可申请" in form.text and "multipart" not in form.text
    line = await OrderLine.filter(order_id=showcase.ids["in_transit"]).first()
    response = await _post(client, number, {"csrf": csrf_of(page.text), f"qty-{line.id}": "1", "kind": "refund_only",
                                            "reason": "damaged"})
    assert response.status_code == 409
    await _nothing_saved(showcase.ids["in_transit"])


async def test_return_requests_are_limited_per_address(client, showcase, monkeypatch):
    monkeypatch.setattr(return_pages, "RETURNS_PER_IP", (2, 3600))
    number = showcase.number("delivered")
    await signed_in(client, number)
    token, lines = await _form(client, number)
    (field, _), = lines.items()
    data = {"csrf": token, field: "1", "kind": "refund_only", "reason": ""}
    for _ in range(2):
        assert (await _post(client, number, data)).status_code == 422
    limited = await _post(client, number, {**data, "reason": "damaged"})
    assert limited.status_code == 429 and "提交过于频繁" in limited.text and int(limited.headers["retry-after"]) > 0
    await _nothing_saved(showcase.ids["delivered"])


async def test_confirm_and_rate_are_limited_per_address_too(client, showcase, monkeypatch):
    from public_tracking import handlers

    monkeypatch.setattr(handlers, "ACTIONS_PER_IP", (1, 600))
    number = showcase.number("delivered")
    page = await signed_in(client, number)
    token = csrf_of(page.text)
    first = await client.post(f"/track/{number}/rate", data={"csrf": token, "rating": "9", "back": "/track"})
    assert "error=action" in first.headers["location"]
    limited = await client.post(f"/track/{number}/confirm", data={"csrf": token, "back": "/track"})
    assert "error=limited" in limited.headers["location"]
    assert "尝试次数过多" in _card((await client.get(limited.headers["location"])).text, number)
    assert (await Order.get(id=showcase.ids["delivered"])).status == OrderStatus.DELIVERED


async def test_after_sale_changes_reach_open_pages():
    assert relevant({"type": "after_sale.refunded", "tenant_id": 1, "order_id": 7}, 1, {7})
    assert not relevant({"type": "after_sale.refunded", "tenant_id": 2, "order_id": 7}, 1, {7})


# what the customer noticed ---------------------------------------------------------------------


async def test_confirm_receipt_waits_for_the_door_and_asks_twice(client, showcase, world):
    number = showcase.number("in_transit")
    page = await signed_in(client, number)
    card = _card(page.text, number)
    assert f"/track/{number}/confirm" not in card and "确认收货" not in card
    assert "包裹开始派送或签收后，即可在这里确认收到" in card
    refused = await client.post(f"/track/{number}/confirm", data={"csrf": csrf_of(page.text), "back": "/track"})
    assert "error=action" in refused.headers["location"]
    assert (await Order.get(id=showcase.ids["in_transit"])).status == OrderStatus.SHIPPED

    shipment = await Shipment.get(order_id=showcase.ids["in_transit"])
    carrier = world.actor(Role.SERVICE, source="carrier")
    await fulfilment.record_tracking(carrier, shipment.id, ShipmentStatus.OUT_FOR_DELIVERY, datetime.now(UTC), description="派送中")
    card = _card((await client.get("/track")).text, number)
    # a first tap opens the question, only the second (the form's own button) posts
    assert re.search(r'<details class="confirm">\s*<summary class="btn">确认收货</summary>\s*<form method="post" '
                     rf'action="/track/{number}/confirm">\s*<p>请确认已收到全部商品。', card)
    assert '<button class="btn" type="submit">是的，我已收到</button>' in card
    done = await client.post(f"/track/{number}/confirm", data={"csrf": csrf_of(card), "back": "/track"})
    assert "done=confirmed" in done.headers["location"]
    assert (await Order.get(id=showcase.ids["in_transit"])).status == OrderStatus.COMPLETED


async def test_the_thank_you_is_in_the_card_and_the_customers_own_actions_stand_apart(client, showcase):
    number = showcase.number("delivered")
    page = await signed_in(client, number)
    done = await client.post(f"/track/{number}/confirm", data={"csrf": csrf_of(_card(page.text, number)), "back": "/track"})
    after = await client.get(done.headers["location"])
    card = _card(after.text, number)
    head = card.index(f'id="h-{number}"')
    assert card.index('role="status">已确认收货，感谢您的购买！') - head < 200  # right under the card's heading
    assert '<p class="note ok" role="status">' not in after.text[: after.text.index("<article")]  # not only at the top
    await client.post(f"/track/{number}/rate", data={"csrf": csrf_of(card), "rating": "4", "comment": "茶香很好 <b>包装</b>稍有压痕",
                                                     "back": "/track"})
    card = _card((await client.get("/track")).text, number)
    timeline = _timeline(card)
    mine = _mine(card)
    for own in ("您已确认收货", "您评价了 4 星"):
        assert own in mine and own not in timeline
    assert "已签收" in timeline and "已签收" not in mine
    assert '<q class="said">茶香很好 &lt;b&gt;包装&lt;/b&gt;稍有压痕</q>' in mine  # shown back, escaped
    assert "★★★★☆" in mine


class _Unmarked(HTMLParser):
    """Collects Chinese text that is not inside an element marked ``lang="zh…"`` (skipping title, style, script)."""

    VOID = {"br", "img", "input", "meta", "link", "hr"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        lang = dict(attrs).get("lang") or ""
        self.stack.append((tag, lang.startswith("zh") or tag in ("title", "style", "script")))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if CJK.search(data) and not any(marked for _, marked in self.stack):
            self.found.append(data.strip())


async def test_the_english_page_translates_every_fixed_word(site_app, showcase, world):
    await _delivered(world, showcase)
    async with browser_like(site_app, lang="en-GB,en;q=0.9") as http:
        page = await signed_in(http, showcase.number("delivered"))
        number = showcase.number("delivered")
        token, lines = await _form(http, number)
        (field, _), = lines.items()
        await _post(http, number, {"csrf": token, field: "1", "kind": "refund_only", "reason": "quality"})
        await http.post(f"/track/{number}/confirm", data={"csrf": csrf_of(page.text), "back": "/track"})
        await http.post(f"/track/{number}/rate", data={"csrf": csrf_of(page.text), "rating": "5", "comment": "很好"})
        for path in ("/track", f"/track/{number}", f"/track/{showcase.number('in_transit')}/return"):
            html = (await http.get(path)).text
            checker = _Unmarked()
            checker.feed(html)
            assert checker.found == [], (path, checker.found)
        html = (await http.get("/track")).text
        card = _card(html, number)
        assert ">Order complete</h2>" in card and "Delivered" in card and "Tracking details" in card
        assert "You confirmed receipt" in card and "You rated it 5 stars" in card and "You asked for a refund only" in card
        assert "Refund only</b> · " in card
        assert '<small class="orig">Carrier&#39;s note, in Chinese</small> <span lang="zh-CN">已签收' in card
        moving = _card(html, showcase.number("in_transit"))
        assert ">Delivered</h2>" in moving and "Return, refund or exchange" in moving


# the shop's contact link -----------------------------------------------------------------------


async def test_the_contact_link_shows_only_when_the_shop_set_one(site_app, showcase, db):
    rival = await make_world("rival")
    async with browser_like(site_app) as http:
        acme = await http.get("/track")
        assert '<a class="contact" href="https://qingming-tea.example.com/service" rel="noopener noreferrer">联系商家</a>' in acme.text
        assert 'class="contact"' not in (await http.get("/track/rival")).text
        await set_branding(rival.tenant.id, contact_url="tel:400-820-8820")
        site_app.state.tracking._tenants.clear()  # the page caches brands for half a minute
        assert '<a class="contact" href="tel:400-820-8820"' in (await http.get("/track/rival")).text
        english = await http.get("/track/rival", params={"lang": "en"})
        assert ">Contact the shop</a>" in english.text
    for bad in ("javascript:alert(1)", "http://plain.example", 'https://x/"onmouseover="x', "data:text/html,hi"):
        assert safe_contact_url(bad) is None
        with pytest.raises(ValidationFailed):
            await set_branding(rival.tenant.id, contact_url=bad)
    assert (await Tenant.get(id=rival.tenant.id)).contact_url == "tel:400-820-8820"
    await set_branding(rival.tenant.id, contact_url="")
    assert (await Tenant.get(id=rival.tenant.id)).contact_url == ""


def _cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env={**os.environ, "DATABASE_URL": database_url},
                          capture_output=True, text=True, timeout=120)


async def test_tenants_get_their_contact_link_from_the_cli(db):
    made = await asyncio.to_thread(_cli, "tenants", "create", "tea-house", "Tea House", "--contact-url",
                                   "https://tea.example.com/help", database_url=db)
    assert made.returncode == 0, made.stderr
    assert (await Tenant.get(slug="tea-house")).contact_url == "https://tea.example.com/help"
    bad = await asyncio.to_thread(_cli, "tenants", "create", "bad-house", "Bad", "--contact-url", "javascript:x", database_url=db)
    assert bad.returncode == 2 and "contact URL" in bad.stderr
    assert not await Tenant.exists(slug="bad-house")  # refused whole: no tenant without its link
    changed = await asyncio.to_thread(_cli, "tenants", "brand", "tea-house", "--contact-url", "mailto:help@tea.example.com",
                                      database_url=db)
    assert changed.returncode == 0, changed.stderr
    assert (await Tenant.get(slug="tea-house")).contact_url == "mailto:help@tea.example.com"


# the first view stays light ----------------------------------------------------------------------


async def test_the_return_forms_script_and_style_load_only_with_the_form(client, showcase):
    first = await client.get("/track")
    renderer = client._transport.app.state.tracking.renderer
    marker_js, marker_css = "setCustomValidity", ".kinds label"
    assert marker_js in renderer.returns_js and marker_css in renderer.returns_css
    assert marker_js not in first.text and marker_css not in first.text
    number = showcase.number("delivered")
    orders = await signed_in(client, number)
    assert marker_js not in orders.text and marker_css not in orders.text
    form = await client.get(f"/track/{number}/return")
    assert marker_js in form.text and marker_css in form.text
    nonce = re.search(r'<script nonce="([^"]+)">', form.text).group(1)
    assert form.text.count(f'nonce="{nonce}"') == 4  # two styles, two scripts: all under the page's CSP nonce
