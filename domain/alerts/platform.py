"""Platform incidents: one alert on every tenant's board, because every merchant's feeds and jobs were hit.

    await raise_on_every_board(AlertKind.BUS_DOWN, subject="bus", severity="critical",
                               message="The event bus (Redis) is unreachable since 14:03:07 UTC", details={...})
    details = await open_incident(AlertKind.BUS_DOWN, subject="bus")    # None when no board shows it
    await clear_on_every_board(AlertKind.BUS_DOWN, subject="bus", reason="Redis is back; feeds caught up")

Each tenant gets its own alert (the board, routes and SLA are per tenant); raising again
updates every one in place (``raising.raise_alert``), so several processes reporting the same
incident never add a second alert. Call inside a transaction.
"""

from __future__ import annotations

from typing import Any

from domain.alerts.kinds import AlertKind
from domain.alerts.raising import AUTO, clear_alerts, raise_alert
from models import Alert, Tenant

ACTOR = "system:platform"


async def raise_on_every_board(kind: AlertKind, *, subject: str, severity: str, message: str,
                               details: dict[str, Any]) -> int:
    """Raise (or bring up to date) the incident on every tenant's board; returns how many boards."""
    tenant_ids = await Tenant.all().order_by("id").values_list("id", flat=True)
    for tenant_id in tenant_ids:
        await raise_alert(tenant_id=tenant_id, kind=kind, subject=subject, severity=severity, message=message,
                          details=details, actor=ACTOR)
    return len(tenant_ids)


async def open_incident(kind: AlertKind, *, subject: str) -> dict[str, Any] | None:
    """The details of the newest open alert of this incident on any board, or None if none is open."""
    alert = await Alert.filter(kind=kind, subject=subject, order_id=None, cleared_at__isnull=True).order_by("-id").first()
    return None if alert is None else dict(alert.details or {})


async def clear_on_every_board(kind: AlertKind, *, subject: str, reason: str) -> int:
    """Resolve the incident (``system:auto``) wherever it is open; returns how many alerts were cleared."""
    tenant_ids = await Alert.filter(kind=kind, subject=subject, order_id=None, cleared_at__isnull=True) \
        .distinct().values_list("tenant_id", flat=True)
    cleared = 0
    for tenant_id in sorted(set(tenant_ids)):
        cleared += await clear_alerts(tenant_id=tenant_id, kind=kind, subject=subject, actor=AUTO, reason=reason)
    return cleared
