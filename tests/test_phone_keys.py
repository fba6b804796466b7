"""Phone look-up keys are HMACs under the server's secret: a dump or a log line cannot be reversed by trying numbers."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

from api.settings import Settings
from domain import masking
from domain.contacts.phone_keys import rekey_phone_hashes
from models import Customer, OtpChallenge
from tests.helpers import paid_order


def _every_number_with_prefix(prefix: str, target: str, key: bytes | None) -> str | None:
    """What an attacker does with a leaked hash: try all numbers of a prefix (a slice, to keep the test fast)."""
    for suffix in range(10_000):
        candidate = f"+86{prefix}{suffix:04d}"
        digest = hashlib.sha256(candidate.encode()).hexdigest() if key is None else masking.phone_hash(candidate)
        if digest == target:
            return candidate
    return None


def test_the_look_up_key_depends_on_the_server_secret_and_cannot_be_brute_forced_without_it():
    phone = "13800001234"
    try:
        masking.use_phone_key("first-server-key-0123456789")
        under_first = masking.phone_hash(phone)
        masking.use_phone_key("second-server-key-0123456789")
        under_second = masking.phone_hash(phone)
    finally:
        masking.use_phone_key(masking.DEV_PHONE_KEY)
    assert under_first != under_second
    assert under_first != hashlib.sha256(b"+8613800001234").hexdigest()
    assert masking.phone_hash("+86 138-0000-1234") == masking.phone_hash(phone)  # still one key per number
    # an unkeyed hash falls to enumeration; the keyed one gives nothing to someone without the key
    assert _every_number_with_prefix("1380000", hashlib.sha256(b"+8613800001234").hexdigest(), None) == "+8613800001234"
    assert _every_number_with_prefix("1380000", under_first, None) is None


def test_production_refuses_to_start_without_a_phone_key():
    with pytest.raises(SystemExit, match="ORDERGRAPH_PHONE_HASH_KEY"):
        Settings(env="production").apply_secrets()
    with pytest.raises(SystemExit, match="at least 16"):
        Settings(phone_hash_key="short").apply_secrets()
    Settings().apply_secrets()  # development runs on the published default
    served = subprocess.run([sys.executable, "-m", "api.cli", "migrate"], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "ORDERGRAPH_ENV": "production", "DATABASE_URL": "sqlite://:memory:"})
    assert served.returncode != 0 and "ORDERGRAPH_PHONE_HASH_KEY must be set" in served.stderr


async def test_rows_hashed_the_old_way_are_rekeyed_and_found_again(world, db):
    order = await paid_order(world.actor(), world.channel.id, "REKEY-1", phone="13955551234")
    customer = await Customer.get(id=order.customer_id)
    await Customer.filter(id=customer.id).update(phone_hash=hashlib.sha256(b"+8613955551234").hexdigest())
    await OtpChallenge.create(tenant_id=world.tenant.id, phone_hash="old", code_hash="x", expires_at=order.placed_at)
    assert await rekey_phone_hashes() == 1
    assert await rekey_phone_hashes() == 0  # idempotent
    assert (await Customer.get(id=customer.id)).phone_hash == masking.phone_hash("13955551234")
    assert not await OtpChallenge.filter(consumed_at__isnull=True).exists()  # codes issued under the old key are spent
    again = await paid_order(world.actor(), world.channel.id, "REKEY-2", phone="+86 139 5555 1234")
    assert again.customer_id == customer.id  # the buyer is recognised again
