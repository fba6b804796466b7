"""The seeds' health figures, one row per day in the tenant's time zone, computed from what is already stored.

    figures = await health_figures(actor, days=14)
    [(d.day, d.status_credibility, d.on_time_rate) for d in figures.days]    # None: no data that day, never 0

Per day D (a calendar day in ``Tenant.time_zone``):

* status credibility: 1 - differing / checked of the newest finished (done or
  partial) reconciliation run of D; None when D has no finished run.
* exception close time: median seconds from raised to resolved of the alerts
  RESOLVED on D (by a person or because the condition cleared).
* cross-system failure rate: of all ERP/WMS exchanges on D, the share that
  failed or disagreed (``domain.federation.evidence.FAILED``).
* recovery cycle: the same median as the close time, over the cross-system
  alert kinds only (``RECOVERY_KINDS``: WMS conflicts and failures, stock
  drift, escalations from a diagnosis, reconciliation mismatches).
* on-time shipping: of the orders whose FIRST parcel was handed over on D, the
  share handed over by their deadline: ``ship_by`` as the channel or a person
  set it, else placement plus the priority tier's promise (as the rules and the
  pick queue read it). So every order has a deadline; ``by_tier_promise``
  counts those judged by the tier's promise. Unshipped orders are not counted.

Medians are nearest-rank. Reading is for ops, admins, finance and auditors.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.functions import Count

from domain.actor import Actor, Role
from domain.alerts.kinds import AlertKind
from domain.alerts.stats import percentile
from domain.allocation.pick_queue import DEFAULT_TIER, TIERS
from domain.errors import Forbidden, ValidationFailed
from domain.federation.evidence import FAILED
from domain.reconciliation.window import day_window, local_today, zone_of
from models import Alert, Order, ReconciliationRun, Shipment, SystemExchange, Tenant

MAX_DAYS = 31
READERS = frozenset({Role.ADMIN, Role.OPS, Role.FINANCE, Role.AUDITOR})
#: Alerts about OrderGraph disagreeing with, or failing to reach, an ERP or WMS: their close time is the recovery cycle.
RECOVERY_KINDS = frozenset({
    AlertKind.WMS_CONFIRM_CONFLICT, AlertKind.WMS_SHORT_SHIPMENT, AlertKind.WMS_STOCK_CONFLICT,
    AlertKind.WMS_PUSH_FAILED, AlertKind.WMS_CANCEL_REFUSED, AlertKind.WMS_CANCEL_FAILED, AlertKind.STOCK_DRIFT,
    AlertKind.FEDERATION_ESCALATED, AlertKind.RECONCILIATION_MISMATCH,
})
_FINISHED = ("done", "partial")
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class HealthDay:
    day: date
    orders_checked: int | None = None          # None: no finished reconciliation run that day
    orders_differing: int | None = None
    exceptions_closed: int = 0
    close_p50: float | None = None             # seconds
    exchanges: int = 0
    exchanges_failed: int = 0
    recoveries: int = 0
    recovery_p50: float | None = None          # seconds
    shipped: int = 0
    shipped_on_time: int = 0
    by_tier_promise: int = 0

    @property
    def status_credibility(self) -> float | None:
        if not self.orders_checked or self.orders_differing is None:
            return None
        return 1 - self.orders_differing / self.orders_checked

    @property
    def failure_rate(self) -> float | None:
        return self.exchanges_failed / self.exchanges if self.exchanges else None

    @property
    def on_time_rate(self) -> float | None:
        return self.shipped_on_time / self.shipped if self.shipped else None


@dataclass(frozen=True, slots=True)
class HealthFigures:
    time_zone: str
    days: list[HealthDay]


def _require_reader(actor: Actor) -> None:
    if actor.role not in READERS:
        raise Forbidden("only ops, admins, finance and auditors read the health figures")


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    ordered = sorted(ids)
    for i in range(0, len(ordered), _CHUNK):
        yield ordered[i:i + _CHUNK]


async def _reconciliation(tenant_id: int, first: date, last: date) -> dict[date, tuple[int, int]]:
    runs = await ReconciliationRun.filter(tenant_id=tenant_id, day__gte=first, day__lte=last, status__in=_FINISHED) \
        .order_by("id").values_list("day", "orders_checked", "orders_differing")
    return {day: (checked, differing) for day, checked, differing in runs}   # the newest run of a day wins


async def _closings(tenant_id: int, since: datetime, until: datetime, zone: ZoneInfo) -> dict[date, list[tuple[str, float]]]:
    rows = await Alert.filter(tenant_id=tenant_id, cleared_at__gte=since, cleared_at__lt=until) \
        .values_list("kind", "raised_at", "cleared_at")
    out: dict[date, list[tuple[str, float]]] = defaultdict(list)
    for kind, raised_at, cleared_at in rows:
        out[cleared_at.astimezone(zone).date()].append((kind, max(0.0, (cleared_at - raised_at).total_seconds())))
    return out


async def _exchanges(tenant_id: int, start: datetime, end: datetime) -> tuple[int, int]:
    rows = await SystemExchange.filter(tenant_id=tenant_id, created_at__gte=start, created_at__lt=end) \
        .annotate(count=Count("id")).group_by("outcome").values("outcome", "count")
    return sum(r["count"] for r in rows), sum(r["count"] for r in rows if r["outcome"] in FAILED)


def _deadline(ship_by: datetime | None, placed_at: datetime, priority: str) -> tuple[datetime, bool]:
    """The order's deadline and whether it came from the tier's promise (no ship-by set)."""
    if ship_by is not None:
        return ship_by, False
    return placed_at + TIERS.get(priority, TIERS[DEFAULT_TIER]).promise, True


async def _shipping(tenant_id: int, since: datetime, until: datetime, zone: ZoneInfo) -> dict[date, tuple[int, int, int]]:
    """Per day: (orders first shipped, of them on time, of them judged by the tier's promise)."""
    first_parcel: dict[int, datetime] = {}
    for order_id, shipped_at in await Shipment.filter(order__tenant_id=tenant_id, shipped_at__gte=since,
                                                      shipped_at__lt=until).values_list("order_id", "shipped_at"):
        if order_id not in first_parcel or shipped_at < first_parcel[order_id]:
            first_parcel[order_id] = shipped_at
    for chunk in _chunks(first_parcel):   # a parcel handed over before the window makes the order not first shipped here
        for order_id in await Shipment.filter(order_id__in=chunk, shipped_at__lt=since).values_list("order_id", flat=True):
            first_parcel.pop(order_id, None)
    out: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0])
    for chunk in _chunks(first_parcel):
        for order_id, ship_by, placed_at, priority in await Order.filter(id__in=chunk).values_list(
                "id", "ship_by", "placed_at", "priority"):
            shipped_at = first_parcel[order_id]
            deadline, promised = _deadline(ship_by, placed_at, priority)
            tally = out[shipped_at.astimezone(zone).date()]
            tally[0] += 1
            tally[1] += shipped_at <= deadline
            tally[2] += promised
    return {day: (a, b, c) for day, (a, b, c) in out.items()}


