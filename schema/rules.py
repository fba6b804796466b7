"""Business rules in GraphQL: write a rule in CEL, dry-run it, enable it, see it fire; SKU freezes.

    mutation { saveRule(input: {name: "red alert", condition: "hours_until(order.ship_by) <= 2",
               triggers: ["order.created"], actions: [{type: "alert", severity: "critical",
               message: "{order.number} must leave within 2 h"}]}) { rule { id version } errors { code message } } }

The condition language and its variables are documented in docs/rules.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.rules.dry_run import DryRunReport
from domain.rules.templates import TEMPLATES
from models import OrderEvent, Rule as RuleRow, RuleVersion as RuleVersionRow, SkuFreeze as SkuFreezeRow
from resolvers import ids
from resolvers import rules as resolvers
from schema.connections import AFTER_ARGUMENT, PAGE_ARGUMENT, Connection
from schema.errors import UserError, attempt


def _minutes(seconds: int | None) -> int | None:
    return seconds // 60 if seconds else None


@strawberry.type(description="One saved text of a rule; versions are never changed, a new save adds one.")
class RuleVersion:
    version: int = strawberry.field(description="The version number, from 1.")
    condition: str = strawberry.field(description="The CEL condition.")
    triggers: list[str] = strawberry.field(description="Event types that make the rule look at the order.")
    schedule_minutes: int | None = strawberry.field(description="Also checked over open orders this often.")
    actions: JSON = strawberry.field(description="What the rule does when the condition holds (see docs/rules.md).")
    created_by: str = strawberry.field(description="Who saved it.")
    created_at: datetime = strawberry.field(description="When it was saved (UTC).")

    @classmethod
    def from_row(cls, row: RuleVersionRow) -> RuleVersion:
        return cls(version=row.version, condition=row.condition, triggers=list(row.triggers),
                   schedule_minutes=_minutes(row.schedule_seconds), actions=row.actions, created_by=row.created_by,
                   created_at=row.created_at)


@strawberry.type(description="A rule firing on an order, from the lineage.")
class RuleFiring:
    at: datetime = strawberry.field(description="When the rule fired (UTC).")
    order_id: strawberry.ID | None = strawberry.field(
        description="The order it fired on; null for a firing not about one order.")
    order_number: str | None = strawberry.field(description="That order's number (OG000000042); null likewise.")
    version: int = strawberry.field(description="The rule version that fired.")
    actions: list[str] = strawberry.field(description="What each action did, in words.")

    @classmethod
    def from_row(cls, row: OrderEvent) -> RuleFiring:
        after = row.after or {}
        order_id = row.order_id  # type: ignore[attr-defined]
        return cls(at=row.created_at, order_id=strawberry.ID(ids.encode("Order", order_id)) if order_id else None,
                   order_number=f"OG{order_id:09d}" if order_id else None, version=int(after.get("version", 0)),
                   actions=[str(a) for a in after.get("actions", [])])


@strawberry.type(description="A rule's firings, newest first, a page at a time.")
class RuleFiringConnection(Connection[RuleFiring]):
    pass


@strawberry.type(description="A business rule: a CEL condition, its triggers and its actions.")
class Rule:
    id: strawberry.ID = strawberry.field(description="The rule's global id.")
    name: str = strawberry.field(description="The rule's name, unique per tenant.")
    description: str = strawberry.field(description="What the rule is for, in words; may be empty.")
    enabled: bool = strawberry.field(description="Whether the rule runs (new rules start disabled).")
    version: int = strawberry.field(description="The version in force.")
    template: str | None = strawberry.field(description="The template it was made from, if any.")
    updated_at: datetime = strawberry.field(description="When it was last saved or switched (UTC).")
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

    @strawberry.field(description="The rule's firings, newest first, a page at a time.")
    async def firings(
        self, info: Info, first: Annotated[int, strawberry.argument(description=PAGE_ARGUMENT)] = 20,
        after: Annotated[str | None, strawberry.argument(description=AFTER_ARGUMENT)] = None,
    ) -> RuleFiringConnection:
        return RuleFiringConnection.of(await resolvers.firings(info.context, self._row, first, after), RuleFiring.from_row)


@strawberry.type(description="A ready-made rule for a common case; save it with createRuleFromTemplate.")
class RuleTemplate:
    key: str = strawberry.field(description="The template's key, for `createRuleFromTemplate`.")
    description: str = strawberry.field(description="What the template does, in words.")
    condition: str = strawberry.field(description="Its CEL condition.")
    triggers: list[str] = strawberry.field(description="Event types that make it look at an order.")
    schedule_minutes: int | None = strawberry.field(description="How often it checks open orders; null if only on events.")
    actions: JSON = strawberry.field(description="What it does when the condition holds (JSON list).")


@strawberry.type(description="An order a dry run would have hit, and what the rule would have done.")
class DryRunHit:
    order_id: strawberry.ID = strawberry.field(description="The order's id.")
    order_number: str = strawberry.field(description="The order's number (OG000000042).")
    event_id: str | None = strawberry.field(
        description="The lineage event that would have triggered it; null for a scheduled check.")
    event_type: str | None = strawberry.field(description="That event's type; null for a scheduled check.")
    actions: list[str] = strawberry.field(description="What each action would have done, in words.")


@strawberry.type(description="What a rule would have done over the period, without doing anything.")
class DryRunResult:
    events_scanned: int = strawberry.field(description="Lineage events looked at.")
    orders_scanned: int = strawberry.field(description="Open orders a scheduled rule was checked against.")
    evaluations: int = strawberry.field(description="Times the condition was evaluated.")
    orders_hit: int = strawberry.field(description="Distinct orders the rule would have fired on.")
    hits: list[DryRunHit] = strawberry.field(description="The first 500 hits.")
    error_count: int = strawberry.field(description="Evaluations that failed (see `errors`).")
    errors: list[str] = strawberry.field(description="The first 20 evaluation errors.")
    evaluation_ms: float = strawberry.field(description="Time spent evaluating the condition.")
    evaluation_us_per_event: float = strawberry.field(description="Mean evaluation time per event, in microseconds.")
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
    id: strawberry.ID = strawberry.field(description="The freeze's global id.")
    sku: str = strawberry.field(description="The frozen SKU.")
    scope: str = strawberry.field(description="intake (new orders are held) or allocation (orders wait).")
    channel: str | None = strawberry.field(description="The channel's code; null for every channel.")
    reason: str = strawberry.field(description="Why it was frozen.")
    created_by: str = strawberry.field(description="Who froze it (a user or a rule).")
    created_at: datetime = strawberry.field(description="When it was frozen (UTC).")
    lifted_at: datetime | None = strawberry.field(description="When it was lifted (UTC); null while in force.")
    lifted_by: str | None = strawberry.field(description="Who lifted it; null while in force.")

    @classmethod
    def from_row(cls, row: SkuFreezeRow) -> SkuFreeze:
        channel = row.channel if row.channel_id else None  # type: ignore[attr-defined]
        return cls(id=strawberry.ID(ids.encode("SkuFreeze", row.id)), sku=row.sku, scope=row.scope,
                   channel=getattr(channel, "code", None), reason=row.reason, created_by=row.created_by,
                   created_at=row.created_at, lifted_at=row.lifted_at, lifted_by=row.lifted_by)


@strawberry.input(description="A rule's text. Saving under an existing name adds a version.")
class RuleInput:
    name: str = strawberry.field(description="The rule's name; saving an existing name adds a version.")
    condition: str = strawberry.field(description="A CEL expression giving true or false (docs/rules.md).")
    actions: JSON = strawberry.field(description='A list like [{"type": "alert", "severity": "critical", "message": "…"}].')
    triggers: list[str] | None = strawberry.field(default=None, description="Event types, e.g. order.created.")
    schedule_minutes: int | None = strawberry.field(default=None, description="Check open orders this often.")
    description: str = strawberry.field(default="", description="What the rule is for, in words.")

    def spec(self) -> Any:
        return resolvers.spec_of(self.name, self.condition, self.triggers, self.schedule_minutes, self.actions,
                                 self.description)


@strawberry.type(description="The result of a rule mutation.")
class RulePayload:
    rule: Rule | None = strawberry.field(description="The rule as it is now; null when `errors` is not empty.")
    errors: list[UserError] = strawberry.field(
        description="Why nothing changed (e.g. VALIDATION for a condition that does not compile); empty on success.")


@strawberry.type(description="The result of a dry run.")
class DryRunPayload:
    result: DryRunResult | None = strawberry.field(
        description="What the rule would have done; null when `errors` is not empty.")
    errors: list[UserError] = strawberry.field(description="Why the dry run did not run; empty otherwise.")


@strawberry.type(description="The result of lifting a SKU freeze.")
class SkuFreezePayload:
    freeze: SkuFreeze | None = strawberry.field(description="The freeze as it is now; null when `errors` is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed; empty on success.")


async def _rule_payload(action: Any) -> RulePayload:
    row, errors = await attempt(action)
    return RulePayload(rule=Rule.from_row(row) if row is not None else None, errors=errors)


@strawberry.type
class RuleQuery:
    @strawberry.field(description="The tenant's rules, by name.")
    async def rules(self, info: Info) -> list[Rule]:
        return [Rule.from_row(row) for row in await resolvers.rules(info.context)]

    @strawberry.field(description="One rule by id.")
    async def rule(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The rule's id.")]) -> Rule | None:
        row = await resolvers.rule(info.context, id)
        return Rule.from_row(row) if row else None

    @strawberry.field(description="Ready-made rules for common cases.")
    def rule_templates(self) -> list[RuleTemplate]:
        return [RuleTemplate(key=key, description=t["description"], condition=t["condition"],
                             triggers=t.get("triggers", []), schedule_minutes=t.get("schedule_minutes"),
                             actions=t["actions"]) for key, t in TEMPLATES.items()]

    @strawberry.field(description="SKU freezes, newest first (at most 500).")
    async def sku_freezes(self, info: Info, active_only: Annotated[bool, strawberry.argument(description="true (default): only freezes in force; false: lifted ones too.")] = True) -> list[SkuFreeze]:
        return [SkuFreeze.from_row(row) for row in await resolvers.sku_freezes(info.context, active_only)]


@strawberry.type
class RuleMutation:
    @strawberry.mutation(description="Save a rule (new ones start disabled); a changed text adds a version.")
    async def save_rule(self, info: Info, input: Annotated[RuleInput, strawberry.argument(description="The rule's text.")]) -> RulePayload:
        return await _rule_payload(lambda: resolvers.save(info.context, input.spec()))

    @strawberry.mutation(description="Save a ready-made rule (disabled) under a name.")
    async def create_rule_from_template(self, info: Info, template: Annotated[str, strawberry.argument(description="The template's `key`.")], name: Annotated[str | None, strawberry.argument(description="The new rule's name; the template's key if omitted.")] = None) -> RulePayload:
        return await _rule_payload(lambda: resolvers.from_template(info.context, template, name))

    @strawberry.mutation(description="Turn a rule on or off.")
    async def set_rule_enabled(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The rule's id.")], enabled: Annotated[bool, strawberry.argument(description="true to run it, false to stop it.")]) -> RulePayload:
        return await _rule_payload(lambda: resolvers.set_enabled(info.context, id, enabled))

    @strawberry.mutation(description="What a saved rule (ruleId) or an unsaved text (rule) would have done over "
                                     "the last days; nothing is written.")
    async def dry_run_rule(self, info: Info, days: Annotated[int, strawberry.argument(description="How many days back to replay, 1-90; 7 by default.")] = 7, rule_id: Annotated[strawberry.ID | None, strawberry.argument(description="A saved rule to try (give this or `rule`).")] = None,
                           rule: Annotated[RuleInput | None, strawberry.argument(description="An unsaved rule text to try (give this or `ruleId`).")] = None) -> DryRunPayload:
        report, errors = await attempt(lambda: resolvers.dry_run(
            info.context, rule.spec() if rule else None, rule_id, days))
        return DryRunPayload(result=DryRunResult.from_report(report) if report else None, errors=errors)

    @strawberry.mutation(description="Lift a SKU freeze; orders already held stay held until released.")
    async def lift_sku_freeze(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The freeze's id.")], reason: Annotated[str, strawberry.argument(description="Why, recorded in the lineage.")] = "") -> SkuFreezePayload:
        row, errors = await attempt(lambda: resolvers.lift_freeze(info.context, id, reason))
        return SkuFreezePayload(freeze=SkuFreeze.from_row(row) if row else None, errors=errors)
