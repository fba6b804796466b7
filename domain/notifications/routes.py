"""Notification routes: where a tenant's alerts go (a WeCom group, a DingTalk group, mailboxes), filtered.

    route = await create_route(admin, name="仓库群", target="dingtalk",
                               config={"access_token": "T", "secret": "SEC…"},
                               kinds=["low_stock", "stock"], min_severity="warning", warehouse_ids=[sh.id])
    redacted(route.config)                 # what may be shown: secrets as ****1a2b
    outcome = await send_test(admin, route.id, NOTIFIERS)     # a test message now; outcome.delivered / .error

Only admins manage routes. A route matches an alert when every non-empty
filter agrees: ``kinds`` (alert kinds, or categories such as ``stock``),
``min_severity`` (info < warning < critical) and ``warehouse_ids`` (an alert
with no warehouse never matches a warehouse filter). ``url_check``, when
given, vets the robot service's URL against the server's outbound policy
(the caller passes the same check partner webhooks get). Every change leaves
a lineage row with the config redacted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError

from domain.actor import Actor, Role
from domain.alerts.kinds import AlertKind, Category, Severity
from domain.errors import Duplicate, Forbidden, NotFound, ValidationFailed
from domain.notifications import config as configs
from domain.notifications.ports import Notifiers, NotifyFailed, redacted
from domain.notifications.text import AlertFacts, test_notice
from domain.unit_of_work import unit_of_work
from events import log
from models import NotificationRoute, Warehouse

UrlCheck = Callable[[str], Awaitable[str]]

MAX_ROUTES_PER_TENANT = 50
MAX_FILTERS = 50
MAX_RATE = 600
LANGUAGES = ("zh", "en")
TEST_TIMEOUT = 30.0
SOURCE = "notifications"


@dataclass(frozen=True, slots=True)
class TestOutcome:
    delivered: bool
    error: str = ""
    retryable: bool = False


def require_admin(actor: Actor) -> None:
    if actor.role != Role.ADMIN:
        raise Forbidden("only admins manage notification routes")


def severity_rank(value: str) -> int:
    return Severity(value).rank if value in Severity._value2member_map_ else Severity.WARNING.rank


def matches(route: NotificationRoute, facts: AlertFacts) -> bool:
    """Does ``route`` want this alert? (``active`` is the caller's business.)"""
    if route.kinds:
        category = AlertKind(facts.kind).category.value if facts.kind in AlertKind._value2member_map_ else None
        if facts.kind not in route.kinds and category not in route.kinds:
            return False
    if severity_rank(facts.severity) < severity_rank(route.min_severity):
        return False
    return not route.warehouse_ids or facts.warehouse_id in route.warehouse_ids


def _name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name or len(name) > 100:
        raise ValidationFailed("a route needs a name of 1-100 characters", field="name")
    return name


def _kinds(kinds: Iterable[str]) -> list[str]:
    known = set(AlertKind._value2member_map_) | set(Category._value2member_map_)
    by_name = {kind.name.lower(): kind.value for kind in AlertKind}
    cleaned = set()
    for raw in kinds:
        value = str(raw).strip()
        value = value if value in known else by_name.get(value.lower(), value)
        if value not in known:
            raise ValidationFailed(f"{str(raw)[:60]!r} is not an alert kind or category", field="kinds")
        cleaned.add(value)
    if len(cleaned) > MAX_FILTERS:
        raise ValidationFailed(f"at most {MAX_FILTERS} kinds", field="kinds")
    return sorted(cleaned)


def _severity(value: str) -> str:
    if value not in Severity._value2member_map_:
        raise ValidationFailed("min_severity must be info, warning or critical", field="minSeverity")
    return value


def _language(value: str) -> str:
    if value not in LANGUAGES:
        raise ValidationFailed("language must be zh or en", field="language")
    return value


def _rate(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_RATE:
        raise ValidationFailed(f"rate_per_minute must be 1-{MAX_RATE}", field="ratePerMinute")
    return value


async def _warehouses(tenant_id: int, warehouse_ids: Iterable[int]) -> list[int]:
    wanted = sorted(set(warehouse_ids))
    if len(wanted) > MAX_FILTERS:
        raise ValidationFailed(f"at most {MAX_FILTERS} warehouses", field="warehouses")
    if wanted and await Warehouse.filter(tenant_id=tenant_id, id__in=wanted).count() != len(wanted):
        raise NotFound("no such warehouse", field="warehouses")
    return wanted


async def _clean_config(target: str, config: Any, previous: Mapping[str, Any] | None,
                        url_check: UrlCheck | None) -> dict[str, Any]:
    cleaned = configs.clean(target, config, previous)
    if url_check is not None:
        for url in configs.target_urls(target, cleaned):
            try:
                await url_check(url)
            except ValidationFailed as refused:
                raise ValidationFailed(f"base_url: {refused.message}", field="config.base_url") from None
    return cleaned


def shown(route: NotificationRoute) -> dict[str, Any]:
    """A route as lineage records it: filters and the redacted config."""
    return {"name": route.name, "target": route.target, "config": redacted(route.config), "kinds": route.kinds,
            "min_severity": route.min_severity, "warehouse_ids": route.warehouse_ids, "language": route.language,
            "rate_per_minute": route.rate_per_minute, "active": route.active}


async def _record(actor: Actor, type: str, reason: str, before: dict[str, Any] | None,
                  after: dict[str, Any] | None) -> None:
    await log.append(tenant_id=actor.tenant_id, order_id=None, type=type, actor=actor.name, source=SOURCE,
                     reason=reason, before=before, after=after)


async def list_routes(actor: Actor) -> list[NotificationRoute]:
    require_admin(actor)
    return await NotificationRoute.filter(tenant_id=actor.tenant_id).order_by("id")


async def get_route(actor: Actor, route_id: int) -> NotificationRoute:
    require_admin(actor)
    route = await NotificationRoute.filter(tenant_id=actor.tenant_id, id=route_id).first()
    if route is None:
        raise NotFound("no such notification route", field="id")
    return route


async def create_route(
    actor: Actor,
    *,
    name: str,
    target: str,
    config: Any,
    kinds: Iterable[str] = (),
    min_severity: str = "info",
    warehouse_ids: Iterable[int] = (),
    language: str = "zh",
    rate_per_minute: int = 20,
    active: bool = True,
    url_check: UrlCheck | None = None,
) -> NotificationRoute:
    require_admin(actor)
    values = {
        "name": _name(name), "target": target, "kinds": _kinds(kinds), "min_severity": _severity(min_severity),
        "warehouse_ids": await _warehouses(actor.tenant_id, warehouse_ids), "language": _language(language),
        "rate_per_minute": _rate(rate_per_minute), "active": bool(active),
        "config": await _clean_config(target, config, None, url_check),
    }
    async with unit_of_work():
        if await NotificationRoute.filter(tenant_id=actor.tenant_id).count() >= MAX_ROUTES_PER_TENANT:
            raise ValidationFailed(f"at most {MAX_ROUTES_PER_TENANT} notification routes per tenant", field="name")
        if await NotificationRoute.filter(tenant_id=actor.tenant_id, name=values["name"]).exists():
            raise Duplicate(f"a route named {values['name']!r} exists", field="name")
        try:
            route = await NotificationRoute.create(tenant_id=actor.tenant_id, **values)
        except IntegrityError:
            raise Duplicate(f"a route named {values['name']!r} exists", field="name") from None
        await _record(actor, "notification.route_created", f"notification route {route.name} ({target}) created",
                      None, {"route_id": route.id, **shown(route)})
    return route


async def update_route(
    actor: Actor,
    route_id: int,
    *,
    name: str | None = None,
    config: Any | None = None,
    kinds: Iterable[str] | None = None,
    min_severity: str | None = None,
    warehouse_ids: Iterable[int] | None = None,
    language: str | None = None,
    rate_per_minute: int | None = None,
    active: bool | None = None,
    url_check: UrlCheck | None = None,
) -> NotificationRoute:
    """Change what is given; ``config`` keys not given keep their values, and so do hidden (``****``) ones."""
    route = await get_route(actor, route_id)
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = _name(name)
    if config is not None:
        if not isinstance(config, Mapping):
            raise ValidationFailed("config must be an object", field="config")
        stored = dict(route.config or {})
        changes["config"] = await _clean_config(route.target, {**stored, **config} if "webhook_url" not in config
                                                else dict(config), stored, url_check)
    if kinds is not None:
        changes["kinds"] = _kinds(kinds)
    if min_severity is not None:
        changes["min_severity"] = _severity(min_severity)
    if warehouse_ids is not None:
        changes["warehouse_ids"] = await _warehouses(actor.tenant_id, warehouse_ids)
    if language is not None:
        changes["language"] = _language(language)
    if rate_per_minute is not None:
        changes["rate_per_minute"] = _rate(rate_per_minute)
    if active is not None:
        changes["active"] = bool(active)
    async with unit_of_work():
        route = await NotificationRoute.filter(id=route.id).select_for_update().first()
        if route is None:
            raise NotFound("no such notification route", field="id")
        if "name" in changes and await NotificationRoute.filter(
                tenant_id=actor.tenant_id, name=changes["name"]).exclude(id=route.id).exists():
            raise Duplicate(f"a route named {changes['name']!r} exists", field="name")
        before = shown(route)
        for key, value in changes.items():
            setattr(route, key, value)
        await route.save()
        await _record(actor, "notification.route_updated", f"notification route {route.name} changed: "
                      f"{', '.join(sorted(changes)) or 'nothing'}", before, {"route_id": route.id, **shown(route)})
    return route


async def delete_route(actor: Actor, route_id: int) -> int:
    """Remove a route and its delivery log; returns its id."""
    route = await get_route(actor, route_id)
    async with unit_of_work():
        await NotificationRoute.filter(id=route.id).delete()
        await _record(actor, "notification.route_deleted", f"notification route {route.name} deleted",
                      {"route_id": route.id, **shown(route)}, None)
    return route.id


async def send_test(actor: Actor, route_id: int, notifiers: Notifiers) -> TestOutcome:
    """Send a test message through the route now (not rate-limited, not logged as a delivery)."""
    route = await get_route(actor, route_id)
    notifier = notifiers.get(route.target)
    if notifier is None:
        return TestOutcome(delivered=False, error=f"no notifier for {route.target}")
    try:
        async with asyncio.timeout(TEST_TIMEOUT):
            await notifier.send(route.config, test_notice(route.name, route.language))
    except NotifyFailed as failure:
        return TestOutcome(delivered=False, error=failure.reason, retryable=failure.retryable)
    except TimeoutError:
        return TestOutcome(delivered=False, error=f"no answer within {TEST_TIMEOUT:g} s", retryable=True)
    return TestOutcome(delivered=True)
