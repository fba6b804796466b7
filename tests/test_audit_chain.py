"""Tamper-evident lineage: every tampering an insider could try is detected and named, proofs verify offline."""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tortoise.exceptions import OperationalError
from tortoise.transactions import in_transaction

from api.app import create_app
from domain.actor import Role
from domain.audit import signing, store
from domain.audit.purge import purge_before
from domain.audit.sealer import Sealer, checkpoint_now, seal_pending
from domain.audit.verify import consistency_proof, event_record, inclusion_proof, verify
from domain.unit_of_work import unit_of_work
from events import log
from models import AuditCheckpoint, AuditLeaf, AuditTree, OrderEvent
from tests.conftest import GraphQLClient, settings_for
from tests.helpers import paid_order
from tests.live_fixtures import wait_until

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("verify_lineage", ROOT / "tools" / "verify_lineage.py")
assert _spec and _spec.loader
offline = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(offline)


@asynccontextmanager
async def as_superuser() -> AsyncIterator[None]:
    """Bypass the immutability trigger as a superuser could (``session_replication_role = replica``)."""
    async with in_transaction() as connection:
        if connection.capabilities.dialect == "postgres":
            await connection.execute_script("SET LOCAL session_replication_role = replica")
        yield


async def append(world, n: int, prefix: str = "e") -> list[int]:
    ids = []
    for i in range(n):
        async with unit_of_work():
            row = await log.append(tenant_id=world.tenant.id, order_id=None, type="test.changed", actor="ops:ann",
                                   source="test", reason=f"{prefix}{i} 理由",
                                   before={"n": i - 1}, after={"n": i, "名": "x", "price": "1.50"})
            ids.append(row.id)
    return ids


@pytest.fixture
async def sealed(world) -> list[int]:
    """A tenant with an order's events and ten more, sealed with checkpoints every 4 leaves (and at the end)."""
    await paid_order(world.actor(), world.channel.id, "AUD-1")
    await append(world, 10)
    await seal_pending(Sealer(every=4))
    await checkpoint_now(world.tenant.id)
    return list(await OrderEvent.filter(tenant_id=world.tenant.id).order_by("id").values_list("id", flat=True))


async def first_problem(world):
    report = await verify(world.tenant.id)
    assert not report.ok, report.summary()
    return report.first


async def test_an_untouched_log_verifies_and_new_events_are_pending(world, sealed):
    report = await verify(world.tenant.id)
    assert report.ok, report.summary()
    assert report.events_checked == report.leaves == len(sealed) and report.checkpoints_checked >= 3
    assert await AuditLeaf.filter(tenant_id=world.tenant.id).count() == len(sealed)
    await append(world, 2, "late")
    report = await verify(world.tenant.id)
    assert report.ok and report.pending == 2


async def test_a_second_tenant_has_its_own_log(world, other_world, sealed):
    await append(other_world, 3)
    await seal_pending()
    indices = await AuditLeaf.filter(tenant_id=other_world.tenant.id).order_by("index").values_list("index", flat=True)
    assert indices == [0, 1, 2]
    assert (await verify(other_world.tenant.id)).ok and (await verify(world.tenant.id)).ok


async def test_an_edited_reason_is_named(world, sealed):
    target = sealed[5]
    async with as_superuser():
        await OrderEvent.filter(id=target).update(reason="nothing happened here")
    problem = await first_problem(world)
    assert (problem.kind, problem.event_id) == ("edited", target)


async def test_a_deleted_row_is_named(world, sealed):
    target = sealed[3]
    async with as_superuser():
        await OrderEvent.filter(id=target).delete()
    problem = await first_problem(world)
    assert (problem.kind, problem.event_id) == ("deleted", target)


