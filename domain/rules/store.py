"""Saving rules: validated, versioned, enabled only on purpose.

    rule = await save_rule(actor, RuleInput(name="red alert", condition="…", triggers=["order.created"],
                                            actions=[{"type": "alert", "message": "…"}]))
    await set_enabled(actor, rule.id, True)

Saving a changed text adds a version (earlier ones are kept, firings name the
version that fired); saving the same text again changes nothing. A condition
that does not compile, uses an unknown name, mixes types in a way no order
could satisfy, or does not give true/false is refused with the position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from domain.actor import Actor, Role
from domain.errors import Forbidden, NotFound, ValidationFailed
from domain.rules.actions import check as check_actions
from domain.rules.language import RuleError, compile_condition, prepared
from domain.rules.samples import SAMPLE
from domain.rules.templates import TEMPLATES
from domain.unit_of_work import unit_of_work
from events import log
from models import Rule, RuleVersion

EDITORS = frozenset({Role.ADMIN, Role.OPS})
_TRIGGER = re.compile(r"^[a-z_]+\.[a-z_]+$")
MIN_SCHEDULE, MAX_SCHEDULE = 1, 24 * 60


@dataclass(frozen=True)
class RuleInput:
    name: str
    condition: str
    actions: list[dict[str, Any]]
    triggers: list[str] = field(default_factory=list)
    schedule_minutes: int | None = None
    description: str = ""
    template: str | None = None


@dataclass(frozen=True)
class CheckedRule:
    condition: str
    triggers: list[str]
    schedule_seconds: int | None
    actions: list[dict[str, Any]]


def require_editor(actor: Actor) -> None:
    if actor.role not in EDITORS:
        raise Forbidden("only operations staff and admins may change rules")


def validate(spec: RuleInput) -> CheckedRule:
    """The rule as it will be stored, or ``ValidationFailed`` naming the field and position."""
    try:
        condition = compile_condition(spec.condition)
    except RuleError as error:
        raise ValidationFailed(f"condition: {error}", field="condition") from None
    try:
        result = condition.value(prepared(SAMPLE))
    except RuleError as error:
        if not error.absent:  # a field or element absent from the sample may well exist on real orders
            raise ValidationFailed(f"condition: {error}", field="condition") from None
    else:
        if not isinstance(result, bool):
            raise ValidationFailed(f"condition: gives {type(result).__name__}, not true or false", field="condition")
    triggers = sorted({t.strip() for t in spec.triggers if t.strip()})
    bad = [t for t in triggers if not _TRIGGER.match(t)]
    if bad:
        raise ValidationFailed(f"triggers: {bad[0]!r} is not an event type like order.created", field="triggers")
    minutes = spec.schedule_minutes
    if minutes is not None and not MIN_SCHEDULE <= minutes <= MAX_SCHEDULE:
        raise ValidationFailed(f"schedule: every {MIN_SCHEDULE} to {MAX_SCHEDULE} minutes", field="scheduleMinutes")
    if not triggers and not minutes:
        raise ValidationFailed("give trigger event types, a schedule, or both", field="triggers")
    try:
        actions = check_actions(spec.actions)
    except RuleError as error:
        raise ValidationFailed(str(error), field="actions") from None
    return CheckedRule(spec.condition.strip(), triggers, minutes * 60 if minutes else None, actions)


async def save_rule(actor: Actor, spec: RuleInput) -> Rule:
    """Create the rule or add a version to the one with this name; a new rule starts disabled."""
    require_editor(actor)
    name = spec.name.strip()
    if not name or len(name) > 100:
        raise ValidationFailed("a rule needs a name of 1 to 100 characters", field="name")
    checked = validate(spec)
    async with unit_of_work():
        rule = await Rule.filter(tenant_id=actor.tenant_id, name=name).select_for_update().first()
        if rule is None:
            rule = await Rule.create(tenant_id=actor.tenant_id, name=name, description=spec.description[:500],
                                     template=spec.template, version=1)
            await _version(actor, rule, 1, checked)
            await _event(actor, rule, "rule.created", f"rule {name} v1 saved (disabled)")
            return rule
        latest = await RuleVersion.get(rule_id=rule.id, version=rule.version)
        if (latest.condition, latest.triggers, latest.schedule_seconds, latest.actions) == (
                checked.condition, checked.triggers, checked.schedule_seconds, checked.actions):
            return rule
        rule.version += 1
        rule.description = spec.description[:500] or rule.description
        await rule.save(update_fields=["version", "description", "updated_at"])
        await _version(actor, rule, rule.version, checked)
        await _event(actor, rule, "rule.changed", f"rule {name} v{rule.version} saved")
    return rule


async def from_template(actor: Actor, template: str, name: str | None = None) -> Rule:
    if template not in TEMPLATES:
        raise NotFound(f"no template {template!r}; there are {', '.join(TEMPLATES)}", field="template")
    text = TEMPLATES[template]
    return await save_rule(actor, RuleInput(
        name=name or template, condition=text["condition"], actions=text["actions"],
        triggers=text.get("triggers", []), schedule_minutes=text.get("schedule_minutes"),
        description=text["description"], template=template))


async def set_enabled(actor: Actor, rule_id: int, enabled: bool, reason: str = "") -> Rule:
    require_editor(actor)
    async with unit_of_work():
        rule = await _rule(actor, rule_id)
        if rule.enabled != enabled:
            rule.enabled = enabled
            await rule.save(update_fields=["enabled", "updated_at"])
            what = "enabled" if enabled else "disabled"
            await _event(actor, rule, f"rule.{what}", reason or f"rule {rule.name} v{rule.version} {what}")
    return rule


async def disable_broken(tenant_id: int, rule_id: int, why: str) -> None:
    """The engine gives up on a rule that keeps failing (no person involved)."""
    system = Actor(tenant_id=tenant_id, role=Role.ADMIN, name="rules engine", source="rules")
    await set_enabled(system, rule_id, False, why)


async def _rule(actor: Actor, rule_id: int) -> Rule:
    rule = await Rule.filter(id=rule_id, tenant_id=actor.tenant_id).select_for_update().first()
    if rule is None:
        raise NotFound("no such rule", field="id")
    return rule


async def _version(actor: Actor, rule: Rule, number: int, checked: CheckedRule) -> None:
    await RuleVersion.create(rule_id=rule.id, version=number, condition=checked.condition, triggers=checked.triggers,
                             schedule_seconds=checked.schedule_seconds, actions=checked.actions,
                             created_by=actor.name)


async def _event(actor: Actor, rule: Rule, type: str, reason: str) -> None:
    await log.append(tenant_id=actor.tenant_id, order_id=None, type=type, actor=actor.name, source=actor.source,
                     reason=reason, after={"rule_id": rule.id, "rule": rule.name, "version": rule.version,
                                           "enabled": rule.enabled})


__all__ = ["RuleInput", "from_template", "save_rule", "set_enabled", "validate"]
