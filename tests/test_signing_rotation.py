"""Rotating the checkpoint signing key (issue 17 c): checkpoints signed with an earlier key still verify, online
and offline, as long as its public key is listed; without it they fail naming the key id."""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.settings import Settings
from domain.audit import signing, store
from domain.audit.sealer import Sealer, checkpoint_now, seal_pending
from domain.audit.verify import checkpoint_json, event_record, verify
from domain.unit_of_work import unit_of_work
from events import log
from models import AuditCheckpoint
from tests.conftest import World

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("verify_lineage_rotation", ROOT / "tools" / "verify_lineage.py")
assert _spec and _spec.loader
offline = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(offline)

SEED_A = base64.b64encode(b"A" * 32).decode()
SEED_B = base64.b64encode(b"B" * 32).decode()


def public_of(seed: str) -> str:
    return base64.b64encode(signing.public_bytes(signing.load_seed(seed).public_key())).decode()


def id_of(seed: str) -> str:
    return signing.key_id(base64.b64decode(public_of(seed)))


@pytest.fixture
def keys() -> Iterator[None]:
    """The signing key is process-wide: put the development key back afterwards."""
    yield
    signing.use_key(signing.DEV_SEED)
    signing.use_previous_keys([])


async def _append_and_sign(world: World, n: int, prefix: str) -> None:
    for i in range(n):
        async with unit_of_work():
            await log.append(tenant_id=world.tenant.id, order_id=None, type="test.changed", actor="ops:ann",
                             source="test", reason=f"{prefix}{i}", before=None, after={"n": i})
    await seal_pending(Sealer(every=3))
    await checkpoint_now(world.tenant.id)


@pytest.fixture
async def rotated(world: World, keys: None) -> list[dict]:
    """Checkpoints signed with key A, then with key B (A listed as previous); the log as offline records."""
    signing.use_key(SEED_A)
    await _append_and_sign(world, 4, "a")
    signing.use_key(SEED_B)
    signing.use_previous_keys([public_of(SEED_A)])
    await _append_and_sign(world, 4, "b")
    checkpoints = await AuditCheckpoint.filter(tenant_id=world.tenant.id).order_by("tree_size")
    assert {c.key_id for c in checkpoints} == {id_of(SEED_A), id_of(SEED_B)}
    rows = [row async for row in store.rows(world.tenant.id)]
    return [event_record(row) for row in rows] + [checkpoint_json(c) for c in checkpoints]


async def test_old_checkpoints_verify_online_while_the_old_key_is_listed(world: World, rotated: list[dict]) -> None:
    report = await verify(world.tenant.id)
    assert report.ok, report.summary()
    assert report.checkpoints_checked == len([r for r in rotated if r["record"] == "checkpoint"]) >= 3

    signing.use_previous_keys([])
    report = await verify(world.tenant.id)
    assert not report.ok and report.first is not None
    assert report.first.kind == "unknown_key"
    assert id_of(SEED_A) in report.first.detail and "ORDERGRAPH_AUDIT_PREVIOUS_PUBLIC_KEYS" in report.first.detail


def _run(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "tools" / "verify_lineage.py"), str(path), "--full", *args],
                          capture_output=True, text=True, timeout=60)


async def test_the_offline_verifier_picks_each_checkpoints_key(world: World, rotated: list[dict],
                                                               tmp_path: Path) -> None:
    both = [base64.b64decode(public_of(SEED_B)), base64.b64decode(public_of(SEED_A))]
    done = offline.check(rotated, both, full=True)
    assert sum("signature ok" in line for line in done) == len([r for r in rotated if r["record"] == "checkpoint"])
    with pytest.raises(offline.Failure, match=f"signed with key {id_of(SEED_A)}, which is not among"):
        offline.check(rotated, both[:1], full=True)

    log_file = tmp_path / "log.jsonl"
    log_file.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rotated), encoding="utf-8")
    document = tmp_path / "keys.json"
    document.write_text(json.dumps(signing.key_document()), encoding="utf-8")
    from_document = await asyncio.to_thread(_run, log_file, "--public-key-file", str(document))
    assert from_document.returncode == 0, from_document.stdout + from_document.stderr
    repeated = await asyncio.to_thread(_run, log_file, "--public-key", public_of(SEED_B),
                                       "--public-key", public_of(SEED_A))
    assert repeated.returncode == 0, repeated.stdout + repeated.stderr
    only_new = await asyncio.to_thread(_run, log_file, "--public-key", public_of(SEED_B))
    assert only_new.returncode == 1 and f"signed with key {id_of(SEED_A)}" in only_new.stdout


async def test_the_public_key_endpoint_and_cli_list_the_previous_keys(world: World, db: str, gql, keys: None,  # type: ignore[no-untyped-def]
                                                                       tmp_path: Path) -> None:
    signing.use_key(SEED_B)
    signing.use_previous_keys([public_of(SEED_A)])
    served = (await gql.http.get("/audit/public-key")).json()
    assert (served["public_key"], served["key_id"]) == (public_of(SEED_B), id_of(SEED_B))
    assert served["previous"] == [{"public_key": public_of(SEED_A), "key_id": id_of(SEED_A)}]

    env = {**os.environ, "DATABASE_URL": db, "ORDERGRAPH_AUDIT_SIGNING_KEY": SEED_B,
           "ORDERGRAPH_AUDIT_PREVIOUS_PUBLIC_KEYS": f" {public_of(SEED_A)} ,"}
    printed = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "api.cli", "lineage", "public-key"],
                                      env=env, capture_output=True, text=True, timeout=60)
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout) == served


def test_a_previous_key_that_is_not_a_public_key_stops_the_server() -> None:
    settings = Settings(audit_previous_public_keys=("not-a-key",))
    try:
        with pytest.raises(SystemExit, match="ORDERGRAPH_AUDIT_PREVIOUS_PUBLIC_KEYS"):
            settings.apply_secrets()
    finally:
        signing.use_key(signing.DEV_SEED)
        signing.use_previous_keys([])
