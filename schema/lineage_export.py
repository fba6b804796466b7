"""Lineage for auditors: background exports with progress and a download link, and every event of the tenant.

    mutation { startLineageExport(input: {order: "OG000000042", format: JSONL}) { job { id status } errors { code } } }
    query { lineageExport(id: "…") { status progress total downloadUrl manifest error } }
    query { events(filter: {types: ["stock.*"], from: "2026-11-30T00:00:00+08:00", first: 100}) {
              edges { node { eventId type actor reason createdAt } } pageInfo { hasNextPage endCursor } } }
    query { events(filter: {day: "2026-11-30", by: PLACED, owner: "Li Wei <li.wei@acme.cn>"}) { nodes { type } } }

Exports and ``events`` are for auditors and admins. The download is
``GET /exports/lineage/{job}`` with the same API key (an auditor or admin of
the tenant). An auditor's look-up is itself recorded (``lineage.looked_up``),
as is every export (``lineage.exported``).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from models import ExportJob as JobRow
from resolvers import lineage_export as resolvers
from schema.errors import UserError, attempt
from schema.connections import Connection
from schema.event_enums import EventType, filter_types
from schema.types import OrderEvent


@strawberry.enum(description="jsonl and csv: every event with a manifest; pdf: one order's readable timeline.")
class LineageExportFormat(Enum):
    JSONL = strawberry.enum_value("jsonl", description="One JSON event per line, with a manifest.")
    CSV = strawberry.enum_value("csv", description="One event per row, with a manifest.")
    PDF = strawberry.enum_value("pdf", description="One order's readable timeline (needs `order`).")


@strawberry.enum(description="placed: events of orders placed in the range (tenant's time zone); recorded: events "
                             "recorded in it (every kind, stock and configuration too).")
class LineageExportBy(Enum):
    PLACED = strawberry.enum_value("placed", description="Events of orders placed in the range (the tenant's time zone).")
    RECORDED = strawberry.enum_value("recorded", description="Events recorded in the range (the tenant's time zone).")


@strawberry.input(description="One order (`order`), or the days `from`..`to` (both included, tenant's time zone).")
class StartLineageExportInput:
    order: str | None = strawberry.field(default=None, description="An order number (OG000000042) or its id.")
    from_: date | None = strawberry.field(description="The first day (YYYY-MM-DD, the tenant's time zone).", default=None, name="from")
    to: date | None = strawberry.field(default=None, description="The last day, included (YYYY-MM-DD, the tenant's time zone).")
    by: LineageExportBy = strawberry.field(default=LineageExportBy.PLACED, description="Whether the days count orders placed (default) or events recorded.")
    format: LineageExportFormat = strawberry.field(default=LineageExportFormat.JSONL, description="JSONL (default), CSV or PDF.")


@strawberry.enum(description="running -> done (download it) or failed (see error).")
class LineageExportStatus(Enum):
    RUNNING = strawberry.enum_value("running", description="Writing events.")
    DONE = strawberry.enum_value("done", description="Ready to download (`downloadUrl`).")
    FAILED = strawberry.enum_value("failed", description="Stopped; see `error`.")


@strawberry.type(description="A lineage export running in the background.")
class LineageExport:
    id: strawberry.ID = strawberry.field(description="The job's id.")
    status: LineageExportStatus = strawberry.field(description="Where the job stands.")
    params: JSON = strawberry.field(description="What was asked for (JSON).")
    progress: int = strawberry.field(description="Events written so far.")
    total: int = strawberry.field(description="Events to write (known once the export has counted them).")
    manifest: JSON | None = strawberry.field(description="Counts, first/last id, body SHA-256, checkpoint; when done.")
    error: str = strawberry.field(description="Why it failed; empty otherwise.")
    requested_by: str = strawberry.field(description="Who asked for it.")
    created_at: datetime = strawberry.field(description="When it was asked for (UTC).")
    finished_at: datetime | None = strawberry.field(description="When it finished (UTC); null while running.")
    download_url: str | None = strawberry.field(description="GET it with your API key once done.")

    @classmethod
    def from_row(cls, row: JobRow) -> LineageExport:
        return cls(id=strawberry.ID(resolvers.job_id(row)), status=LineageExportStatus(row.status), params=row.params,
                   progress=row.progress, total=row.total, manifest=row.manifest, error=row.error,
                   requested_by=row.requested_by, created_at=row.created_at, finished_at=row.finished_at,
                   download_url=f"/exports/lineage/{row.id}" if row.status == "done" else None)


@strawberry.type(description="The result of starting an export.")
class LineageExportPayload:
    job: LineageExport | None = strawberry.field(description="The export job; null when `errors` is not empty.")
    errors: list[UserError] = strawberry.field(
        description="Why it did not start (FORBIDDEN for roles other than auditor and admin); empty otherwise.")


@strawberry.input(description="Which events: all of the tenant's by default; filters combine (all must hold). "
                               "`from`/`to` are recorded times, `placedFrom`/`placedTo` the orders' placed times, "
                               "`day`..`lastDay` days in the tenant's time zone by placed or recorded time.")
class EventFilter:
    types: list[str] | None = strawberry.field(default=None, description="Types; `stock.*` matches a prefix.")
    event_types: list[EventType] | None = strawberry.field(
        default=None, description="Types as enum values (OTHER is refused: use `types` with the typeCode); with "
        "`types`, an event of either list matches.")
    order_id: strawberry.ID | None = strawberry.field(default=None, description="Only this order's events (its id).")
    actor: str | None = strawberry.field(default=None, description="Part of the actor's name: a key's owner, label "
                                                                    "or role, or a system's name.")
    owner: str | None = strawberry.field(default=None, description="A key's owner, whole (case-insensitive), as "
                                                                    "lineage names it: `Li Wei <li.wei@acme.cn>`.")
    source: str | None = strawberry.field(default=None, description="The source system, exactly (graphql, cli, "
                                                                     "taobao, wms, ...).")
    from_: datetime | None = strawberry.field(default=None, name="from", description="Recorded at or after (UTC "
                                                                                     "unless an offset is given).")
    to: datetime | None = strawberry.field(default=None, description="Recorded before.")
    placed_from: datetime | None = strawberry.field(default=None, description="Events of orders placed at or after "
                                                                              "this (UTC unless an offset is given).")
    placed_to: datetime | None = strawberry.field(default=None, description="Events of orders placed before this.")
    day: date | None = strawberry.field(default=None, description="A day in the tenant's time zone: with `by: "
                                                                  "PLACED` (default) every event of the orders placed "
                                                                  "that day, with `RECORDED` every event recorded "
                                                                  "then. Not with placedFrom/placedTo.")
    last_day: date | None = strawberry.field(default=None, description="With `day`: the range's last day "
                                                                       "(included), at most a year after `day`.")
    by: LineageExportBy = strawberry.field(default=LineageExportBy.PLACED, description="What `day` counts by.")
    first: int = strawberry.field(default=100, description="0-500")
    after: str | None = strawberry.field(default=None, description="Resume after this cursor (an edge's `cursor` or `pageInfo.endCursor`); null for the first page.")


@strawberry.type(description="One lineage event of a page, with its cursor.")
class EventEdge:
    cursor: str = strawberry.field(description="Opaque cursor; pass it as `after` to get the events after this one.")
    node: OrderEvent = strawberry.field(description="The event.")


@strawberry.type(description="Lineage events, a page at a time, in id order.")
class EventConnection(Connection[OrderEvent]):
    edges: list[EventEdge] = strawberry.field(description="The page's events, each with its cursor.")


@strawberry.type
class LineageExportQuery:
    @strawberry.field(description="A lineage export job of your tenant (auditors and admins).")
    async def lineage_export(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The job's id.")]) -> LineageExport:
        return LineageExport.from_row(await resolvers.get(info.context, id))

    @strawberry.field(description="The tenant's whole lineage in id order (orders, stock, configuration); auditors "
                                  "and admins.")
    async def events(self, info: Info, filter: Annotated[EventFilter | None, strawberry.argument(description="Which events, and the page; null for the first 100 of all.")] = None) -> EventConnection:
        wanted = filter or EventFilter()
        types = filter_types(wanted.types, wanted.event_types)
        page = await resolvers.events_page(info.context, types=types, order_id=wanted.order_id,
                                           actor_name=wanted.actor, recorded_from=wanted.from_, recorded_to=wanted.to,
                                           first=wanted.first, after=wanted.after, placed_from=wanted.placed_from,
                                           placed_to=wanted.placed_to, day=wanted.day, last_day=wanted.last_day,
                                           by=wanted.by.value, source=wanted.source, owner=wanted.owner)
        return EventConnection.of(page, OrderEvent.from_row, edge=EventEdge)


@strawberry.type
class LineageExportMutation:
    @strawberry.mutation(description="Export lineage in the background (auditors and admins); poll lineageExport.")
    async def start_lineage_export(self, info: Info, input: Annotated[StartLineageExportInput, strawberry.argument(description="What to export.")]) -> LineageExportPayload:
        params = {"order": input.order, "from": input.from_.isoformat() if input.from_ else None,
                  "to": input.to.isoformat() if input.to else None, "by": input.by.value, "format": input.format.value}
        row, errors = await attempt(lambda: resolvers.start(info.context, {k: v for k, v in params.items() if v}))
        return LineageExportPayload(job=LineageExport.from_row(row) if row is not None else None, errors=errors)
