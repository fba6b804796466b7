"""Partner webhook management: glue from GraphQL arguments to ``domain.webhooks.endpoints``, and the delivery log reads.

Who sees what (admins: the tenant's endpoints, a partner key: its own) is decided in the domain.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from domain.webhooks import endpoints as webhooks
from models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookSecret
from resolvers import ids
from resolvers.context import Context
from resolvers.orders import actor_of, pk_of, pks_of
from resolvers.pagination import Page, check_page_size, keyset_page


def url_policy(ctx: Context) -> webhooks.UrlPolicy:
    """The app's policy plus the host:port this very request reached us on (that is us, too)."""
    request = ctx.request
    app = getattr(request, "app", None)
    policy = getattr(getattr(app, "state", None), "webhook_policy", None) or webhooks.UrlPolicy()
    url = getattr(request, "url", None)
    if url is not None and url.hostname:
        policy = policy.with_origin(url.hostname, url.port or (443 if url.scheme in ("https", "wss") else 80))
    return policy


async def endpoints(ctx: Context) -> list[WebhookEndpoint]:
    return await webhooks.list_endpoints(actor_of(ctx))


async def endpoint(ctx: Context, global_id: str) -> WebhookEndpoint | None:
    return await webhooks.find_endpoint(actor_of(ctx), pk_of(global_id, "WebhookEndpoint"))


async def secrets_of(endpoint_id: int) -> list[WebhookSecret]:
    return await WebhookSecret.filter(endpoint_id=endpoint_id).order_by("-id")


async def register(
    ctx: Context, url: str, description: str, event_types: Sequence[str], channels: Sequence[str]
) -> tuple[WebhookEndpoint, str]:
    return await webhooks.register_endpoint(
        actor_of(ctx),
        url,
        url_policy(ctx),
        description=description,
        event_types=event_types,
        channel_ids=pks_of(channels, "Channel"),
    )


async def update(
    ctx: Context,
    global_id: str,
    url: str | None,
    description: str | None,
    event_types: Sequence[str] | None,
    channels: Sequence[str] | None,
) -> WebhookEndpoint:
    return await webhooks.update_endpoint(
        actor_of(ctx),
        pk_of(global_id, "WebhookEndpoint"),
        url_policy(ctx),
        url=url,
        description=description,
        event_types=event_types,
        channel_ids=None if channels is None else pks_of(channels, "Channel"),
    )


async def delete(ctx: Context, global_id: str) -> str:
    return ids.encode("WebhookEndpoint", await webhooks.delete_endpoint(actor_of(ctx), pk_of(global_id, "WebhookEndpoint")))


async def rotate(ctx: Context, global_id: str, grace_hours: float) -> tuple[WebhookEndpoint, str]:
    pk = pk_of(global_id, "WebhookEndpoint")
    secret = await webhooks.rotate_secret(actor_of(ctx), pk, timedelta(hours=grace_hours))
    return await WebhookEndpoint.get(id=pk), secret


async def disable(ctx: Context, global_id: str, reason: str) -> WebhookEndpoint:
    return await webhooks.disable_endpoint(actor_of(ctx), pk_of(global_id, "WebhookEndpoint"), reason)


async def enable(ctx: Context, global_id: str) -> WebhookEndpoint:
    return await webhooks.enable_endpoint(actor_of(ctx), pk_of(global_id, "WebhookEndpoint"))


async def replay_one(ctx: Context, global_id: str) -> WebhookDelivery:
    return await webhooks.replay_delivery(actor_of(ctx), pk_of(global_id, "WebhookDelivery"))


async def replay_range(ctx: Context, endpoint_id: str, since: datetime, until: datetime) -> int:
    return await webhooks.replay_range(actor_of(ctx), pk_of(endpoint_id, "WebhookEndpoint"), since, until)


async def deliveries_page(
    ctx: Context,
    endpoint_id: str,
    statuses: Sequence[str] | None,
    since: datetime | None,
    until: datetime | None,
    first: int,
    after: str | None,
) -> Page:
    """One endpoint's deliveries, newest first."""
    check_page_size(first, ctx.max_page_size)
    query = webhooks.visible_deliveries(actor_of(ctx)).filter(endpoint_id=pk_of(endpoint_id, "WebhookEndpoint"))
    if statuses:
        query = query.filter(status__in=list(statuses))
    if since:
        query = query.filter(event_created_at__gte=since)
    if until:
        query = query.filter(event_created_at__lt=until)
    return await keyset_page(query, "id", descending=True, first=first, after=after)


async def delivery(ctx: Context, global_id: str) -> WebhookDelivery | None:
    return await webhooks.visible_deliveries(actor_of(ctx)).filter(id=pk_of(global_id, "WebhookDelivery")).first()


async def attempts_of(delivery_ids: Sequence[int]) -> dict[int, list[WebhookAttempt]]:
    grouped: dict[int, list[WebhookAttempt]] = {pk: [] for pk in delivery_ids}
    for attempt in await WebhookAttempt.filter(delivery_id__in=list(delivery_ids)).order_by("id"):
        grouped[attempt.delivery_id].append(attempt)  # type: ignore[attr-defined]
    return grouped
