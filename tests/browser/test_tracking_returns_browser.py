"""Issue 16 on the tracking page, in a real Chromium at phone size against a real uvicorn server.

A customer returns one line with a photo and sees it on the timeline; confirm
receipt is not offered while the parcel is on its way and takes a second tap;
the English page translates statuses; the shop's contact link shows when set.
"""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from domain.tenants.accounts import create_tenant
from models import AfterSale, AfterSalePhoto, Order
from tests.browser.conftest import Site, phone, shot

pytestmark = pytest.mark.browser
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 4096
CONTACT = "https://qingming-tea.example.com/service"


async def _look_up(page, site: Site, order: str, *, english: bool = False) -> None:  # noqa: ANN001
    await page.goto(f"{site.base}/track")
    await page.get_by_label("Order number" if english else "订单号", exact=True).fill(order)
    await page.get_by_label("Last 4 digits of your phone" if english else "收货手机号后 4 位").fill("5678")
    await page.get_by_role("button", name="Track" if english else "查询", exact=True).click()


async def test_confirm_receipt_is_not_offered_in_transit_and_needs_a_second_tap(site: Site, browser, carrier_db):  # noqa: ANN001
    context = await phone(browser)
    page = await context.new_page()
    await _look_up(page, site, site.number("in_transit"))
    moving = page.locator(f"#card-{site.number('in_transit')}")
    await expect(moving.get_by_role("heading", name="运输中")).to_be_visible()
    await expect(moving.get_by_text("确认收货")).to_have_count(0)
    await expect(moving.get_by_text("包裹开始派送或签收后，即可在这里确认收到。")).to_be_visible()

    arrived = page.locator(f"#card-{site.number('delivered')}")
    await expect(arrived.get_by_role("button", name="是的，我已收到")).to_be_hidden()  # the question is folded away
    await arrived.locator("summary", has_text="确认收货").click()
    await expect(arrived.get_by_text("请确认已收到全部商品。确认后订单完成，不能撤销。")).to_be_visible()
    assert (await Order.get(id=site.ids["delivered"])).status == "DELIVERED"  # one tap changed nothing
    await shot(page, "10-confirm-asks")
    await arrived.get_by_role("button", name="是的，我已收到").click()

    thanks = page.locator(f"#flash-{site.number('delivered')}")
    await expect(thanks).to_have_text("已确认收货，感谢您的购买！")
    await expect(thanks).to_be_in_viewport()  # where the customer is looking, not at the top of a long page
    arrived = page.locator(f"#card-{site.number('delivered')}")
    await expect(arrived.get_by_role("heading", name="订单已完成")).to_be_visible()
    mine = arrived.locator("section.mine")
    await expect(mine.get_by_role("heading", name="我的操作")).to_be_visible()
    await expect(mine).to_contain_text("您已确认收货")
    await arrived.locator("label[title='4 星']").click()
    await arrived.get_by_label("留言（选填）").fill("包装很用心")
    await arrived.get_by_role("button", name="提交评价").click()
    arrived = page.locator(f"#card-{site.number('delivered')}")
    await expect(arrived.locator("section.mine q.said")).to_have_text("包装很用心")  # the comment, shown back
    await expect(arrived.locator("details.tl")).not_to_contain_text("包装很用心")  # apart from the carrier's scans
    await shot(page, "11-confirmed-thanks-and-actions")
    assert (await Order.get(id=site.ids["delivered"])).status == "COMPLETED"
    await context.close()


