"""Partner webhook endpoints: register, change, delete, rotate secrets, disable/enable, replay deliveries.

Admins manage every endpoint of their tenant. A partner key manages only the
endpoints it registered (``WebhookEndpoint.owner_key``): anyone else's are
``NotFound`` to it, as if they did not exist. Other roles are ``Forbidden``.

    endpoint, secret = await register_endpoint(partner, "https://p.example/og", UrlPolicy())
    await list_endpoints(partner)        # [endpoint] - never the admin's or another partner's
    await delete_endpoint(partner, endpoint.id)

A URL must be http(s) and must not point at
this server itself (its own host:port, a loopback alias of its port, or its
public URL); with ``allow_private=False`` (production default) loopback,
private and link-local addresses are refused too, including names that
resolve to them, at registration here and again at every send
(``events.webhooks.addresses``). The system disables an endpoint that answers 410 Gone or
keeps failing (``disable_after``), raising an Alert; enabling clears it.
"""

from __future__ import annotations

import ipaddress
import socket
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from domain.actor import Actor, Role
from domain.alerts.kinds import AlertKind
from domain.alerts.raising import clear_alerts, raise_alert
from domain.errors import Forbidden, NotFound, ValidationFailed
from domain.unit_of_work import unit_of_work
from events import signals
from events.messages import to_messages
from events.webhooks import addresses, payload, signing
from events.webhooks.fanout import delivery_for
from models import Channel, OrderEvent, WebhookDelivery, WebhookEndpoint, WebhookSecret

MAX_ENDPOINTS_PER_TENANT = 50
MAX_ENDPOINTS_PER_PARTNER_KEY = 10
MANAGERS = frozenset({Role.ADMIN, Role.PARTNER})
MAX_FILTERS = 50
MAX_REPLAY_EVENTS = 10_000
DEFAULT_GRACE = timedelta(hours=24)
_EVENT_TYPE = re.compile(r"^[a-z0-9_.]{1,47}\*?$|^\*$")
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    """Where webhooks may point. ``self_origins``: (host, port) pairs this server answers on."""

    self_origins: frozenset[tuple[str, int]] = field(default_factory=frozenset)
    allow_private: bool = True

    def with_origin(self, host: str | None, port: int | None) -> UrlPolicy:
        if not host:
            return self
        return UrlPolicy(self.self_origins | {(host.lower().strip("[]"), port or 80)}, self.allow_private)


def origin_of(url: str) -> tuple[str, int] | None:
    parts = urlsplit(url)
    if not parts.hostname:
        return None
    return parts.hostname.lower(), parts.port or (443 if parts.scheme == "https" else 80)


def literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host written as a number means, in every form a resolver accepts.

    ``127.0.0.1`` but also ``2130706433``, ``0x7f000001``, ``0177.0.0.1`` and
    ``127.1`` (the BSD ``inet_aton`` forms that ``getaddrinfo`` honours).
    """
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def _is_loopback_host(host: str) -> bool:
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    address = literal_address(host)
    return address is not None and (address.is_loopback or address.is_unspecified)


async def check_url(url: str, policy: UrlPolicy) -> str:
    """The URL, cleaned, or ``ValidationFailed`` saying why it may not receive webhooks."""
    url = url.strip()
    if len(url) > 1000:
        raise ValidationFailed("URL is longer than 1000 characters", field="url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationFailed("not a valid URL", field="url") from None
    if parts.scheme not in ("http", "https"):
        raise ValidationFailed("webhook URLs must use http or https", field="url")
    if not parts.hostname:
        raise ValidationFailed("the URL has no host", field="url")
    if parts.username or parts.password:
        raise ValidationFailed("put no credentials in the URL; verify the signature instead", field="url")
    host = parts.hostname.lower()
    port = port or (443 if parts.scheme == "https" else 80)
    own_ports = {own_port for _, own_port in policy.self_origins}
    if (host, port) in policy.self_origins or (_is_loopback_host(host) and port in own_ports):
        raise ValidationFailed("the URL points at this server itself", field="url")
    if not policy.allow_private:
        if _is_loopback_host(host):
            raise ValidationFailed("the URL points at a loopback address", field="url")
        try:
            await addresses.public_addresses(host, port)
        except addresses.NotPublic as refused:
            raise ValidationFailed(f"the URL is refused: {refused}", field="url") from None
    return url


def _require_admin(actor: Actor) -> None:
    """Admins, or a partner key (which is then confined to its own endpoints by ``visible_endpoints``)."""
    if actor.role not in MANAGERS:
        raise Forbidden("only admins and partner keys manage webhooks")
    if actor.role == Role.PARTNER and actor.key_id is None:
        raise Forbidden("a partner manages webhooks with its own API key")


def visible_endpoints(actor: Actor) -> QuerySet[WebhookEndpoint]:
    """The endpoints ``actor`` may see and manage: the tenant's for admins, its own for a partner key."""
    _require_admin(actor)
    query = WebhookEndpoint.filter(tenant_id=actor.tenant_id)
    return query.filter(owner_key_id=actor.key_id) if actor.role == Role.PARTNER else query


