"""Lineage for auditors in GraphQL: background exports and the tenant-wide ``events`` connection.

Export jobs run as asyncio tasks of this process (kept referenced here so
they are not collected mid-run); ``domain.lineage.jobs`` does the work.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

from domain.actor import Role
from domain.errors import ValidationFailed
from domain.lineage import jobs
from domain.lineage.export import record_export
from domain.lineage.scope import check_role, range_scope
from models import ExportJob, OrderEvent
from resolvers import ids
from resolvers.context import Context
from resolvers.orders import actor_of, pk_of
from resolvers.pagination import Page, check_page_size, keyset_page

#: Tasks of running jobs, referenced until they end.
_RUNNING: set[asyncio.Task[None]] = set()
MAX_EVENTS_PAGE = 500


async def start(ctx: Context, params: dict[str, Any]) -> ExportJob:
    actor = actor_of(ctx)
    job = await jobs.start_job(actor, params)
    task = asyncio.create_task(jobs.run_job(actor, job.id), name=f"lineage-export-{job.id}")
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    return job


async def get(ctx: Context, global_id: str) -> ExportJob:
    return await jobs.get_job(actor_of(ctx), pk_of(global_id, "ExportJob"))


def _utc(moment: datetime | None, field: str) -> datetime | None:
    """The moment in UTC; a DateTime without an offset is taken as UTC."""
    if moment is None:
        return None
    try:
        return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    except OverflowError:
        raise ValidationFailed(f"{field} is out of range", field=field) from None


async def events_page(ctx: Context, *, types: list[str] | None, order_id: str | None, actor_name: str | None,
                      recorded_from: datetime | None, recorded_to: datetime | None, first: int,
                      after: str | None, placed_from: datetime | None = None, placed_to: datetime | None = None,
                      day: date | None = None, last_day: date | None = None, by: str = "placed",
                      source: str | None = None, owner: str | None = None) -> Page:
    """The tenant's lineage in id order (every kind: orders, stock, configuration), for auditors and admins.

    ``placed_from``/``placed_to`` (UTC) keep the events of orders placed then; ``day``..``last_day`` are days
    in the tenant's time zone, by placed or recorded time, as the export's ``range_scope`` takes them.
    """
    actor = actor_of(ctx)
    check_role(actor)
    check_page_size(first, MAX_EVENTS_PAGE)
    placed_from, placed_to = _utc(placed_from, "placedFrom"), _utc(placed_to, "placedTo")
    recorded_from, recorded_to = _utc(recorded_from, "from"), _utc(recorded_to, "to")
    query = OrderEvent.filter(tenant_id=actor.tenant_id)
    if last_day is not None and day is None:
        raise ValidationFailed("lastDay needs day (the first day of the range)", field="lastDay")
    if day is not None:
        if placed_from or placed_to:
            raise ValidationFailed("give day (tenant's time zone) or placedFrom/placedTo (UTC), not both", field="day")
        scope = await range_scope(actor, day, last_day or day, by=by)
        query = query.filter(**{name: value for name, value in scope.filters().items() if name != "tenant_id"})
    if placed_from and placed_to and placed_to < placed_from:
        raise ValidationFailed("placedTo is before placedFrom", field="placedTo")
    if placed_from:
        query = query.filter(order__placed_at__gte=placed_from)
    if placed_to:
        query = query.filter(order__placed_at__lt=placed_to)
    if source:
        query = query.filter(source=source.strip()[:64])
    if owner:
        wanted_owner = " ".join(owner.split())[:120]
        query = query.filter(actor__istartswith=f"{wanted_owner} via ")
    exact = [kind for kind in types or [] if not kind.endswith("*")]
    prefixes = [kind[:-1] for kind in types or [] if kind.endswith("*")]
    if types:
        from tortoise.expressions import Q

        wanted = Q(type__in=exact) if exact else Q(id__lt=0)
        for prefix in prefixes:
            wanted |= Q(type__startswith=prefix)
        query = query.filter(wanted)
    if order_id:
        query = query.filter(order_id=pk_of(order_id, "Order"))
    if actor_name:
        query = query.filter(actor__icontains=actor_name[:100])
    if recorded_from and recorded_to and recorded_to < recorded_from:
        raise ValidationFailed("to is before from", field="to")
    if recorded_from:
        query = query.filter(created_at__gte=recorded_from)
    if recorded_to:
        query = query.filter(created_at__lt=recorded_to)
    page = await keyset_page(query, "id", descending=False, first=first, after=after)
    if actor.role == Role.AUDITOR:      # a look-up by an auditor is itself lineage
        await record_export(actor, "lineage.looked_up", {
            "types": types or [], "order": order_id, "actor": actor_name,
            "from": recorded_from.isoformat() if recorded_from else None,
            "to": recorded_to.isoformat() if recorded_to else None, "after": after, "first": first,
            "placed_from": placed_from.isoformat() if placed_from else None,
            "placed_to": placed_to.isoformat() if placed_to else None,
            "day": day.isoformat() if day else None, "last_day": last_day.isoformat() if last_day else None,
            "by": by if day else None, "source": source, "owner": owner},
            {"count": len(page.rows)})
    return page


def job_id(job: ExportJob) -> str:
    return ids.encode("ExportJob", job.id)
