"""What a rule would have done over the last days, without doing it.

    report = await dry_run(actor, RuleInput(...), days=7)
    report.orders_hit, report.hits[:10], report.evaluation_us_per_event

Event-triggered rules are replayed over the tenant's lineage of the period
(the events they trigger on, excluding those rules wrote); each is judged
against its order as the order is NOW, with the event as it was. Scheduled
rules are judged once over the open orders. Nothing is written.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.actor import Actor
from domain.errors import ValidationFailed
from domain.rules.actions import describe
from domain.rules.engine import CompiledRule
from domain.rules.evaluate import RULE_ACTOR, Timer, Verdict, chunks, on_events, on_orders
from domain.rules.language import RuleError, compile_condition
from domain.rules.runner import open_order_ids
from domain.rules.store import RuleInput, require_editor, validate
from models import OrderEvent

MAX_DAYS = 90
MAX_EVENTS = 1_000_000
LISTED = 500
BATCH = 2000
KNOWN_LIMIT = 100_000


@dataclass(frozen=True)
class Hit:
    order_id: int
    event_id: int | None
    event_type: str | None
    actions: list[str]


@dataclass
class DryRunReport:
    events_scanned: int = 0
    orders_scanned: int = 0
    evaluations: int = 0
    orders_hit: int = 0
    hits: list[Hit] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    evaluation_seconds: float = 0.0
    total_seconds: float = 0.0
    truncated: bool = False

    @property
    def evaluation_us_per_event(self) -> float:
        return self.evaluation_seconds / self.evaluations * 1e6 if self.evaluations else 0.0


async def dry_run(actor: Actor, spec: RuleInput, days: int = 7) -> DryRunReport:
    require_editor(actor)
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(f"dry-run over 1 to {MAX_DAYS} days", field="days")
    checked = validate(spec)
    rule = CompiledRule(0, spec.name or "dry run", 0, compile_condition(checked.condition), checked.actions,
                        tuple(checked.triggers), checked.schedule_seconds)
    report = DryRunReport()
    started = time.perf_counter()
    hit_orders: set[int] = set()
    timer = Timer()
    known: dict[int, dict[str, Any]] = {}  # orders' contexts, read once per dry run
    if rule.triggers:
        since = datetime.now(UTC) - timedelta(days=days)
        after = 0
        while report.events_scanned < MAX_EVENTS:
            rows = await OrderEvent.filter(tenant_id=actor.tenant_id, id__gt=after, created_at__gte=since,
                                           type__in=list(rule.triggers), order_id__isnull=False).exclude(
                actor__startswith=RULE_ACTOR).order_by("id").limit(BATCH)
            if not rows:
                break
            after = rows[-1].id
            report.events_scanned += len(rows)
            if len(known) > KNOWN_LIMIT:
                known.clear()
            _collect(report, await on_events(lambda _type: [rule], actor.tenant_id, rows, timer, known), hit_orders)
        report.truncated = report.events_scanned >= MAX_EVENTS
    if rule.schedule_seconds:
        ids = await open_order_ids(actor.tenant_id)
        report.orders_scanned = len(ids)
        for chunk in chunks(ids, BATCH):
            _collect(report, await on_orders([rule], actor.tenant_id, chunk, timer), hit_orders)
    report.orders_hit = len(hit_orders)
    report.evaluations, report.evaluation_seconds = timer.count, timer.seconds
    report.total_seconds = time.perf_counter() - started
    return report


def _collect(report: DryRunReport, verdicts: list[Verdict], hit_orders: set[int]) -> None:
    for verdict in verdicts:
        outcome = verdict.outcome
        if isinstance(outcome, RuleError):
            report.error_count += 1
            if len(report.errors) < 20:
                report.errors.append(f"order {verdict.order_id}: {outcome}")
            continue
        if outcome:
            hit_orders.add(verdict.order_id)
            if len(report.hits) < LISTED:
                report.hits.append(Hit(verdict.order_id, verdict.event.id if verdict.event else None,
                                       verdict.event.type if verdict.event else None,
                                       [describe(action, verdict.context) for action in verdict.rule.actions]))
