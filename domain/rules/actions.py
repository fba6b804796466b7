"""What a rule may do, checked when it is saved and carried out when it fires.

An action is data: ``{"type": "alert", "severity": "critical", "message": "{order.number} is short"}``.
Texts may hold ``{cel expression}`` placeholders, filled from the same context as
the condition. Every action is idempotent (raising an open alert updates it,
holding a held order for the same reason changes nothing), so an event handled
twice after a crash does no harm. ``perform`` returns what it did, in words, for
the lineage; an action the order's state refuses (holding a shipped order) is
reported as skipped with the reason, never half-done.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import cel

from domain.actor import Actor
from domain.alerts.kinds import AlertKind, Severity
from domain.alerts.raising import clear_alerts, raise_alert
from domain.allocation.pick_queue import TIERS, set_priority
from domain.errors import DomainError
from domain.orders import hold_order, release_hold
from domain.notifications.fanout import DOORBELL
from domain.orders.merge import merge_candidates, merge_orders
from domain.rules.language import RuleError, compile_expression
from domain.unit_of_work import unit_of_work
from events import log, signals
from events.messages import to_messages
from events.webhooks.fanout import delivery_for
from models import NotificationDelivery, NotificationRoute, Order, OrderEvent, OrderTag, SkuFreeze, WebhookEndpoint

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
DEFAULT_SKUS = "lines.map(l, l.sku)"
SCOPES = ("intake", "allocation")


class ActionError(RuleError):
    """An action that cannot be saved; ``index`` is its place in the list."""


@dataclass(frozen=True, slots=True)
class Firing:
    """Where a rule fires: its actor, the order, the prepared context, and the lineage row of the firing."""

    actor: Actor
    order_id: int
    context: cel.Context
    rule_name: str
    event_id: int | None = None


Performer = Callable[[dict[str, Any], Firing], Awaitable[str]]


def check(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The actions, normalised, or ``ActionError`` naming the first wrong one."""
    if not isinstance(actions, list) or not actions:
        raise ActionError("give at least one action")
    return [_check_one(index, action) for index, action in enumerate(actions)]


def _check_one(index: int, action: Any) -> dict[str, Any]:
    if not isinstance(action, dict) or action.get("type") not in SPECS:
        raise ActionError(f"action {index + 1}: type must be one of {', '.join(SPECS)}")
    kind = action["type"]
    try:
        return {"type": kind, **SPECS[kind](action)}
    except RuleError as error:
        raise ActionError(f"action {index + 1} ({kind}): {error}") from None


def _text(action: dict[str, Any], key: str, *, required: bool = True, default: str = "") -> str:
    value = action.get(key, default)
    if not isinstance(value, str) or (required and not value.strip()):
        raise RuleError(f"{key} is required text")
    for placeholder in _PLACEHOLDER.findall(value):
        compile_expression(placeholder)
    return value.strip()


def _alert_spec(action: dict[str, Any]) -> dict[str, Any]:
    severity = action.get("severity", "warning")
    if severity not in Severity._value2member_map_:
        raise RuleError(f"severity must be one of {', '.join(Severity)}")
    kind = action.get("kind", AlertKind.RULE.value)
    if kind not in AlertKind._value2member_map_:
        raise RuleError(f"unknown alert kind {kind!r}")
    return {"severity": severity, "kind": kind, "message": _text(action, "message")}


def _tier_spec(action: dict[str, Any]) -> dict[str, Any]:
    if action.get("tier") not in TIERS:
        raise RuleError(f"tier must be one of {', '.join(TIERS)}")
    return {"tier": action["tier"]}


def _freeze_spec(action: dict[str, Any]) -> dict[str, Any]:
    skus = action.get("skus", DEFAULT_SKUS)
    if not isinstance(skus, str):
        raise RuleError("skus is a CEL expression giving a list of SKUs")
    compile_expression(skus)
    if action.get("scope", "intake") not in SCOPES:
        raise RuleError(f"scope must be one of {', '.join(SCOPES)}")
    return {"skus": skus, "scope": action.get("scope", "intake"), "all_channels": bool(action.get("all_channels"))}


def _merge_spec(action: dict[str, Any]) -> dict[str, Any]:
    mode, minutes = action.get("mode", "suggest"), action.get("window_minutes", 15)
    if mode not in ("suggest", "perform"):
        raise RuleError("mode must be suggest or perform")
    if not isinstance(minutes, (int, float)) or not 1 <= minutes <= 24 * 60:
        raise RuleError("window_minutes must be between 1 and 1440")
    return {"mode": mode, "window_minutes": int(minutes)}


def _positive_int(action: dict[str, Any], key: str) -> dict[str, Any]:
    if not isinstance(action.get(key), int) or action[key] <= 0:
        raise RuleError(f"{key} must be the id of one")
    return {key: action[key]}