def _median(seconds: list[float]) -> float | None:
    return percentile(sorted(seconds), 50)


async def health_figures(actor: Actor, days: int = 14, *, now: datetime | None = None) -> HealthFigures:
    """The last ``days`` days (1-31, today last) of the tenant's health figures."""
    _require_reader(actor)
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(f"days is 1 to {MAX_DAYS}", field="days")
    name = await Tenant.filter(id=actor.tenant_id).values_list("time_zone", flat=True)
    zone = zone_of(name[0] if name else None)
    last = local_today(zone, now or datetime.now(UTC))
    first = last - timedelta(days=days - 1)
    since, until = day_window(first, zone)[0], day_window(last, zone)[1]
    recon = await _reconciliation(actor.tenant_id, first, last)
    closings = await _closings(actor.tenant_id, since, until, zone)
    shipping = await _shipping(actor.tenant_id, since, until, zone)
    out = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        checked, differing = recon.get(day, (None, None))
        closed = closings.get(day, [])
        recovered = [s for kind, s in closed if kind in RECOVERY_KINDS]
        total, failed = await _exchanges(actor.tenant_id, *day_window(day, zone))
        shipped, on_time, promised = shipping.get(day, (0, 0, 0))
        out.append(HealthDay(day=day, orders_checked=checked, orders_differing=differing,
                             exceptions_closed=len(closed), close_p50=_median([s for _, s in closed]),
                             exchanges=total, exchanges_failed=failed, recoveries=len(recovered),
                             recovery_p50=_median(recovered), shipped=shipped, shipped_on_time=on_time,
                             by_tier_promise=promised))
    return HealthFigures(time_zone=zone.key, days=out)
