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
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from domain.alerts.queries import BoardFilter
from domain.alerts.stats import Durations, Figures
from resolvers import alerts as resolvers
from resolvers.orders import pks_of
from resolvers.pagination import Page
from schema.alert_enums import AlertCategory, AlertKind, AlertSeverity, AlertState
from schema.arguments import After, First
from schema.errors import UserError, attempt
from schema.types import Alert, PageInfo


def _values(items: list[Any] | None) -> frozenset[str]:
    return frozenset(item.value for item in items or ())


@strawberry.input(description="Which alerts; every condition given must hold, an empty list means any.")
class AlertFilter:
    kinds: list[AlertKind] | None = strawberry.field(default=None, description="Only these kinds.")
    categories: list[AlertCategory] | None = strawberry.field(default=None, description="Only kinds of these categories.")
    severities: list[AlertSeverity] | None = strawberry.field(default=None, description="Only these severities.")
    states: list[AlertState] | None = strawberry.field(default=None, description="Only these states.")
    open_only: bool = strawberry.field(default=False, description="Unresolved only (open, acknowledged or snoozed).")
    channels: list[strawberry.ID] | None = strawberry.field(default=None, description="Channel ids")
    warehouses: list[strawberry.ID] | None = strawberry.field(default=None, description="Warehouse ids")
    orders: list[strawberry.ID] | None = strawberry.field(default=None, description="Order ids")
    owners: list[str] | None = strawberry.field(default=None, description="Only alerts owned by these people.")
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


@strawberry.type(description="One alert of a page, with its cursor.")
class AlertEdge:
    cursor: str = strawberry.field(description="Opaque cursor; pass it as `after` to get the alerts after this one.")
    node: Alert = strawberry.field(description="The alert.")


@strawberry.type(description="A page of the exception board, newest first.")
class AlertConnection:
    edges: list[AlertEdge] = strawberry.field(description="The alerts of this page, each with its cursor.")
    page_info: PageInfo = strawberry.field(description="Whether there is a next page, and the cursor to ask for it.")
    filter: strawberry.Private[BoardFilter]

    @strawberry.field(description="The alerts of this page, without cursors.")
    def nodes(self) -> list[Alert]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="How many alerts match the filter (one extra COUNT query; ask only if you show it).")
    async def total_count(self, info: Info) -> int:
        return await resolvers.count(info.context, self.filter)

    @classmethod
    def of(cls, page: Page, wanted: BoardFilter) -> AlertConnection:
        """The connection of a keyset page of alerts matching ``wanted``."""
        return cls(edges=[AlertEdge(cursor=page.cursor_of(row), node=Alert.from_row(row)) for row in page.rows],
                   page_info=PageInfo.of(page), filter=wanted)


@strawberry.type(description="How many, and the 50th / 90th percentile in seconds (null when none).")
class AlertDurations:
    count: int = strawberry.field(description="How many alerts the durations are over.")
    p50_seconds: float | None = strawberry.field(description="Median, in seconds; null when count is 0.")
    p90_seconds: float | None = strawberry.field(description="90th percentile, in seconds; null when count is 0.")

    @classmethod
    def of(cls, durations: Durations) -> AlertDurations:
        return cls(count=durations.count, p50_seconds=durations.p50, p90_seconds=durations.p90)


@strawberry.type(description="Figures of the alerts raised in the period: one kind and severity, or all (the total).")
class AlertFigures:
    kind: AlertKind | None = strawberry.field(description="The kind; null in the total.")
    severity: AlertSeverity | None = strawberry.field(description="The severity; null in the total.")
    raised: int = strawberry.field(description="Alerts raised in the period.")
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
    since: datetime = strawberry.field(description="Start of the period (UTC, inclusive).")
    until: datetime = strawberry.field(description="End of the period (UTC, exclusive).")
    total: AlertFigures = strawberry.field(description="Figures of all alerts of the period.")
    groups: list[AlertFigures] = strawberry.field(description="Per kind and severity.")
    truncated: bool = strawberry.field(description="The period held more alerts than `cap`; the newest `cap` were counted.")
    cap: int = strawberry.field(description="The most alerts one call counts.")


@strawberry.input(description="Acknowledge an alert.")
class AcknowledgeAlertInput:
    id: strawberry.ID = strawberry.field(description="The alert's id.")
    note: str = strawberry.field(default="", description="A note, recorded in the lineage; may be empty.")


@strawberry.input(description="Give an alert an owner.")
class AssignAlertInput:
    id: strawberry.ID = strawberry.field(description="The alert's id.")
    owner: str = strawberry.field(description="The person (or team) who owns it now; an open alert is acknowledged too.")


