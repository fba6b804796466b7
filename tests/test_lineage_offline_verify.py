"""Exports verify offline end to end: an auditor exports a day and an order, ``tools/verify_lineage.py`` checks
each against the signed checkpoint with one multiproof, and names what an editor changed (issue 17)."""

from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import importlib.util
import inspect
import io
import json
import os
import random
import subprocess
import sys
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from domain.actor import Role
from domain.audit import multiproof, signing
from domain.audit.merkle import root_of
from domain.audit.sealer import checkpoint_now, seal_pending
from domain.lineage.export import export_lineage
from domain.lineage.pack import build_pack
from domain.lineage.scope import order_number, order_scope, tenant_zone
from domain.orders.holds import hold_order
from domain.unit_of_work import unit_of_work
from events import log
from models import AuditCheckpoint, OrderEvent
from tests.conftest import World
from tests.helpers import paid_order

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "verify_lineage.py"
_spec = importlib.util.spec_from_file_location("verify_lineage_tool", TOOL)
assert _spec and _spec.loader
offline = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(offline)

# ---------------------------------------------------------------------------------------------- the multiproof


def test_the_tools_multiproof_is_a_copy_of_the_domains() -> None:
    for name in ("_split", "_node", "root_from"):
        assert inspect.getsource(getattr(offline, name)) == inspect.getsource(getattr(multiproof, name)), name
    assert offline.EMPTY_ROOT == multiproof.EMPTY_ROOT


