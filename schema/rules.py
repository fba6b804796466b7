"""Business rules in GraphQL: write a rule in CEL, dry-run it, enable it, see it fire; SKU freezes.

    mutation { saveRule(input: {name: "red alert", condition: "hours_until(order.ship_by) <= 2",
               triggers: ["order.created"], actions: [{type: "alert", severity: "critical",
               message: "{order.number} must leave within 2 h"}]}) { rule { id version } errors { code message } } }

The condition language and its variables are documented in docs/rules.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.rules.dry_run import DryRunReport
from domain.rules.templates import TEMPLATES
from models import OrderEvent, Rule as RuleRow, RuleVersion as RuleVersionRow, SkuFreeze as SkuFreezeRow
from resolvers import ids
from resolvers import rules as resolvers
from schema.errors import UserError, attempt


def _minutes(seconds: int | None) -> int | None:
    return seconds // 60 if seconds else None


@strawberry.type(description="One saved text of a rule; versions are never changed, a new save adds one.")
class RuleVersion:
    version: int
    condition: str = strawberry.field(description="The CEL condition.")
    triggers: list[str] = strawberry.field(description="Event types that make the rule look at the order.")
    schedule_minutes: int | None = strawberry.field(description="Also checked over open orders this often.")
    actions: JSON = strawberry.field(description="What the rule does when the condition holds (see docs/rules.md).")
    created_by: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: RuleVersionRow) -> RuleVersion:
        return cls(version=row.version, condition=row.condition, triggers=list(row.triggers),
                   schedule_minutes=_minutes(row.schedule_seconds), actions=row.actions, created_by=row.created_by,
                   created_at=row.created_at)


@strawberry.type(description="A rule firing on an order, from the lineage.")
class RuleFiring:
    at: datetime
    order_id: strawberry.ID | None
    order_number: str | None
    version: int
    actions: list[str] = strawberry.field(description="What each action did, in words.")

    @classmethod
    def from_row(cls, row: OrderEvent) -> RuleFiring:
        after = row.after or {}
        order_id = row.order_id  # type: ignore[attr-defined]
        return cls(at=row.created_at, order_id=strawberry.ID(ids.encode("Order", order_id)) if order_id else None,
                   order_number=f"OG{order_id:09d}" if order_id else None, version=int(after.get("version", 0)),
                   actions=[str(a) for a in after.get("actions", [])])


@strawberry.type(description="A business rule: a CEL condition, its triggers and its actions.")
class Rule:
    id: strawberry.ID
    name: str
    description: str
    enabled: bool
    version: int = strawberry.field(description="The version in force.")
    template: str | None = strawberry.field(description="The template it was made from, if any.")
    updated_at: datetime
    _row: strawberry.Private[RuleRow]

    @classmethod
    def from_row(cls, row: RuleRow) -> Rule:
        return cls(id=strawberry.ID(ids.encode("Rule", row.id)), name=row.name, description=row.description,
                   enabled=row.enabled, version=row.version, template=row.template, updated_at=row.updated_at,
                   _row=row)

    @strawberry.field(description="The text in force.")
    async def current(self) -> RuleVersion:
        return RuleVersion.from_row(await resolvers.current_version(self._row))

    @strawberry.field(description="Every saved version, newest first.")
    async def versions(self) -> list[RuleVersion]:
        return [RuleVersion.from_row(row) for row in await resolvers.versions(self._row.id)]

    @strawberry.field(description="Recent firings, newest first (at most 100).")
    async def firings(self, first: int = 20) -> list[RuleFiring]:
        return [RuleFiring.from_row(row) for row in await resolvers.firings(self._row, first)]


@strawberry.type(description="A ready-made rule for a common case; save it with createRuleFromTemplate.")
class RuleTemplate:
    key: str
    description: str
    condition: str
    triggers: list[str]
    schedule_minutes: int | None
    actions: JSON


@strawberry.type(description="An order a dry run would have hit, and what the rule would have done.")
class DryRunHit:
    order_id: strawberry.ID
    order_number: str
    event_id: str | None
    event_type: str | None
    actions: list[str]


@strawberry.type(description="What a rule would have done over the period, without doing anything.")
class DryRunResult:
    events_scanned: int
    orders_scanned: int = strawberry.field(description="Open orders a scheduled rule was checked against.")
    evaluations: int
    orders_hit: int
    hits: list[DryRunHit] = strawberry.field(description="The first 500 hits.")
    error_count: int
    errors: list[str] = strawberry.field(description="The first 20 evaluation errors.")
    evaluation_ms: float = strawberry.field(description="Time spent evaluating the condition.")
    evaluation_us_per_event: float
    total_ms: float = strawberry.field(description="Including loading the orders' context.")
    truncated: bool = strawberry.field(description="Stopped at 1,000,000 events.")

    @classmethod
    def from_report(cls, report: DryRunReport) -> DryRunResult:
        return cls(
            events_scanned=report.events_scanned, orders_scanned=report.orders_scanned,
            evaluations=report.evaluations, orders_hit=report.orders_hit,
            hits=[DryRunHit(order_id=strawberry.ID(ids.encode("Order", hit.order_id)),
                            order_number=f"OG{hit.order_id:09d}",
                            event_id=str(hit.event_id) if hit.event_id else None, event_type=hit.event_type,
                            actions=hit.actions) for hit in report.hits],
            error_count=report.error_count, errors=report.errors, evaluation_ms=report.evaluation_seconds * 1000,
            evaluation_us_per_event=report.evaluation_us_per_event, total_ms=report.total_seconds * 1000,
            truncated=report.truncated)


@strawberry.type(description="Intake or allocation of a SKU stopped until lifted.")
class SkuFreeze:
    id: strawberry.ID
    sku: str
    scope: str = strawberry.field(description="intake (new orders are held) or allocation (orders wait).")
    channel: str | None = strawberry.field(description="The channel's code; null for every channel.")
    reason: str
    created_by: str
    created_at: datetime
    lifted_at: datetime | None
    lifted_by: str | None

    @classmethod
    def from_row(cls, row: SkuFreezeRow) -> SkuFreeze:
        channel = row.channel if row.channel_id else None  # type: ignore[attr-defined]
        return cls(id=strawberry.ID(ids.encode("SkuFreeze", row.id)), sku=row.sku, scope=row.scope,
                   channel=getattr(channel, "code", None), reason=row.reason, created_by=row.created_by,
                   created_at=row.created_at, lifted_at=row.lifted_at, lifted_by=row.lifted_by)


@strawberry.input(description="A rule's text. Saving under an existing name adds a version.")
class RuleInput:
    name: str
    condition: str = strawberry.field(description="A CEL expression giving true or false (docs/rules.md).")
    actions: JSON = strawberry.field(description='A list like [{"type": "alert", "severity": "critical", "message": "…"}].')
    triggers: list[str] | None = strawberry.field(default=None, description="Event types, e.g. order.created.")
    schedule_minutes: int | None = strawberry.field(default=None, description="Check open orders this often.")
    description: str = ""

    def spec(self) -> Any:
        return resolvers.spec_of(self.name, self.condition, self.triggers, self.schedule_minutes, self.actions,
                                 self.description)


@strawberry.type
class RulePayload:
    rule: Rule | None
    errors: list[UserError]


@strawberry.type
class DryRunPayload:
    result: DryRunResult | None
    errors: list[UserError]


@strawberry.type
class SkuFreezePayload:
    freeze: SkuFreeze | None
    errors: list[UserError]


async def _rule_payload(action: Any) -> RulePayload:
    row, errors = await attempt(action)
    return RulePayload(rule=Rule.from_row(row) if row is not None else None, errors=errors)


@strawberry.type
class RuleQuery:
    @strawberry.field(description="The tenant's rules, by name.")
    async def rules(self, info: Info) -> list[Rule]:
        return [Rule.from_row(row) for row in await resolvers.rules(info.context)]

    @strawberry.field(description="One rule by id.")
    async def rule(self, info: Info, id: strawberry.ID) -> Rule | None:
        row = await resolvers.rule(info.context, id)
        return Rule.from_row(row) if row else None

    @strawberry.field(description="Ready-made rules for common cases.")
    def rule_templates(self) -> list[RuleTemplate]:
        return [RuleTemplate(key=key, description=t["description"], condition=t["condition"],
                             triggers=t.get("triggers", []), schedule_minutes=t.get("schedule_minutes"),
                             actions=t["actions"]) for key, t in TEMPLATES.items()]

    @strawberry.field(description="SKU freezes, newest first (at most 500).")
    async def sku_freezes(self, info: Info, active_only: bool = True) -> list[SkuFreeze]:
        return [SkuFreeze.from_row(row) for row in await resolvers.sku_freezes(info.context, active_only)]


@strawberry.type
class RuleMutation:
    @strawberry.mutation(description="Save a rule (new ones start disabled); a changed text adds a version.")
    async def save_rule(self, info: Info, input: RuleInput) -> RulePayload:
        return await _rule_payload(lambda: resolvers.save(info.context, input.spec()))

    @strawberry.mutation(description="Save a ready-made rule (disabled) under a name.")
    async def create_rule_from_template(self, info: Info, template: str, name: str | None = None) -> RulePayload:
        return await _rule_payload(lambda: resolvers.from_template(info.context, template, name))

    @strawberry.mutation(description="Turn a rule on or off.")
    async def set_rule_enabled(self, info: Info, id: strawberry.ID, enabled: bool) -> RulePayload:
        return await _rule_payload(lambda: resolvers.set_enabled(info.context, id, enabled))

    @strawberry.mutation(description="What a saved rule (ruleId) or an unsaved text (rule) would have done over "
                                     "the last days; nothing is written.")
    async def dry_run_rule(self, info: Info, days: int = 7, rule_id: strawberry.ID | None = None,
                           rule: RuleInput | None = None) -> DryRunPayload:
        report, errors = await attempt(lambda: resolvers.dry_run(
            info.context, rule.spec() if rule else None, rule_id, days))
        return DryRunPayload(result=DryRunResult.from_report(report) if report else None, errors=errors)

    @strawberry.mutation(description="Lift a SKU freeze; orders already held stay held until released.")
    async def lift_sku_freeze(self, info: Info, id: strawberry.ID, reason: str = "") -> SkuFreezePayload:
        row, errors = await attempt(lambda: resolvers.lift_freeze(info.context, id, reason))
        return SkuFreezePayload(freeze=SkuFreeze.from_row(row) if row else None, errors=errors)
