"""The exception board in GraphQL: glue from arguments to ``domain.alerts`` (queries, stats, board moves).

Every role of the tenant reads the board; the moves check the role in the domain
(ops and admins). Pages are newest first, keyset on the alert id.
"""

from __future__ import annotations

from datetime import datetime

from domain.alerts import board, stats
from domain.alerts.queries import BoardFilter, board_query
from domain.errors import NotFound
from models import Alert
from resolvers.context import Context
from resolvers.orders import actor_of, pk_of
from resolvers.pagination import Page, check_page_size, keyset_page


def _tenant(ctx: Context) -> int:
    return actor_of(ctx).tenant_id


async def board_page(ctx: Context, f: BoardFilter, first: int, after: str | None) -> Page:
    """One page of the tenant's alerts passing ``f``, newest first."""
    check_page_size(first, ctx.max_page_size)
    return await keyset_page(board_query(_tenant(ctx), f), "id", descending=True, first=first, after=after)


async def count(ctx: Context, f: BoardFilter) -> int:
    return await board_query(_tenant(ctx), f).count()


async def alert_stats(ctx: Context, since: datetime | None, until: datetime | None) -> stats.AlertStats:
    return await stats.alert_stats(_tenant(ctx), since, until)


async def current(ctx: Context, global_id: str) -> Alert | None:
    """The alert as it is now, for a refused move's payload; None if the id names no alert of this tenant."""
    try:
        pk = pk_of(global_id, "Alert")
    except NotFound:
        return None
    return await Alert.filter(id=pk, tenant_id=_tenant(ctx)).first()


async def acknowledge(ctx: Context, global_id: str, note: str) -> Alert:
    return await board.acknowledge(actor_of(ctx), pk_of(global_id, "Alert"), note)


async def assign(ctx: Context, global_id: str, owner: str) -> Alert:
    return await board.assign(actor_of(ctx), pk_of(global_id, "Alert"), owner)


async def snooze(ctx: Context, global_id: str, until: datetime) -> Alert:
    return await board.snooze(actor_of(ctx), pk_of(global_id, "Alert"), until)


async def resolve(ctx: Context, global_id: str, resolution: str) -> Alert:
    return await board.resolve(actor_of(ctx), pk_of(global_id, "Alert"), resolution)


async def reopen(ctx: Context, global_id: str, reason: str) -> Alert:
    return await board.reopen(actor_of(ctx), pk_of(global_id, "Alert"), reason)
