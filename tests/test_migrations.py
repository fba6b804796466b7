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
        if empty_database.startswith("postgres"):  # 0010: lineage is append-only on PostgreSQL
            from tortoise import connections
            from tortoise.exceptions import OperationalError, TransactionManagementError

            with pytest.raises((OperationalError, TransactionManagementError), match="append-only"):
                await connections.get("default").execute_query("UPDATE order_event SET reason = 'edited'")
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


async def test_an_upgrade_keeps_secrets_written_in_clear_and_seals_them(empty_database: str):
    """A database at 0004 with a plaintext channel secret and JSON config: after 0005 and the reseal step both read
    back the same, and the stored values are tokens."""
    from tortoise import connections
    from tortoise.migrations.api.migrate import migrate as tortoise_migrate

    from domain.tenants.secrets import reseal_all
    from models import Channel

    EXECUTOR_CACHE.clear()
    config = database.tortoise_config(empty_database)
    await tortoise_migrate(config=config, target="models.0004_erp_wms_federation")
    await Tortoise.close_connections()
    await database.init_db(empty_database)
    try:
        conn = connections.get("default")
        await conn.execute_script("INSERT INTO tenant (slug, name, accent_color, created_at) VALUES ('old', 'Old', '#e4393c', CURRENT_TIMESTAMP)")
        await conn.execute_script(
            "INSERT INTO channel (tenant_id, code, kind, name, secret, config, created_at) VALUES "
            """(1, 'tm', 'taobao', 'Tmall', 'plain-secret-0123456789', '{"mapping": {"a": "b"}}', CURRENT_TIMESTAMP)""")
    finally:
        await database.close_db()
    await database.migrate(empty_database)
    await database.init_db(empty_database)
    try:
        channel = await Channel.get(code="tm")
        assert (channel.secret, channel.config) == ("plain-secret-0123456789", {"mapping": {"a": "b"}})
        await reseal_all()
        raw = await connections.get("default").execute_query_dict('SELECT secret, config FROM channel')
        assert raw[0]["secret"].startswith("gAAAAA") and str(raw[0]["config"]).startswith("gAAAAA")
        channel = await Channel.get(code="tm")
        assert (channel.secret, channel.config) == ("plain-secret-0123456789", {"mapping": {"a": "b"}})
    finally:
        await database.close_db()


async def test_an_upgrade_seals_carrier_configs_and_keeps_the_newest_scan_of_each_shipment(empty_database: str):
    """A database at 0006 with a carrier account's config in clear and a parcel with scans: after 0007 and the reseal
    step the config reads back the same but is stored sealed, and the parcel knows its newest scan."""
    from datetime import UTC, datetime, timedelta

    from tortoise import connections
    from tortoise.migrations.api.migrate import migrate as tortoise_migrate

    from domain.tenants.secrets import reseal_all
    from models import Alert, CarrierAccount, Shipment, TrackingEvent

    EXECUTOR_CACHE.clear()
    await tortoise_migrate(config=database.tortoise_config(empty_database), target="models.0006_channel_polling")
    await Tortoise.close_connections()
    await database.init_db(empty_database)
    scanned = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
    try:
        conn = connections.get("default")
        await conn.execute_script("INSERT INTO tenant (slug, name, accent_color, created_at) VALUES ('old', 'Old', '#e4393c', CURRENT_TIMESTAMP)")
        await conn.execute_script(
            "INSERT INTO channel (tenant_id, code, kind, name, secret, config, created_at) VALUES "
            "(1, 'tm', 'taobao', 'Tmall', 'plain-secret-0123456789', '{}', CURRENT_TIMESTAMP)")
        await conn.execute_script(
            "INSERT INTO carrier_account (tenant_id, provider, secret, config, created_at, updated_at) VALUES "
            """(1, 'kuaidi100', 'salt-0123456789', '{"key": "k100-key", "customer": "C1"}', CURRENT_TIMESTAMP, """
            "CURRENT_TIMESTAMP)")
        await conn.execute_script(
            "INSERT INTO orders (tenant_id, channel_id, external_id, status, hold_reasons, currency, total_amount, "
            "ship_name, ship_phone, ship_province, ship_city, ship_district, ship_address, ship_postal_code, "
            "ship_country_code, ship_company, contact_masked, placed_at, created_at, updated_at, version, priority, "
            "priority_rank) VALUES (1, 1, 'T-OLD', 'SHIPPED', '[]', 'CNY', 10, '', '', '', '', '', '', '', '', '', '{}', "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1, 'STANDARD', 50)")
        await conn.execute_script(
            "INSERT INTO shipment (order_id, carrier, tracking_no, status, source, created_at, updated_at) VALUES "
            "(1, 'SF', 'SF100', 'IN_TRANSIT', 'ops', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
        for kind, cleared in (("low_stock:7", "NULL"), ("webhook_disabled:3", "CURRENT_TIMESTAMP"), ("allocation_failed", "NULL")):
            await conn.execute_script(
                "INSERT INTO alert (tenant_id, kind, severity, message, details, raised_at, cleared_at) VALUES "
                f"(1, '{kind}', 'warning', 'm', '{{}}', CURRENT_TIMESTAMP, {cleared})")
        for hours in (0, 5, 2):
            await TrackingEvent.create(shipment_id=1, status="IN_TRANSIT", occurred_at=scanned + timedelta(hours=hours))
    finally:
        await database.close_db()
    await database.migrate(empty_database)
    await database.init_db(empty_database)
    try:
        account = await CarrierAccount.get(provider="kuaidi100")
        assert account.config == {"key": "k100-key", "customer": "C1"}
        await reseal_all()
        raw = await connections.get("default").execute_query_dict("SELECT config FROM carrier_account")
        assert str(raw[0]["config"]).startswith("gAAAAA") and "k100-key" not in str(raw[0]["config"])
        assert (await CarrierAccount.get(provider="kuaidi100")).config == {"key": "k100-key", "customer": "C1"}
        shipment = await Shipment.get(tracking_no="SF100")
        assert (shipment.last_scan_at, shipment.subscription, shipment.subscription_attempts) == (
            scanned + timedelta(hours=5), "", 0)
        # 0008: kinds that carried an id are split into kind and subject; resolved alerts say so.
        alerts = await Alert.all().order_by("id").values_list("kind", "subject", "state")
        assert alerts == [("low_stock", "stock:7", "open"), ("webhook_disabled", "endpoint:3", "resolved"),
                          ("allocation_failed", "", "open")]
    finally:
        await database.close_db()
