"""The daily reconciliation: which tenants' yesterday is due, once their local clock passes the hour.

    for tenant_id, day in await due(now, hour=6):
        await reconcile_day(system_actor(tenant_id), day, systems=SYSTEMS)

A day with orders is due from ``hour`` o'clock the next day in the tenant's
time zone until it has a run that is running or finished; a day whose runs failed
``MAX_FAILURES`` times is left for a person (``ordergraph reconcile``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from tortoise.functions import Count

from domain.actor import Actor, Role
from domain.reconciliation.run import FAILED
from domain.reconciliation.window import day_window, zone_of
from models import Order, ReconciliationRun, Tenant

MAX_FAILURES = 3
ACTOR = "system:reconciliation"


def system_actor(tenant_id: int) -> Actor:
    return Actor(tenant_id=tenant_id, role=Role.ADMIN, name=ACTOR, source="schedule")


async def due(now: datetime, *, hour: int) -> list[tuple[int, date]]:
    """``(tenant id, day)`` pairs whose yesterday is due at ``now`` (see the module docstring)."""
    candidates: dict[int, date] = {}
    for tenant_id, zone_name in await Tenant.all().values_list("id", "time_zone"):
        local = now.astimezone(zone_of(zone_name))
        if local.hour >= hour:
            candidates[tenant_id] = local.date() - timedelta(days=1)
    if not candidates:
        return []
    days = set(candidates.values())
    seen = await ReconciliationRun.filter(tenant_id__in=list(candidates), day__in=list(days)) \
        .annotate(n=Count("id")).group_by("tenant_id", "day", "status").values("tenant_id", "day", "status", "n")
    settled: set[int] = set()
    for row in seen:
        if row["day"] != candidates[row["tenant_id"]]:
            continue
        if row["status"] != FAILED or row["n"] >= MAX_FAILURES:
            settled.add(row["tenant_id"])
    zones = dict(await Tenant.filter(id__in=list(candidates)).values_list("id", "time_zone"))
    return [(tenant_id, day) for tenant_id, day in sorted(candidates.items())
            if tenant_id not in settled and await _had_orders(tenant_id, day, zones[tenant_id])]


async def _had_orders(tenant_id: int, day: date, zone_name: str) -> bool:
    """A day without orders has nothing to reconcile: no run, no lineage, no noise."""
    start, end = day_window(day, zone_of(zone_name))
    return await Order.filter(tenant_id=tenant_id, placed_at__gte=start, placed_at__lt=end).exists()
