"""Asking the provider directly about subscribed parcels it stays silent about.

    report = await query_silent(PROVIDER_APIS, now=now, after_hours=12)

A push can be lost (our endpoint down past the provider's retries, a
provider hiccup). A tracked parcel, not final, with no scan ``after_hours``
after it shipped, or whose newest scan is ``after_hours`` old, and not asked
within ``after_hours`` either (Kuaidi100 locks a waybill queried more often
than every 30 minutes), is queried through the tenant's provider account. The
answer is applied exactly as a push is (:func:`~domain.tracking.carrier_pushes.apply_tracking`):
scans are de-duplicated against what pushes brought, so a push arriving
later, or one that was only late, changes nothing twice. ``queried_at``
records the ask. Throttling, an unreachable provider or refused credentials
stop that account for the round (the parcel is asked next round).

Tracked means subscribed, or a subscription attempt whose outcome we do not
know or that failed (``pending``/``failed``): a call that timed out on our side
may have subscribed it at the provider (its pushes then arrive), and a
process killed mid-call leaves it pending for the lease — either way a lost
push must still be made good. Parcels never offered (``""``) wait for their
subscription; ``unsupported`` ones cannot be asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tortoise.expressions import Q

from domain.statuses import ShipmentStatus
from domain.tracking.carrier_pushes import TrackingOutcome, apply_tracking, carrier_actor
from domain.tracking.provider_accounts import ProviderAccount, phone_tail, provider_accounts
from domain.inbound.tracking_api import (
    CREDENTIALS,
    NOT_CONFIGURED,
    ApiRefused,
    ApiUnavailable,
    Throttled,
    TrackingProviderApis,
)
from models import Shipment

S = ShipmentStatus
_FINAL = (S.DELIVERED, S.RETURNED, S.EXPIRED)
_TRACKED = ("subscribed", "pending", "failed")


@dataclass(slots=True)
class QueryReport:
    queried: int = 0
    #: shipments whose answer brought new scans or a new status
    moved: int = 0
    new_scans: int = 0
    refused: int = 0
    stopped: dict[int, str] = field(default_factory=dict)


def silent_since(cutoff: datetime) -> Q:
    """No scan since ``cutoff``: none at all and shipped (or created) before it, or the newest one older."""
    shipped_before = Q(shipped_at__lt=cutoff) | Q(shipped_at__isnull=True, created_at__lt=cutoff)
    never = Q(last_scan_at__isnull=True) & shipped_before
    return never | Q(last_scan_at__lt=cutoff)


async def query_silent(apis: TrackingProviderApis, *, now: datetime | None = None, after_hours: float = 12.0,
                       batch: int = 200, tenant_id: int | None = None) -> QueryReport:
    """Query every silent subscribed parcel once (see the module doc)."""
    moment = now or datetime.now(UTC)
    cutoff = moment - timedelta(hours=after_hours)
    report = QueryReport()
    for account in (await provider_accounts(apis, tenant_id=tenant_id)).values():
        silent = await (Shipment.filter(silent_since(cutoff), subscription__in=_TRACKED,
                                        order__tenant_id=account.tenant_id)
                        .filter(Q(queried_at__isnull=True) | Q(queried_at__lt=cutoff))
                        .exclude(status__in=_FINAL).order_by("id").limit(batch).prefetch_related("order"))
        for shipment in silent:
            if account.tenant_id in report.stopped:
                break
            await _query_one(account, shipment, moment, report)
    return report


async def _query_one(account: ProviderAccount, shipment: Shipment, moment: datetime, report: QueryReport) -> None:
    try:
        trackings = await account.api.query(shipment.carrier, shipment.tracking_no,
                                            phone_tail=phone_tail(shipment.order))  # type: ignore[attr-defined]
    except (Throttled, ApiUnavailable) as error:
        report.stopped[account.tenant_id] = error.message
        return
    except ApiRefused as error:
        report.refused += 1
        if error.code in (CREDENTIALS, NOT_CONFIGURED):
            report.stopped[account.tenant_id] = error.message
        await Shipment.filter(id=shipment.id).update(queried_at=moment)
        return
    report.queried += 1
    await Shipment.filter(id=shipment.id).update(queried_at=moment)
    actor = carrier_actor(account.tenant_id, account.provider)
    for tracking in trackings:
        result = await apply_tracking(actor, tracking)
        if result.outcome == TrackingOutcome.APPLIED:
            report.moved += 1
            report.new_scans += result.new_scans