def visible_deliveries(actor: Actor) -> QuerySet[WebhookDelivery]:
    """The deliveries of the endpoints ``actor`` may see."""
    _require_admin(actor)
    query = WebhookDelivery.filter(tenant_id=actor.tenant_id)
    return query.filter(endpoint__owner_key_id=actor.key_id) if actor.role == Role.PARTNER else query


async def list_endpoints(actor: Actor) -> list[WebhookEndpoint]:
    return await visible_endpoints(actor).order_by("id")


async def find_endpoint(actor: Actor, endpoint_id: int) -> WebhookEndpoint | None:
    return await visible_endpoints(actor).filter(id=endpoint_id).first()


def _clean_types(types: Iterable[str]) -> list[str]:
    cleaned = sorted({t.strip() for t in types if t.strip()})
    if len(cleaned) > MAX_FILTERS:
        raise ValidationFailed(f"at most {MAX_FILTERS} event types", field="eventTypes")
    for kind in cleaned:
        if not _EVENT_TYPE.match(kind):
            raise ValidationFailed(f"{kind!r} is not an event type (e.g. order.shipped or order.*)", field="eventTypes")
    return [] if "*" in cleaned else cleaned


async def _clean_channels(tenant_id: int, channel_ids: Iterable[int]) -> list[int]:
    wanted = sorted(set(channel_ids))
    if len(wanted) > MAX_FILTERS:
        raise ValidationFailed(f"at most {MAX_FILTERS} channels", field="channels")
    if wanted and await Channel.filter(tenant_id=tenant_id, id__in=wanted).count() != len(wanted):
        raise NotFound("no such channel", field="channels")
    return wanted


