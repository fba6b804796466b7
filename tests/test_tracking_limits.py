"""Abuse limits: per IP, per order number (then only the SMS route), in-process and on a real Redis."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis.asyncio as aioredis

from public_tracking import handlers
from public_tracking.ratelimit import PREFIX, MemoryLimiter, RedisLimiter
from tests.tracking_support import (  # noqa: F401 - fixtures
    LAST4,
    PHONE,
    browser_like,
    client,
    csrf_of,
    fresh_csrf,
    lookup,
    redis_url_or_skip,
    showcase,
    site_app,
    tracking_app,
    without_tokens,
)


async def _lock(http, order: str, base: str = "/track") -> None:  # noqa: ANN001
    for _ in range(handlers.ORDER_FAILURES[0]):
        response = await lookup(http, order, "0000", base)
        assert response.status_code == 404


async def test_after_five_misses_only_the_sms_route_opens_that_order(client, showcase, site_app):
    number = showcase.number("in_transit")
    await _lock(client, number)
    locked = await lookup(client, number, LAST4)  # even the right digits now
    assert locked.status_code == 429
    assert "只能通过手机验证码查询" in locked.text and 'action="/track/-/otp"' in locked.text
    other = await lookup(client, showcase.number("delivered"), LAST4)  # other orders are not affected
    assert other.status_code == 303
    client.cookies.clear()
    token = await fresh_csrf(client, "/track?via=sms")
    asked = await client.post("/track/-/otp", data={"csrf": token, "phone": PHONE})
    for _ in range(100):
        if site_app.state.tracking.sms.last_code(PHONE):
            break
        await asyncio.sleep(0.01)
    challenge = asked.text.split('name="challenge" value="')[1].split('"')[0]
    verified = await client.post(
        "/track/-/otp/verify", data={"csrf": csrf_of(asked.text), "challenge": challenge, "code": site_app.state.tracking.sms.last_code(PHONE)}
    )
    assert verified.status_code == 303
    assert f'id="card-{number}"' in (await client.get("/track")).text


async def test_a_lock_looks_the_same_for_orders_that_do_not_exist(client, showcase):
    await _lock(client, showcase.number("in_transit"))
    await _lock(client, "OG999999999")
    real = await lookup(client, showcase.number("in_transit"), LAST4)
    fake = await lookup(client, "OG999999999", LAST4)
    assert real.status_code == fake.status_code == 429
    assert without_tokens(real.text) == without_tokens(fake.text)


async def test_too_many_attempts_from_one_address(client, showcase, monkeypatch):
    monkeypatch.setattr(handlers, "LOOKUPS_PER_IP", (3, 600))
    for n in range(3):
        assert (await lookup(client, f"OG99999999{n}", "0000")).status_code == 404
    limited = await lookup(client, showcase.number("in_transit"), LAST4)
    assert limited.status_code == 429 and "尝试次数过多" in limited.text
    assert 0 < int(limited.headers["retry-after"]) <= 600


# the counters themselves --------------------------------------------------------------


@pytest.fixture(params=["memory", "redis"])
async def limiter(request: pytest.FixtureRequest):
    if request.param == "memory":
        yield MemoryLimiter()
        return
    url = redis_url_or_skip()
    limiter = RedisLimiter(url)
    yield limiter
    await limiter.aclose()


async def test_counters_count_and_windows_end(limiter):
    key = f"test:{uuid.uuid4().hex}"
    verdicts = [await limiter.hit(key, 2, 1) for _ in range(3)]
    assert [v.allowed for v in verdicts] == [True, True, False]
    assert [v.count for v in verdicts] == [1, 2, 3] and await limiter.count(key) == 3
    assert verdicts[-1].retry_after == 1
    await asyncio.sleep(1.2)
    assert await limiter.count(key) == 0
    assert (await limiter.hit(key, 2, 1)).allowed


async def test_memory_counters_stay_bounded():
    limiter = MemoryLimiter(max_keys=10)
    for n in range(50):
        await limiter.hit(f"k{n}", 5, 60)
    assert len(limiter._counts) <= 10


async def test_redis_counters_are_shared_between_workers():
    url = redis_url_or_skip()
    one, two = RedisLimiter(url), RedisLimiter(url)
    key = f"test:{uuid.uuid4().hex}"
    try:
        await one.hit(key, 5, 60)
        await two.hit(key, 5, 60)
        assert await one.count(key) == 2
        raw = aioredis.from_url(url)
        assert await raw.ttl(PREFIX + key) > 50  # the window started at the first hit, not refreshed
        await raw.delete(PREFIX + key)
        await raw.aclose()
    finally:
        await one.aclose()
        await two.aclose()


async def test_an_unreachable_redis_falls_back_to_local_counters():
    limiter = RedisLimiter("redis://127.0.0.1:1/0")
    verdicts = [await limiter.hit("k", 1, 60) for _ in range(2)]
    assert [v.allowed for v in verdicts] == [True, False]
    await limiter.aclose()


async def test_the_app_keeps_its_limits_in_redis_when_configured(db, world, showcase):
    url = redis_url_or_skip()
    app = tracking_app(db, redis_url=url)
    assert isinstance(app.state.tracking.limiter, RedisLimiter)
    raw = aioredis.from_url(url)
    try:
        async with app.router.lifespan_context(app), browser_like(app) as http:
            number = f"OG{900000000 + uuid.uuid4().int % 99999999:09d}"  # fresh per run: the counters outlive the test
            await _lock(http, number)
            assert (await lookup(http, number, LAST4)).status_code == 429
            keys = [key async for key in raw.scan_iter(match=PREFIX + "order-fail:*")]
            assert keys and all(PHONE not in key.decode() and number not in key.decode() for key in keys)
    finally:
        async for key in raw.scan_iter(match=PREFIX + "*"):
            await raw.delete(key)
        await raw.aclose()
