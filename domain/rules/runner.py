"""Rules at work: an outbox consumer for event triggers, and a schedule for time-based rules.

    consumer = RulesConsumer()                 # handed to an events.dispatcher.Dispatcher by the leader
    await run_schedules(now)                   # called by the leader every few seconds

Every firing is a ``rule.fired`` lineage row on the order naming the rule, its
version, the triggering event and what each action did. Delivery is at least
once (the cursor moves after the batch's actions); actions are idempotent, so a
batch handled twice after a crash only repeats the lineage note. New orders
with a SKU whose intake is frozen are held here, before any rule runs. A rule
that fails on ``FAILURES_TO_DISABLE`` orders in a row is disabled, with an alert.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, datetime

from domain.actor import Actor, Role
from domain.alerts.kinds import AlertKind
from domain.alerts.raising import clear_alerts, raise_alert
from domain.errors import DomainError
from domain.orders import hold_order
from domain.rules.actions import Firing, perform
from domain.rules.engine import CompiledRule, RuleCache
from domain.rules.evaluate import Verdict, chunks, on_events, on_orders
from domain.rules.language import RuleError
from domain.rules.store import disable_broken
from domain.statuses import OrderStatus
from domain.unit_of_work import unit_of_work
from events import cursor as cursors
from events import log
from events.outbox import newest_id
from models import Order, OrderEvent, OrderLine, SkuFreeze

logger = logging.getLogger("ordergraph.rules")
CURSOR = "rules"
FAILURES_TO_DISABLE = 20
#: Orders a scheduled rule looks at: those still moving.
OPEN_STATUSES = [s for s in OrderStatus if s not in (OrderStatus.COMPLETED, OrderStatus.CANCELLED)]
SCHEDULE_SCAN_LIMIT = 20_000


async def open_order_ids(tenant_id: int) -> list[int]:
    """The orders a scheduled rule (or its dry run) looks at: the newest still moving."""
    return list(await Order.filter(tenant_id=tenant_id, status__in=OPEN_STATUSES).order_by("-id").limit(
        SCHEDULE_SCAN_LIMIT).values_list("id", flat=True))


def rule_actor(tenant_id: int, rule: CompiledRule) -> Actor:
    return Actor(tenant_id=tenant_id, role=Role.OPS, name=f"rule:{rule.label}"[:100], source="rules")


async def fire(verdict: Verdict, tenant_id: int) -> list[str]:
    """Carry out a firing rule's actions and write the ``rule.fired`` lineage row."""
    rule = verdict.rule
    actor = rule_actor(tenant_id, rule)
    firing = Firing(actor, verdict.order_id, verdict.context, rule.name, verdict.event.id if verdict.event else None)
    done = [await perform(action, firing) for action in rule.actions]
    async with unit_of_work():
        await log.append(tenant_id=tenant_id, order_id=verdict.order_id, type="rule.fired", actor=actor.name,
                         source="rules", reason=f"rule {rule.label}: " + "; ".join(done),
                         after={"rule_id": rule.id, "rule": rule.name, "version": rule.version,
                                "event_id": firing.event_id, "actions": done})
    return done


class Failures:
    """Consecutive evaluation failures per rule version; too many disable the rule."""

    def __init__(self) -> None:
        self.count: dict[tuple[int, int], int] = defaultdict(int)

    async def note(self, tenant_id: int, verdict: Verdict) -> None:
        key = (verdict.rule.id, verdict.rule.version)
        if not isinstance(verdict.outcome, RuleError):
            self.count.pop(key, None)
            return
        self.count[key] += 1
        logger.warning("rule %s failed on order %s: %s", verdict.rule.label, verdict.order_id, verdict.outcome)
        if self.count[key] == FAILURES_TO_DISABLE:
            why = f"rule {verdict.rule.label} failed on {FAILURES_TO_DISABLE} orders in a row: {verdict.outcome}"
            await disable_broken(tenant_id, verdict.rule.id, why)
            async with unit_of_work():
                await raise_alert(tenant_id=tenant_id, kind=AlertKind.RULE, subject=f"rule:{verdict.rule.name}",
                                  severity="critical", message=why, source="rules")


