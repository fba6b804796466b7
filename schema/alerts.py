"""The exception board in GraphQL: the filtered board, its figures, and the moves on an alert.

    query { exceptionBoard(filter: {categories: [STOCK], overdueOnly: true}, first: 20) {
              totalCount edges { cursor node { kind severity state owner dueAt overdue message } } } }
    query { exceptionBoard(filter: {search: "address", states: [RESOLVED]}) { nodes { message resolution } } }
    query { alertStats(since: "2026-11-01T00:00:00Z") { total { timeToAcknowledge { p50Seconds p90Seconds } } } }
    mutation { resolveAlert(input: {id: "…", resolution: "re-pushed to the WMS"}) { alert { state } errors { code } } }

Moves are refused with ``errors`` (``ILLEGAL_TRANSITION`` for a move the
board's table does not allow from the alert's state, ``FORBIDDEN`` for roles
other than ops and admin, ``VALIDATION`` for a missing resolution or a bad
snooze time). The alert type itself is ``schema.types.Alert``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from domain.alerts.queries import BoardFilter
from domain.alerts.stats import Durations, Figures
from resolvers import alerts as resolvers
from resolvers.orders import pks_of
from schema.alert_enums import AlertCategory, AlertKind, AlertSeverity, AlertState
from schema.errors import UserError, attempt
from schema.types import Alert, PageInfo


def _values(items: list[Any] | None) -> frozenset[str]:
    return frozenset(item.value for item in items or ())


@strawberry.input(description="Which alerts; every condition given must hold, an empty list means any.")
class AlertFilter:
    kinds: list[AlertKind] | None = None
    categories: list[AlertCategory] | None = None
    severities: list[AlertSeverity] | None = None
    states: list[AlertState] | None = None
    open_only: bool = strawberry.field(default=False, description="Unresolved only (open, acknowledged or snoozed).")
    channels: list[strawberry.ID] | None = strawberry.field(default=None, description="Channel ids")
    warehouses: list[strawberry.ID] | None = strawberry.field(default=None, description="Warehouse ids")
    orders: list[strawberry.ID] | None = strawberry.field(default=None, description="Order ids")
    owners: list[str] | None = None
    older_than_minutes: int | None = strawberry.field(default=None, description="Raised at least this many minutes ago.")
    overdue_only: bool = strawberry.field(default=False, description="Unresolved past their SLA (dueAt).")
    search: str | None = strawberry.field(
        default=None, description="Words in the message or the resolution (what was done before: the knowledge base).")

    def to_domain(self) -> BoardFilter:
        return BoardFilter(
            kinds=_values(self.kinds), categories=_values(self.categories), severities=_values(self.severities),
            states=_values(self.states), open_only=self.open_only,
            channel_ids=frozenset(pks_of(self.channels, "Channel")),
            warehouse_ids=frozenset(pks_of(self.warehouses, "Warehouse")),
            order_ids=frozenset(pks_of(self.orders, "Order")),
            owners=frozenset(self.owners or ()), older_than_minutes=self.older_than_minutes,
            overdue_only=self.overdue_only, search=self.search,
        )


def board_filter(f: AlertFilter | None) -> BoardFilter | None:
    return f.to_domain() if f is not None else None


@strawberry.type
class AlertEdge:
    cursor: str
    node: Alert


@strawberry.type(description="A page of the exception board, newest first.")
class AlertConnection:
    edges: list[AlertEdge]
    page_info: PageInfo
    filter: strawberry.Private[BoardFilter]

    @strawberry.field
    def nodes(self) -> list[Alert]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="How many alerts match the filter (one extra COUNT query; ask only if you show it).")
    async def total_count(self, info: Info) -> int:
        return await resolvers.count(info.context, self.filter)


@strawberry.type(description="How many, and the 50th / 90th percentile in seconds (null when none).")
class AlertDurations:
    count: int
    p50_seconds: float | None
    p90_seconds: float | None

    @classmethod
    def of(cls, durations: Durations) -> AlertDurations:
        return cls(count=durations.count, p50_seconds=durations.p50, p90_seconds=durations.p90)


@strawberry.type(description="Figures of the alerts raised in the period: one kind and severity, or all (the total).")
class AlertFigures:
    kind: AlertKind | None
    severity: AlertSeverity | None
    raised: int
    open: int = strawberry.field(description="Still unresolved.")
    overdue: int = strawberry.field(description="Unresolved past their SLA.")
    time_to_acknowledge: AlertDurations = strawberry.field(description="Raised -> first acknowledged, of those acknowledged.")
    time_to_close: AlertDurations = strawberry.field(description="Raised -> resolved (by a person or cleared), of those resolved.")

    @classmethod
    def of(cls, figures: Figures) -> AlertFigures:
        return cls(
            kind=AlertKind(figures.kind) if figures.kind else None,
            severity=AlertSeverity(figures.severity) if figures.severity else None,
            raised=figures.raised, open=figures.open, overdue=figures.overdue,
            time_to_acknowledge=AlertDurations.of(figures.tta), time_to_close=AlertDurations.of(figures.ttc),
        )


@strawberry.type(description="Time to acknowledge and to close, over the alerts raised in [since, until).")
class AlertStats:
    since: datetime
    until: datetime
    total: AlertFigures
    groups: list[AlertFigures] = strawberry.field(description="Per kind and severity.")
    truncated: bool = strawberry.field(description="The period held more alerts than `cap`; the newest `cap` were counted.")
    cap: int


@strawberry.input
class AcknowledgeAlertInput:
    id: strawberry.ID
    note: str = ""


@strawberry.input
class AssignAlertInput:
    id: strawberry.ID
    owner: str = strawberry.field(description="The person (or team) who owns it now; an open alert is acknowledged too.")


@strawberry.input
class SnoozeAlertInput:
    id: strawberry.ID
    until: datetime = strawberry.field(description="With its UTC offset; in the future, at most 7 days away.")


@strawberry.input
class ResolveAlertInput:
    id: strawberry.ID
    resolution: str = strawberry.field(description="What was done about it (required; searchable later).")


@strawberry.input
class ReopenAlertInput:
    id: strawberry.ID
    reason: str


@strawberry.type
class AlertPayload:
    alert: Alert | None
    errors: list[UserError]


async def _payload(action: Any) -> AlertPayload:
    row, errors = await attempt(action)
    return AlertPayload(alert=Alert.from_row(row) if row is not None else None, errors=errors)


@strawberry.type
class AlertBoardQuery:
    @strawberry.field(description="The exception board: alerts filtered, newest first, keyset-paginated. `first` is 0-100.")
    async def exception_board(
        self, info: Info, filter: AlertFilter | None = None, first: int = 20, after: str | None = None
    ) -> AlertConnection:
        wanted = board_filter(filter) or BoardFilter()
        page = await resolvers.board_page(info.context, wanted, first, after)
        return AlertConnection(
            edges=[AlertEdge(cursor=page.cursor_of(row), node=Alert.from_row(row)) for row in page.rows],
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
            filter=wanted,
        )

    @strawberry.field(description="Time to acknowledge / close, open and overdue counts over a period (default the last 7 days).")
    async def alert_stats(self, info: Info, since: datetime | None = None, until: datetime | None = None) -> AlertStats:
        report = await resolvers.alert_stats(info.context, since, until)
        return AlertStats(since=report.since, until=report.until, total=AlertFigures.of(report.total),
                          groups=[AlertFigures.of(g) for g in report.groups], truncated=report.truncated, cap=report.cap)


@strawberry.type
class AlertBoardMutation:
    @strawberry.mutation(description="Say you have seen an alert and are on it (open or snoozed -> acknowledged).")
    async def acknowledge_alert(self, info: Info, input: AcknowledgeAlertInput) -> AlertPayload:
        return await _payload(lambda: resolvers.acknowledge(info.context, input.id, input.note))

    @strawberry.mutation(description="Give an alert to a person; an open one is acknowledged by the assigning.")
    async def assign_alert(self, info: Info, input: AssignAlertInput) -> AlertPayload:
        return await _payload(lambda: resolvers.assign(info.context, input.id, input.owner))

    @strawberry.mutation(description="Hide an alert until a time (at most 7 days); it then comes back on its own.")
    async def snooze_alert(self, info: Info, input: SnoozeAlertInput) -> AlertPayload:
        return await _payload(lambda: resolvers.snooze(info.context, input.id, input.until))

    @strawberry.mutation(description="Close an alert, saying what was done (the board's knowledge base).")
    async def resolve_alert(self, info: Info, input: ResolveAlertInput) -> AlertPayload:
        return await _payload(lambda: resolvers.resolve(info.context, input.id, input.resolution))

    @strawberry.mutation(description="Put a resolved alert back on the board.")
    async def reopen_alert(self, info: Info, input: ReopenAlertInput) -> AlertPayload:
        return await _payload(lambda: resolvers.reopen(info.context, input.id, input.reason))
