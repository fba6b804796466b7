"""Notification routes in GraphQL: glue from arguments to ``domain.notifications.routes``, and the delivery log.

Admins only (the domain refuses anyone else too). Robot URLs are vetted with
the same outbound policy as partner webhooks (``resolvers.webhooks.url_policy``);
``testNotificationRoute`` sends through the real messengers (``adapters.notify``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.notify import NOTIFIERS
from domain.actor import Role
from domain.errors import Forbidden
from domain.notifications import routes
from domain.webhooks import endpoints as webhooks
from models import NotificationDelivery, NotificationRoute
from resolvers.context import Context
from resolvers.orders import actor_of, pk_of, pks_of
from resolvers.pagination import Page, check_page_size, keyset_page
from resolvers.webhooks import url_policy


def _admin(ctx: Context) -> int:
    actor = actor_of(ctx)
    if actor.role != Role.ADMIN:
        raise Forbidden("only admins manage notification routes")
    return actor.tenant_id


def _url_check(ctx: Context) -> routes.UrlCheck:
    policy = url_policy(ctx)

    async def check(url: str) -> str:
        return await webhooks.check_url(url, policy)

    return check


async def list_routes(ctx: Context) -> list[NotificationRoute]:
    return await routes.list_routes(actor_of(ctx))


async def create(ctx: Context, values: dict[str, Any], warehouses: Sequence[str]) -> NotificationRoute:
    return await routes.create_route(actor_of(ctx), warehouse_ids=pks_of(warehouses, "Warehouse"),
                                     url_check=_url_check(ctx), **values)


async def update(ctx: Context, global_id: str, values: dict[str, Any], warehouses: Sequence[str] | None) -> NotificationRoute:
    return await routes.update_route(
        actor_of(ctx), pk_of(global_id, "NotificationRoute"),
        warehouse_ids=None if warehouses is None else pks_of(warehouses, "Warehouse"),
        url_check=_url_check(ctx), **values)


async def delete(ctx: Context, global_id: str) -> int:
    return await routes.delete_route(actor_of(ctx), pk_of(global_id, "NotificationRoute"))


async def send_test(ctx: Context, global_id: str) -> routes.TestOutcome:
    return await routes.send_test(actor_of(ctx), pk_of(global_id, "NotificationRoute"), NOTIFIERS)


async def deliveries_page(ctx: Context, route: str | None, statuses: Sequence[str], first: int, after: str | None) -> Page:
    """The tenant's deliveries (of one route), newest first."""
    check_page_size(first, ctx.max_page_size)
    query = NotificationDelivery.filter(tenant_id=_admin(ctx))
    if route is not None:
        query = query.filter(route_id=pk_of(route, "NotificationRoute"))
    if statuses:
        query = query.filter(status__in=list(statuses))
    return await keyset_page(query, "id", descending=True, first=first, after=after)
