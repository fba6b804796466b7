"""Rules engine figures: evaluation cost against bare CEL, a 100k-event dry run, commit → notification.

    .venv/bin/python bench/rules.py [--rules 200] [--events 100000] [--backend sqlite|postgres]

1. ``rules_eval_us_per_event``: 200 enabled rules spread over 20 trigger event
   types (10 each, a realistic mix of conditions). For each of 5,000 synthetic
   order contexts and a trigger type, OrderGraph's path: build the CEL context
   once (``language.prepared``), look the rules up in the trigger index, judge
   each (``evaluate.judge``). ``rules_eval_vs_bare_cel`` divides that by bare
   cel-rust doing the same work by hand (one ``cel.Context`` per event, the same
   10 compiled programs executed), measured in the same run, alternated.
   ``rules_eval_all_200_bare_us`` is what evaluating every rule on every event
   would cost without the index.
2. ``dry_run_100k_events_s``: a database (SQLite file, or PostgreSQL from
   ``BENCH_DATABASE_URL``) with 10,000 orders and 100,000 lineage events of the
   trigger types; ``domain.rules.dry_run`` over the last 7 days, loading the
   orders' context in batches. Target < 30 s.
3. ``commit_to_notify_p99_ms``: ``bench/notify_latency.py``'s measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from random import Random
from typing import Any

import cel

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from domain.rules.engine import RuleIndex, compiled  # noqa: E402
from domain.rules.evaluate import judge  # noqa: E402
from domain.rules.language import FUNCTIONS, doubles, prepared  # noqa: E402
from domain.rules.samples import SAMPLE  # noqa: E402
from models import RuleVersion  # noqa: E402

CONDITIONS = [
    "order.total_amount > {n}",
    "hours_until(order.ship_by) <= {h} && order.status == \"PAID\"",
    "lines.exists(l, stock[l.sku].available <= stock[l.sku].safety * 1.2)",
    "order.item_count >= {k} && channel.kind == \"taobao\"",
    'order.tags.exists(t, t == "urgent") || order.priority.startsWith("URGENT")',
    'lines.exists(l, l.sku.startsWith("FRAGILE-")) && order.province == "浙江省"',
    "order.discount_total / order.goods_total > 0.{k}",
    "size(order.hold_reasons) > 0 && minutes_since(order.updated_at) >= {n}",
    'event.type == "order.created" && order.total_amount * 2 > {n}',
    "shipment == null && hours_since(order.paid_at) > {h}",
]


def emit(name: str, value: float, unit: str) -> None:
    print(json.dumps({"name": name, "value": round(value, 3), "unit": unit}), flush=True)


def rule_set(count: int, triggers: list[str], rng: Random) -> RuleIndex:
    index = RuleIndex()
    for number in range(count):
        source = CONDITIONS[number % len(CONDITIONS)].format(n=rng.randint(50, 500), h=rng.randint(1, 48),
                                                              k=rng.randint(1, 9))
        version = RuleVersion(version=1, condition=source, triggers=[triggers[number % len(triggers)]],
                              schedule_seconds=None, actions=[{"type": "tag", "tag": "x"}])
        rule = compiled(number + 1, f"rule {number}", version)
        index.by_trigger[rule.triggers[0]].append(rule)
    return index


def contexts(count: int, rng: Random) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    result = []
    for number in range(count):
        variables = json_copy(SAMPLE)
        order = variables["order"]
        order["total_amount"] = float(rng.randint(10, 900))
        order["ship_by"] = now + timedelta(hours=rng.uniform(-2, 72))
        order["paid_at"] = order["updated_at"] = now - timedelta(minutes=rng.randint(0, 600))
        order["item_count"] = float(rng.randint(1, 12))
        order["tags"] = ["urgent"] if number % 7 == 0 else []
        variables["stock"]["TEA-001"]["available"] = float(rng.randint(0, 30))
        variables["now"] = now
        result.append(variables)
    return result


def json_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_copy(v) for v in value]
    return value


def evaluation(rule_count: int) -> None:
    rng = Random(7)
    triggers = [f"order.kind_{number}" for number in range(20)]
    index = rule_set(rule_count, triggers, rng)
    samples = contexts(5000, rng)
    events = [(samples[i], triggers[i % len(triggers)]) for i in range(len(samples))]
    bare_programs = {t: [cel.compile(doubles(r.condition.source)) for r in index.for_event(t)] for t in triggers}
    all_programs = [p for programs in bare_programs.values() for p in programs]

    def ours() -> float:
        started = time.perf_counter()
        for variables, trigger in events:
            context = prepared({**variables, "event": {"type": trigger}})
            for rule in index.for_event(trigger):
                judge(rule, context)
        return (time.perf_counter() - started) / len(events) * 1e6

    def bare() -> float:
        started = time.perf_counter()
        for variables, trigger in events:
            context = cel.Context(variables={**variables, "event": {"type": trigger}}, functions=FUNCTIONS)
            for program in bare_programs[trigger]:
                program.execute(context)
        return (time.perf_counter() - started) / len(events) * 1e6

    def bare_all() -> float:
        started = time.perf_counter()
        for variables, trigger in events[:1000]:
            context = cel.Context(variables={**variables, "event": {"type": trigger}}, functions=FUNCTIONS)
            for program in all_programs:
                program.execute(context)
        return (time.perf_counter() - started) / 1000 * 1e6

    ours(), bare()  # warm up
    runs = [(ours(), bare()) for _ in range(5)]
    ours_us = sorted(r[0] for r in runs)[2]
    bare_us = sorted(r[1] for r in runs)[2]
    emit("rules_eval_us_per_event", ours_us, "us")
    emit("rules_bare_cel_us_per_event", bare_us, "us")
    emit("rules_eval_vs_bare_cel", ours_us / bare_us, "ratio")
    emit("rules_eval_all_200_bare_us", bare_all(), "us")


async def dry_run_figure(events: int, backend: str) -> None:
    from tortoise import Tortoise
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    from api.database import init_db, migrate
    from domain.actor import Actor, Role
    from domain.catalog import setup as catalog
    from domain.rules.dry_run import dry_run
    from domain.rules.store import RuleInput
    from domain.tenants.accounts import create_tenant
    from ingest import drop_database, fresh_database
    from models import Order, OrderEvent, OrderLine

    EXECUTOR_CACHE.clear()  # a second backend in the same process must not reuse the first one's executors
    folder = Path(tempfile.mkdtemp())
    url = await fresh_database(backend, folder)
    try:
        await migrate(url)
        await init_db(url)
        tenant = await create_tenant("bench", "Bench")
        channel = await catalog.create_channel(tenant.id, "tmall", "taobao", "Tmall")
        now = datetime.now(UTC)
        orders = 10_000
        for start in range(0, orders, 2000):
            await Order.bulk_create([Order(tenant_id=tenant.id, channel_id=channel.id, external_id=f"B{n}",
                                           status="PAID", total_amount=Decimal(10 + n % 500), placed_at=now)
                                     for n in range(start, start + 2000)])
        ids = list(await Order.filter(tenant_id=tenant.id).order_by("id").values_list("id", flat=True))
        for start in range(0, len(ids), 2000):
            await OrderLine.bulk_create([OrderLine(order_id=i, sku=f"SKU-{i % 50}", quantity=1 + i % 3,
                                                   unit_price=Decimal("9.90")) for i in ids[start:start + 2000]])
        types = ["order.created", "order.status_changed"]
        for start in range(0, events, 5000):
            await OrderEvent.bulk_create([OrderEvent(tenant_id=tenant.id, order_id=ids[n % len(ids)],
                                                     type=types[n % 2], actor="bench", source="bench")
                                          for n in range(start, min(start + 5000, events))])
        actor = Actor(tenant_id=tenant.id, role=Role.OPS, name="bench")
        spec = RuleInput(name="bench", condition="order.total_amount > 400 && lines.exists(l, l.quantity >= 2)",
                         triggers=types, actions=[{"type": "alert", "severity": "warning", "message": "{order.number}"}])
        started = time.perf_counter()
        report = await dry_run(actor, spec, days=7)
        elapsed = time.perf_counter() - started
        assert report.events_scanned == events, report.events_scanned
        emit(f"dry_run_100k_events_s_{backend}", elapsed, "s")
        if backend == "sqlite":
            emit("dry_run_100k_events_s", elapsed, "s")
        emit(f"dry_run_eval_us_per_event_{backend}", report.evaluation_us_per_event, "us")
        emit(f"dry_run_orders_hit_{backend}", report.orders_hit, "orders")
    finally:
        await Tortoise.close_connections()
        await drop_database(url)


async def notify_figure() -> None:
    from notify_latency import measure

    figures = await measure(alerts=200)
    for name in ("commit_to_notify_p50_ms", "commit_to_notify_p99_ms"):
        emit(name, figures[name], "ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgres"])
    args = parser.parse_args()
    evaluation(args.rules)
    for backend in args.backend or ["sqlite", "postgres"]:
        asyncio.run(dry_run_figure(args.events, backend))
    asyncio.run(notify_figure())


if __name__ == "__main__":
    main()
