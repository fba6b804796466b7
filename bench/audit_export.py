"""Exporting one day of 100,000 lineage events to JSONL (issue 17: target < 20 s).

    .venv/bin/python bench/audit_export.py [--events 100000] [--backend postgres|sqlite]

A throw-away database (a fresh database on the server of ``BENCH_DATABASE_URL``
/ ``TEST_DATABASE_URL``, or a SQLite file) built with ``generate_schemas``; one
tenant; ``--events`` lineage rows of one day bulk-inserted (a mix of order,
stock and configuration events with before/after bodies); then
``domain.lineage.export.export_lineage`` of that day ``by="recorded"`` to a
JSONL file, as an auditor. Prints ``{"name", "value", "unit"}`` per line:
``export_100k_events_seconds`` (and events/s, bytes).
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


async def run(backend: str, events: int) -> None:
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
        finally:
            await Tortoise.close_connections()
            if url.startswith("postgres"):
                await _pg_admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    args = parser.parse_args()
    asyncio.run(run(args.backend, args.events))


if __name__ == "__main__":
    main()