SPECS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "alert": _alert_spec,
    "resolve_alert": lambda a: {},
    "tag": lambda a: {"tag": _text(a, "tag")[:64]},
    "priority": _tier_spec,
    "hold": lambda a: {"reason": _text(a, "reason")},
    "release": lambda a: {"reason": _text(a, "reason")},
    "freeze_sku": _freeze_spec,
    "unfreeze_sku": _freeze_spec,
    "notify": lambda a: {"route": _text(a, "route"), "message": _text(a, "message")},
    "webhook": lambda a: _positive_int(a, "endpoint"),
    "merge": _merge_spec,
}


def fill(text: str, context: cel.Context) -> str:
    """A text with its ``{expression}`` placeholders replaced by their values."""

    def value(match: re.Match[str]) -> str:
        try:
            result = compile_expression(match.group(1)).value(context)
        except RuleError:
            return "?"
        if isinstance(result, float) and result.is_integer():
            return str(int(result))
        return str(result)

    return _PLACEHOLDER.sub(value, text)


# ------------------------------------------------------------------ carrying them out


async def perform(action: dict[str, Any], firing: Firing) -> str:
    """Carry out one action; returns what happened, in words."""
    try:
        return await PERFORMERS[action["type"]](action, firing)
    except DomainError as error:
        return f"{action['type']} skipped: {error.message}"


def _subject(firing: Firing) -> str:
    return f"rule:{firing.rule_name}"[:64]


async def _alert(action: dict[str, Any], firing: Firing) -> str:
    message = fill(action["message"], firing.context)
    async with unit_of_work():
        alert = await raise_alert(tenant_id=firing.actor.tenant_id, order_id=firing.order_id, kind=action["kind"],
                                  subject=_subject(firing), severity=action["severity"], message=message,
                                  details={"rule": firing.rule_name}, actor=firing.actor.name, source="rules")
    return f"alert {alert.id} ({action['severity']}): {message}"


async def _resolve_alert(action: dict[str, Any], firing: Firing) -> str:
    async with unit_of_work():
        count = await clear_alerts(tenant_id=firing.actor.tenant_id, order_id=firing.order_id, kind=AlertKind.RULE,
                                   subject=_subject(firing), actor=firing.actor.name,
                                   reason="the rule's condition holds no longer")
    return f"{count} alert(s) resolved"


async def _tag(action: dict[str, Any], firing: Firing) -> str:
    async with unit_of_work():
        if await OrderTag.filter(order_id=firing.order_id, tag=action["tag"]).exists():
            return f"already tagged {action['tag']}"
        await OrderTag.create(order_id=firing.order_id, tag=action["tag"])
        await log.append(tenant_id=firing.actor.tenant_id, order_id=firing.order_id, type="order.tagged",
                         actor=firing.actor.name, source="rules", reason=f"rule {firing.rule_name}",
                         after={"tag": action["tag"]})
    return f"tagged {action['tag']}"


async def _priority(action: dict[str, Any], firing: Firing) -> str:
    order = await set_priority(firing.actor, firing.order_id, action["tier"], f"rule {firing.rule_name}")
    return f"priority {order.priority}"


async def _hold(action: dict[str, Any], firing: Firing) -> str:
    reason = fill(action["reason"], firing.context)
    await hold_order(firing.actor, firing.order_id, [reason])
    return f"held: {reason}"


async def _release(action: dict[str, Any], firing: Firing) -> str:
    reason = fill(action["reason"], firing.context)
    await release_hold(firing.actor, firing.order_id, [reason])
    return f"released: {reason}"


def _skus(action: dict[str, Any], firing: Firing) -> list[str]:
    value = compile_expression(action["skus"]).value(firing.context)
    skus = [value] if isinstance(value, str) else list(value or [])
    return sorted({str(sku) for sku in skus if str(sku).strip()})


async def _freeze(action: dict[str, Any], firing: Firing) -> str:
    skus = _skus(action, firing)
    channel_id = None if action["all_channels"] else await _channel_of(firing.order_id)
    frozen = []
    async with unit_of_work():
        for sku in skus:
            if await SkuFreeze.filter(tenant_id=firing.actor.tenant_id, sku=sku, scope=action["scope"],
                                      channel_id=channel_id, lifted_at__isnull=True).exists():
                continue
            await SkuFreeze.create(tenant_id=firing.actor.tenant_id, sku=sku, scope=action["scope"],
                                   channel_id=channel_id, reason=f"rule {firing.rule_name}",
                                   created_by=firing.actor.name)
            await log.append(tenant_id=firing.actor.tenant_id, order_id=firing.order_id, type="sku.frozen",
                             actor=firing.actor.name, source="rules", reason=f"rule {firing.rule_name}",
                             after={"sku": sku, "scope": action["scope"], "channel_id": channel_id})
            await raise_alert(tenant_id=firing.actor.tenant_id, kind=AlertKind.SKU_FROZEN,
                              subject=f"sku:{action['scope']}:{sku}", severity="critical", channel_id=channel_id,
                              message=f"{action['scope']} of {sku} frozen by rule {firing.rule_name}",
                              details={"sku": sku, "scope": action["scope"]}, actor=firing.actor.name,
                              source="rules")
            frozen.append(sku)
    return f"{action['scope']} frozen for {', '.join(frozen)}" if frozen else "already frozen"