@pytest.mark.parametrize("size", [0, 1, 2, 3, 7, 8, 9, 1000])
def test_a_multiproof_gives_the_root_for_any_subset_and_rejects_a_wrong_proof(size: int) -> None:
    rng = random.Random(size)
    leaves = [hashlib.sha256(f"leaf {i}".encode()).digest() for i in range(size)]
    root = root_of(leaves)
    subsets = [[], list(range(size))] + [sorted(rng.sample(range(size), rng.randint(0, size))) for _ in range(25)]
    for indices in subsets:
        proof = multiproof.prove(indices, leaves)
        pairs = [(i, leaves[i]) for i in indices]
        assert multiproof.root_from(pairs, size, proof) == root
        assert offline.root_from(pairs, size, proof) == root
        if size and len(indices) == size:
            assert proof == []                                  # a full export needs no hashes
        for verifier in (multiproof.root_from, offline.root_from):
            with pytest.raises(ValueError, match="extra"):
                verifier(pairs, size, proof + [root])
            if proof:
                with pytest.raises(ValueError, match="missing"):
                    verifier(pairs, size, proof[:-1])
                bent = [bytes(32)] + proof[1:]
                assert verifier(pairs, size, bent) != root
            if indices:                                          # a leaf that is not the sealed one
                changed = [(pairs[0][0], bytes(32))] + pairs[1:]
                assert verifier(changed, size, proof) != root
    if size > 1:
        assert len(multiproof.prove([size // 2], leaves)) == (size - 1).bit_length()  # one leaf: its audit path


def test_a_contiguous_range_needs_few_hashes() -> None:
    leaves = [hashlib.sha256(str(i).encode()).digest() for i in range(5000)]
    proof = multiproof.prove(list(range(1200, 2400)), leaves)
    assert len(proof) <= 2 * 13 and offline.root_from([(i, leaves[i]) for i in range(1200, 2400)], 5000,
                                                      proof) == root_of(leaves)


# ------------------------------------------------------------------------------------------ exports, offline


async def append(world: World, n: int, order_id: int | None = None, actor: str = "ops:ann") -> list[int]:
    ids = []
    for i in range(n):
        async with unit_of_work():
            row = await log.append(tenant_id=world.tenant.id, order_id=order_id, type="test.changed", actor=actor,
                                   source="test", reason=f"step {i} 理由", before={"n": i, "warehouse_id": 3},
                                   after={"n": i + 1, "名": "x", "price": 1.5, "order_id": order_id})
            ids.append(row.id)
    return ids


def verify_offline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(TOOL), *args, "--public-key", signing.public_key_b64()],
                          capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": ""},
                          cwd="/")


def _cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env={**os.environ, "DATABASE_URL": database_url},
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


@pytest.fixture
async def history(world: World, other_world: World) -> dict[str, Any]:
    """Two orders placed today, tenant-wide events, another tenant's events: all sealed and signed."""
    first = await paid_order(world.actor(Role.ADMIN), world.channel.id, "OFF-1")
    second = await paid_order(world.actor(Role.ADMIN), world.channel.id, "OFF-2")
    await append(world, 3, order_id=first.id)
    await append(world, 4)                                       # not of an order: outside a day by placed
    await append(other_world, 2)
    await append(world, 2, order_id=second.id)
    await seal_pending()
    await checkpoint_now(world.tenant.id)
    today = datetime.now(await tenant_zone(world.tenant.id)).date().isoformat()
    return {"first": first, "second": second, "day": today}


async def test_an_auditor_exports_a_day_and_an_order_from_the_cli_and_both_verify_offline(
        world: World, history: dict[str, Any], db: str, tmp_path: Path) -> None:
    day, order = history["day"], history["first"]
    exported: dict[str, Path] = {}
    for name, scope_args, fmt in (("day.jsonl", ["--from", day, "--to", day, "--by", "placed"], "jsonl"),
                                  ("day.csv", ["--from", day, "--to", day, "--by", "placed"], "csv"),
                                  ("order.jsonl", ["--order", order_number(order.id)], "jsonl")):
        target = tmp_path / name
        done = await asyncio.to_thread(_cli, "lineage", "export", "--tenant", "acme", *scope_args, "--format", fmt,
                                       "-o", str(target), database_url=db)
        assert done.returncode == 0, done.stderr
        exported[name] = target
    day_events = await OrderEvent.filter(order__placed_at__isnull=False, tenant_id=world.tenant.id).count()
    for name, target in exported.items():
        checked = await asyncio.to_thread(verify_offline, "--export", str(target))
        assert checked.returncode == 0, (name, checked.stdout, checked.stderr)
        count = day_events if name.startswith("day") else await OrderEvent.filter(order_id=order.id).count()
        latest = await AuditCheckpoint.filter(tenant_id=world.tenant.id).order_by("-tree_size").first()
        assert checked.stdout.startswith(f"OK: {count} events verified against checkpoint of size "
                                         f"{latest.tree_size} signed at "), checked.stdout
        assert checked.stdout.rstrip().endswith(", 0 unsealed")
    manifest = json.loads((tmp_path / "day.jsonl.manifest.json").read_text())
    assert manifest["sealed"] == day_events and manifest["unsealed"] == 0
    assert manifest["checkpoint"]["note"].startswith(f"ordergraph-lineage/v1\n{world.tenant.id}\n")
    record = json.loads((tmp_path / "day.jsonl").read_text().splitlines()[0])
    assert set(record["sealed"]["row"]) == {"id", "tenant_id", "order_id", "type", "actor", "source", "reason",
                                            "before", "after", "payload_ref", "created_at"}
    assert record["sealed"]["row"]["id"] == record["id"]


async def test_a_background_job_export_and_an_evidence_pack_verify_offline(
        world: World, history: dict[str, Any], gql, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.test_lineage_export import START, _finished

    auditor = world.keys["auditor"]
    started = (await gql(auditor, START, {"i": {"from": history["day"], "to": history["day"], "by": "PLACED",
                                                  "format": "JSONL"}}))["startLineageExport"]
    assert started["errors"] == [], started
    job = await _finished(gql, auditor, started["job"]["id"])
    assert job["status"] == "DONE", job
    answer = await gql.http.get(job["downloadUrl"], headers={"authorization": f"Bearer {auditor}"})
    assert answer.status_code == 200
    (tmp_path / "day.jsonl").write_bytes(answer.content)
    (tmp_path / "day.json").write_text(json.dumps(job["manifest"]))
    checked = await asyncio.to_thread(verify_offline, "--export", str(tmp_path / "day.jsonl"),
                                      "--manifest", str(tmp_path / "day.json"))
    assert checked.returncode == 0 and f"OK: {job['manifest']['count']} events verified" in checked.stdout, \
        checked.stdout

    pack = tmp_path / "pack.zip"
    pack.write_bytes(await build_pack(world.actor(Role.AUDITOR), history["second"].id))
    checked = await asyncio.to_thread(verify_offline, "--pack", str(pack))
    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.startswith(f"OK: {await OrderEvent.filter(order_id=history['second'].id).count()} events")
    # A pack whose lineage was edited no longer matches its contents.json.
    edited = tmp_path / "edited.zip"
    with zipfile.ZipFile(pack) as source, zipfile.ZipFile(edited, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            target.writestr(name, data.replace(b'"order.created"', b'"order.cancelled"') if name == "lineage.jsonl"
                            else data)
    failed = await asyncio.to_thread(verify_offline, "--pack", str(edited))
    assert failed.returncode == 1 and "lineage.jsonl differs" in failed.stdout


async def _order_export(world: World, tmp_path: Path, order_id: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    auditor = world.actor(Role.AUDITOR)
    out = io.BytesIO()
    manifest = await export_lineage(auditor, await order_scope(auditor, order_id), "jsonl", out.write)
    return [json.loads(line) for line in out.getvalue().decode().splitlines()], manifest


async def _check(tmp_path: Path, records: list[dict[str, Any]], manifest: dict[str, Any],
                 fix_body: bool = True) -> subprocess.CompletedProcess[str]:
    """Write the (edited) export like the exporter does; ``fix_body``: the editor also fixes the body hash."""
    body = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"
                   for r in records).encode()
    if fix_body:
        manifest = dict(manifest, body_sha256=hashlib.sha256(body).hexdigest(), body_bytes=len(body))
    (tmp_path / "x.jsonl").write_bytes(body)
    (tmp_path / "x.jsonl.manifest.json").write_text(json.dumps(manifest, default=str))
    return await asyncio.to_thread(verify_offline, "--export", str(tmp_path / "x.jsonl"))


async def test_edits_to_an_export_are_named(world: World, history: dict[str, Any], tmp_path: Path) -> None:
    records, manifest = await _order_export(world, tmp_path, history["first"].id)
    assert len(records) >= 4 and manifest["proof"]["tree_size"] == manifest["checkpoint"]["tree_size"]
    assert (await _check(tmp_path, records, manifest)).returncode == 0

    def copy() -> list[dict[str, Any]]:
        return json.loads(json.dumps(records))

    edited = copy()
    edited[2]["type"] = "order.cancelled"
    failed = await _check(tmp_path, edited, manifest)
    assert failed.returncode == 1 and f"record 3 (event {records[2]['id']}): type is 'order.cancelled'" in \
        failed.stdout, failed.stdout

    edited = copy()
    edited[1]["reason"] = "nothing to see"
    failed = await _check(tmp_path, edited, manifest, fix_body=False)
    assert failed.returncode == 1 and f"(event {records[1]['id']}): reason" in failed.stdout

    rewritten = copy()                                           # the human field and the sealed row, together
    rewritten[1]["reason"] = rewritten[1]["sealed"]["row"]["reason"] = "nothing to see"
    failed = await _check(tmp_path, rewritten, manifest)
    assert failed.returncode == 1 and "do not lead to the signed root" in failed.stdout, failed.stdout

    dropped = copy()
    del dropped[1]
    failed = await _check(tmp_path, dropped, manifest)
    assert failed.returncode == 1 and "a record was dropped or added" in failed.stdout
    recounted = dict(manifest, count=len(dropped), sealed=len(dropped), first_id=dropped[0]["id"],
                     counts_by_type=dict(manifest["counts_by_type"], **{records[1]["type"]: manifest[
                         "counts_by_type"][records[1]["type"]] - 1}))
    recounted["counts_by_type"] = {k: v for k, v in recounted["counts_by_type"].items() if v}
    failed = await _check(tmp_path, dropped, recounted)          # counts fixed too: the proof still misses it
    assert failed.returncode == 1 and ("multiproof" in failed.stdout or "signed root" in failed.stdout), failed.stdout

    swapped = copy()
    swapped[1], swapped[2] = swapped[2], swapped[1]
    failed = await _check(tmp_path, swapped, manifest)
    assert failed.returncode == 1 and f"record 3 (event {records[1]['id']}): out of id order" in failed.stdout

    forged = dict(manifest, checkpoint=dict(manifest["checkpoint"],
                                            root_hash=base64.b64encode(bytes(32)).decode()))
    failed = await _check(tmp_path, records, forged)
    assert failed.returncode == 1 and "forged" in failed.stdout

    untouched_body = await _check(tmp_path, records, dict(manifest, body_sha256="0" * 64), fix_body=False)
    assert untouched_body.returncode == 1 and "SHA-256" in untouched_body.stdout


async def test_a_csv_export_with_an_edited_cell_fails_naming_the_record(
        world: World, history: dict[str, Any], tmp_path: Path) -> None:
    auditor = world.actor(Role.AUDITOR)
    out = io.BytesIO()
    manifest = await export_lineage(auditor, await order_scope(auditor, history["second"].id), "csv", out.write)
    body = out.getvalue()
    assert offline.check_export(body, manifest, signing.public_bytes()).startswith(f"{manifest['count']} events")
    rows = list(csv.reader(io.StringIO(body.decode(), newline="")))
    reason = rows[0].index("reason")
    target = next(row for row in rows if row[reason] == "step 1 理由")
    target[reason] = "step 7 理由"                              # the cell only: its sealed_row still says step 1
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    edited = buffer.getvalue().encode()
    assert edited != body and len(edited) == len(body)
    with pytest.raises(offline.Failure, match=r"\(event \d+\): reason is 'step 7 理由'"):
        offline.check_export(edited, manifest, signing.public_bytes())


async def test_events_after_the_checkpoint_are_reported_unsealed(world: World, history: dict[str, Any],
                                                                 tmp_path: Path) -> None:
    order = history["first"]
    before = await OrderEvent.filter(order_id=order.id).count()
    await hold_order(world.actor(Role.ADMIN), order.id, ["address check"])   # committed, not sealed
    late = await OrderEvent.filter(order_id=order.id).count() - before
    records, manifest = await _order_export(world, tmp_path, order.id)
    assert late and [r["sealed"] is None for r in records] == [False] * before + [True] * late
    assert manifest["unsealed"] == late and manifest["sealed"] == before
    done = await _check(tmp_path, records, manifest)
    assert done.returncode == 0 and done.stdout.rstrip().endswith(f", {late} unsealed"), done.stdout
    assert done.stdout.startswith(f"OK: {before} events verified")
    # Claiming an earlier, sealed event is unsealed (to hide an edit) breaks the proof or the order.
    hidden = json.loads(json.dumps(records))
    hidden[0]["sealed"] = None
    failed = await _check(tmp_path, hidden, dict(manifest, sealed=before - 1, unsealed=late + 1))
    assert failed.returncode == 1 and "sealed, yet an earlier event" in failed.stdout


async def test_a_row_whose_actor_names_a_key_secret_is_proven_by_its_leaf_only(world: World, tmp_path: Path) -> None:
    order = await paid_order(world.actor(Role.ADMIN), world.channel.id, "OFF-LEGACY")
    await append(world, 1, order_id=order.id, actor="key:og_AbCdEfGh(ops desk)")
    await seal_pending()
    records, manifest = await _order_export(world, tmp_path, order.id)
    assert manifest["withheld"] == 1 and "og_AbCdEfGh" not in json.dumps(records)
    done = await _check(tmp_path, records, manifest)
    assert done.returncode == 0 and "1 withheld" in done.stdout, done.stdout