async def test_two_swapped_rows_are_reported_reordered(world, sealed):
    a, b = sealed[-4], sealed[-3]
    row_a = await OrderEvent.get(id=a)
    row_b = await OrderEvent.get(id=b)
    async with as_superuser():
        for row, other in ((a, row_b), (b, row_a)):
            await OrderEvent.filter(id=row).update(reason=other.reason, before=other.before, after=other.after)
    problem = await first_problem(world)
    assert (problem.kind, problem.event_id) == ("reordered", a)


async def test_a_forged_row_slipped_between_sealed_ones_is_named(world, db):
    ids = await append(world, 3)
    gap = ids[-1] + 10
    await OrderEvent.create(id=gap, tenant_id=world.tenant.id, type="test.changed", actor="a", source="test")
    await seal_pending()
    await checkpoint_now(world.tenant.id)
    assert (await verify(world.tenant.id)).ok
    async with as_superuser():
        await OrderEvent.create(id=gap - 5, tenant_id=world.tenant.id, type="order.refunded", actor="ops:eve",
                                source="graphql", reason="refund approved")
    problem = await first_problem(world)
    assert (problem.kind, problem.event_id) == ("inserted", gap - 5)


async def test_a_truncated_tail_is_named_even_with_its_leaves_gone(world, sealed):
    tail = sealed[-3:]
    async with as_superuser():
        await OrderEvent.filter(id__in=tail).delete()
    problem = await first_problem(world)
    assert (problem.kind, problem.event_id) == ("truncated", tail[0])
    # The insider also removes the leaves and rolls the tree back: the signed checkpoint still remembers.
    await AuditLeaf.filter(event_id__in=tail).delete()
    await AuditTree.filter(tenant_id=world.tenant.id).update(size=len(sealed) - 3, last_event_id=sealed[-4])
    report = await verify(world.tenant.id)
    assert [p.kind for p in report.problems] == ["truncated"], report.problems


async def test_a_checkpoint_with_an_altered_root_is_forged(world, sealed):
    checkpoint = await AuditCheckpoint.filter(tenant_id=world.tenant.id).order_by("tree_size").first()
    await AuditCheckpoint.filter(id=checkpoint.id).update(root_hash=b"\x00" * 32)
    problem = await first_problem(world)
    assert problem.kind == "forged_checkpoint"
    leaves = await store.leaves(world.tenant.id)
    assert problem.event_id == leaves[checkpoint.tree_size - 1][0]


async def test_a_checkpoint_signed_with_another_key_is_forged(world, sealed):
    latest = await AuditCheckpoint.filter(tenant_id=world.tenant.id).order_by("-tree_size").first()
    other = Ed25519PrivateKey.generate()
    text = signing.note(world.tenant.id, latest.tree_size, bytes(latest.root_hash), latest.signed_at)
    await AuditCheckpoint.filter(id=latest.id).update(signature=other.sign(text))
    problem = await first_problem(world)
    assert (problem.kind, problem.event_id) == ("forged_checkpoint", sealed[-1])


async def test_a_row_and_its_leaf_rewritten_together_break_the_signed_root(world, sealed):
    from domain.audit.canonical import row_leaf
    from domain.audit.sealer import row_dict

    target = sealed[6]
    async with as_superuser():
        await OrderEvent.filter(id=target).update(reason="rewritten")
    row = await OrderEvent.get(id=target)
    await AuditLeaf.filter(event_id=target).update(leaf_hash=row_leaf(row_dict(row)))
    report = await verify(world.tenant.id)
    assert report.problems and {p.kind for p in report.problems} == {"root_mismatch"}
    assert report.first.event_id <= target


async def test_the_trigger_refuses_plain_update_and_delete(world, sealed):
    if not world.tenant._meta.db.capabilities.dialect == "postgres":
        pytest.skip("the immutability trigger is PostgreSQL's")
    with pytest.raises(OperationalError, match="append-only"):
        await OrderEvent.filter(id=sealed[0]).update(reason="x")
    with pytest.raises(OperationalError, match="append-only"):
        await OrderEvent.filter(id=sealed[0]).delete()
    assert (await verify(world.tenant.id)).ok


