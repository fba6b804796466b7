"""``ordergraph simulate``: a whole business day against OrderGraph, judged against the truth.

    ordergraph simulate --orders 20000 --hours 24 --speed 100 --profile chaos --seed 7 \\
        --database-url postgres://postgres@127.0.0.1:5432/test --redis private --workers 2

    result = asyncio.run(simulate(Options(orders=500, hours=24, speed=2000, profile=load("small"))))

The run owns what it tests: a fresh database (a new SQLite file, or a throw-away
database on the PostgreSQL server given), optionally a private ``redis-server``
it can restart, and ``ordergraph serve --workers N`` on them. It sets the
merchant up through the domain's use cases (as ``ordergraph seed`` does),
plays the day (:mod:`chaos.day`) while watching the exception board, then
waits for OrderGraph to converge — every order agreeing with the simulators on
every dimension and every lineage event delivered to the partner — or for the
profile's ``settle`` time, and judges (:mod:`chaos.judge`).
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from api import database
from chaos import judge
from chaos.cluster import Cluster, PrivateRedis
from chaos.day import Day
from chaos.profile import Profile, silent_after_hours
from chaos.result import RunResult, Sample, percentile
from chaos.settling import Settling
from chaos.systems import TENANT, Systems, set_up_tenant, simulated_systems
from domain.order_numbers import order_number
from models import OrderEvent, Tenant

SAMPLES = 24


@dataclass
class Options:
    profile: Profile
    orders: int = 20_000
    hours: float = 24.0
    speed: float = 100.0
    seed: int = 7
    database_url: str = ""  # empty: a new SQLite file; postgres://…: a throw-away database on that server
    redis: str = "none"  # none (in-process bus), private (a redis-server of the run's own), or a redis:// URL
    workers: int = 1
    keep: bool = False  # keep the database afterwards (to look at it)
    work_dir: Path = Path("var/chaos")
    server_env: dict[str, str] = field(default_factory=dict)  # extra settings for OrderGraph (e.g. a broken build)
    progress: bool = False


async def simulate(options: Options) -> RunResult:
    options.work_dir.mkdir(parents=True, exist_ok=True)
    redis = PrivateRedis.start() if options.redis == "private" else None
    redis_url = redis.url if redis else (options.redis if options.redis.startswith("redis") else None)
    try:
        async with fresh_database(options) as database_url:
            cluster = Cluster(database_url, redis_url, options.workers,
                              env={"ORDERGRAPH_TRACKING_QUERY_AFTER_HOURS":
                                   f"{silent_after_hours(options.profile, options.speed):.6f}",
                                   **options.profile.server, **options.server_env},
                              log_path=options.work_dir / "server.log")
            await asyncio.to_thread(cluster.migrate)
            await database.init_db(database_url)
            try:
                async with simulated_systems(options.profile, seed=options.seed) as systems:
                    await set_up_tenant(systems, cluster.url, options.profile)
                    await asyncio.to_thread(cluster.start)
                    try:
                        return await _play_and_judge(options, systems, cluster, redis, database_url)
                    finally:
                        await asyncio.to_thread(cluster.stop)
            finally:
                await database.close_db()
    finally:
        if redis is not None:
            redis.stop()


async def _play_and_judge(options: Options, systems: Systems, cluster: Cluster, redis: PrivateRedis | None,
                          database_url: str) -> RunResult:
    day = Day(options.profile, systems, cluster, redis, options.orders, options.hours, options.speed, options.seed)
    backend = (f"{'PostgreSQL' if database_url.startswith('postgres') else 'SQLite'}"
               f"{' + Redis' if cluster.redis_url else ''}, {options.workers} process{'es' if options.workers > 1 else ''}")
    result = RunResult(options.profile.name, options.seed, options.orders, options.hours, options.speed, backend)
    async with httpx.AsyncClient(base_url=cluster.url, timeout=30,
                                 headers={"Authorization": f"Bearer {systems.api_key}"}) as client:
        progress = asyncio.create_task(_progress(day)) if options.progress else None
        try:
            await day.run()
            day_over = day.now()
            verdict, lost, received = await _converge(client, day, systems, options.profile.settle_s,
                                                      options.profile.settle_max_s)
            result.converged_after_s = (day.now() - day_over) if not verdict.disagreements and not lost else None
        finally:
            if progress is not None:
                progress.cancel()
        result.wall_seconds = round(day_over, 2)
    _judge_dropped(day, verdict, await _confirmed_codes(day), await _cancelled_numbers(day))
    result.faults = day.faults
    result.not_injected = day.not_injected
    result.dimensions = verdict.dimensions
    result.disagreements = verdict.disagreements
    result.lost_events = len(lost)
    result.lost_detail = [f"event {event_id} had not reached the partner's webhook endpoint when the wait ended"
                          for event_id in lost[:200]]
    result.duplicates_applied = len(verdict.duplicates)
    result.duplicate_detail = verdict.duplicates[:200]
    result.messages = _messages(day, systems, received)
    result.samples = _samples(day, verdict, result.wall_seconds)
    result.seeds = await _seeds(day, verdict, cluster)
    return result


async def _converge(client: httpx.AsyncClient, day: Day, systems: Systems, settle_s: float,
                    settle_max_s: float) -> tuple[judge.Verdict, list[int], int]:
    """Judge again every few seconds until every order agrees, every event reached the partner and every
    incident's alert was resolved — or ``settle_s`` pass with nothing getting better, or ``settle_max_s`` in all.

    A backlog still draining is late, not lost (``chaos.settling``); the report says when the run converged."""
    settling = Settling(stall_s=settle_s, max_s=settle_max_s, started=time.monotonic())
    tenant = await Tenant.get(slug=TENANT)
    incidents = [fault for fault in day.faults if fault.kind in judge.EXPECTED_ALERT]
    owed: list[int] = []  # lineage events owed to the partner, read once each
    while True:
        verdict = judge.judge_orders(day, systems, await judge.all_orders(client))
        owed += await OrderEvent.filter(tenant_id=tenant.id, id__gt=owed[-1] if owed else systems.partner.since_event
                                        ).order_by("id").values_list("id", flat=True)
        lost = judge.lost_events(owed, systems.partner.received)
        alerts = await _alert_events(tenant.id, day)
        for fault in incidents:
            judge.judge_alerts(fault, alerts)
        open_incidents = [fault for fault in incidents if fault.resolved_at is None]
        if settling.over(len(verdict.disagreements) + len(lost) + len(open_incidents), time.monotonic()):
            return verdict, lost, len(owed)
        await asyncio.sleep(3.0)


async def _alert_events(tenant_id: int, day: Day) -> list[judge.AlertEvent]:
    """The lineage of the alerts that answer incidents, oldest first."""
    kinds = {kind for kind, _ in judge.EXPECTED_ALERT.values()}
    rows = await OrderEvent.filter(tenant_id=tenant_id, type__in=judge.RAISING + judge.CLEARING,
                                   id__gt=day.systems.partner.since_event).order_by("id").values("created_at", "type", "after")
    return [judge.AlertEvent(row["created_at"].timestamp() - day.started, row["type"], after.get("kind", ""),
                             after.get("subject", ""), after.get("message", ""))
            for row in rows if (after := row["after"] or {}).get("kind") in kinds]


async def _confirmed_codes(day: Day) -> dict[str, float]:
    """Delivery-order code -> wall second OrderGraph recorded its WMS confirmation (by callback or sweep)."""
    tenant = await Tenant.get(slug=TENANT)
    rows = await OrderEvent.filter(tenant_id=tenant.id, type__in=("wms.delivery_confirmed", "wms.confirmation_recovered")
                                   ).values("created_at", "after")
    found: dict[str, float] = {}
    for row in rows:
        code = (row["after"] or {}).get("code")
        if code:
            found[code] = min(found.get(code, float("inf")), row["created_at"].timestamp() - day.started)
    return found


async def _cancelled_numbers(day: Day) -> dict[str, float]:
    """Order number -> wall second OrderGraph recorded its cancellation."""
    tenant = await Tenant.get(slug=TENANT)
    rows = await OrderEvent.filter(tenant_id=tenant.id, type="order.cancelled").values("created_at", "order_id")
    return {order_number(row["order_id"]): row["created_at"].timestamp() - day.started for row in rows}


def _judge_dropped(day: Day, verdict: judge.Verdict, confirmed: dict[str, float], cancelled: dict[str, float]) -> None:
    """A dropped push is noticed when OrderGraph has the order (or its cancellation) anyway; a dropped WMS
    confirmation, when the order shipped.

    An order whose creation and cancellation were both missed is first recorded already cancelled (no
    ``order.cancelled`` of its own): its cancellation was noticed when it was recorded, if its status agrees.
    """
    wrong_status = {(d.channel, d.external_id) for d in verdict.disagreements if d.dimension == "status"}
    for fault in day.faults:
        if fault.kind == "dropped_cancel":
            key: tuple[str, str] = tuple(fault.subject.split(" ", 1))  # type: ignore[assignment]
            number, created = verdict.numbers.get(key), verdict.created.get(key)
            if number in cancelled:
                fault.detected_at = fault.resolved_at = max(cancelled[number], fault.injected_at)
                fault.evidence = "the poller found the cancellation"
            elif created is not None and created >= fault.injected_at and key not in wrong_status:
                fault.detected_at = fault.resolved_at = created
                fault.evidence = "the poller found the order, already cancelled"
        if fault.kind == "dropped_push":
            kind, external_id = fault.subject.split(" ", 1)
            created = verdict.created.get((kind, external_id))
            if created is not None:
                fault.detected_at = fault.resolved_at = max(created, fault.injected_at)
                fault.evidence = "the poller found the order"
        elif fault.kind == "dropped_callback":
            shipped = confirmed.get(fault.subject)
            if shipped is not None:
                fault.detected_at = fault.resolved_at = max(shipped, fault.injected_at)
                fault.evidence = "the WMS sweep found the shipment"


def _messages(day: Day, systems: Systems, lineage_events: int) -> dict[str, int]:
    calls = {name: 0 for name in ("pushed", "dropped", "duplicated", "reordered", "delayed", "retried")}
    for shop in systems.shops.values():
        calls["pushed"] += len(shop.pushed)
        calls["dropped"] += len(shop.dropped)
        calls["delayed"] += shop.calls.get("push_delayed", 0)
        calls["duplicated"] += shop.calls.get("push_duplicated", 0)
        calls["reordered"] += shop.calls.get("push_reordered", 0)
        calls["retried"] += shop.calls.get("push_retried", 0)
    return {**{f"channel pushes {name}": value for name, value in calls.items()}, **day.counts,
            "carrier pushes dropped": systems.carrier.calls.get("push_dropped", 0),
            "lineage events": lineage_events,
            "webhook deliveries": sum(systems.partner.received.values()),
            "webhook deliveries repeated": sum(n - 1 for n in systems.partner.received.values() if n > 1)}


def _samples(day: Day, verdict: judge.Verdict, wall: float) -> list[Sample]:
    width = max(wall / SAMPLES, 0.001)
    samples = []
    for index in range(SAMPLES):
        start, end = index * width, (index + 1) * width
        placed = [at for at in day.placed.values() if start <= at < end]
        latencies = [1000.0 * (verdict.created[key] - day.placed[key]) for key in verdict.created
                     if start <= verdict.created[key] < end]
        samples.append(Sample(round(start, 2), day.business_time(start), len(placed), len(latencies),
                              percentile(latencies, 50), percentile(latencies, 95)))
    return samples


async def _seeds(day: Day, verdict: judge.Verdict, cluster: Cluster) -> dict[str, float | None]:
    """The seeds' outcome metrics, computed from this run."""
    disagreeing = {(d.channel, d.external_id) for d in verdict.disagreements}
    agreeing = sum(1 for key in day.placed if key not in disagreeing)
    incidents = [f for f in day.faults if f.kind in judge.EXPECTED_ALERT and f.detected_at is not None]
    closed = [f for f in incidents if f.resolved_at is not None and f.resolved_at - f.detected_at <= 15 * 60]
    recovery = [f.resolve_s for f in day.faults if f.resolve_s is not None]
    return {
        "status_credibility_pct": round(100.0 * agreeing / max(len(day.placed), 1), 3),
        "exceptions_closed_within_15_min_pct": round(100.0 * len(closed) / len(incidents), 1) if incidents else None,
        "cross_system_failure_pct": await _failure_pct(cluster),
        "recovery_cycle_p50_s": statistics.median(recovery) if recovery else None,
        "recovery_cycle_max_s": max(recovery) if recovery else None,
    }


