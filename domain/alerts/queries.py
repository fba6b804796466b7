"""Finding alerts on the board: by kind, category, severity, state, place, owner, age, SLA and text.

    query = board_query(tenant_id, BoardFilter(categories=frozenset({"stock"}), overdue_only=True))
    rows = await query.order_by("-id").limit(20)        # callers page it (newest first, keyset on id)

``search`` looks in the message and in the resolution, so the board is also a
knowledge base: ``BoardFilter(search="address", states=frozenset({"resolved"}))``
finds how address problems were solved before. Every condition is pushed to
SQL; an empty set means "any".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from domain.alerts.kinds import AlertKind, AlertState, Category, Severity
from domain.errors import ValidationFailed
from models import Alert

MAX_SEARCH = 100
MAX_VALUES = 50
#: Older than this many minutes is refused (a year): a mistyped figure, not a question.
MAX_AGE_MINUTES = 366 * 24 * 60


@dataclass(frozen=True, slots=True)
class BoardFilter:
    kinds: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    severities: frozenset[str] = frozenset()
    states: frozenset[str] = frozenset()
    open_only: bool = False
    channel_ids: frozenset[int] = frozenset()
    warehouse_ids: frozenset[int] = frozenset()
    order_ids: frozenset[int] = frozenset()
    owners: frozenset[str] = frozenset()
    older_than_minutes: int | None = None
    overdue_only: bool = False
    search: str | None = None


def _check(values: frozenset[str], allowed: type, field: str) -> list[str]:
    if len(values) > MAX_VALUES:
        raise ValidationFailed(f"give at most {MAX_VALUES} values", field=field)
    unknown = sorted(v for v in values if v not in allowed._value2member_map_)  # type: ignore[attr-defined]
    if unknown:
        raise ValidationFailed(f"unknown {field}: {', '.join(unknown)[:100]}", field=field)
    return sorted(values)


def kinds_of(f: BoardFilter) -> list[str] | None:
    """The kinds the filter admits (kinds ∩ the categories' kinds), None for any."""
    kinds = set(_check(f.kinds, AlertKind, "kinds")) if f.kinds else None
    if f.categories:
        categories = set(_check(f.categories, Category, "categories"))
        in_categories = {k.value for k in AlertKind if k.category in categories}
        kinds = in_categories if kinds is None else kinds & in_categories
    return None if kinds is None else sorted(kinds)


def board_query(tenant_id: int, f: BoardFilter, now: datetime | None = None) -> QuerySet[Alert]:
    """The tenant's alerts that pass the filter (unordered; a refused filter raises ``ValidationFailed``)."""
    now = now or datetime.now(UTC)
    query = Alert.filter(tenant_id=tenant_id)
    kinds = kinds_of(f)
    if kinds is not None:
        query = query.filter(kind__in=kinds)
    if f.severities:
        query = query.filter(severity__in=_check(f.severities, Severity, "severities"))
    if f.states:
        query = query.filter(state__in=_check(f.states, AlertState, "states"))
    if f.open_only or f.overdue_only:
        query = query.filter(cleared_at__isnull=True)
    if f.overdue_only:
        query = query.filter(due_at__lt=now)
    for values, column in ((f.channel_ids, "channel_id"), (f.warehouse_ids, "warehouse_id"), (f.order_ids, "order_id")):
        if len(values) > MAX_VALUES:
            raise ValidationFailed(f"give at most {MAX_VALUES} ids", field=column.removesuffix("_id") + "s")
        if values:
            query = query.filter(**{f"{column}__in": sorted(values)})
    if f.owners:
        owners = sorted({owner.strip() for owner in f.owners if owner.strip()})
        if not owners or len(owners) > MAX_VALUES:
            raise ValidationFailed(f"give 1 to {MAX_VALUES} owner names", field="owners")
        query = query.filter(owner__in=owners)
    if f.older_than_minutes is not None:
        if not 0 <= f.older_than_minutes <= MAX_AGE_MINUTES:
            raise ValidationFailed(f"olderThanMinutes must be between 0 and {MAX_AGE_MINUTES}", field="olderThanMinutes")
        query = query.filter(raised_at__lte=now - timedelta(minutes=f.older_than_minutes))
    if f.search is not None and f.search.strip():
        text = f.search.strip()
        if len(text) > MAX_SEARCH:
            raise ValidationFailed(f"search at most {MAX_SEARCH} characters", field="search")
        query = query.filter(Q(message__icontains=text) | Q(resolution__icontains=text))
    return query


def is_overdue(alert: Alert, now: datetime | None = None) -> bool:
    """Unresolved past its SLA clock (snoozing does not stop the clock)."""
    return alert.cleared_at is None and alert.due_at is not None and alert.due_at < (now or datetime.now(UTC))