async def test_purge_writes_tombstones_that_still_verify_and_is_itself_recorded(world, sealed):
    cut = sealed[5]
    purged = await purge_before(world.actor(Role.ADMIN), cut, reason="retention test")
    assert purged == 5
    row = await OrderEvent.get(id=sealed[0])
    assert row.actor == "purged" and row.before is None and "tombstone" in row.after
    assert await OrderEvent.filter(tenant_id=world.tenant.id, type="lineage.purged").count() == 1
    assert (await verify(world.tenant.id)).ok
    # A tombstone above the recorded purge is an edit in disguise.
    async with as_superuser():
        leaf = await AuditLeaf.get(event_id=sealed[7])
        await OrderEvent.filter(id=sealed[7]).update(actor="purged", after={
            "tombstone": {"leaf_hash": base64.b64encode(bytes(leaf.leaf_hash)).decode()}})
    problem = await first_problem(world)
    assert (problem.kind, problem.event_id) == ("edited", sealed[7])


async def _bundle(world, path: Path, event_id: int) -> list[dict]:
    latest = await AuditCheckpoint.filter(tenant_id=world.tenant.id).order_by("-tree_size").first()
    first = await AuditCheckpoint.filter(tenant_id=world.tenant.id).order_by("tree_size").first()
    row = (await OrderEvent.filter(id=event_id).values(*("id", "tenant_id", "order_id", "type", "actor", "source",
                                                          "reason", "before", "after", "payload_ref",
                                                          "created_at")))[0]
    records = [
        {"record": "public_key", "public_key": signing.public_key_b64(), "key_id": signing.key_id()},
        event_record(row),
        (await inclusion_proof(world.tenant.id, event_id, latest.tree_size)).to_json(),
        (await consistency_proof(world.tenant.id, first.tree_size, latest.tree_size)).to_json(),
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return records


def run_offline(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "tools" / "verify_lineage.py"), str(path)],
                          capture_output=True, text=True, timeout=60)


async def test_proofs_verify_offline_and_fail_when_tampered(world, sealed, tmp_path):
    path = tmp_path / "evidence.jsonl"
    records = await _bundle(world, path, sealed[4])
    done = run_offline(path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "included at index 4" in done.stdout

    edited = [dict(r) for r in records]
    edited[1]["reason"] = "something else"
    assert "edited" in str(pytest.raises(offline.Failure, offline.check, edited, None).value)

    bent = [dict(r) for r in records]
    bent[2] = dict(bent[2], path=list(reversed(bent[2]["path"])))
    assert "inclusion proof" in str(pytest.raises(offline.Failure, offline.check, bent, None).value)

    rewritten = [dict(r) for r in records]
    rewritten[3] = dict(rewritten[3], path=[base64.b64encode(b"\x01" * 32).decode()] + rewritten[3]["path"][1:])
    assert "rewritten" in str(pytest.raises(offline.Failure, offline.check, rewritten, None).value)

    forged = [dict(r) for r in records]
    checkpoint = dict(forged[2]["checkpoint"], root_hash=base64.b64encode(b"\x02" * 32).decode())
    forged[2] = dict(forged[2], checkpoint=checkpoint)
    assert "forged" in str(pytest.raises(offline.Failure, offline.check, forged, None).value)

    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in edited), encoding="utf-8")
    failed = run_offline(path)
    assert failed.returncode == 1 and f"event {sealed[4]}: edited" in failed.stdout


async def test_the_whole_log_recomputes_offline(world, sealed):
    rows = [r async for r in store.rows(world.tenant.id)]
    checkpoints = await AuditCheckpoint.filter(tenant_id=world.tenant.id).order_by("tree_size")
    from domain.audit.verify import checkpoint_json

    records = [event_record(r) for r in rows] + [checkpoint_json(c) for c in checkpoints]
    done = offline.check(records, signing.public_bytes(), full=True)
    assert sum("root ok" in line for line in done) == len(checkpoints)
    records[2] = dict(records[2], actor="someone else")
    with pytest.raises(offline.Failure, match="do not give the root"):
        offline.check(records, signing.public_bytes(), full=True)


