"""Fixtures and helpers for the tracking page tests (imported by tests/test_tracking_*.py)."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.seed import SHOWCASE_PHONE, seed_tracking_showcase
from models.order import order_no
from tests.conftest import IN_CI, World, settings_for

#: A fixed clock for the showcase, so local times are known: 2026-11-02 14:00 in Shanghai.
NOW = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
PHONE = SHOWCASE_PHONE
LAST4 = PHONE[-4:]
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Showcase:
    ids: dict[str, int]

    def number(self, state: str) -> str:
        return order_no(self.ids[state])


@pytest.fixture
async def showcase(world: World) -> Showcase:
    return Showcase(await seed_tracking_showcase(world.tenant.id, now=NOW))


def tracking_app(database_url: str, **overrides: Any) -> Any:
    settings = {"tracking_tenant": "acme", "tracking_fail_floor_ms": 0, **overrides}
    return create_app(settings_for(database_url, **settings), manage_database=False)


@pytest.fixture
async def site_app(db: str, world: World) -> AsyncIterator[Any]:
    """The app serving tenant ``acme`` (the ``world``) at /track."""
    application = tracking_app(db)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(site_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_like(site_app) as http:
        yield http


def browser_like(app: Any, lang: str = "zh-CN,zh;q=0.9") -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test", headers={"accept-language": lang}, follow_redirects=False
    )


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def fresh_csrf(http: httpx.AsyncClient, path: str = "/track") -> str:
    response = await http.get(path, params={"new": "1"})
    return csrf_of(response.text)


async def lookup(http: httpx.AsyncClient, order: str, last4: str = LAST4, base: str = "/track") -> httpx.Response:
    token = await fresh_csrf(http, base)
    return await http.post(f"{base}/-/lookup", data={"csrf": token, "order": order, "last4": last4})


async def signed_in(http: httpx.AsyncClient, order: str, last4: str = LAST4, base: str = "/track") -> httpx.Response:
    """Look up and follow the redirect to the orders page."""
    response = await lookup(http, order, last4, base)
    assert response.status_code == 303, response.text[:500]
    return await http.get(response.headers["location"])


def without_tokens(html: str) -> str:
    """A page with its per-response randomness (CSRF masks, CSP nonces) blanked out."""
    html = _CSRF.sub('name="csrf" value=""', html)
    return re.sub(r'nonce="[^"]+"', 'nonce=""', html)


def redis_url_or_skip() -> str:
    """The real Redis for tests: a failure, not a skip, when CI=true and it is unreachable."""
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        if IN_CI:
            pytest.fail("TEST_REDIS_URL is not set (CI=true: Redis tests must run)")
        pytest.skip("TEST_REDIS_URL is not set")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except (redis.RedisError, OSError) as exc:
        if IN_CI:
            pytest.fail(f"Redis at TEST_REDIS_URL is unreachable: {exc} (CI=true: Redis tests must run)")
        pytest.skip(f"Redis at TEST_REDIS_URL is unreachable: {exc}")
    return url
