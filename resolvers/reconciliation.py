"""Reconciliation in GraphQL: glue from arguments to ``domain.reconciliation`` (read the day, list runs, run one).

Reading is for finance, ops, admins and auditors; running for finance, ops and
admins (checked in the domain). A run asked for in a mutation happens inline,
bounded to ``MAX_INLINE_ORDERS`` orders: larger days go through the daily job
or ``ordergraph reconcile``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.reconciliation import queries
from domain.reconciliation.access import require_reader
from domain.reconciliation.run import DEFAULT_THRESHOLD, reconcile_day
from models import ReconciliationRun
from resolvers.context import Context
from resolvers.federation_loaders import runtime_of
from resolvers.orders import actor_of
from resolvers.pagination import Page, check_page_size, keyset_page

MAX_INLINE_ORDERS = 20_000


async def latest(ctx: Context, day: date | None) -> ReconciliationRun | None:
    actor = actor_of(ctx)
    return await queries.latest_run(actor, day or await queries.yesterday(actor))


async def runs_page(ctx: Context, first: int, after: str | None) -> Page:
    """A page of the tenant's runs, newest first."""
    actor = actor_of(ctx)
    require_reader(actor)
    check_page_size(first, ctx.max_page_size)
    return await keyset_page(ReconciliationRun.filter(tenant_id=actor.tenant_id), "id", descending=True, first=first,
                             after=after)


async def diffs_page(ctx: Context, run: ReconciliationRun, first: int, after: str | None) -> Page:
    """A page of the run's diffs in the order they were found (the run was read through the actor's tenant)."""
    require_reader(actor_of(ctx))
    check_page_size(first, ctx.max_page_size)
    return await keyset_page(queries.diff_query(run.id), "id", descending=False, first=first, after=after)


async def run(ctx: Context, day: date | None, threshold: Decimal | None) -> ReconciliationRun:
    actor = actor_of(ctx)
    return await reconcile_day(actor, day or await queries.yesterday(actor), systems=runtime_of(ctx).systems,
                               threshold=DEFAULT_THRESHOLD if threshold is None else threshold,
                               max_orders=MAX_INLINE_ORDERS)
