"""Reconcile one day of a tenant: every order of the day, in batches, against the gateway, the ERP and the WMS.

    run = await reconcile_day(actor, date(2026, 11, 30), systems=SYSTEMS, threshold=Decimal("0.005"),
                              progress=lambda done, total: bar.update(…))

Per batch of ``batch_size`` orders: the channel's and gateway's figures in two
queries, one ERP call and one WMS call per (WMS, warehouse) group (asked at
once, while the next batch is read: ``IN_FLIGHT`` batches are out at a time),
the differing figures written as ``ReconciliationDiff`` rows in one insert. At the end, in one transaction: the run's status (``done``, or
``partial`` with the reason when a system could not be asked), its totals, one
``RECONCILIATION_MISMATCH`` alert for the day listing the differing orders
(updated in place by a re-run, cleared when a re-run finds none) and a
``reconciliation.finished`` lineage row.

A re-run keeps history: each run is its own row with its own diffs, and the
day's answer is its latest finished run (``queries.latest_run``). Two runs of
one day at once are refused (``Conflict``); a run left ``running`` by a crash
stops blocking after ``STALE_AFTER``. Unpaid and cancelled orders are counted,
not compared; orders not shipped in full are not expected in the WMS; every
reconciled order is expected invoiced in the ERP (the merchants invoice paid
orders daily, before the run at dawn).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from domain.actor import Actor
from domain.alerts.kinds import AlertKind
from domain.alerts.raising import clear_alerts, raise_alert
from domain.errors import Conflict, ValidationFailed
from domain.federation.ports import Systems
from domain.reconciliation import channel
from domain.reconciliation.access import require_runner
from domain.reconciliation.compare import compare
from domain.reconciliation.figures import OrderFigures
from domain.reconciliation.systems import SystemsReader
from domain.reconciliation.totals import SAMPLE, Totals
from domain.reconciliation.window import day_window, local_today, zone_of
from domain.unit_of_work import unit_of_work
from events import log
from models import ReconciliationDiff, ReconciliationRun, Tenant

logger = logging.getLogger("ordergraph.reconciliation")

DEFAULT_THRESHOLD = Decimal("0.005")
BATCH_SIZE = 1000
#: Batches whose ERP and WMS questions are out at once (the next batch is read meanwhile).
IN_FLIGHT = 2
STALE_AFTER = timedelta(minutes=30)
EARLIEST = date(2000, 1, 1)
RUNNING, DONE, PARTIAL, FAILED = "running", "done", "partial", "failed"
FINISHED = (DONE, PARTIAL)

Progress = Callable[[int, int], None]


def check_threshold(threshold: Decimal | str | float) -> Decimal:
    """A share from 0 (any difference) to below 1, at most 4 places; else ``ValidationFailed`` on ``threshold``."""
    try:
        value = Decimal(str(threshold))
    except InvalidOperation:
        raise ValidationFailed("threshold is a share such as 0.005 (0.5 %)", field="threshold") from None
    if not value.is_finite() or not 0 <= value < 1:
        raise ValidationFailed("threshold is a share from 0 up to (not including) 1, e.g. 0.005", field="threshold")
    if value != value.quantize(Decimal("0.0001")):
        raise ValidationFailed("threshold has at most 4 decimal places (0.0001 = 0.01 %)", field="threshold")
    return value.quantize(Decimal("0.0001"))


async def reconcile_day(actor: Actor, day: date, *, systems: Systems, threshold: Decimal | str = DEFAULT_THRESHOLD,
                        progress: Progress | None = None, batch_size: int = BATCH_SIZE,
                        max_orders: int | None = None) -> ReconciliationRun:
    """Reconcile the orders placed on ``day`` (the tenant's time zone); the finished run (see the module docstring).

    ``max_orders`` refuses (``ValidationFailed``) a day with more orders than that: callers that run inline.
    """
    require_runner(actor)
    share = check_threshold(threshold)
    tenant = await Tenant.get(id=actor.tenant_id)
    zone = zone_of(tenant.time_zone)
    if day > local_today(zone):
        raise ValidationFailed(f"{day.isoformat()} has not begun in {zone.key}", field="day")
    if day < EARLIEST:
        raise ValidationFailed(f"days before {EARLIEST.isoformat()} are not reconciled", field="day")
    start, end = day_window(day, zone)
    counts = await channel.status_counts(tenant.id, start, end)
    total = sum(n for status, n in counts.items() if status not in channel.SKIPPED)
    if max_orders is not None and total > max_orders:
        raise ValidationFailed(f"{total} orders on {day.isoformat()}: more than {max_orders} are reconciled by "
                               f"`ordergraph reconcile` or the daily job, not inline", field="day")
    run = await _open(actor, day, share)
    began = time.perf_counter()
    try:
        reader = SystemsReader(tenant.id, systems)
        await reader.connect()
        totals = await _batches(run, reader, start, end, share, total, progress, batch_size)
        reasons = reader.reasons()
        skipped = {status.lower(): n for status, n in counts.items() if status in channel.SKIPPED}
        run.totals = totals.shown(sources={name: state.shown() for name, state in reader.sources.items()},
                                  skipped=skipped, threshold=share, zone=zone.key,
                                  window=(start.isoformat(), end.isoformat()), elapsed=time.perf_counter() - began)
        await _finish(actor, run, totals, reasons)
    except Exception as error:
        logger.exception("reconciliation %s of tenant %s failed", day, tenant.id)
        await ReconciliationRun.filter(id=run.id).update(status=FAILED, error=f"{type(error).__name__}: {error}"[:500],
                                                         finished_at=datetime.now(UTC))
        raise
    return run


async def _open(actor: Actor, day: date, threshold: Decimal) -> ReconciliationRun:
    """The run's row, ``running``; refused while another run of the day is running."""
    async with unit_of_work():
        await Tenant.filter(id=actor.tenant_id).select_for_update().first()  # one opener per tenant at a time
        busy = await ReconciliationRun.filter(tenant_id=actor.tenant_id, day=day, status=RUNNING,
                                              started_at__gte=datetime.now(UTC) - STALE_AFTER).first()
        if busy is not None:
            raise Conflict(f"reconciliation #{busy.id} of {day.isoformat()} is still running (started by "
                           f"{busy.started_by})", field="day")
        return await ReconciliationRun.create(tenant_id=actor.tenant_id, day=day, status=RUNNING, threshold=threshold,
                                              started_by=actor.name[:100])


async def _batches(run: ReconciliationRun, reader: SystemsReader, start: datetime, end: datetime, threshold: Decimal,
                   total: int, progress: Progress | None, batch_size: int) -> Totals:
    """Every batch of the day, ``IN_FLIGHT`` at a time: the next one is read while the systems answer for the last."""
    totals = Totals()
    flying: deque[tuple[list[OrderFigures], asyncio.Task[object]]] = deque()
    after = 0
    done = 0
    if progress is not None:
        progress(0, total)
    try:
        while True:
            rows = await channel.order_batch(run.tenant_id, start, end, after_id=after, size=batch_size)  # type: ignore[attr-defined]
            if rows:
                after = rows[-1]["id"]
                batch = await channel.channel_figures(rows)
                flying.append((batch, asyncio.ensure_future(asyncio.gather(reader.invoices(batch),
                                                                           reader.shipped(batch)))))
            if not flying:
                return totals
            if rows and len(flying) < IN_FLIGHT:
                continue
            batch, asked = flying.popleft()
            await asked
            await _record(run, batch, threshold, totals)
            done += len(batch)
            if progress is not None:
                progress(done, max(total, done))
    finally:
        for _, asked in flying:
            asked.cancel()


async def _record(run: ReconciliationRun, batch: list[OrderFigures], threshold: Decimal, totals: Totals) -> None:
    """Compare a batch whose figures are all in; its differences as diff rows, in one insert."""
    diffs = []
    for figures in batch:
        differences = compare(figures, threshold)
        totals.add(figures, differences)
        diffs += [ReconciliationDiff(run_id=run.id, order_id=d.order_id, reference=d.number, dimension=d.dimension,
                                     channel_value=_cents(d.channel), erp_value=_cents(d.erp), wms_value=_cents(d.wms),
                                     gateway_value=_cents(d.gateway), difference=_cents(d.difference), note=d.note)
                  for d in differences]
    if diffs:
        await ReconciliationDiff.bulk_create(diffs, batch_size=1000)


def _cents(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.01"))


async def _finish(actor: Actor, run: ReconciliationRun, totals: Totals, reasons: list[str]) -> None:
    run.status = PARTIAL if reasons else DONE
    run.error = "; ".join(reasons)[:500]
    run.orders_checked = totals.orders
    run.orders_differing = totals.differing
    run.finished_at = datetime.now(UTC)
    subject = f"reconciliation:{run.day.isoformat()}"
    async with unit_of_work():
        await run.save(update_fields=["status", "error", "orders_checked", "orders_differing", "totals", "finished_at"])
        if totals.differing:
            shown = ", ".join(item["order"] for item in totals.sample)
            more = totals.differing - len(totals.sample)
            await raise_alert(
                tenant_id=run.tenant_id, kind=AlertKind.RECONCILIATION_MISMATCH, severity="warning",  # type: ignore[attr-defined]
                subject=subject, actor=actor.name, source="reconciliation",
                message=(f"Reconciliation of {run.day.isoformat()}: {totals.differing} of {totals.orders} orders differ "
                         f"beyond {float(run.threshold) * 100:g} %: {shown}" + (f" and {more} more" if more > 0 else "")),
                details={"run_id": run.id, "day": run.day.isoformat(), "count": totals.differing,
                         "orders": [item["order"] for item in totals.sample], "first": totals.sample[:SAMPLE],
                         "differences": dict(totals.by_dimension), "partial": bool(reasons)})
        else:
            await clear_alerts(tenant_id=run.tenant_id, kind=AlertKind.RECONCILIATION_MISMATCH, subject=subject,  # type: ignore[attr-defined]
                               actor=actor.name, reason=f"reconciliation #{run.id} found no differences")
        await log.append(tenant_id=run.tenant_id, order_id=None, type="reconciliation.finished",  # type: ignore[attr-defined]
                         actor=actor.name, source=actor.source,
                         reason=f"{run.day.isoformat()}: {totals.orders} orders, {totals.differing} differ"
                                + (f"; partial: {run.error}" if reasons else ""),
                         after={"run_id": run.id, "day": run.day.isoformat(), "status": run.status,
                                "orders_checked": totals.orders, "orders_differing": totals.differing,
                                "threshold": format(run.threshold, "f")})
