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
from typing import Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from models import ReconciliationDiff as DiffRow
from models import ReconciliationRun as RunRow
from resolvers import ids
from resolvers import reconciliation as resolvers
from schema.arguments import After, First
from schema.errors import UserError, attempt
from schema.connections import AFTER_ARGUMENT, PAGE_ARGUMENT, Connection


@strawberry.enum(description="running -> done, or partial (a system could not be asked: see error), or failed.")
class ReconciliationStatus(Enum):
    RUNNING = strawberry.enum_value("running", description="Still checking.")
    DONE = strawberry.enum_value("done", description="Every system was asked; the differences are complete.")
    PARTIAL = strawberry.enum_value("partial", description="Finished, but a system could not be asked (see `error`); its differences are missing.")
    FAILED = strawberry.enum_value("failed", description="The run failed (see `error`).")


@strawberry.enum(description="What differs: units (ordered / invoiced / shipped) or money (paid / confirmed / invoiced).")
class ReconciliationDimension(Enum):
    QUANTITY = strawberry.enum_value("quantity", description="Units: ordered, invoiced, shipped.")
    AMOUNT = strawberry.enum_value("amount", description="Money: paid, confirmed by the gateway, invoiced.")


@strawberry.type(description="One order whose figures differ beyond the run's threshold in one dimension.")
class ReconciliationDiff:
    id: strawberry.ID = strawberry.field(description="The difference's id.")
    order: strawberry.ID | None = strawberry.field(description="The order's id.")
    order_number: str = strawberry.field(description="The order's number (OG000000042).")
    dimension: ReconciliationDimension = strawberry.field(description="Units or money.")
    channel_value: Decimal | None = strawberry.field(description="Units ordered, or the amount paid less refunds.")
    erp_value: Decimal | None = strawberry.field(description="What the ERP invoiced (null: not asked).")
    wms_value: Decimal | None = strawberry.field(description="Units the WMS shipped (null: not expected or not asked).")
    gateway_value: Decimal | None = strawberry.field(description="What the payment gateway confirmed (null: no notice).")
    difference: Decimal = strawberry.field(description="The largest deviation: the other source minus the channel.")
    note: str = strawberry.field(description="What differs, in words.")

    @classmethod
    def from_row(cls, row: DiffRow) -> ReconciliationDiff:
        return cls(id=strawberry.ID(ids.encode("ReconciliationDiff", row.id)),
                   order=strawberry.ID(ids.encode("Order", row.order_id)) if row.order_id else None,
                   order_number=row.reference, dimension=ReconciliationDimension(row.dimension),
                   channel_value=row.channel_value, erp_value=row.erp_value, wms_value=row.wms_value,
                   gateway_value=row.gateway_value, difference=row.difference, note=row.note)


@strawberry.type(description="One difference of a page, with its cursor.")
class ReconciliationDiffEdge:
    cursor: str = strawberry.field(description="Opaque cursor; pass it as `after` to get the differences after this one.")
    node: ReconciliationDiff = strawberry.field(description="The difference.")


@strawberry.type(description="A run's differing orders, a page at a time.")
class ReconciliationDiffConnection(Connection[ReconciliationDiff]):
    edges: list[ReconciliationDiffEdge] = strawberry.field(description="The page's differences, each with its cursor.")


@strawberry.type(description="Where to download the run's totals and differences (GET, with your API key).")
class ReconciliationDownloads:
    csv: str = strawberry.field(description="Path of the CSV file on this server.")
    xlsx: str = strawberry.field(description="Path of the Excel file on this server.")


