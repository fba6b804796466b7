"""The committed migrations build a working schema on both backends and match the models."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.cli.cli import tortoise_cli_context
from tortoise.migrations.autodetector import MigrationAutodetector

from api import database
from domain.actor import Actor, Role
from domain.catalog import setup as catalog
from domain.tenants.accounts import create_tenant
from tests.helpers import paid_order


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_database(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'fresh.sqlite3'}"
        return
    base = request.getfixturevalue("postgres_url")
    name = f"og_migrate_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(base)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_migrations_apply_and_the_schema_works(empty_database: str):
    EXECUTOR_CACHE.clear()
    await database.migrate(empty_database)
    await database.migrate(empty_database)  # idempotent: a second run applies nothing and does not fail
    await database.init_db(empty_database)
    try:
        tenant = await create_tenant("fresh", "Fresh")
        channel = await catalog.create_channel(tenant.id, "shop", "shopify", "Shop")
        order = await paid_order(Actor(tenant_id=tenant.id, role=Role.OPS, name="t"), channel.id, "M-1")
        assert order.id and order.status == "PAID"
    finally:
        await database.close_db()


async def test_models_have_no_changes_missing_from_the_migrations(empty_database: str):
    if not empty_database.startswith("sqlite"):
        pytest.skip("model/migration drift is backend-independent; checked once on SQLite")
    config = database.tortoise_config(empty_database)
    apps = {label: dict(app) for label, app in config["apps"].items()}
    async with tortoise_cli_context(config) as ctx:
        writers = await MigrationAutodetector(ctx.apps, apps).changes()
    pending = [f"{w.app_label}: {[type(op).__name__ for op in w.operations]}" for w in writers]
    assert pending == [], f"run `tortoise makemigrations`: {pending}"
    assert Tortoise  # the CLI context closes its own connections
