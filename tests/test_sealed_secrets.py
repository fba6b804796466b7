"""Signing keys and platform credentials are Fernet tokens in the database, readable only with the server's keys."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from tortoise import connections

from api.settings import Settings
from domain.actor import Role
from domain.tenants.secrets import reseal_all
from domain.webhooks import endpoints as webhooks
from models import CarrierAccount, Channel, WebhookSecret, sealing
from tests.intake_support import GENERIC_MAPPING, SECRET, add_channel, deliver, generic_body


async def _raw(table: str, column: str, row_id: int) -> str:
    rows = await connections.get("default").execute_query_dict(f'SELECT "{column}" AS v FROM "{table}" WHERE id = {row_id}')
    return rows[0]["v"]


@pytest.fixture
def keys():
    """Two fresh data keys for the test; the development key is restored afterwards."""
    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealing.use_keys([first, sealing.DEV_KEY])  # rows made before the fixture were sealed with the development key
    yield first, second
    sealing.use_keys([sealing.DEV_KEY])


async def test_secrets_are_stored_sealed_and_still_verify_webhooks(world, db, gql, keys):
    channel = await add_channel(world, "mini", "generic", mapping=GENERIC_MAPPING)
    await Channel.filter(id=channel.id).update(config={**channel.config, "api": {"app_secret": "platform-app-secret"}})
    endpoint, webhook_secret = await webhooks.register_endpoint(world.actor(Role.ADMIN), "https://partner.example/hook",
                                                                webhooks.UrlPolicy())
    account = await CarrierAccount.create(tenant_id=world.tenant.id, provider="kdniao", secret="kdniao-app-key-123")
    stored = {
        "channel.secret": await _raw("channel", "secret", channel.id),
        "channel.config": await _raw("channel", "config", channel.id),
        "carrier_account.secret": await _raw("carrier_account", "secret", account.id),
        "webhook_secret.secret": await _raw("webhook_secret", "secret",
                                            (await WebhookSecret.filter(endpoint_id=endpoint.id).first()).id),
    }
    for name, value in stored.items():
        assert value.startswith("gAAAAA"), name
    assert SECRET not in stored["channel.secret"] and "platform-app-secret" not in stored["channel.config"]
    assert (await Channel.get(id=channel.id)).secret == SECRET
    assert (await Channel.get(id=channel.id)).config["api"] == {"app_secret": "platform-app-secret"}
    assert (await WebhookSecret.filter(endpoint_id=endpoint.id).first()).secret == webhook_secret
    answer = await deliver(gql.http, "generic", "mini", generic_body("SEALED-1"))  # signed with the clear secret
    assert answer.status_code == 200, answer.text


async def test_plaintext_from_before_is_read_and_sealed_and_a_rotation_moves_every_token(world, db, keys):
    first, second = keys
    channel = await add_channel(world, "legacy", "taobao")
    await connections.get("default").execute_query(f"UPDATE \"channel\" SET secret = 'plain-old-secret-123456' WHERE id = {channel.id}")
    assert (await Channel.get(id=channel.id)).secret == "plain-old-secret-123456"  # read as it is
    assert await reseal_all() >= 1
    sealed_first = await _raw("channel", "secret", channel.id)
    assert sealed_first.startswith("gAAAAA") and Fernet(first).decrypt(sealed_first.encode()) == b"plain-old-secret-123456"
    sealing.use_keys([second, first, sealing.DEV_KEY])  # rotation: the new key in front, the old ones kept until resealed
    assert (await Channel.get(id=channel.id)).secret == "plain-old-secret-123456"
    await reseal_all()
    sealing.use_keys([second])  # the old keys are gone now
    assert (await Channel.get(id=channel.id)).secret == "plain-old-secret-123456"
    sealing.use_keys([Fernet.generate_key().decode()])
    with pytest.raises(sealing.SealedWithUnknownKey):
        await Channel.get(id=channel.id)


def test_production_refuses_to_start_without_data_keys():
    with pytest.raises(SystemExit, match="ORDERGRAPH_DATA_KEYS must be set"):
        Settings(env="production", phone_hash_key="p" * 20).apply_secrets()
    with pytest.raises(SystemExit, match="not a Fernet key"):
        Settings(data_keys=("not-a-key",)).apply_secrets()
    Settings().apply_secrets()  # back to the development keys for the rest of the session
    refused = subprocess.run([sys.executable, "-m", "api.cli", "migrate"], capture_output=True, text=True, timeout=60,
                             env={**os.environ, "ORDERGRAPH_ENV": "production", "ORDERGRAPH_PHONE_HASH_KEY": "p" * 20,
                                  "DATABASE_URL": "sqlite://:memory:"})
    assert refused.returncode != 0 and "ORDERGRAPH_DATA_KEYS must be set" in refused.stderr
