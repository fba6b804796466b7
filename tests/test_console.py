"""The operations console over plain HTTP: signing in, lockout, CSRF, expiry, and the API's rules seen by people.

Every test drives the real app in-process (``app`` fixture, SQLite and
PostgreSQL); the console executes GraphQL against the real schema as the
signed-in person, so these also prove that permissions and masking are the API's.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from console.accounts import create_user, sign_in
from domain.actor import Role
from domain.errors import Duplicate, ValidationFailed
from models import Alert, ConsoleSession, ConsoleUser
from resolvers import ids
from tests.helpers import paid_order

PASSWORD = "correct horse battery"
HOLD = "mutation($i: HoldOrderInput!) { holdOrder(input: $i) { errors { code } } }"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
async def browser(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client


async def person(world: Any, role: Role, email: str | None = None) -> ConsoleUser:
    return await create_user("acme", email or f"{role.value}@acme.test", f"Test {role.value.title()}", role, PASSWORD)


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


async def try_sign_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    form = await client.get("/console/sign-in")
    return await client.post("/console/sign-in", data={"csrf": csrf_of(form), "email": email, "password": password})


async def signed_in(client: httpx.AsyncClient, user: ConsoleUser) -> str:
    """Sign ``user`` in on ``client``; the session's CSRF token (from the board's forms)."""
    answer = await try_sign_in(client, user.email, PASSWORD)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/board", answer.text[:300]
    cookie = answer.headers["set-cookie"]
    assert "og_console=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    return csrf_of(await client.get("/console/board"))


async def held_order(world: Any, gql: Any, external_id: str = "C-1") -> tuple[Any, str]:
    """A paid order put on hold (which raises an ORDER_HELD alert); the order and the alert's id."""
    order = await paid_order(world.actor(), world.channel.id, external_id)
    result = await gql(world.keys["ops"], HOLD, {"i": {"id": ids.encode("Order", order.id), "reasons": ["address check"]}})
    assert result["holdOrder"]["errors"] == []
    alert = await Alert.get(order_id=order.id)
    return order, ids.encode("Alert", alert.id)


