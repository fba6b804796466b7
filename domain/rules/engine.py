"""Rules indexed by trigger, so an event only runs the rules that can fire on it.

    index = await RuleIndex.load(tenant_id)
    for rule in index.for_event("order.created"):
        if rule.condition.matches(context): ...

The index is rebuilt when a rule of the tenant changed (checked once per batch
of events by the newest ``updated_at``), so every process picks up a save.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from tortoise.functions import Count, Max

from domain.rules.language import Expression, compile_condition
from models import Rule, RuleVersion


@dataclass(frozen=True, slots=True)
class CompiledRule:
    id: int
    name: str
    version: int
    condition: Expression
    actions: list[dict[str, Any]]
    triggers: tuple[str, ...]
    schedule_seconds: int | None

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"


def compiled(rule_id: int, name: str, version: RuleVersion) -> CompiledRule:
    return CompiledRule(rule_id, name, version.version, compile_condition(version.condition), list(version.actions),
                        tuple(version.triggers), version.schedule_seconds)


@dataclass
class RuleIndex:
    """The enabled rules of one tenant, by trigger event type, plus the scheduled ones."""

    stamp: tuple[Any, ...] = ()
    by_trigger: dict[str, list[CompiledRule]] = field(default_factory=lambda: defaultdict(list))
    scheduled: list[CompiledRule] = field(default_factory=list)

    def for_event(self, type: str) -> list[CompiledRule]:
        return self.by_trigger.get(type, [])

    @classmethod
    async def load(cls, tenant_id: int) -> RuleIndex:
        index = cls(stamp=await stamp_of(tenant_id))
        rules = await Rule.filter(tenant_id=tenant_id, enabled=True).order_by("id")
        versions = {(v.rule_id, v.version): v for v in await RuleVersion.filter(  # type: ignore[attr-defined]
            rule_id__in=[r.id for r in rules])}
        for rule in rules:
            version = versions.get((rule.id, rule.version))
            if version is None:
                continue
            entry = compiled(rule.id, rule.name, version)
            for trigger in entry.triggers:
                index.by_trigger[trigger].append(entry)
            if entry.schedule_seconds:
                index.scheduled.append(entry)
        return index


async def stamp_of(tenant_id: int) -> tuple[Any, ...]:
    """Changes whenever a rule of the tenant is saved, enabled, disabled or deleted."""
    row = await Rule.filter(tenant_id=tenant_id).annotate(newest=Max("updated_at"), count=Count("id")).first().values(
        "newest", "count")
    return (row or {}).get("newest"), (row or {}).get("count")


class RuleCache:
    """Each tenant's index, reloaded when its stamp moves."""

    def __init__(self) -> None:
        self._indexes: dict[int, RuleIndex] = {}

    async def index(self, tenant_id: int) -> RuleIndex:
        current = self._indexes.get(tenant_id)
        if current is not None and current.stamp == await stamp_of(tenant_id):
            return current
        self._indexes[tenant_id] = await RuleIndex.load(tenant_id)
        return self._indexes[tenant_id]