async def test_proof_requests_outside_the_log_are_clear_errors(world, sealed):
    from domain.errors import NotFound, ValidationFailed

    with pytest.raises(ValidationFailed):
        await inclusion_proof(world.tenant.id, sealed[0], 10_000)
    with pytest.raises(NotFound):
        await inclusion_proof(world.tenant.id, 999_999, len(sealed))
    with pytest.raises(ValidationFailed):
        await consistency_proof(world.tenant.id, 5, 3)


VERIFY_QUERY = """query($from: ID) { lineageVerification(fromId: $from) { ok eventsChecked pending
    firstProblem { kind eventId detail } } }"""


@pytest.fixture
async def sealing_app(db: str) -> AsyncIterator[Any]:
    application = create_app(settings_for(db, audit_enabled=True, audit_checkpoint_every=3,
                                          audit_checkpoint_seconds=0.2), manage_database=False)
    async with application.router.lifespan_context(application):
        await wait_until(lambda: application.state.live.leadership.leading.is_set(), timeout=15)
        yield application


async def test_the_leader_seals_after_commit_and_auditors_verify_over_graphql(world, sealing_app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sealing_app), base_url="http://test") as http:
        gql = GraphQLClient(http)
        await paid_order(world.actor(), world.channel.id, "AUD-LIVE")
        ids = await append(world, 4)
        total = await OrderEvent.filter(tenant_id=world.tenant.id).count()

        async def sealed_and_signed() -> bool:
            return await AuditCheckpoint.filter(tenant_id=world.tenant.id, tree_size=total).exists()

        await wait_for(sealed_and_signed)
        data = await gql(world.keys["auditor"], VERIFY_QUERY)
        assert data["lineageVerification"] == {"ok": True, "eventsChecked": total, "pending": 0, "firstProblem": None}

        sizes = [c["treeSize"] for c in (await gql(world.keys["admin"], "{ lineageCheckpoints(first: 10) { nodes { treeSize } } }"))[
            "lineageCheckpoints"]["nodes"]]
        assert sizes[0] == total and sizes == sorted(sizes, reverse=True) and len(sizes) >= 2
        data = await gql(world.keys["admin"], """query($e: ID!, $from: Int!) {
            inclusionProof(eventId: $e) { index treeSize json } consistencyProof(from: $from) { from to json } }""",
                         {"e": str(ids[1]), "from": sizes[-1]})
        assert data["consistencyProof"]["to"] == total
        key = (await http.get("/audit/public-key")).json()
        records = [{"record": "public_key", **key}, data["inclusionProof"]["json"], data["consistencyProof"]["json"]]
        assert any("included" in line for line in offline.check(records, None))

        refused = (await gql.post(world.keys["ops"], VERIFY_QUERY)).json()
        assert refused["errors"] and "auditors" in refused["errors"][0]["message"]

        async with as_superuser():
            await OrderEvent.filter(id=ids[2]).update(after={"n": 999})
        data = await gql(world.keys["auditor"], VERIFY_QUERY, {"from": str(ids[0])})
        assert data["lineageVerification"]["firstProblem"]["kind"] == "edited"
        assert data["lineageVerification"]["firstProblem"]["eventId"] == str(ids[2])


async def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_the_cli_exits_non_zero_naming_the_first_bad_event(world, sealed, db):
    import os

    command = [str(Path(sys.executable).parent / "ordergraph"), "lineage", "verify", "--tenant", "acme"]
    env = {**os.environ, "DATABASE_URL": db}
    done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0 and ": ok" in done.stdout, done.stdout + done.stderr
    async with as_superuser():
        await OrderEvent.filter(id=sealed[2]).update(actor="someone-else")
    done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1 and f"event {sealed[2]}: edited" in done.stdout, done.stdout + done.stderr
