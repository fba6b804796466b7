"""Rules in GraphQL: glue from arguments to ``domain.rules`` and reads of rules, versions, firings and freezes."""

from __future__ import annotations

from typing import Any

from domain.rules import dry_run as dry_runs
from domain.rules import freezes, store
from domain.rules.store import RuleInput
from domain.errors import NotFound
from models import OrderEvent, Rule, RuleVersion, SkuFreeze
from resolvers.context import Context
from resolvers.orders import actor_of, pk_of
from resolvers.pagination import Page, check_page_size, keyset_page


async def rules(ctx: Context) -> list[Rule]:
    return await Rule.filter(tenant_id=actor_of(ctx).tenant_id).order_by("name")


async def rule(ctx: Context, global_id: str) -> Rule | None:
    return await Rule.filter(tenant_id=actor_of(ctx).tenant_id, id=pk_of(global_id, "Rule")).first()


async def versions(rule_id: int) -> list[RuleVersion]:
    return await RuleVersion.filter(rule_id=rule_id).order_by("-version")


async def current_version(row: Rule) -> RuleVersion:
    return await RuleVersion.get(rule_id=row.id, version=row.version)


async def firings(ctx: Context, row: Rule, first: int, after: str | None) -> Page:
    """A page of the rule's firings, newest first (each names the version that fired)."""
    check_page_size(first, ctx.max_page_size)
    query = OrderEvent.filter(tenant_id=row.tenant_id, type="rule.fired",  # type: ignore[attr-defined]
                              actor__startswith=f"rule:{row.name} v")
    return await keyset_page(query, "id", descending=True, first=first, after=after)


def spec_of(name: str, condition: str, triggers: list[str] | None, schedule_minutes: int | None,
            actions: Any, description: str = "") -> RuleInput:
    return RuleInput(name=name, condition=condition, actions=actions if isinstance(actions, list) else [],
                     triggers=triggers or [], schedule_minutes=schedule_minutes, description=description)


async def save(ctx: Context, spec: RuleInput) -> Rule:
    return await store.save_rule(actor_of(ctx), spec)


async def from_template(ctx: Context, template: str, name: str | None) -> Rule:
    return await store.from_template(actor_of(ctx), template, name)


async def set_enabled(ctx: Context, global_id: str, enabled: bool) -> Rule:
    return await store.set_enabled(actor_of(ctx), pk_of(global_id, "Rule"), enabled)


async def dry_run(ctx: Context, spec: RuleInput | None, rule_id: str | None, days: int) -> dry_runs.DryRunReport:
    actor = actor_of(ctx)
    if spec is None:
        row = await Rule.filter(tenant_id=actor.tenant_id, id=pk_of(rule_id or "", "Rule")).first()
        if row is None:
            raise NotFound("no such rule", field="ruleId")
        version = await current_version(row)
        spec = RuleInput(name=row.name, condition=version.condition, actions=version.actions,
                         triggers=version.triggers,
                         schedule_minutes=version.schedule_seconds // 60 if version.schedule_seconds else None)
    return await dry_runs.dry_run(actor, spec, days)


async def sku_freezes(ctx: Context, active_only: bool) -> list[SkuFreeze]:
    query = SkuFreeze.filter(tenant_id=actor_of(ctx).tenant_id)
    if active_only:
        query = query.filter(lifted_at__isnull=True)
    return await query.order_by("-id").limit(500).select_related("channel")


async def lift_freeze(ctx: Context, global_id: str, reason: str) -> SkuFreeze:
    return await freezes.lift(actor_of(ctx), pk_of(global_id, "SkuFreeze"), reason)
