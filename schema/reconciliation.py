"""Reconciliation in GraphQL: a day's latest run with its totals, differences and download links; recent runs; run one.

    query { reconciliation(day: "2026-11-30") { status ordersChecked ordersDiffering totals
              diffs(first: 50) { edges { node { orderNumber dimension channelValue erpValue wmsValue gatewayValue
                                                 difference note } } pageInfo { hasNextPage endCursor } }
              downloads { csv xlsx } } }
    query { reconciliations(first: 10) { id day status ordersDiffering } }
    mutation { runReconciliation(day: "2026-11-30", threshold: "0.005") { run { id status } errors { code message } } }

Downloads are ``GET`` paths on this server, fetched with the same API key
(``Authorization: Bearer …``). Reading is for finance, ops, admins and
auditors; running for finance, ops and admins; a run asked for here happens
inline and is refused (``VALIDATION``) for a day of more than 20,000 orders.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from models import ReconciliationDiff as DiffRow
from models import ReconciliationRun as RunRow
from resolvers import ids
from resolvers import reconciliation as resolvers
from schema.errors import UserError, attempt
from schema.types import PageInfo


@strawberry.enum(description="running -> done, or partial (a system could not be asked: see error), or failed.")
class ReconciliationStatus(Enum):
    RUNNING = "running"
    DONE = "done"
    PARTIAL = "partial"
    FAILED = "failed"


@strawberry.enum(description="What differs: units (ordered / invoiced / shipped) or money (paid / confirmed / invoiced).")
class ReconciliationDimension(Enum):
    QUANTITY = "quantity"
    AMOUNT = "amount"


@strawberry.type(description="One order whose figures differ beyond the run's threshold in one dimension.")
class ReconciliationDiff:
    id: strawberry.ID
    order: strawberry.ID | None = strawberry.field(description="The order's id.")
    order_number: str
    dimension: ReconciliationDimension
    channel_value: Decimal | None = strawberry.field(description="Units ordered, or the amount paid less refunds.")
    erp_value: Decimal | None = strawberry.field(description="What the ERP invoiced (null: not asked).")
    wms_value: Decimal | None = strawberry.field(description="Units the WMS shipped (null: not expected or not asked).")
    gateway_value: Decimal | None = strawberry.field(description="What the payment gateway confirmed (null: no notice).")
    difference: Decimal = strawberry.field(description="The largest deviation: the other source minus the channel.")
    note: str

    @classmethod
    def from_row(cls, row: DiffRow) -> ReconciliationDiff:
        return cls(id=strawberry.ID(ids.encode("ReconciliationDiff", row.id)),
                   order=strawberry.ID(ids.encode("Order", row.order_id)) if row.order_id else None,
                   order_number=row.reference, dimension=ReconciliationDimension(row.dimension),
                   channel_value=row.channel_value, erp_value=row.erp_value, wms_value=row.wms_value,
                   gateway_value=row.gateway_value, difference=row.difference, note=row.note)


@strawberry.type
class ReconciliationDiffEdge:
    cursor: str
    node: ReconciliationDiff


@strawberry.type
class ReconciliationDiffConnection:
    edges: list[ReconciliationDiffEdge]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[ReconciliationDiff]:
        return [edge.node for edge in self.edges]


@strawberry.type(description="Where to download the run's totals and differences (GET, with your API key).")
class ReconciliationDownloads:
    csv: str
    xlsx: str


@strawberry.type(description="One reconciliation of a day (the tenant's time zone) across channel, gateway, ERP and WMS.")
class ReconciliationRun:
    id: strawberry.ID
    day: date
    status: ReconciliationStatus
    threshold: Decimal = strawberry.field(description="A difference above this share of the channel's figure is reported.")
    orders_checked: int
    orders_differing: int
    totals: JSON = strawberry.field(description="Per source sums (quantity, amount per currency), counts, skipped "
                                                "orders, each system's state and the first differing orders.")
    error: str = strawberry.field(description="Why the run is partial or failed; empty otherwise.")
    started_by: str
    started_at: datetime
    finished_at: datetime | None
    row: strawberry.Private[RunRow]

    @classmethod
    def from_row(cls, row: RunRow) -> ReconciliationRun:
        return cls(id=strawberry.ID(ids.encode("ReconciliationRun", row.id)), day=row.day,
                   status=ReconciliationStatus(row.status), threshold=row.threshold, orders_checked=row.orders_checked,
                   orders_differing=row.orders_differing, totals=row.totals or {}, error=row.error,
                   started_by=row.started_by, started_at=row.started_at, finished_at=row.finished_at, row=row)

    @strawberry.field(description="The differing orders, in the order found; `first` is 0-100.")
    async def diffs(self, info: Info, first: int = 50, after: str | None = None) -> ReconciliationDiffConnection:
        page = await resolvers.diffs_page(info.context, self.row, first, after)
        return ReconciliationDiffConnection(
            edges=[ReconciliationDiffEdge(cursor=page.cursor_of(row), node=ReconciliationDiff.from_row(row))
                   for row in page.rows],
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor))

    @strawberry.field
    def downloads(self) -> ReconciliationDownloads:
        base = f"/exports/reconciliation/{self.row.id}"
        return ReconciliationDownloads(csv=f"{base}.csv", xlsx=f"{base}.xlsx")


@strawberry.type
class ReconciliationPayload:
    run: ReconciliationRun | None
    errors: list[UserError]


@strawberry.type
class ReconciliationQuery:
    @strawberry.field(description="The day's latest finished reconciliation (else its latest run); null if never run. "
                                  "`day` defaults to yesterday in the tenant's time zone.")
    async def reconciliation(self, info: Info, day: date | None = None) -> ReconciliationRun | None:
        row = await resolvers.latest(info.context, day)
        return ReconciliationRun.from_row(row) if row is not None else None

    @strawberry.field(description="The tenant's reconciliation runs, newest first; `first` is 0-100.")
    async def reconciliations(self, info: Info, first: int = 20) -> list[ReconciliationRun]:
        return [ReconciliationRun.from_row(row) for row in await resolvers.recent(info.context, first)]


@strawberry.type
class ReconciliationMutation:
    @strawberry.mutation(description="Reconcile a day now, inline (days of up to 20,000 orders); `day` defaults to "
                                     "yesterday (the tenant's time zone), threshold to 0.005 (0.5 %). A re-run keeps "
                                     "the earlier runs; the newest answers for the day.")
    async def run_reconciliation(self, info: Info, day: date | None = None,
                                 threshold: Decimal | None = None) -> ReconciliationPayload:
        row, errors = await attempt(lambda: resolvers.run(info.context, day, threshold))
        return ReconciliationPayload(run=ReconciliationRun.from_row(row) if row is not None else None, errors=errors)