async def test_a_customer_returns_one_line_with_a_photo_and_sees_it_on_the_timeline(site: Site, browser, carrier_db):  # noqa: ANN001
    context = await phone(browser)
    page = await context.new_page()
    await _look_up(page, site, site.number("delivered"))
    number = site.number("delivered")
    await page.locator(f"#card-{number}").get_by_role("link", name="申请退货 / 退款 / 换货").click()
    await expect(page.get_by_role("heading", name=f"申请售后 · {number}")).to_be_visible()
    await expect(page.get_by_label("白毫银针礼盒")).to_have_value("1")  # the only line, preselected
    await page.get_by_label("退货退款").check()
    await page.get_by_label("原因").select_option("damaged")
    await page.get_by_label("补充说明").fill("礼盒一角压坏了")

    photos = page.get_by_label("照片（选填）")
    await photos.set_input_files([{"name": "huge.png", "mimeType": "image/png", "buffer": PNG + b"\x00" * (2 * 1024 * 1024)}])
    await expect(page.get_by_role("alert")).to_have_text("照片“huge.png”超过 2 MB，请换一张小一些的。")
    await page.get_by_role("button", name="提交申请").click()  # the browser holds it back: nothing is sent
    await expect(page.get_by_role("heading", name=f"申请售后 · {number}")).to_be_visible()
    assert not await AfterSale.exists(order_id=site.ids["delivered"])
    await photos.set_input_files([{"name": "corner.png", "mimeType": "image/png", "buffer": PNG}])
    await expect(page.locator("#photo-msg")).to_be_hidden()
    await shot(page, "12-return-form", full_page=True)
    await page.get_by_role("button", name="提交申请").click()

    card = page.locator(f"#card-{number}")
    await expect(page.locator(f"#flash-{number}")).to_have_text("售后申请已提交，进度会显示在订单的物流详情中。")
    await expect(page.locator(f"#flash-{number}")).to_be_in_viewport()
    await expect(card.locator("details.tl li.cur b")).to_have_text("退货退款申请已提交，等待商家处理")
    await expect(card.locator("section.sale")).to_contain_text("申请退款 ¥399.00")
    await expect(card.locator("section.mine")).to_contain_text("您申请了退货退款")
    await expect(card.get_by_role("link", name="申请退货 / 退款 / 换货")).to_have_count(0)
    await shot(page, "13-return-on-the-timeline")
    sale = await AfterSale.get(order_id=site.ids["delivered"])
    assert (sale.kind, sale.status, sale.source, sale.reason) == ("return_refund", "REQUESTED", "customer", "damaged: 礼盒一角压坏了")
    photo = await AfterSalePhoto.get(after_sale_id=sale.id)
    assert (photo.content_type, bytes(photo.data)) == ("image/png", PNG)
    await context.close()


async def test_the_english_page_translates_statuses_and_links_the_shop(site: Site, browser, carrier_db):  # noqa: ANN001
    context = await phone(browser, locale="en-US")
    page = await context.new_page()
    await _look_up(page, site, site.number("packed"), english=True)
    await expect(page.get_by_role("heading", name="My orders")).to_be_visible()
    packed = page.locator(f"#card-{site.number('packed')}")
    await expect(packed.get_by_role("heading", name="Being packed")).to_be_visible()
    await expect(packed.locator('li[aria-current="step"]')).to_have_text("Packing")
    moving = page.locator(f"#card-{site.number('in_transit')}")
    await expect(moving.get_by_role("heading", name="On the way")).to_be_visible()
    await moving.locator("details.tl summary").click()
    await expect(moving.locator("details.tl li.cur b")).to_have_text("In transit")
    await expect(moving.locator("details.tl li.cur small.orig")).to_have_text("Carrier's note, in Chinese")
    await expect(moving.locator("details.tl li.cur span[lang='zh-CN']").first).to_contain_text("杭州转运中心")
    contact = page.get_by_role("link", name="Contact the shop")
    await expect(contact).to_have_attribute("href", CONTACT)
    await shot(page, "14-english-translated", full_page=True)
    await context.close()

    await create_tenant("plain-tea", "Plain Tea")  # a shop that set no contact link
    context = await phone(browser)
    page = await context.new_page()
    await page.goto(f"{site.base}/track")
    await expect(page.get_by_role("link", name="联系商家")).to_have_attribute("href", CONTACT)
    await page.goto(f"{site.base}/track/plain-tea")
    await expect(page.get_by_role("heading", name="我的包裹到哪了？")).to_be_visible()
    await expect(page.get_by_role("link", name="联系商家")).to_have_count(0)
    await context.close()
