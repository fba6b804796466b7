"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``TEST_DATABASE_URL`` (``.ci/run`` sets it to the local
server). Each test session gets its own throw-away database on that server, so
parallel runs never see each other. With ``CI=true`` an unreachable server is
a failure, not a skip.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from tortoise import Tortoise, connections
from tortoise.backends.base.executor import EXECUTOR_CACHE

from api.app import create_app
from api.database import tortoise_config
from api.settings import Settings
from domain import masking
from domain.audit import signing as audit_signing
from domain.actor import Actor, Role
from domain.catalog import setup as catalog
from domain.tenants.accounts import create_api_key, create_tenant
from models import Channel, Tenant, Warehouse, sealing
from models.audit import IMMUTABILITY_SQL

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
_schema_ready: set[str] = set()


def run_sync(coroutine: Any) -> Any:
    """Run a coroutine to completion from sync code, even when called inside a running loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: PostgreSQL tests must run)")
    pytest.skip(reason)


@contextmanager
def throwaway_postgres(prefix: str) -> Iterator[str]:
    """A fresh database on the TEST_DATABASE_URL server, dropped afterwards (no server: skip, or fail in CI)."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        _unavailable("TEST_DATABASE_URL is not set")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(base, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    try:
        run_sync(admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        _unavailable(f"PostgreSQL at TEST_DATABASE_URL is unreachable: {exc}")
    yield base.rsplit("/", 1)[0] + "/" + name
    run_sync(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database on the TEST_DATABASE_URL server, dropped after the session."""
    with throwaway_postgres("og_test") as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite://{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Parametrises a test over both backends."""
    return request.getfixturevalue(f"{request.param}_url")


async def _reset(url: str) -> None:
    tables = [model._meta.db_table for model in Tortoise.apps.get_models_iterable()]
    conn = connections.get("default")
    if url.startswith("postgres"):
        quoted = ", ".join(f'"{table}"' for table in tables)
        await conn.execute_script(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
    else:
        script = "PRAGMA foreign_keys=OFF;" + "".join(f'DELETE FROM "{t}";' for t in tables)
        await conn.execute_script(script + "DELETE FROM sqlite_sequence; PRAGMA foreign_keys=ON;")


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[str]:
    """An empty database with the current schema, connected for this test."""
    EXECUTOR_CACHE.clear()  # Tortoise caches SQL per connection *name*; tests switch dialects under one name
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    if database_url not in _schema_ready:
        await Tortoise.generate_schemas(safe=True)
        if database_url.startswith("postgres"):  # order_event refuses UPDATE/DELETE, as migration 0010 makes it
            await connections.get("default").execute_script(IMMUTABILITY_SQL)
        _schema_ready.add(database_url)
    await _reset(database_url)
    yield database_url
    await Tortoise.close_connections()


@dataclass
class World:
    """A tenant with a channel, warehouses and keys for every role."""

    tenant: Tenant
    channel: Channel
    warehouses: list[Warehouse]
    keys: dict[str, str]

    def actor(self, role: Role = Role.OPS, source: str = "test") -> Actor:
        return Actor(tenant_id=self.tenant.id, role=role, name=f"test-{role.value}", source=source)


async def make_world(slug: str) -> World:
    tenant = await create_tenant(slug, f"{slug} merchant")
    channel = await catalog.create_channel(tenant.id, "tmall", "taobao", "Tmall flagship")
    warehouses = [
        await catalog.create_warehouse(tenant.id, code, code, province=province, city=city)
        for code, province, city in (("SH", "上海", "上海"), ("GZ", "广东", "广州"), ("TJ", "天津", "天津"))
    ]
    keys = {role.value: (await create_api_key(slug, role, owner="test-suite"))[1] for role in Role}
    return World(tenant=tenant, channel=channel, warehouses=warehouses, keys=keys)


@pytest.fixture
async def world(db: str) -> World:
    return await make_world("acme")


@pytest.fixture
async def other_world(db: str) -> World:
    return await make_world("rival")


class GraphQLClient:
    """Posts GraphQL to the in-process app as a given API key."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def post(self, key: str | None, query: str, variables: dict[str, Any] | None = None, **headers: str) -> httpx.Response:
        if key:
            headers["authorization"] = f"Bearer {key}"
        return await self.http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)

    async def __call__(self, key: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run and return ``data``; fail the test on any GraphQL error."""
        response = await self.post(key, query, variables)
        body = response.json()
        assert response.status_code == 200 and not body.get("errors"), body
        return body["data"]


def settings_for(database_url: str, **overrides: Any) -> Settings:
    if overrides.get("env") == "production":
        overrides.setdefault("tracking_secret", "test-production-secret-0123456789")
        # The keys are process-wide: use the development ones, so served processes (which run on the defaults)
        # keep reading what this process wrote.
        overrides.setdefault("phone_hash_key", masking.DEV_PHONE_KEY.decode())
        overrides.setdefault("data_keys", (sealing.DEV_KEY,))
        overrides.setdefault("audit_signing_key", audit_signing.DEV_SEED)
    # The leader's pollers and tracking rounds are driven by the tests that prove them, not by a clock.
    overrides.setdefault("poll_seconds", 0)
    overrides.setdefault("tracking_round_seconds", 0)
    overrides.setdefault("wms_sweep_seconds", 0)
    overrides.setdefault("alert_wake_seconds", 0)
    overrides.setdefault("rules_enabled", False)  # rules fire where a test enables them
    overrides.setdefault("reconcile_hour", 0)  # the daily reconciliation runs where a test runs it
    overrides.setdefault("audit_enabled", False)  # lineage sealing runs where a test turns it on
    return Settings(database_url=database_url, poll_interval=0.05, key_cache_seconds=0, **overrides)


@pytest.fixture
async def app(db: str) -> AsyncIterator[Any]:
    application = create_app(settings_for(db), manage_database=False)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def gql(app: Any) -> AsyncIterator[GraphQLClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield GraphQLClient(http)
