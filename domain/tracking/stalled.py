"""Noticing parcels that stopped moving on their way: "stalled in transit".

    report = await detect_stalled(now=now, hours_by_carrier={"SF": 24}, default_hours=48)

"Shipped but not moving" (:func:`~domain.tracking.carrier_pushes.check_not_moving`)
catches parcels never picked up. This catches the ones that were: a parcel
picked up, in transit or out for delivery whose newest scan
(``Shipment.last_scan_at``, or its newest tracking event when that is not
kept yet) is older than its carrier's limit (``hours_by_carrier``, keyed by
the normalised carrier code, else ``default_hours``) raises one
``shipment.stalled`` alert. One per stall: not again while it is open, nor
after a person cleared it as long as no newer scan came (the alert keeps the
scan time it was raised for); the next scan clears it
(:mod:`domain.tracking.carrier_pushes`). An order with several stalled
parcels gets one open alert naming the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tortoise.expressions import Q
from tortoise.functions import Max

from domain.alerts.raising import raise_alert
from domain.statuses import ShipmentStatus
from domain.tracking.carrier_pushes import STALLED
from domain.unit_of_work import unit_of_work
from models import Alert, Shipment, TrackingEvent

S = ShipmentStatus
#: Statuses in which a parcel is expected to keep producing scans.
MOVING = (S.PICKED_UP, S.IN_TRANSIT, S.OUT_FOR_DELIVERY)


@dataclass(slots=True)
class StalledReport:
    checked: int = 0
    #: shipment ids alerted this run
    alerted: list[int] = field(default_factory=list)


def _hours(carrier: str, hours_by_carrier: Mapping[str, float], default_hours: float) -> float:
    return float(hours_by_carrier.get(carrier, hours_by_carrier.get(carrier.upper(), default_hours)))


async def _newest_scans(shipments: list[Shipment]) -> dict[int, datetime]:
    """The newest scan of each shipment: ``last_scan_at``, else the newest tracking event (scans filed directly)."""
    newest = {s.id: s.last_scan_at for s in shipments if s.last_scan_at is not None}
    missing = [s.id for s in shipments if s.last_scan_at is None]
    if missing:
        rows = await (TrackingEvent.filter(shipment_id__in=missing).group_by("shipment_id")
                      .annotate(newest=Max("occurred_at")).values("shipment_id", "newest"))
        for row in rows:
            if row["newest"] is not None:  # keep it from now on (scans filed before it was kept)
                newest[row["shipment_id"]] = row["newest"]
                await (Shipment.filter(id=row["shipment_id"], last_scan_at__isnull=True)
                       .update(last_scan_at=row["newest"]))
    return newest


async def _already_alerted(shipments: list[Shipment]) -> set[tuple[int, str]]:
    """(shipment id, scan time) pairs a stalled alert was ever raised for."""
    order_ids = list({s.order_id for s in shipments})  # type: ignore[attr-defined]
    rows = await Alert.filter(kind=STALLED, order_id__in=order_ids).values_list("details", flat=True)
    return {(int(d.get("shipment_id", 0)), str(d.get("last_scan_at", ""))) for d in rows if isinstance(d, dict)}


async def detect_stalled(*, now: datetime | None = None, hours_by_carrier: Mapping[str, float] | None = None,
                         default_hours: float = 48.0, tenant_id: int | None = None, batch: int = 500,
                         max_age_days: float = 30.0) -> StalledReport:
    """Raise ``shipment.stalled`` for parcels on their way whose newest scan is too old (see the module doc).

    Parcels silent for more than ``max_age_days`` are left alone (alerted long ago, or lost for good).
    """
    moment = now or datetime.now(UTC)
    limits = dict(hours_by_carrier or {})
    earliest = moment - timedelta(hours=min([default_hours, *limits.values()]))
    stale = Q(last_scan_at__lt=earliest, last_scan_at__gte=moment - timedelta(days=max_age_days))
    scope = {"order__tenant_id": tenant_id} if tenant_id is not None else {}
    report = StalledReport()
    after = 0
    while True:  # page by id: parcels alerted before stay candidates and must not hide the others
        page = await (Shipment.filter(stale | Q(last_scan_at__isnull=True), status__in=MOVING, id__gt=after, **scope)
                      .order_by("id").limit(batch).prefetch_related("order"))
        if not page:
            return report
        after = page[-1].id
        await _check(page, moment, limits, default_hours, report)


async def _check(page: list[Shipment], moment: datetime, limits: Mapping[str, float], default_hours: float,
                 report: StalledReport) -> None:
    newest = await _newest_scans(page)
    seen = await _already_alerted(page)
    for shipment in page:
        last = newest.get(shipment.id)
        hours = _hours(shipment.carrier, limits, default_hours)
        if last is None or last >= moment - timedelta(hours=hours):
            continue
        report.checked += 1
        if (shipment.id, last.isoformat()) in seen:
            continue
        order = shipment.order  # type: ignore[attr-defined]
        async with unit_of_work():
            alert = await raise_alert(
                tenant_id=order.tenant_id, order_id=order.id, kind=STALLED, severity="warning",
                message=f"stalled in transit: {shipment.carrier} {shipment.tracking_no} ({shipment.status}) has had "
                        f"no scan since {last:%Y-%m-%d %H:%M} UTC, more than {hours:g} h",
                details={"shipment_id": shipment.id, "tracking_no": shipment.tracking_no, "carrier": shipment.carrier,
                         "status": shipment.status, "last_scan_at": last.isoformat(), "hours": hours})
        if (alert.details or {}).get("shipment_id") == shipment.id:
            report.alerted.append(shipment.id)
        seen.add((shipment.id, last.isoformat()))
