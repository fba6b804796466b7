"""The operations console in a real Chromium against a real uvicorn server: a person's first shift.

Every request the page makes to anywhere but the server is blocked (and the
test fails if one was attempted): the console needs no CDN. Screenshots go to
``tests/artifacts/console-*.png``; with ``REFRESH_SCREENSHOT=1`` also to
``docs/console/`` (the pictures ``docs/console.md`` shows).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from api.database import tortoise_config
from tests.browser.conftest import DOCS, PHONE_VIEWPORT, _require_chromium, shot, uvicorn_server
from tests.conftest import run_sync

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1280, "height": 800}
LOCKED_EMAIL = "temp.staff@qingming.demo"


@dataclass
class Console:
    base: str
    email: str
    password: str
    held: str  # the number of an order on hold (its alert is on the board)


async def _failed_delivery(tenant_id: int) -> None:
    """A partner endpoint (kept quiet: disabled) whose deliveries of the seeded events failed."""
    from datetime import UTC, datetime, timedelta

    from domain.actor import Actor, Role
    from domain.webhooks import endpoints
    from models import WebhookDelivery

    admin = Actor(tenant_id=tenant_id, role=Role.ADMIN, name="seed", source="test")
    endpoint, _ = await endpoints.register_endpoint(admin, "https://partner.example.com/og-hooks", endpoints.UrlPolicy(),
                                                    description="ERP 对接")
    await endpoints.disable_endpoint(admin, endpoint.id, "partner maintenance")
    now = datetime.now(UTC)
    await endpoints.replay_range(admin, endpoint.id, now - timedelta(days=1), now + timedelta(minutes=1))
    await WebhookDelivery.filter(endpoint_id=endpoint.id).update(status="failed", last_error="HTTP 503 from partner")


async def _seed(database_url: str) -> tuple[str, str, str]:
    from api.seed import ensure_demo_operator, seed_tracking_showcase
    from console.accounts import create_user
    from domain.actor import Actor, Role
    from domain.catalog import setup as catalog
    from domain.orders.holds import hold_order
    from domain.tenants.accounts import create_tenant
    from models import Channel
    from tests.helpers import paid_order

    EXECUTOR_CACHE.clear()
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    try:
        await Tortoise.generate_schemas()
        tenant = await create_tenant("demo", "清茗茶叶 Qingming Tea")
        await catalog.create_warehouse(tenant.id, "SH", "上海青浦仓", province="上海", city="上海")
        ids = await seed_tracking_showcase(tenant.id)
        ops = Actor(tenant_id=tenant.id, role=Role.OPS, name="Wang Fang <wang.fang@qingming.demo>", source="graphql")
        await hold_order(ops, ids["packed"], ["地址待核实 address to confirm"])
        channel = await Channel.filter(tenant_id=tenant.id).order_by("id").first()
        await paid_order(ops, channel.id, "MERGE-1")  # paid, not merged: the merge_suggestion template hits it
        email, password = await ensure_demo_operator("demo")
        await create_user("demo", LOCKED_EMAIL, "Temp Staff", Role.OPS, "temp-staff-password")
        await _failed_delivery(tenant.id)
        return email, password, f"OG{ids['packed']:09d}"
    finally:
        await Tortoise.close_connections()


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    _require_chromium()
    folder = tmp_path_factory.mktemp("console")
    database_url = f"sqlite://{folder / 'console.sqlite3'}"
    email, password, held = run_sync(_seed(database_url))
    log = folder / "server.log"
    try:
        with uvicorn_server(database_url, log) as base:
            yield Console(base, email, password, held)
    finally:
        text = log.read_text(encoding="utf-8", errors="replace")
        assert password not in text and "temp-staff-password" not in text  # passwords are never logged


async def _context(browser: Any, base: str, blocked: list[str], *, mobile: bool = False) -> Any:
    if mobile:
        context = await browser.new_context(viewport=PHONE_VIEWPORT, device_scale_factor=1, is_mobile=True, has_touch=True,
                                            locale="zh-CN")
    else:
        context = await browser.new_context(viewport=DESKTOP, device_scale_factor=1, locale="zh-CN")

    async def only_the_server(route: Any) -> None:
        if route.request.url.startswith(base + "/"):
            await route.continue_()
        else:
            blocked.append(route.request.url)
            await route.abort()

    await context.route("**/*", only_the_server)
    return context


async def _sign_in(page: Any, base: str, email: str, password: str) -> None:
    await page.goto(f"{base}/console")
    await page.get_by_label("邮箱").fill(email)
    await page.get_by_label("密码").fill(password)
    await page.get_by_role("button", name="登录").click()


async def _keep(page: Any, name: str, *, full_page: bool = False) -> None:
    picture = await shot(page, f"console-{name}", full_page=full_page)
    if os.environ.get("REFRESH_SCREENSHOT"):
        (DOCS / "console").mkdir(parents=True, exist_ok=True)
        shutil.copy(picture, DOCS / "console" / f"{name}.png")


async def test_a_shift_in_the_console(console: Console, browser: Any) -> None:
    blocked: list[str] = []
    context = await _context(browser, console.base, blocked)
    page = await context.new_page()

    await _sign_in(page, console.base, LOCKED_EMAIL, "wrong password")
    await expect(page.get_by_role("alert")).to_have_text("邮箱或密码不正确。")
    for _ in range(4):
        await _sign_in(page, console.base, LOCKED_EMAIL, "wrong password")
    await _sign_in(page, console.base, LOCKED_EMAIL, "temp-staff-password")  # the 6th attempt, right but locked
    await expect(page.get_by_role("alert")).to_contain_text("账号已临时锁定")
    await expect(page).to_have_url(f"{console.base}/console/sign-in")

    await _sign_in(page, console.base, console.email, console.password)
    await expect(page.get_by_role("heading", name="异常看板")).to_be_visible()

    await page.get_by_role("link", name="订单", exact=True).click()
    await page.get_by_label("订单号、外部单号或手机号后 4 位").fill(console.held)
    await page.get_by_role("button", name="搜索").click()
    await page.get_by_role("link", name=console.held).click()
    await expect(page.get_by_role("heading", name=console.held)).to_be_visible()
    await expect(page.locator("h1 .chip")).to_have_text("ON_HOLD")
    await expect(page.get_by_role("heading", name="订单轨迹")).to_be_visible()
    await expect(page.locator(".timeline")).to_contain_text("Wang Fang <wang.fang@qingming.demo>")
    await expect(page.locator(".timeline")).to_contain_text("地址待核实")

    await page.get_by_role("link", name="异常看板").click()
    await expect(page.locator("#live-state")).to_have_text("实时更新已开启")  # the self-hosted script's stream is open
    alert = page.locator("li.alert", has=page.get_by_role("link", name=console.held))
    await expect(alert).to_contain_text("OPEN")
    await _keep(page, "board-desktop")
    await alert.get_by_role("button", name="确认").click()
    await expect(page.get_by_role("status")).to_have_text("已确认该异常。")
    alert = page.locator("li.alert", has=page.get_by_role("link", name=console.held))
    await expect(alert).to_contain_text("ACKNOWLEDGED")
    await alert.get_by_placeholder("处理说明").fill("已电话联系买家，地址无误")
    await alert.get_by_role("button", name="解决").click()
    await expect(page.get_by_role("status")).to_have_text("已解决该异常。")
    await expect(page.locator("li.alert", has=page.get_by_role("link", name=console.held))).to_have_count(0)
    await page.get_by_label("状态").select_option("RESOLVED")
    await page.get_by_role("button", name="应用").click()
    await expect(page.locator("li.alert").first).to_contain_text("已电话联系买家，地址无误")
    await expect(page.locator("li.alert").first).to_contain_text("Demo Operator <operator@qingming.demo> (console)")

    await page.get_by_role("link", name="状态映射").click()
    await page.get_by_label("映射表").select_option("taobao")
    await page.get_by_role("button", name="应用").click()
    await page.get_by_role("link", name="编辑 SELLER_CONSIGNED_PART").click()
    await expect(page.get_by_label("平台状态码")).to_have_value("SELLER_CONSIGNED_PART")
    await expect(page.get_by_label("订单状态")).to_have_value("PARTIALLY_SHIPPED")  # the entry as it stands
    await page.get_by_label("订单状态").select_option("SHIPPED")
    await page.get_by_label("原因").fill("部分发货按已发货处理")
    await page.get_by_role("button", name="保存").click()
    await expect(page.get_by_role("status")).to_contain_text("已保存为第 1 版")
    await expect(page.locator("tr.chosen td").nth(1)).to_have_text("SHIPPED PAID")

    await page.get_by_role("link", name="规则", exact=True).click()
    await expect(page.get_by_role("heading", name="业务规则")).to_be_visible()
    await page.locator("#name-merge_suggestion").fill("待合并的已付款订单")
    await page.get_by_role("button", name="用此模板创建 merge_suggestion").click()
    await expect(page.get_by_role("status")).to_have_text("已从模板创建规则（未启用）。")
    await expect(page.locator("#rule h2")).to_contain_text("待合并的已付款订单")
    await page.get_by_label("试运行天数").select_option("7")
    await page.get_by_role("button", name="试运行").click()
    result = page.get_by_role("region", name="试运行结果（最近 7 天）")
    await expect(result).to_contain_text("个订单命中")
    await expect(result).to_contain_text("求值用时")
    await expect(result.locator("table.hits tbody tr").first).to_be_visible()  # the paid showcase orders are hits
    await _keep(page, "rules-desktop", full_page=True)

    await page.get_by_role("link", name="Webhook 日志").click()
    await expect(page.get_by_role("heading", name="Webhook 端点与投递日志")).to_be_visible()
    await expect(page.locator("table.grid").first).to_contain_text("https://partner.example.com/og-hooks")
    failed = page.locator("li.delivery").first
    await expect(failed).to_contain_text("FAILED")
    await expect(failed).to_contain_text("HTTP 503 from partner")
    await failed.get_by_role("button", name="重新投递").click()
    await expect(page.get_by_role("status")).to_have_text("已重新排队投递。")

    await page.get_by_role("link", name="报表").click()
    await expect(page.get_by_role("heading", name="运营报表")).to_be_visible()
    await expect(page.get_by_role("img", name="每日新建订单")).to_be_visible()
    await expect(page.get_by_role("img", name="每日新增异常")).to_be_visible()
    await expect(page.get_by_role("img", name="异常确认用时中位数（分钟）")).to_be_visible()
    await expect(page.locator(".missing")).to_contain_text("库存准确率: 暂未开放")
    await _keep(page, "report-desktop", full_page=True)
    await page.get_by_role("link", name="English").click()
    await expect(page.get_by_role("heading", name="Operations report")).to_be_visible()
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("status")).to_have_text("You are signed out.")
    await context.close()

    mobile = await _context(browser, console.base, blocked, mobile=True)
    page = await mobile.new_page()
    await _sign_in(page, console.base, console.email, console.password)
    await page.goto(f"{console.base}/console/orders/{console.held}")
    await expect(page.get_by_role("heading", name=console.held)).to_be_visible()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_VIEWPORT["width"]  # nothing wider than the phone: tables scroll inside their card
    await _keep(page, "order-mobile")
    await mobile.close()
    assert blocked == []


def test_screenshots_are_small() -> None:
    """The pictures in docs/console/ stay small enough to keep in the repository."""
    pictures = list(Path(DOCS / "console").glob("*.png"))
    assert pictures and all(p.stat().st_size < 400_000 for p in pictures)