class RulesConsumer:
    """The outbox consumer (run by the leader) that evaluates event-triggered rules."""

    name = CURSOR

    def __init__(self) -> None:
        self.cache = RuleCache()
        self.failures = Failures()
        self._stored: int | None = None

    async def start_position(self) -> int:
        self._stored = await cursors.load_or_start(CURSOR, await newest_id())
        return self._stored

    async def consume(self, rows: list[OrderEvent], previous: int) -> None:
        by_tenant: dict[int, list[OrderEvent]] = defaultdict(list)
        for row in rows:
            by_tenant[row.tenant_id].append(row)  # type: ignore[attr-defined]
        for tenant_id, tenant_rows in by_tenant.items():
            await hold_frozen_intake(tenant_id, [r.order_id for r in tenant_rows  # type: ignore[attr-defined]
                                                 if r.type == "order.created" and r.order_id is not None])  # type: ignore[attr-defined]
            index = await self.cache.index(tenant_id)
            if not index.by_trigger:
                continue
            for verdict in await on_events(index.for_event, tenant_id, tenant_rows):
                await self.failures.note(tenant_id, verdict)
                if verdict.outcome is True:
                    await fire(verdict, tenant_id)
        await cursors.advance(CURSOR, self._stored, rows[-1].id)
        self._stored = rows[-1].id


async def hold_frozen_intake(tenant_id: int, order_ids: list[int]) -> list[int]:
    """Hold new orders that carry a SKU whose intake is frozen (for their channel or all); returns them."""
    if not order_ids:
        return []
    freezes = await SkuFreeze.filter(tenant_id=tenant_id, scope="intake", lifted_at__isnull=True).values_list(
        "sku", "channel_id")
    if not freezes:
        return []
    frozen: dict[str, set[int | None]] = defaultdict(set)
    for sku, channel_id in freezes:
        frozen[sku].add(channel_id)
    channels = dict(await Order.filter(id__in=order_ids).values_list("id", "channel_id"))
    held = []
    for order_id, sku in await OrderLine.filter(order_id__in=order_ids, sku__in=list(frozen)).values_list(
            "order_id", "sku"):
        if None in frozen[sku] or channels.get(order_id) in frozen[sku]:
            actor = Actor(tenant_id=tenant_id, role=Role.OPS, name="rule:intake freeze", source="rules")
            try:
                await hold_order(actor, order_id, [f"intake of {sku} frozen"])
                held.append(order_id)
            except DomainError as error:
                logger.info("frozen-intake hold of order %s skipped: %s", order_id, error.message)
    return held


class Schedule:
    """Time-based rules: each runs every ``schedule_seconds`` over the open orders.

    A scheduled rule fires on an order when its condition starts to hold (not on
    every run while it holds), and the alerts it raised are resolved when it stops
    holding — so "held for 30 minutes" alerts once and clears when released.
    """

    def __init__(self) -> None:
        self.cache = RuleCache()
        self.failures = Failures()
        self.last_run: dict[tuple[int, int], datetime] = {}
        self.matched: dict[tuple[int, int], set[int]] = {}

    async def run(self, tenant_ids: list[int], now: datetime | None = None) -> int:
        now = now or datetime.now(UTC)
        fired = 0
        for tenant_id in tenant_ids:
            index = await self.cache.index(tenant_id)
            due = [rule for rule in index.scheduled
                   if (last := self.last_run.get((tenant_id, rule.id))) is None
                   or (now - last).total_seconds() >= (rule.schedule_seconds or 0)]
            if not due:
                continue
            order_ids = await open_order_ids(tenant_id)
            holding: dict[int, set[int]] = defaultdict(set)
            for chunk in chunks(order_ids, 1000):
                for verdict in await on_orders(due, tenant_id, chunk):
                    await self.failures.note(tenant_id, verdict)
                    if verdict.outcome is not True:
                        continue
                    holding[verdict.rule.id].add(verdict.order_id)
                    if verdict.order_id not in self.matched.get((tenant_id, verdict.rule.id), set()):
                        await fire(verdict, tenant_id)
                        fired += 1
            for rule in due:
                key = (tenant_id, rule.id)
                for gone in self.matched.get(key, set()) - holding[rule.id]:
                    await _resolve(tenant_id, rule, gone)
                self.matched[key], self.last_run[key] = holding[rule.id], now
        return fired


async def _resolve(tenant_id: int, rule: CompiledRule, order_id: int) -> None:
    async with unit_of_work():
        await clear_alerts(tenant_id=tenant_id, order_id=order_id, kind=AlertKind.RULE, subject=f"rule:{rule.name}",
                           actor=f"rule:{rule.label}", reason=f"rule {rule.label} no longer holds")

