"""Signed links (/track/t/{token}) and one-time SMS codes."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from adapters.sms import HttpSmsSender, SmsError
from adapters.sms.simulator import SmsGatewaySimulator
from domain.tracking import customer as tracking
from domain.tracking.links import mint_order_link, mint_token, read_token
from models import OrderEvent, OtpChallenge
from tests.live_fixtures import serve_asgi
from tests.tracking_support import (  # noqa: F401 - fixtures
    PHONE,
    client,
    csrf_of,
    fresh_csrf,
    showcase,
    site_app,
)

SECRET = "dev-only-tracking-secret-change-me"  # what settings_for() runs with


# links ---------------------------------------------------------------------------


async def test_a_signed_link_opens_one_order_without_a_lookup(client, showcase, world):
    path = await mint_order_link(SECRET, "acme", showcase.number("in_transit"), days=3)
    assert path.startswith("/track/t/") and len(path) < 70  # short enough for an SMS
    page = await client.get(path)
    assert page.status_code == 200
    assert '<details class="tl" open>' in page.text and "SF1428857306914" in page.text
    assert showcase.number("delivered") not in page.text  # one order, not the customer's others
    event = await OrderEvent.filter(order_id=showcase.ids["in_transit"], type="customer.lookup").get()
    assert event.source == "customer" and event.after == {"method": "link"}
    again = await client.get(path)  # a reload does not write lineage again
    assert again.status_code == 200
    assert await OrderEvent.filter(order_id=showcase.ids["in_transit"], type="customer.lookup").count() == 1
    # the session it started covers the order's own page
    assert (await client.get(f"/track/{showcase.number('in_transit')}")).status_code == 200


async def test_expired_and_tampered_links_open_nothing(client, showcase, world):
    expired = mint_token(SECRET, tenant_id=world.tenant.id, order_id=showcase.ids["in_transit"], expires_at=int(time.time()) - 1)
    response = await client.get(f"/track/t/{expired}")
    assert response.status_code == 410 and "该链接已失效" in response.text and "SF1428857306914" not in response.text
    good = mint_token(SECRET, tenant_id=world.tenant.id, order_id=showcase.ids["in_transit"], expires_at=int(time.time()) + 60)
    tenant, order, expiry, signature = good.split(".")
    other_order = f"{tenant}.{showcase.ids['delivered']:x}.{expiry}.{signature}"
    longer = f"{tenant}.{order}.{int(expiry, 16) + 86400:x}.{signature}"
    flipped = f"{tenant}.{order}.{expiry}.{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}"
    wrong_key = mint_token("another-secret-entirely", tenant_id=world.tenant.id, order_id=showcase.ids["in_transit"], expires_at=int(time.time()) + 60)
    for token in (other_order, longer, flipped, wrong_key, "garbage", "1.2.3"):
        response = await client.get(f"/track/t/{token}")
        assert response.status_code == 410, token
        assert "SF1428857306914" not in response.text and "78462201935577" not in response.text


def test_tokens_verify_without_the_database():
    token = mint_token("k", tenant_id=7, order_id=42, expires_at=2_000_000_000)
    grant = read_token("k", token, now=1_999_999_999)
    assert (grant.tenant_id, grant.order_id) == (7, 42)
    assert read_token("k", token, now=2_000_000_001) is None
    assert read_token("other", token, now=0) is None


async def test_the_command_line_mints_a_working_link(client, showcase, db):
    if not db.startswith("sqlite"):
        pytest.skip("the script is exercised once, on the SQLite file the test uses")
    script = Path(__file__).parents[1] / "scripts" / "tracking-link"
    env = {**os.environ, "DATABASE_URL": db, "ORDERGRAPH_TRACKING_TENANT": "acme"}
    env.pop("ORDERGRAPH_TRACKING_SECRET", None)
    result = subprocess.run(
        [sys.executable, str(script), showcase.number("delivered"), "--days", "2", "--base-url", "https://t.example"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    url = result.stdout.strip()
    assert url.startswith("https://t.example/track/t/")
    assert (await client.get(url.removeprefix("https://t.example"))).status_code == 200
    missing = subprocess.run([sys.executable, str(script), "OG999999999"], env=env, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "no such order" in missing.stderr


# one-time codes --------------------------------------------------------------------


async def _ask_code(http: httpx.AsyncClient, phone: str = PHONE) -> httpx.Response:
    token = await fresh_csrf(http, "/track?via=sms")
    return await http.post("/track/-/otp", data={"csrf": token, "phone": phone})


async def _code_for(site_app, phone: str = PHONE) -> str:  # noqa: ANN001
    sender = site_app.state.tracking.sms
    for _ in range(100):
        code = sender.last_code(phone)
        if code:
            return code
        await asyncio.sleep(0.01)
    raise AssertionError("no code was sent")


async def test_phone_and_code_open_every_order_of_that_phone(client, showcase, site_app):
    asked = await _ask_code(client, "+86 138-1234-5678")
    assert asked.status_code == 200 and "验证码已发送至 138****5678" in asked.text
    assert 'autocomplete="one-time-code"' in asked.text
    code = await _code_for(site_app)
    response = await client.post("/track/-/otp/verify", data={"csrf": csrf_of(asked.text), "challenge": _challenge(asked.text), "code": code})
    assert response.status_code == 303
    page = await client.get("/track")
    for state in ("in_transit", "delivered", "packed"):
        assert f'id="card-{showcase.number(state)}"' in page.text
    assert await OrderEvent.filter(type="customer.lookup", after={"method": "otp"}).count() == 3


async def test_codes_are_stored_hashed_and_replace_earlier_ones(showcase, world):
    first = await tracking.start_otp(SECRET, world.tenant.id, PHONE)
    second = await tracking.start_otp(SECRET, world.tenant.id, PHONE)
    stored = await OtpChallenge.get(id=second.challenge_id)
    assert len(second.code) == 6 and second.code.isdigit()
    assert second.code not in stored.code_hash and stored.code_hash != hashlib.sha256(second.code.encode()).hexdigest()
    assert PHONE not in stored.phone_hash
    old = await tracking.verify_otp(SECRET, world.tenant.id, first.challenge_id, first.code)
    assert old.scope is None and old.expired
    new = await tracking.verify_otp(SECRET, world.tenant.id, second.challenge_id, second.code)
    assert new.scope is not None and new.scope.customer_ids
    reused = await tracking.verify_otp(SECRET, world.tenant.id, second.challenge_id, second.code)
    assert reused.scope is None and reused.expired  # one use only


async def test_codes_expire_after_five_minutes(showcase, world):
    start = datetime.now(UTC)
    sent = await tracking.start_otp(SECRET, world.tenant.id, PHONE, now=start)
    late = await tracking.verify_otp(SECRET, world.tenant.id, sent.challenge_id, sent.code, now=start + timedelta(minutes=5, seconds=1))
    assert late.scope is None and late.expired
    sent = await tracking.start_otp(SECRET, world.tenant.id, PHONE, now=start)
    in_time = await tracking.verify_otp(SECRET, world.tenant.id, sent.challenge_id, sent.code, now=start + timedelta(minutes=4, seconds=59))
    assert in_time.scope is not None


async def test_five_wrong_tries_spend_the_code(client, showcase, site_app):
    asked = await _ask_code(client)
    code = await _code_for(site_app)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    challenge = _challenge(asked.text)
    for left in (4, 3, 2, 1):
        response = await client.post("/track/-/otp/verify", data={"csrf": csrf_of(asked.text), "challenge": challenge, "code": wrong})
        assert response.status_code == 422 and f"还可尝试 {left} 次" in response.text
    last = await client.post("/track/-/otp/verify", data={"csrf": csrf_of(asked.text), "challenge": challenge, "code": wrong})
    assert last.status_code == 410 and "验证码已失效" in last.text
    right_too_late = await client.post("/track/-/otp/verify", data={"csrf": csrf_of(asked.text), "challenge": challenge, "code": code})
    assert right_too_late.status_code == 410


async def test_a_forged_challenge_reference_is_refused(client, showcase, site_app):
    asked = await _ask_code(client)
    code = await _code_for(site_app)
    number = _challenge(asked.text).split(".")[0]
    for forged in (f"{int(number) + 1}.{_challenge(asked.text).split('.')[1]}", number, f"{number}.AAAA"):
        response = await client.post("/track/-/otp/verify", data={"csrf": csrf_of(asked.text), "challenge": forged, "code": code})
        assert response.status_code == 410


async def test_an_unknown_phone_gets_the_same_page_and_no_text(client, showcase, site_app):
    known = await _ask_code(client)
    unknown = await _ask_code(client, "13900009999")
    assert unknown.status_code == known.status_code == 200
    assert "验证码已发送至 139****9999" in unknown.text
    await asyncio.sleep(0.1)
    sender = site_app.state.tracking.sms
    assert sender.last_code("13900009999") is None and sender.last_code(PHONE)


async def test_codes_cannot_be_requested_back_to_back(client, showcase):
    assert (await _ask_code(client)).status_code == 200
    again = await _ask_code(client)
    assert again.status_code == 429 and "验证码发送过于频繁" in again.text and int(again.headers["retry-after"]) <= 60


async def test_nonsense_phone_numbers_are_refused_politely(client, showcase):
    response = await _ask_code(client, "12")
    assert response.status_code == 422 and 'aria-invalid="true"' in response.text


# the SMS gateway adapter -------------------------------------------------------------


async def test_the_http_gateway_posts_the_code_with_a_bearer_token():
    gateway = SmsGatewaySimulator(token="tok")
    async with serve_asgi(gateway.app()) as base:
        sender = HttpSmsSender(f"{base}/send", "tok")
        await sender.send_code("+8613812345678", "123456", brand="清茗茶叶", lang="zh")
        await sender.aclose()
        wrong = HttpSmsSender(f"{base}/send", "not-the-token")
        with pytest.raises(SmsError):
            await wrong.send_code("+8613812345678", "654321", brand="清茗茶叶", lang="zh")
        await wrong.aclose()
    [message] = gateway.messages
    assert (message["to"], message["params"]["code"], message["template"]) == ("+8613812345678", "123456", "otp")
    assert "123456" in message["text"]


async def test_the_http_gateway_reports_refusals_without_the_phone(caplog):
    gateway = SmsGatewaySimulator()
    gateway.status = 503
    async with serve_asgi(gateway.app()) as base:
        sender = HttpSmsSender(f"{base}/send")
        with pytest.raises(SmsError):
            await sender.send_code("+8613812345678", "123456", brand="b", lang="en")
        await sender.aclose()
    assert "503" in caplog.text and "13812345678" not in caplog.text
    assert gateway.messages == []


def _challenge(html: str) -> str:
    import re

    return re.search(r'name="challenge" value="([^"]+)"', html).group(1)