async def _endpoint(actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    endpoint = await find_endpoint(actor, endpoint_id)
    if endpoint is None:
        raise NotFound("no such webhook endpoint", field="id")
    return endpoint


async def register_endpoint(
    actor: Actor,
    url: str,
    policy: UrlPolicy,
    *,
    description: str = "",
    event_types: Iterable[str] = (),
    channel_ids: Iterable[int] = (),
) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint; returns it and its first signing secret (shown once)."""
    _require_admin(actor)
    url = await check_url(url, policy)
    types = _clean_types(event_types)
    channels = await _clean_channels(actor.tenant_id, channel_ids)
    if await WebhookEndpoint.filter(tenant_id=actor.tenant_id).count() >= MAX_ENDPOINTS_PER_TENANT:
        raise ValidationFailed(f"at most {MAX_ENDPOINTS_PER_TENANT} webhook endpoints per tenant", field="url")
    if actor.role == Role.PARTNER and await visible_endpoints(actor).count() >= MAX_ENDPOINTS_PER_PARTNER_KEY:
        raise ValidationFailed(f"at most {MAX_ENDPOINTS_PER_PARTNER_KEY} webhook endpoints per partner key", field="url")
    secret = signing.new_secret()
    async with unit_of_work():
        endpoint = await WebhookEndpoint.create(
            tenant_id=actor.tenant_id, owner_key_id=actor.key_id, url=url, description=description[:200],
            event_types=types, channel_ids=channels,
        )
        await WebhookSecret.create(endpoint_id=endpoint.id, secret=secret)
    return endpoint, secret


async def update_endpoint(
    actor: Actor,
    endpoint_id: int,
    policy: UrlPolicy,
    *,
    url: str | None = None,
    description: str | None = None,
    event_types: Iterable[str] | None = None,
    channel_ids: Iterable[int] | None = None,
) -> WebhookEndpoint:
    _require_admin(actor)
    endpoint = await _endpoint(actor, endpoint_id)
    if url is not None:
        endpoint.url = await check_url(url, policy)
    if description is not None:
        endpoint.description = description[:200]
    if event_types is not None:
        endpoint.event_types = _clean_types(event_types)
    if channel_ids is not None:
        endpoint.channel_ids = await _clean_channels(actor.tenant_id, channel_ids)
    await endpoint.save()
    return endpoint


async def rotate_secret(actor: Actor, endpoint_id: int, grace: timedelta = DEFAULT_GRACE) -> str:
    """A new secret; the current one stays valid for ``grace`` (two signatures meanwhile), older ones end now."""
    _require_admin(actor)
    if grace < timedelta(0) or grace > timedelta(days=7):
        raise ValidationFailed("the grace period must be between 0 and 7 days", field="graceHours")
    endpoint = await _endpoint(actor, endpoint_id)
    now = datetime.now(UTC)
    secret = signing.new_secret()
    async with unit_of_work():
        live = Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        current = await WebhookSecret.filter(live, endpoint_id=endpoint.id).order_by("-id").first()
        await WebhookSecret.filter(live, endpoint_id=endpoint.id).update(expires_at=now)
        if current is not None and grace:
            await WebhookSecret.filter(id=current.id).update(expires_at=now + grace)
        await WebhookSecret.create(endpoint_id=endpoint.id, secret=secret)
    return secret


async def disable_endpoint(actor: Actor, endpoint_id: int, reason: str = "") -> WebhookEndpoint:
    _require_admin(actor)
    endpoint = await _endpoint(actor, endpoint_id)
    await WebhookEndpoint.filter(id=endpoint.id).update(
        status="disabled", disabled_reason=(reason or f"disabled by {actor.name}")[:500], disabled_at=datetime.now(UTC)
    )
    await endpoint.refresh_from_db()
    return endpoint


async def enable_endpoint(actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    """Resume deliveries (pending ones continue; use a replay for what happened while disabled)."""
    _require_admin(actor)
    endpoint = await _endpoint(actor, endpoint_id)
    async with unit_of_work():
        await WebhookEndpoint.filter(id=endpoint.id).update(
            status="active", disabled_reason="", disabled_at=None, failing_since=None
        )
        await clear_alerts(tenant_id=actor.tenant_id, kind=AlertKind.WEBHOOK_DISABLED, subject=_subject(endpoint.id), actor=actor.name)
    await endpoint.refresh_from_db()
    return endpoint


async def delete_endpoint(actor: Actor, endpoint_id: int) -> int:
    """Remove an endpoint with its secrets and delivery log; returns its id. Clears its disable alert."""
    endpoint = await _endpoint(actor, endpoint_id)
    async with unit_of_work():
        await clear_alerts(tenant_id=actor.tenant_id, kind=AlertKind.WEBHOOK_DISABLED, subject=_subject(endpoint.id),
                           actor=actor.name, reason="webhook endpoint deleted")
        await WebhookEndpoint.filter(id=endpoint.id).delete()
    return endpoint.id


def _subject(endpoint_id: int) -> str:
    return f"endpoint:{endpoint_id}"


async def disable_by_system(endpoint_id: int, reason: str) -> None:
    """The sender saw 410 Gone or a delivery ran out of retries while failing for long: stop and alert."""
    endpoint = await WebhookEndpoint.filter(id=endpoint_id, status="active").first()
    if endpoint is None:
        return
    async with unit_of_work():
        changed = await WebhookEndpoint.filter(id=endpoint_id, status="active").update(
            status="disabled", disabled_reason=reason[:500], disabled_at=datetime.now(UTC)
        )
        if changed:
            await raise_alert(
                tenant_id=endpoint.tenant_id,  # type: ignore[attr-defined]
                kind=AlertKind.WEBHOOK_DISABLED,
                subject=_subject(endpoint_id),
                severity="critical",
                message=f"webhook endpoint {endpoint.url} disabled: {reason}",
                details={"endpoint_id": endpoint_id, "url": endpoint.url, "reason": reason},
                source="webhooks",
            )


async def disable_if_failing(endpoint_id: int, reason: str, disable_after: timedelta) -> None:
    """Called when a delivery gave up: disable only if the endpoint has failed for ``disable_after``."""
    endpoint = await WebhookEndpoint.filter(id=endpoint_id).first()
    if endpoint and endpoint.failing_since and endpoint.failing_since <= datetime.now(UTC) - disable_after:
        await disable_by_system(endpoint_id, f"failing since {endpoint.failing_since.isoformat()}; {reason}")


async def replay_delivery(actor: Actor, delivery_id: int) -> WebhookDelivery:
    """Send one delivery again (same webhook-id), with a fresh retry schedule."""
    delivery = await visible_deliveries(actor).filter(id=delivery_id).first()
    if delivery is None:
        raise NotFound("no such delivery", field="id")
    if delivery.status != "delivering":
        await WebhookDelivery.filter(id=delivery.id).exclude(status="delivering").update(
            status="pending", retry_index=0, next_attempt_at=datetime.now(UTC)
        )
        await delivery.refresh_from_db()
    _ring()
    return delivery


async def replay_range(actor: Actor, endpoint_id: int, since: datetime, until: datetime) -> int:
    """Send again every event of [since, until) the endpoint wants, including ones it never got (e.g. while disabled)."""
    _require_admin(actor)
    if until <= since:
        raise ValidationFailed("until must be after since", field="until")
    endpoint = await _endpoint(actor, endpoint_id)
    rows = (
        await OrderEvent.filter(tenant_id=actor.tenant_id, created_at__gte=since, created_at__lt=until)
        .order_by("id")
        .limit(MAX_REPLAY_EVENTS + 1)
    )
    if len(rows) > MAX_REPLAY_EVENTS:
        raise ValidationFailed(f"more than {MAX_REPLAY_EVENTS} events in that range; replay a shorter one", field="since")
    wanted = [m for m in await to_messages(rows) if payload.matches(endpoint.event_types, endpoint.channel_ids, m)]
    if not wanted:
        return 0
    now = datetime.now(UTC)
    ids = [m["id"] for m in wanted]
    async with unit_of_work():
        existing = set(
            await WebhookDelivery.filter(endpoint_id=endpoint.id, event_id__in=ids).values_list("event_id", flat=True)
        )
        await WebhookDelivery.filter(endpoint_id=endpoint.id, event_id__in=ids).exclude(status="delivering").update(
            status="pending", retry_index=0, next_attempt_at=now
        )
        missing = [delivery_for(endpoint, m, now) for m in wanted if m["id"] not in existing]
        if missing:
            await WebhookDelivery.bulk_create(missing)
    _ring()
    return len(wanted)


def _ring() -> None:
    signals.ring(signals.DELIVERIES)