@strawberry.type(description="One reconciliation of a day (the tenant's time zone) across channel, gateway, ERP and WMS.")
class ReconciliationRun:
    id: strawberry.ID = strawberry.field(description="The run's id.")
    day: date = strawberry.field(description="The day reconciled (the tenant's time zone).")
    status: ReconciliationStatus = strawberry.field(description="Where the run stands.")
    threshold: Decimal = strawberry.field(description="A difference above this share of the channel's figure is reported.")
    orders_checked: int = strawberry.field(description="Orders compared.")
    orders_differing: int = strawberry.field(description="Orders with at least one difference beyond the threshold.")
    totals: JSON = strawberry.field(description="Per source sums (quantity, amount per currency), counts, skipped "
                                                "orders, each system's state and the first differing orders.")
    error: str = strawberry.field(description="Why the run is partial or failed; empty otherwise.")
    started_by: str = strawberry.field(description="Who started it (a user, API key label or the scheduler).")
    started_at: datetime = strawberry.field(description="When it started (UTC).")
    finished_at: datetime | None = strawberry.field(description="When it finished (UTC); null while running.")
    row: strawberry.Private[RunRow]

    @classmethod
    def from_row(cls, row: RunRow) -> ReconciliationRun:
        return cls(id=strawberry.ID(ids.encode("ReconciliationRun", row.id)), day=row.day,
                   status=ReconciliationStatus(row.status), threshold=row.threshold, orders_checked=row.orders_checked,
                   orders_differing=row.orders_differing, totals=row.totals or {}, error=row.error,
                   started_by=row.started_by, started_at=row.started_at, finished_at=row.finished_at, row=row)

    @strawberry.field(description="The differing orders, in the order found; `first` is 0-100.")
    async def diffs(self, info: Info, first: First = 50, after: After = None) -> ReconciliationDiffConnection:
        page = await resolvers.diffs_page(info.context, self.row, first, after)
        return ReconciliationDiffConnection.of(page, ReconciliationDiff.from_row, edge=ReconciliationDiffEdge)

    @strawberry.field(description="Where to download the run's totals and differences.")
    def downloads(self) -> ReconciliationDownloads:
        base = f"/exports/reconciliation/{self.row.id}"
        return ReconciliationDownloads(csv=f"{base}.csv", xlsx=f"{base}.xlsx")


@strawberry.type(description="Reconciliation runs, newest first, a page at a time.")
class ReconciliationRunConnection(Connection[ReconciliationRun]):
    pass


@strawberry.type(description="The result of running a reconciliation.")
class ReconciliationPayload:
    run: ReconciliationRun | None = strawberry.field(description="The run; null when `errors` is not empty.")
    errors: list[UserError] = strawberry.field(
        description="Why it did not run (VALIDATION for a day of more than 20,000 orders; FORBIDDEN for roles other than finance, ops and admin); empty otherwise.")


@strawberry.type
class ReconciliationQuery:
    @strawberry.field(description="The day's latest finished reconciliation (else its latest run); null if never run. "
                                  "`day` defaults to yesterday in the tenant's time zone.")
    async def reconciliation(self, info: Info, day: Annotated[date | None, strawberry.argument(description="The day (YYYY-MM-DD, the tenant's time zone); yesterday if omitted.")] = None) -> ReconciliationRun | None:
        row = await resolvers.latest(info.context, day)
        return ReconciliationRun.from_row(row) if row is not None else None

    @strawberry.field(description="The tenant's reconciliation runs, newest first.")
    async def reconciliations(
        self, info: Info, first: Annotated[int, strawberry.argument(description=PAGE_ARGUMENT)] = 20,
        after: Annotated[str | None, strawberry.argument(description=AFTER_ARGUMENT)] = None,
    ) -> ReconciliationRunConnection:
        return ReconciliationRunConnection.of(await resolvers.runs_page(info.context, first, after),
                                              ReconciliationRun.from_row)


@strawberry.type
class ReconciliationMutation:
    @strawberry.mutation(description="Reconcile a day now, inline (days of up to 20,000 orders); `day` defaults to "
                                     "yesterday (the tenant's time zone), threshold to 0.005 (0.5 %). A re-run keeps "
                                     "the earlier runs; the newest answers for the day.")
    async def run_reconciliation(self, info: Info, day: Annotated[date | None, strawberry.argument(description="The day (YYYY-MM-DD, the tenant's time zone); yesterday if omitted.")] = None,
                                 threshold: Annotated[Decimal | None, strawberry.argument(description="A share from 0 to below 1 (at most 4 places) as a decimal string; 0.005 if omitted.")] = None) -> ReconciliationPayload:
        row, errors = await attempt(lambda: resolvers.run(info.context, day, threshold))
        return ReconciliationPayload(run=ReconciliationRun.from_row(row) if row is not None else None, errors=errors)
