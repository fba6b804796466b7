"""Reading reconciliations: the day's answer (its latest finished run), recent runs, a run's diffs page by page.

    run = await latest_run(actor, date(2026, 11, 30))           # None when the day was never reconciled
    runs = await recent_runs(actor, first=20)
    rows = await diff_query(run.id).filter(id__gt=cursor).order_by("id").limit(50)
"""

from __future__ import annotations

from datetime import date, timedelta

from tortoise.queryset import QuerySet

from domain.actor import Actor
from domain.errors import NotFound
from domain.reconciliation.access import require_reader
from domain.reconciliation.run import FINISHED
from domain.reconciliation.window import local_today, zone_of
from models import ReconciliationDiff, ReconciliationRun, Tenant

MAX_RUNS = 100


async def yesterday(actor: Actor) -> date:
    """The day before today in the tenant's time zone: the day the daily run reconciles."""
    zones = await Tenant.filter(id=actor.tenant_id).values_list("time_zone", flat=True)
    return local_today(zone_of(zones[0] if zones else None)) - timedelta(days=1)


async def latest_run(actor: Actor, day: date) -> ReconciliationRun | None:
    """The day's latest finished run (done or partial); else its latest run of any status (running, failed)."""
    require_reader(actor)
    runs = ReconciliationRun.filter(tenant_id=actor.tenant_id, day=day)
    return await runs.filter(status__in=FINISHED).order_by("-id").first() or await runs.order_by("-id").first()


async def recent_runs(actor: Actor, first: int = 20) -> list[ReconciliationRun]:
    """The tenant's runs, newest first (at most ``MAX_RUNS``)."""
    require_reader(actor)
    return await ReconciliationRun.filter(tenant_id=actor.tenant_id).order_by("-id").limit(max(0, min(first, MAX_RUNS)))


async def run_of(actor: Actor, run_id: int) -> ReconciliationRun:
    """One of the tenant's runs, or ``NotFound`` (another tenant's run is not found either)."""
    require_reader(actor)
    run = None if not 0 < run_id < 2**31 else \
        await ReconciliationRun.filter(id=run_id, tenant_id=actor.tenant_id).first()
    if run is None:
        raise NotFound(f"no reconciliation #{run_id}", field="id")
    return run


def diff_query(run_id: int) -> QuerySet[ReconciliationDiff]:
    """A run's diffs (the caller checked the run is the actor's); page on ``id``."""
    return ReconciliationDiff.filter(run_id=run_id)
