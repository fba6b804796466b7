"""Lineage for auditors in GraphQL: background exports and the tenant-wide ``events`` connection.

Export jobs run as asyncio tasks of this process (kept referenced here so
they are not collected mid-run); ``domain.lineage.jobs`` does the work.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from domain.actor import Role
from domain.errors import ValidationFailed
from domain.lineage import jobs
from domain.lineage.export import record_export
from domain.lineage.scope import check_role
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


async def events_page(ctx: Context, *, types: list[str] | None, order_id: str | None, actor_name: str | None,
                      recorded_from: datetime | None, recorded_to: datetime | None, first: int,
                      after: str | None) -> Page:
    """The tenant's lineage in id order (every kind: orders, stock, configuration), for auditors and admins."""
    actor = actor_of(ctx)
    check_role(actor)
    check_page_size(first, MAX_EVENTS_PAGE)
    query = OrderEvent.filter(tenant_id=actor.tenant_id)
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
            "to": recorded_to.isoformat() if recorded_to else None, "after": after, "first": first},
            {"count": len(page.rows)})
    return page


def job_id(job: ExportJob) -> str:
    return ids.encode("ExportJob", job.id)
