"""The tracking page in a real Chromium at phone size, against a real uvicorn server."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime

import pytest
from playwright.async_api import expect

from domain.actor import Actor, Role
from domain.orders import fulfilment
from domain.statuses import OrderStatus, ShipmentStatus
from models import Order, OrderFeedback, Shipment
from tests.browser.conftest import DOCS, Site, phone, shot

pytestmark = pytest.mark.browser
PHONE = "13812345678"
NAME = "陈晓明"


async def _look_up(page, site: Site, order: str, last4: str = "5678") -> None:  # noqa: ANN001
    await page.goto(f"{site.base}/track")
    await page.get_by_label("订单号", exact=True).fill(order)
    await page.get_by_label("收货手机号后 4 位").fill(last4)
    await page.get_by_role("button", name="查询").click()


async def test_look_up_follow_live_confirm_and_rate(site: Site, browser, carrier_db):  # noqa: ANN001
    context = await phone(browser)
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.base)
    page = await context.new_page()
    await page.goto(f"{site.base}/track")
    await expect(page.get_by_role("heading", name="我的包裹到哪了？")).to_be_visible()
    await shot(page, "01-lookup")

    moving = site.number("in_transit")
    await _look_up(page, site, moving)
    card = page.locator(f"#card-{moving}")
    await expect(card.get_by_role("heading", name="运输中")).to_be_visible()
    await expect(page.locator(f"#card-{site.number('delivered')}")).to_be_visible()  # all their orders, every channel
    await expect(page.locator(f"#card-{site.number('packed')}")).to_be_visible()
    await expect(card.locator("li.cur b")).to_have_text("运输中")
    await expect(card.locator('li[aria-current="step"]')).to_have_text("运输中")
    await expect(card.locator(".tn")).to_have_text("SF1428857306914")
    body = await page.content()
    assert "138****5678" in body and "陈*" in body and PHONE not in body and NAME not in body
    await expect(page.locator("#live")).to_have_class("live on", timeout=10_000)  # the event stream is open
    await shot(page, "02-orders")

    await card.get_by_role("button", name="复制 运单号 SF1428857306914").click()
    await expect(page.locator("#toast")).to_have_text("已复制")
    assert await page.evaluate("navigator.clipboard.readText()") == "SF1428857306914"

    shipment = await Shipment.get(order_id=site.ids["in_transit"])
    carrier = Actor(tenant_id=site.tenant_id, role=Role.SERVICE, name="kdniao", source="carrier")
    await fulfilment.record_tracking(
        carrier, shipment.id, ShipmentStatus.OUT_FOR_DELIVERY, datetime.now(UTC),
        description="【杭州西湖区】快递员 李师傅 正在派件", location="杭州",
    )
    await expect(card.get_by_role("heading", name="派送中，请保持电话畅通")).to_be_visible(timeout=15_000)
    card = page.locator(f"#card-{moving}")
    await expect(card.locator("li.cur")).to_contain_text("李师傅 正在派件")
    await expect(card.locator('li[aria-current="step"]')).to_have_text("派送中")
    await page.wait_for_timeout(1700)  # let the highlight fade for the picture
    await shot(page, "03-live-update")
    one = await context.new_page()  # the one-order page, top of the screen: what the README shows
    await one.goto(f"{site.base}/track/{moving}")
    await expect(one.locator("#live")).to_have_class("live on", timeout=10_000)
    picture = await shot(one, "09-one-order")
    if os.environ.get("REFRESH_SCREENSHOT"):  # `REFRESH_SCREENSHOT=1 make test` renews the README's picture
        DOCS.mkdir(exist_ok=True)
        shutil.copy(picture, DOCS / "tracking.png")
    await one.close()

    arrived = page.locator(f"#card-{site.number('delivered')}")
    await arrived.locator("summary", has_text="确认收货").click()  # a first tap asks ...
    await arrived.get_by_role("button", name="是的，我已收到").click()  # ... the second confirms
    await expect(page.get_by_text("已确认收货，感谢您的购买！")).to_be_visible()
    arrived = page.locator(f"#card-{site.number('delivered')}")
    await expect(arrived.get_by_role("heading", name="订单已完成")).to_be_visible()
    await arrived.locator("label[title='5 星']").click()
    await arrived.get_by_label("留言（选填）").fill("茶很香，包装也很用心")
    await arrived.get_by_role("button", name="提交评价").click()
    await expect(page.get_by_text("感谢您的评价！")).to_be_visible()
    await expect(page.locator(f"#card-{site.number('delivered')} .shown")).to_have_text("★★★★★")
    await shot(page, "04-confirmed-and-rated")
    assert (await Order.get(id=site.ids["delivered"])).status == OrderStatus.COMPLETED
    feedback = await OrderFeedback.get(order_id=site.ids["delivered"])
    assert (feedback.rating, feedback.comment) == (5, "茶很香，包装也很用心")
    await context.close()


async def test_switch_language(site: Site, browser):  # noqa: ANN001
    context = await phone(browser)
    page = await context.new_page()
    await _look_up(page, site, site.number("packed"))
    await expect(page.get_by_role("heading", name="仓库正在备货")).to_be_visible()
    await page.get_by_role("link", name="English").click()
    await expect(page.get_by_role("heading", name="Being packed")).to_be_visible()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await shot(page, "05-english")
    await page.goto(f"{site.base}/track")  # the choice sticks
    await expect(page.get_by_role("heading", name="My orders")).to_be_visible()
    await page.get_by_role("link", name="中文").click()
    await expect(page.get_by_role("heading", name="我的订单")).to_be_visible()
    await context.close()
    english = await phone(browser, locale="en-US")
    page = await english.new_page()
    await page.goto(f"{site.base}/track")
    await expect(page.get_by_role("heading", name="Where is my parcel?")).to_be_visible()
    await english.close()


async def test_rate_limit_then_the_sms_code_route(site: Site, browser):  # noqa: ANN001
    context = await phone(browser)
    page = await context.new_page()
    for _ in range(5):
        await _look_up(page, site, site.number("packed"), "0000")
        await expect(page.get_by_role("alert")).to_have_text("没有找到匹配的订单。请核对订单号和手机号后 4 位后重试。")
    await _look_up(page, site, site.number("packed"), "5678")  # right digits, but the order number is locked now
    await expect(page.get_by_role("alert")).to_contain_text("只能通过手机验证码查询")
    await expect(page.get_by_label("手机号")).to_be_visible()
    await shot(page, "06-rate-limited")
    await page.get_by_label("手机号").fill(PHONE)
    seen = len(site.codes())
    await page.get_by_role("button", name="获取验证码").click()
    await expect(page.get_by_text("验证码已发送至 138****5678")).to_be_visible()
    await page.get_by_label("6 位验证码").fill(site.next_code(seen))
    await page.get_by_role("button", name="验证并查看订单").click()
    await expect(page.get_by_role("heading", name="我的订单")).to_be_visible()
    await expect(page.locator(f"#card-{site.number('packed')}")).to_be_visible()
    await shot(page, "07-signed-in-by-code", full_page=True)
    await context.close()
    log = site.log_text()
    assert PHONE not in log and PHONE[-8:] not in log and NAME not in log


async def test_works_without_javascript(site: Site, browser):  # noqa: ANN001
    context = await phone(browser, javascript=False)
    page = await context.new_page()
    await _look_up(page, site, site.number("in_transit"))
    card = page.locator(f"#card-{site.number('in_transit')}")
    await expect(card.locator("details.tl li").first).to_be_visible()
    await expect(card.locator(".tn")).to_have_text("SF1428857306914")
    await expect(card.get_by_role("button", name="复制 运单号 SF1428857306914")).to_be_hidden()  # a script-only nicety
    await shot(page, "08-no-javascript")
    await context.close()


async def test_first_view_weight(site: Site, browser):  # noqa: ANN001
    context = await phone(browser)
    page = await context.new_page()
    sizes: list[int] = []

    async def count(request) -> None:  # noqa: ANN001
        if request.resource_type != "image":
            measured = await request.sizes()
            sizes.append(measured["responseBodySize"] + measured["responseHeadersSize"])

    page.on("requestfinished", count)
    await page.goto(f"{site.base}/track", wait_until="networkidle")
    assert len(sizes) == 1 and sizes[0] < 60_000  # one response, the HTML with its CSS and script inline
    assert sizes[0] < 12_000  # compressed on the wire
    await context.close()