async def _unfreeze(action: dict[str, Any], firing: Firing) -> str:
    skus = _skus(action, firing)
    now = datetime.now(UTC)
    async with unit_of_work():
        lifted = await SkuFreeze.filter(tenant_id=firing.actor.tenant_id, sku__in=skus, scope=action["scope"],
                                        lifted_at__isnull=True).update(lifted_at=now, lifted_by=firing.actor.name)
        for sku in skus:
            await clear_alerts(tenant_id=firing.actor.tenant_id, kind=AlertKind.SKU_FROZEN,
                               subject=f"sku:{action['scope']}:{sku}", actor=firing.actor.name,
                               reason=f"unfrozen by rule {firing.rule_name}")
        if lifted:
            await log.append(tenant_id=firing.actor.tenant_id, order_id=firing.order_id, type="sku.unfrozen",
                             actor=firing.actor.name, source="rules", reason=f"rule {firing.rule_name}",
                             after={"skus": skus, "scope": action["scope"]})
    return f"{lifted} freeze(s) lifted"


async def _channel_of(order_id: int) -> int:
    return (await Order.get(id=order_id).values_list("channel_id", flat=True))  # type: ignore[return-value]


async def _notify(action: dict[str, Any], firing: Firing) -> str:
    route = await NotificationRoute.filter(tenant_id=firing.actor.tenant_id, name=action["route"], active=True).first()
    if route is None:
        return f"notify skipped: no active route {action['route']!r}"
    text = fill(action["message"], firing.context)
    now = datetime.now(UTC)
    async with unit_of_work():
        event = await log.append(tenant_id=firing.actor.tenant_id, order_id=firing.order_id, type="rule.notified",
                                 actor=firing.actor.name, source="rules", reason=text,
                                 after={"route": route.name, "rule": firing.rule_name})
        await NotificationDelivery.create(route_id=route.id, tenant_id=firing.actor.tenant_id, event_id=event.id,
                                          title=f"OrderGraph: {firing.rule_name}"[:200], body=text,
                                          next_attempt_at=now, event_created_at=event.created_at)
    signals.ring(DOORBELL)
    return f"notified {route.name}"




async def _webhook(action: dict[str, Any], firing: Firing) -> str:
    endpoint = await WebhookEndpoint.filter(tenant_id=firing.actor.tenant_id, id=action["endpoint"]).first()
    if endpoint is None:
        return f"webhook skipped: no endpoint {action['endpoint']}"
    async with unit_of_work():
        event = await log.append(tenant_id=firing.actor.tenant_id, order_id=firing.order_id, type="rule.webhook",
                                 actor=firing.actor.name, source="rules", reason=f"rule {firing.rule_name}",
                                 after={"endpoint_id": endpoint.id, "rule": firing.rule_name})
        row = await OrderEvent.get(id=event.id)
        [message] = await to_messages([row])
        await delivery_for(endpoint, message, datetime.now(UTC)).save()
    signals.ring(signals.DELIVERIES)
    return f"webhook to endpoint {endpoint.id}"


async def _merge(action: dict[str, Any], firing: Firing) -> str:
    window = timedelta(minutes=action["window_minutes"])
    candidates = await merge_candidates(firing.actor.tenant_id, firing.order_id, window)
    if not candidates:
        return "no order to merge with"
    numbers = ", ".join(f"OG{c.id:09d}" for c in candidates)
    if action["mode"] == "perform":
        leader = await merge_orders(firing.actor, [firing.order_id, *(c.id for c in candidates)])
        return f"merged with {numbers} (leader OG{leader.id:09d})"
    async with unit_of_work():
        await raise_alert(tenant_id=firing.actor.tenant_id, order_id=firing.order_id, kind=AlertKind.MERGE_SUGGESTED,
                          subject=_subject(firing), severity="info",
                          message=f"may ship together with {numbers} (same buyer and address)",
                          details={"candidates": [c.id for c in candidates]}, actor=firing.actor.name, source="rules")
    return f"merge suggested with {numbers}"


PERFORMERS: dict[str, Performer] = {
    "alert": _alert, "resolve_alert": _resolve_alert, "tag": _tag, "priority": _priority, "hold": _hold,
    "release": _release, "freeze_sku": _freeze, "unfreeze_sku": _unfreeze, "notify": _notify, "webhook": _webhook,
    "merge": _merge,
}


def describe(action: dict[str, Any], context: cel.Context) -> str:
    """What an action would do, without doing it (for dry runs)."""
    detail = {key: fill(value, context) if isinstance(value, str) and key in ("message", "reason") else value
              for key, value in action.items() if key != "type"}
    return f"{action['type']} {detail}"


__all__ = ["ActionError", "Firing", "check", "describe", "fill", "perform"]
