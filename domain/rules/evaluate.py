"""Running a tenant's rules over orders: which fire, with what outcome. Shared by the runner and dry runs.

    for order_id, event, rule, outcome in await evaluate_events(index, tenant_id, rows): …

An outcome is True (fires), False, or a ``RuleError`` (the rule could not be
evaluated on this order; recorded, never raised). Context is loaded once per
batch of orders and converted to CEL once per order, then shared by every rule.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import cel

from domain.rules.context import contexts, event_variables
from domain.rules.engine import CompiledRule
from domain.rules.language import RuleError, prepared
from models import OrderEvent

#: Lineage written by rules does not trigger rules again (no loops).
RULE_ACTOR = "rule:"


@dataclass(frozen=True, slots=True)
class Verdict:
    order_id: int
    rule: CompiledRule
    outcome: bool | RuleError
    context: cel.Context
    event: OrderEvent | None = None


def triggered(row: OrderEvent) -> bool:
    return row.order_id is not None and not row.actor.startswith(RULE_ACTOR)  # type: ignore[attr-defined]


@dataclass
class Timer:
    """Time spent in CEL evaluation alone (loading excluded), and how many evaluations."""

    seconds: float = 0.0
    count: int = 0


def judge(rule: CompiledRule, context: cel.Context, timer: Timer | None = None) -> bool | RuleError:
    started = time.perf_counter()
    try:
        return rule.condition.matches(context)
    except RuleError as error:
        return error
    finally:
        if timer is not None:
            timer.seconds += time.perf_counter() - started
            timer.count += 1


async def on_events(rules_for: Any, tenant_id: int, rows: Iterable[OrderEvent], timer: Timer | None = None,
                    known: dict[int, dict[str, Any]] | None = None) -> list[Verdict]:
    """Verdicts of the rules each event triggers (``rules_for(type)`` gives them).

    ``known``: contexts already loaded (a dry run judges orders as they are now, so
    an order seen in an earlier batch need not be read again); filled as it goes.
    """
    wanted = [(row, rules_for(row.type)) for row in rows if triggered(row)]
    wanted = [(row, rules) for row, rules in wanted if rules]
    loaded = known if known is not None else {}
    missing = sorted({row.order_id for row, _ in wanted} - loaded.keys())  # type: ignore[attr-defined]
    loaded.update(await contexts(tenant_id, missing))
    now = datetime.now(UTC)
    verdicts = []
    for row, rules in wanted:
        variables = loaded.get(row.order_id)  # type: ignore[attr-defined]
        if variables is None:
            continue
        context = prepared({**variables, "now": now, "event": event_variables(
            row.type, row.actor, row.source, row.reason, row.after, row.created_at)})
        verdicts += [Verdict(row.order_id, rule, judge(rule, context, timer), context, row)  # type: ignore[attr-defined]
                     for rule in rules]
    return verdicts


async def on_orders(rules: list[CompiledRule], tenant_id: int, order_ids: list[int],
                    timer: Timer | None = None) -> list[Verdict]:
    """Verdicts of scheduled rules over orders as they are now."""
    loaded = await contexts(tenant_id, order_ids)
    now = datetime.now(UTC)
    verdicts = []
    for order_id in order_ids:
        if order_id not in loaded:
            continue
        context = prepared({**loaded[order_id], "now": now, "event": None})
        verdicts += [Verdict(order_id, rule, judge(rule, context, timer), context) for rule in rules]
    return verdicts


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
