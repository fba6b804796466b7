"""Asking each tenant's tracking provider to push every waybill, and the tracking round that runs it all.

    report = await tracking_round(PROVIDER_APIS, settings=RoundSettings(callback_base="https://og.example.com"))

A provider pushes only the waybills someone subscribed. :func:`subscribe_due`
takes every shipment with a tracking number, not yet final and created
within ``max_age_days``, whose subscription is not asked yet (``""``) or
failed and is due again, and subscribes it at the tenant's provider account
(:mod:`domain.tracking.provider_accounts`), callback
``{callback_base}/hooks/{tenant}/carrier/{provider}``. The shipment records the
outcome (``Shipment.subscription``):

- ``pending`` while asked (a lease: a crashed round leaves it due again after ``lease_seconds``);
- ``subscribed`` with ``subscribed_at``;
- ``unsupported`` when the provider has no code for the carrier (never asked again);
- ``failed`` with ``subscription_error`` and the next try at ``subscription_retry_at`` (backoff from
  ``retry_delays``); after the last delay it is given up and alerted (``tracking.subscription_failed``).

An answer that concerns the whole account (throttled, unreachable, the
credentials refused) stops that account for the round; refused credentials
also raise one tenant alert (``tracking.provider_refused``), cleared by the
account's next success. Tenants are served one after the other, each up to
``batch`` shipments, so one account's trouble never starves another. Lineage:
``shipment.tracking_subscribed``, ``shipment.tracking_unsupported``,
``shipment.tracking_subscription_failed`` (given up).

:func:`tracking_round` then asks silent parcels directly
(:mod:`domain.tracking.silent`) and alerts stalled ones (:mod:`domain.tracking.stalled`).
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.expressions import Q

from domain.alerts.raising import clear_alerts, raise_alert
from domain.statuses import ShipmentStatus
from domain.tracking.provider_accounts import ProviderAccount, phone_tail, provider_accounts
from domain.inbound.tracking_api import (
    CREDENTIALS,
    NOT_CONFIGURED,
    UNSUPPORTED_CARRIER,
    ApiRefused,
    ApiUnavailable,
    ChannelApiError,
    Throttled,
    TrackingProviderApis,
)
from domain.tracking.silent import QueryReport, query_silent
from domain.tracking.stalled import StalledReport, detect_stalled
from domain.unit_of_work import unit_of_work
from events import log
from models import Shipment

S = ShipmentStatus
FINAL = (S.DELIVERED, S.RETURNED, S.EXPIRED)
SUBSCRIPTION_FAILED = "tracking.subscription_failed"
PROVIDER_REFUSED = "tracking.provider_refused"
#: Seconds before a failed subscription is asked again, attempt after attempt; after the last it is given up.
RETRY_DELAYS: tuple[float, ...] = (300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600)


@dataclass(frozen=True, slots=True)
class RoundSettings:
    """What one tracking round needs (the server's ``Settings`` map onto it)."""

    callback_base: str = ""
    max_age_days: float = 14.0
    batch: int = 200
    concurrency: int = 8  # subscription calls in flight at once, per tenant
    lease_seconds: float = 300.0
    retry_delays: tuple[float, ...] = RETRY_DELAYS
    query_after_hours: float = 12.0
    stalled_hours_by_carrier: dict[str, float] = field(default_factory=lambda: {"SF": 24.0, "JD": 24.0})
    stalled_default_hours: float = 48.0


@dataclass(slots=True)
class SubscribeReport:
    checked: int = 0
    subscribed: int = 0
    failed: int = 0
    unsupported: int = 0
    given_up: int = 0
    #: tenant id -> why its account stopped for this round
    stopped: dict[int, str] = field(default_factory=dict)


@dataclass(slots=True)
class Report:
    subscribe: SubscribeReport
    query: QueryReport
    stalled: StalledReport

    def as_dict(self) -> dict[str, Any]:
        """For a log line or the CLI."""
        return asdict(self)


def _due(now: datetime) -> Q:
    return Q(subscription="") | Q(subscription__in=["failed", "pending"], subscription_retry_at__lte=now)


async def subscribe_due(apis: TrackingProviderApis, *, callback_base: str = "", now: datetime | None = None,
                        settings: RoundSettings | None = None, tenant_id: int | None = None) -> SubscribeReport:
    """Subscribe every due shipment of every tenant with a provider account (see the module doc)."""
    settings = settings or RoundSettings(callback_base=callback_base)
    moment = now or datetime.now(UTC)
    report = SubscribeReport()
    accounts = await provider_accounts(apis, callback_base=callback_base or settings.callback_base, tenant_id=tenant_id)
    for account in accounts.values():  # tenant by tenant: one account's trouble never starves another's parcels
        due = await (Shipment.filter(_due(moment), order__tenant_id=account.tenant_id,
                                     created_at__gte=moment - timedelta(days=settings.max_age_days))
                     .exclude(tracking_no="").exclude(status__in=FINAL)
                     .order_by("id").limit(settings.batch).prefetch_related("order"))
        subscribed = report.subscribed
        gate = asyncio.Semaphore(settings.concurrency)

        async def one(shipment: Shipment) -> None:
            async with gate:  # a few calls at a time: parcels leave faster than one call after another keeps up
                if account.tenant_id in report.stopped or not await _claim(shipment, moment, settings.lease_seconds):
                    return
                report.checked += 1
                await _subscribe_one(account, shipment, moment, settings, report)

        if due:  # the first alone: an account refused or throttled costs one call, not a volley
            await one(due[0])
            await asyncio.gather(*(one(shipment) for shipment in due[1:]))
        if report.subscribed > subscribed:  # the account works (again)
            async with unit_of_work():
                await clear_alerts(tenant_id=account.tenant_id, kind=PROVIDER_REFUSED, actor=f"carrier:{account.provider}")
    return report


async def _claim(shipment: Shipment, now: datetime, lease: float) -> bool:
    """Mark it pending, only if nobody changed it since it was read (another round, a push)."""
    claimed = await Shipment.filter(id=shipment.id, subscription=shipment.subscription,
                                    subscription_attempts=shipment.subscription_attempts).filter(_due(now)).update(
        subscription="pending", subscription_retry_at=now + timedelta(seconds=lease))
    return claimed == 1


async def _subscribe_one(account: ProviderAccount, shipment: Shipment, now: datetime, settings: RoundSettings,
                         report: SubscribeReport) -> None:
    order = shipment.order  # type: ignore[attr-defined]
    attempts = shipment.subscription_attempts + 1
    try:
        await account.api.subscribe(shipment.carrier, shipment.tracking_no, callback_url=account.callback_url,
                                    phone_tail=phone_tail(order))
    except Throttled as error:
        report.stopped[account.tenant_id] = error.message
        await _record(shipment, "failed", error=error.message, attempts=shipment.subscription_attempts,
                      retry_at=now + timedelta(seconds=error.retry_after))
        return
    except ApiRefused as error:
        if error.code == UNSUPPORTED_CARRIER:
            report.unsupported += 1
            await _record(shipment, "unsupported", error=error.message, attempts=attempts, retry_at=None,
                          event=("shipment.tracking_unsupported", account))
            return
        if error.code in (CREDENTIALS, NOT_CONFIGURED):
            report.stopped[account.tenant_id] = error.message
            await _provider_refused(account, error)
        await _failed(account, shipment, error, attempts, now, settings, report)
        return
    except ApiUnavailable as error:
        report.stopped[account.tenant_id] = error.message
        await _failed(account, shipment, error, attempts, now, settings, report)
        return
    except Exception as error:  # noqa: BLE001 - an answer no client foresaw: kept on the row, retried with backoff
        unexpected = ApiUnavailable(f"unexpected {type(error).__name__}: {str(error)[:300]}", code="UNEXPECTED")
        await _failed(account, shipment, unexpected, attempts, now, settings, report)
        return
    report.subscribed += 1
    await _record(shipment, "subscribed", error="", attempts=attempts, retry_at=None, subscribed_at=now,
                  event=("shipment.tracking_subscribed", account))


async def _failed(account: ProviderAccount, shipment: Shipment, error: ChannelApiError, attempts: int,
                  now: datetime, settings: RoundSettings, report: SubscribeReport) -> None:
    report.failed += 1
    if attempts <= len(settings.retry_delays):
        await _record(shipment, "failed", error=error.message, attempts=attempts,
                      retry_at=now + timedelta(seconds=settings.retry_delays[attempts - 1]))
        return
    report.given_up += 1
    await _record(shipment, "failed", error=error.message, attempts=attempts, retry_at=None,
                  event=("shipment.tracking_subscription_failed", account))
    order_id: int = shipment.order_id  # type: ignore[attr-defined]
    async with unit_of_work():
        await raise_alert(
            tenant_id=account.tenant_id, order_id=order_id, kind=SUBSCRIPTION_FAILED,
            message=f"{account.provider} refused to track {shipment.carrier} {shipment.tracking_no} after {attempts} "
                    f"attempts: {error.message}; its scans will not be pushed",
            details={"shipment_id": shipment.id, "tracking_no": shipment.tracking_no, "provider": account.provider,
                     "error": error.message, "attempts": attempts})


async def _provider_refused(account: ProviderAccount, error: ApiRefused) -> None:
    async with unit_of_work():
        await raise_alert(tenant_id=account.tenant_id, kind=PROVIDER_REFUSED,
                          message=f"{account.provider} refused the account's API credentials: {error.message}",
                          details={"provider": account.provider, "code": error.code})


async def _record(shipment: Shipment, state: str, *, error: str, attempts: int, retry_at: datetime | None,
                  subscribed_at: datetime | None = None, event: tuple[str, ProviderAccount] | None = None) -> None:
    values: dict[str, Any] = {"subscription": state, "subscription_error": error[:500],
                              "subscription_attempts": attempts, "subscription_retry_at": retry_at}
    if subscribed_at is not None:
        values["subscribed_at"] = subscribed_at
    async with unit_of_work():
        await Shipment.filter(id=shipment.id).update(**values)
        if event is not None:
            kind, account = event
            await log.append(
                tenant_id=account.tenant_id, order_id=shipment.order_id,  # type: ignore[attr-defined]
                type=kind, actor=f"carrier:{account.provider}", source="carrier",
                reason=f"{account.provider} {state} {shipment.carrier} {shipment.tracking_no}"
                       + (f": {error}" if error else ""),
                before={"shipment_id": shipment.id, "subscription": shipment.subscription},
                after={"shipment_id": shipment.id, "subscription": state, "provider": account.provider,
                       "attempts": attempts})


async def tracking_round(apis: TrackingProviderApis, *, settings: RoundSettings,
                         now: datetime | None = None, tenant_id: int | None = None) -> Report:
    """Subscribe what is due, ask silent parcels directly, then alert the stalled ones (in that order)."""
    moment = now or datetime.now(UTC)
    subscribed = await subscribe_due(apis, now=moment, settings=settings, tenant_id=tenant_id)
    queried = await query_silent(apis, now=moment, after_hours=settings.query_after_hours, batch=settings.batch,
                                 tenant_id=tenant_id)
    stalled = await detect_stalled(now=moment, hours_by_carrier=settings.stalled_hours_by_carrier,
                                   default_hours=settings.stalled_default_hours, tenant_id=tenant_id)
    return Report(subscribe=subscribed, query=queried, stalled=stalled)