async def _failure_pct(cluster: Cluster) -> float | None:
    """``ordergraph_cross_system_failure_ratio`` from /metrics, the worst system, as a percentage."""
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            text = (await client.get(f"{cluster.url}/metrics")).text
    except httpx.HTTPError:
        return None
    ratios = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
              if line.startswith("ordergraph_cross_system_failure_ratio{")]
    return round(100.0 * max(ratios), 3) if ratios else None


async def _progress(day: Day) -> None:
    while True:
        await asyncio.sleep(5)
        when = (f"{day.business_time(day.now())} of the day" if day.now() < day.day_wall_s
                else f"day over {day.now() - day.day_wall_s:.0f} s ago, judging")
        print(f"  {when} · {day.counts.get('orders_placed', 0)} orders placed · "
              f"{day.counts.get('parcels_shipped', 0)} shipped · {len(day.faults)} faults injected", flush=True)


@contextlib.asynccontextmanager
async def fresh_database(options: Options) -> AsyncIterator[str]:
    """A new SQLite file under the work folder, or a throw-away database beside the PostgreSQL one given."""
    if not options.database_url.startswith("postgres"):
        path = options.work_dir / f"day-{uuid.uuid4().hex[:8]}.sqlite3"
        try:
            yield f"sqlite://{path}"
        finally:
            if not options.keep:
                for suffix in ("", "-wal", "-shm", ".leader"):  # .leader: the servers' leadership lock file
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    server = options.database_url.replace("postgresql://", "postgres://", 1)
    name = f"og_chaos_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(server.replace("postgres://", "postgresql://", 1))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        if not options.keep:
            admin = await asyncpg.connect(server.replace("postgres://", "postgresql://", 1))
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await admin.close()