@strawberry.input(description="Hide an alert until a time.")
class SnoozeAlertInput:
    id: strawberry.ID = strawberry.field(description="The alert's id.")
    until: datetime = strawberry.field(description="With its UTC offset; in the future, at most 7 days away.")


@strawberry.input(description="Close an alert.")
class ResolveAlertInput:
    id: strawberry.ID = strawberry.field(description="The alert's id.")
    resolution: str = strawberry.field(description="What was done about it (required; searchable later).")


@strawberry.input(description="Put a resolved alert back on the board.")
class ReopenAlertInput:
    id: strawberry.ID = strawberry.field(description="The alert's id.")
    reason: str = strawberry.field(description="Why, recorded in the lineage.")


@strawberry.type(description="The result of a move on an alert.")
class AlertPayload:
    alert: Alert | None = strawberry.field(
        description="The alert as it is now: changed on success, unchanged when `errors` is not empty (null only if "
        "the id names no alert of yours).")
    errors: list[UserError] = strawberry.field(
        description="Why nothing changed (ILLEGAL_TRANSITION, FORBIDDEN for roles other than ops and admin, VALIDATION); empty on success.")


async def _payload_for(info: Info, global_id: str, action: Any) -> AlertPayload:
    """Run a move; a refused one still carries the alert as it is now, so a client re-renders it."""
    row, errors = await attempt(action)
    if row is None and errors:
        row = await resolvers.current(info.context, global_id)
    return AlertPayload(alert=Alert.from_row(row) if row is not None else None, errors=errors)


@strawberry.type
class AlertBoardQuery:
    @strawberry.field(description="The exception board: alerts filtered, newest first, keyset-paginated. `first` is 0-100.")
    async def exception_board(
        self, info: Info, filter: Annotated[AlertFilter | None, strawberry.argument(description="Which alerts; null for all.")] = None, first: First = 20, after: After = None
    ) -> AlertConnection:
        wanted = board_filter(filter) or BoardFilter()
        page = await resolvers.board_page(info.context, wanted, first, after)
        return AlertConnection.of(page, wanted)

    @strawberry.field(description="Time to acknowledge / close, open and overdue counts over a period (default the last 7 days).")
    async def alert_stats(self, info: Info, since: Annotated[datetime | None, strawberry.argument(description="Start of the period (inclusive, ISO 8601); 7 days before `until` if omitted.")] = None, until: Annotated[datetime | None, strawberry.argument(description="End of the period (exclusive, ISO 8601); now if omitted.")] = None) -> AlertStats:
        report = await resolvers.alert_stats(info.context, since, until)
        return AlertStats(since=report.since, until=report.until, total=AlertFigures.of(report.total),
                          groups=[AlertFigures.of(g) for g in report.groups], truncated=report.truncated, cap=report.cap)


@strawberry.type
class AlertBoardMutation:
    @strawberry.mutation(description="Say you have seen an alert and are on it (open or snoozed -> acknowledged).")
    async def acknowledge_alert(self, info: Info, input: Annotated[AcknowledgeAlertInput, strawberry.argument(description="The alert.")]) -> AlertPayload:
        return await _payload_for(info, input.id, lambda: resolvers.acknowledge(info.context, input.id, input.note))

    @strawberry.mutation(description="Give an alert to a person; an open one is acknowledged by the assigning.")
    async def assign_alert(self, info: Info, input: Annotated[AssignAlertInput, strawberry.argument(description="The alert and its owner.")]) -> AlertPayload:
        return await _payload_for(info, input.id, lambda: resolvers.assign(info.context, input.id, input.owner))

    @strawberry.mutation(description="Hide an alert until a time (at most 7 days); it then comes back on its own.")
    async def snooze_alert(self, info: Info, input: Annotated[SnoozeAlertInput, strawberry.argument(description="The alert and until when.")]) -> AlertPayload:
        return await _payload_for(info, input.id, lambda: resolvers.snooze(info.context, input.id, input.until))

    @strawberry.mutation(description="Close an alert, saying what was done (the board's knowledge base).")
    async def resolve_alert(self, info: Info, input: Annotated[ResolveAlertInput, strawberry.argument(description="The alert and what was done.")]) -> AlertPayload:
        return await _payload_for(info, input.id, lambda: resolvers.resolve(info.context, input.id, input.resolution))

    @strawberry.mutation(description="Put a resolved alert back on the board.")
    async def reopen_alert(self, info: Info, input: Annotated[ReopenAlertInput, strawberry.argument(description="The alert and why.")]) -> AlertPayload:
        return await _payload_for(info, input.id, lambda: resolvers.reopen(info.context, input.id, input.reason))