async def test_wrong_password_and_unknown_email_get_one_answer_then_the_account_locks(world, browser, caplog):
    user = await person(world, Role.OPS)
    caplog.set_level(logging.DEBUG)
    nobody = f"nobody-{uuid.uuid4().hex[:8]}@acme.test"  # unknown emails are counted per process
    wrong = await try_sign_in(browser, user.email, "not the password")
    unknown = await try_sign_in(browser, nobody, "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong email or password." in wrong.text or "邮箱或密码不正确" in wrong.text
    body = re.compile(r'<main>.*</main>', re.S)
    assert body.search(wrong.text).group(0) == body.search(unknown.text).group(0).replace(nobody, user.email)
    for _ in range(4):  # five wrong passwords in a row
        assert (await try_sign_in(browser, user.email, "still wrong")).status_code == 401
    locked = await try_sign_in(browser, user.email, PASSWORD)  # the 6th attempt: refused although right
    assert locked.status_code == 429 and "锁定" in locked.text
    assert "og_console=" not in locked.headers.get("set-cookie", "")
    row = await ConsoleUser.get(id=user.id)
    assert row.locked_until is not None and row.locked_until > datetime.now(UTC) + timedelta(minutes=14)
    for _ in range(4):
        await try_sign_in(browser, nobody, "x")
    assert (await try_sign_in(browser, nobody, "x")).status_code == 429  # unknown emails lock the same way
    await ConsoleUser.filter(id=user.id).update(locked_until=datetime.now(UTC) - timedelta(seconds=1))
    assert (await sign_in(user.email, PASSWORD)).user is not None  # the lock ends after its time
    logged = caplog.text
    assert PASSWORD not in logged and "not the password" not in logged and user.email not in logged


async def test_posts_without_the_csrf_token_are_refused(world, gql, browser):
    user = await person(world, Role.OPS)
    _, alert_id = await held_order(world, gql)
    no_form = await browser.post("/console/sign-in", data={"email": user.email, "password": PASSWORD})
    assert no_form.status_code == 403 and "og_console=" not in no_form.headers.get("set-cookie", "")
    token = await signed_in(browser, user)
    missing = await browser.post("/console/board/act", data={"action": "resolve", "id": alert_id, "resolution": "x"})
    forged = await browser.post("/console/board/act", data={"action": "resolve", "id": alert_id, "resolution": "x",
                                                           "csrf": token[:-2] + "xx"})
    cross = await browser.post("/console/board/act", data={"action": "resolve", "id": alert_id, "resolution": "x",
                                                          "csrf": token}, headers={"origin": "https://evil.example"})
    assert missing.status_code == forged.status_code == cross.status_code == 403
    assert (await Alert.filter(state="resolved").count()) == 0
    signed_out = await browser.post("/console/sign-out", data={})
    assert signed_out.status_code == 403  # signing out is a POST like any other
    ok = await browser.post("/console/board/act", data={"action": "resolve", "id": alert_id, "resolution": "called the buyer",
                                                       "csrf": token})
    assert ok.status_code == 303 and ok.headers["location"].endswith("done=resolve")
    alert = await Alert.get(state="resolved")
    assert alert.resolution == "called the buyer" and alert.resolved_by == "Test Ops <ops@acme.test> (console)"


async def test_an_expired_session_goes_back_to_sign_in(world, browser):
    user = await person(world, Role.OPS)
    await signed_in(browser, user)
    assert (await browser.get("/console/board")).status_code == 200
    await ConsoleSession.filter(user_id=user.id).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    answer = await browser.get("/console/board")
    assert answer.status_code == 303 and answer.headers["location"] == "/console/sign-in?expired=1"
    assert await ConsoleSession.filter(user_id=user.id).count() == 0
    page = await browser.get("/console/sign-in?expired=1", headers={"accept-language": "en"})
    assert "Your session has expired" in page.text
    never = await browser.get("/console/orders")
    assert never.status_code == 303 and never.headers["location"].startswith("/console/sign-in")


async def test_a_role_that_may_not_resolve_sees_the_apis_refusal(world, gql, browser):
    auditor = await person(world, Role.AUDITOR)
    _, alert_id = await held_order(world, gql)
    token = await signed_in(browser, auditor)
    board = await browser.get("/console/board")
    assert board.status_code == 200 and "order.held" in board.text
    answer = await browser.post("/console/board/act", data={"action": "resolve", "id": alert_id,
                                                           "resolution": "not mine to close", "csrf": token},
                                headers={"accept-language": "en"})
    assert answer.status_code == 403
    assert "Not done:" in answer.text and 'role="alert"' in answer.text
    assert (await Alert.filter(state="resolved").count()) == 0


async def test_personal_data_is_masked_for_roles_that_may_not_see_it(world, browser):
    order = await paid_order(world.actor(), world.channel.id, "PII-1", phone="13912345678")
    number = f"OG{order.id:09d}"
    finance = await person(world, Role.FINANCE)
    await signed_in(browser, finance)
    page = await browser.get(f"/console/orders/{number}")
    assert page.status_code == 200 and number in page.text
    assert "13912345678" not in page.text and "李四" not in page.text and "世纪大道" not in page.text
    assert "5678" in page.text  # masked, not dropped
    found = await browser.get("/console/orders", params={"q": number})
    assert f"/console/orders/{number}" in found.text and "13912345678" not in found.text
    async with httpx.AsyncClient(transport=browser._transport, base_url="http://test") as other:
        await signed_in(other, await person(world, Role.OPS))
        clear = await other.get(f"/console/orders/{number}")
    assert "13912345678" in clear.text and "李四" in clear.text


async def test_order_page_shows_lines_lineage_and_payments(world, gql, browser):
    order, _ = await held_order(world, gql, "DETAIL-1")
    await signed_in(browser, await person(world, Role.OPS))
    page = await browser.get(f"/console/orders/OG{order.id:09d}", headers={"accept-language": "en"})
    assert page.status_code == 200
    assert "ON_HOLD" in page.text and "TEA-001" in page.text and "wechatpay" in page.text
    assert "Timeline" in page.text and "address check" in page.text and "test-ops" in page.text
    missing = await browser.get("/console/orders/OG999999999")
    assert missing.status_code == 404


async def test_status_map_edit_is_for_admins(world, browser):
    admin = await person(world, Role.ADMIN)
    token = await signed_in(browser, admin)
    page = await browser.get("/console/status-maps?table=taobao")
    assert page.status_code == 200 and "WAIT_SELLER_SEND_GOODS" in page.text
    saved = await browser.post("/console/status-maps", data={
        "csrf": token, "table": "taobao", "code": "SELLER_CONSIGNED_PART", "order": "PARTIALLY_SHIPPED", "reason": "console test"})
    assert saved.status_code == 303 and "saved=1" in saved.headers["location"]
    after = await browser.get(saved.headers["location"], headers={"accept-language": "en"})
    assert "Saved as version 1" in after.text and "console test" in after.text
    async with httpx.AsyncClient(transport=browser._transport, base_url="http://test") as other:
        ops_token = await signed_in(other, await person(world, Role.OPS))
        refused = await other.post("/console/status-maps", data={"csrf": ops_token, "table": "taobao", "code": "X", "order": "PAID"})
    assert refused.status_code == 403 and "操作未成功" in refused.text


async def test_report_draws_the_apis_figures_and_says_what_is_missing(world, gql, browser):
    _, alert_id = await held_order(world, gql, "R-1")
    token = await signed_in(browser, await person(world, Role.ADMIN))
    before = await browser.get("/console/report?days=7", headers={"accept-language": "en"})
    assert before.text.count('<svg class="chart"') == 2  # nothing acknowledged yet: that chart says so, no zero bars
    acked = await browser.post("/console/board/act", data={"action": "acknowledge", "id": alert_id, "csrf": token})
    assert acked.status_code == 303
    page = await browser.get("/console/report?days=7", headers={"accept-language": "en"})
    assert page.status_code == 200
    assert page.text.count('<svg class="chart"') == 3  # orders and alerts per day, time to acknowledge
    assert "<title>" in page.text and "Alerts raised per day" in page.text
    assert "Orders created per day" in page.text and "Stock accuracy: <em>Not available yet</em>" in page.text
    assert "<script" not in page.text


async def test_console_pages_are_self_contained(world, browser):
    await signed_in(browser, await person(world, Role.OPS))
    board = await browser.get("/console/board")
    assert "default-src 'none'" in board.headers["content-security-policy"]
    assert re.findall(r'(?:src|href)="(https?:)?//', board.text) == []  # nothing from another host
    css = await browser.get("/console/static/console.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    for page in ("/console/webhooks", "/console/rules", "/console/stock", "/console/channels", "/console/policy"):
        assert f'href="{page}"' in board.text  # every capability has its page now
    assert (await browser.get("/console/later/nothing")).status_code == 404


async def test_accounts_refuse_bad_input(world):
    await person(world, Role.OPS, "li@acme.test")
    with pytest.raises(Duplicate):
        await create_user("acme", "LI@acme.test", "Li again", Role.OPS, PASSWORD)
    with pytest.raises(ValidationFailed):
        await create_user("acme", "new@acme.test", "New", Role.OPS, "short")
    with pytest.raises(ValidationFailed):
        await create_user("acme", "new@acme.test", "New", "boss", PASSWORD)
    stored = await ConsoleUser.get(email="li@acme.test")
    assert stored.password_hash.startswith("$argon2id$") and PASSWORD not in stored.password_hash
