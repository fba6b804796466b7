"""Exporting one day of 100,000 lineage events to JSONL, sealed and proven (issue 17: target < 20 s).

    .venv/bin/python bench/audit_export.py [--events 100000] [--backend postgres|sqlite] [--proof-leaves 1000000]

A throw-away database (a fresh database on the server of ``BENCH_DATABASE_URL``
/ ``TEST_DATABASE_URL``, or a SQLite file) built with ``generate_schemas``; one
tenant; ``--events`` lineage rows of one day bulk-inserted (a mix of order,
stock and configuration events with before/after bodies), sealed
(``seal_pending``, not timed); then ``domain.lineage.export.export_lineage`` of
that day ``by="recorded"`` to a JSONL file, as an auditor — each record with its
canonical row, the manifest with the signed checkpoint and the multiproof.
Prints ``{"name", "value", "unit"}`` per line: ``export_100k_events_seconds``
(and events/s, bytes, proof hashes), ``verify_export_offline_seconds`` (the
standalone verifier on that file). Then, in a second tenant whose log holds
``--proof-leaves`` leaves (inserted by SQL, not sealed one by one),
``export_proof_1m_leaves_seconds``: the multiproof of 100,000 contiguous leaves
(it reads all the leaf hashes of [0, n), O(n)); ``--proof-leaves 0`` skips it.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tortoise import Tortoise  # noqa: E402
from tortoise.backends.base.executor import EXECUTOR_CACHE  # noqa: E402

from api.database import tortoise_config  # noqa: E402
from bench.ingest import _pg_admin, figure, fresh_database  # noqa: E402

TYPES = ("order.created", "order.status_changed", "order.allocated", "stock.received", "stock.reserved",
         "config.rule_saved", "order.hold_added", "order.hold_released")


async def insert_events(tenant_id: int, count: int, day_start: datetime) -> None:
    from models import OrderEvent

    rng = random.Random(17)
    step = timedelta(seconds=86_000 / count)
    batch: list[OrderEvent] = []
    for n in range(count):
        kind = TYPES[n % len(TYPES)]
        batch.append(OrderEvent(
            tenant_id=tenant_id, order_id=None, type=kind, actor="ops desk (ops key)", source="graphql",
            reason="bench", before={"status": "PAID", "warehouse_id": rng.randint(1, 9)},
            after={"status": "ALLOCATED", "warehouse_id": rng.randint(1, 9), "sku": f"SKU-{n % 500:03d}",
                   "quantity": n % 7}, payload_ref=None, created_at=day_start + step * n))
        if len(batch) == 5000:
            await OrderEvent.bulk_create(batch)
            batch = []
    if batch:
        await OrderEvent.bulk_create(batch)


def verify_offline(target: Path, manifest: dict) -> float:  # type: ignore[type-arg]
    """Seconds ``tools/verify_lineage.py`` takes to check the export (in this process)."""
    import importlib.util

    from domain.audit import signing

    spec = importlib.util.spec_from_file_location("verify_lineage", ROOT / "tools" / "verify_lineage.py")
    assert spec and spec.loader
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    started = time.perf_counter()
    tool.check_export(target.read_bytes(), manifest, signing.public_bytes())
    return time.perf_counter() - started


async def time_proof(tenant_id: int, size: int, postgres: bool) -> float:
    """Seconds to prove 100,000 contiguous leaves in a log of ``size`` leaves (leaf hashes made by SQL)."""
    from tortoise import connections

    from domain.lineage.sealing import ExportSeals
    from models import AuditCheckpoint

    connection = connections.get("default")
    if postgres:
        await connection.execute_script(
            f"INSERT INTO audit_leaf (event_id, tenant_id, \"index\", leaf_hash) SELECT 10000000 + i, {tenant_id}, i, "
            f"decode(md5(i::text) || md5((i + 1)::text), 'hex') FROM generate_series(0, {size - 1}) AS i")
    else:
        await connection.execute_script(
            f"WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {size - 1}) "
            f"INSERT INTO audit_leaf (event_id, tenant_id, \"index\", leaf_hash) "
            f"SELECT 10000000 + i, {tenant_id}, i, randomblob(32) FROM n")
    seals = ExportSeals(tenant_id, AuditCheckpoint(tenant_id=tenant_id, tree_size=size))
    middle = size // 2
    seals.indices = list(range(middle, min(size, middle + 100_000)))
    started = time.perf_counter()
    proof = await seals.proof()
    seconds = time.perf_counter() - started
    assert proof is not None and proof["tree_size"] == size
    return seconds


async def run(backend: str, events: int, proof_leaves: int) -> None:
    from domain.actor import Actor, Role
    from domain.lineage.export import export_lineage
    from domain.lineage.scope import range_scope
    from domain.tenants.accounts import create_tenant
    from models import OrderEvent, Tenant

    with tempfile.TemporaryDirectory() as folder:
        url = await fresh_database(backend, Path(folder))
        try:
            EXECUTOR_CACHE.clear()
            await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
            await Tortoise.generate_schemas()
            tenant = await create_tenant("bench", "Bench")
            await Tenant.filter(id=tenant.id).update(time_zone="UTC")
            day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
            await insert_events(tenant.id, events, day)
            first = await OrderEvent.filter(tenant_id=tenant.id).order_by("id").first()
            actual_day = first.created_at.astimezone(UTC).date() if first else day.date()
            actor = Actor(tenant_id=tenant.id, role=Role.AUDITOR, name="bench auditor", source="bench")
            scope = await range_scope(actor, actual_day, actual_day, by="recorded")
            from domain.audit.sealer import seal_pending

            await seal_pending()
            target = Path(folder) / "day.jsonl"
            started = time.perf_counter()
            with target.open("wb") as sink:
                manifest = await export_lineage(actor, scope, "jsonl", sink.write)
            seconds = time.perf_counter() - started
            figure("export_100k_events_seconds" if events == 100_000 else f"export_{events}_events_seconds",
                   seconds, "s")
            figure("export_events_per_second", manifest["count"] / seconds if seconds else 0, "events/s")
            figure("export_events_written", manifest["count"], "events")
            figure("export_bytes", manifest["body_bytes"], "bytes")
            figure("export_sealed_events", manifest["sealed"], "events")
            figure("export_proof_hashes", len((manifest["proof"] or {}).get("hashes", [])), "hashes")
            figure("verify_export_offline_seconds", verify_offline(target, manifest), "s")
            if proof_leaves:
                seconds = await time_proof(tenant.id + 1000, proof_leaves, url.startswith("postgres"))
                figure("export_proof_1m_leaves_seconds" if proof_leaves == 1_000_000
                       else f"export_proof_{proof_leaves}_leaves_seconds", seconds, "s")
        finally:
            await Tortoise.close_connections()
            if url.startswith("postgres"):
                await _pg_admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--proof-leaves", type=int, default=1_000_000)
    args = parser.parse_args()
    asyncio.run(run(args.backend, args.events, args.proof_leaves))


if __name__ == "__main__":
    main()
