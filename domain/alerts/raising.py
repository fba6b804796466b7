"""Raising, updating and clearing alerts: once per problem, kept current while it lasts.

    await raise_alert(tenant_id=t, kind=AlertKind.LOW_STOCK, subject=f"stock:{s.id}",
                      message="3 left of TEA in SH (safety 10)", details={"available": 3})
    await clear_alerts(tenant_id=t, kind=AlertKind.LOW_STOCK, subject=f"stock:{s.id}")

An alert is identified by (tenant, kind, order, subject). Raising a problem that
is already on the board updates that alert in place (message, details, a higher
severity) instead of adding a second one, so the board always shows the current
facts; raising one a person resolved in the last day reopens it. Clearing is for
conditions that went away by themselves. Call both inside the changing transaction.
Every change is a lineage row (``alert.raised``, ``.updated``, ``.reopened``,
``.cleared``) whose ``after`` carries what notification routes filter on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.alerts.kinds import AlertKind, AlertState, Severity, sla_for
from events import log
from models import Alert

#: A problem that comes back within this time of a person resolving it reopens their alert.
REOPEN_WITHIN = timedelta(hours=24)
AUTO = "system:auto"


def event_after(alert: Alert, **extra: Any) -> dict[str, Any]:
    """What an alert lineage row carries: enough for routes to filter without reading the alert."""
    return {"alert_id": alert.id, "kind": alert.kind, "severity": alert.severity, "subject": alert.subject,
            "state": alert.state, "warehouse_id": alert.warehouse_id, "channel_id": alert.channel_id,
            "message": alert.message, **extra}


async def record(alert: Alert, type: str, *, actor: str, source: str = "ordergraph", reason: str = "",
                 before: dict[str, Any] | None = None) -> None:
    await log.append(tenant_id=alert.tenant_id, order_id=alert.order_id,  # type: ignore[attr-defined]
                     type=type, actor=actor, source=source, reason=reason or alert.message,
                     before=before, after=event_after(alert))


async def raise_alert(
    *,
    tenant_id: int,
    kind: AlertKind | str,
    message: str,
    order_id: int | None = None,
    severity: str = "warning",
    subject: str = "",
    details: dict[str, Any] | None = None,
    actor: str = "system",
    source: str = "ordergraph",
    warehouse_id: int | None = None,
    channel_id: int | None = None,
) -> Alert:
    """Put a problem on the board, or bring the alert already there up to date (call in a transaction)."""
    kind = AlertKind(kind)
    severity = Severity(severity)
    message = message[:500]
    key = {"tenant_id": tenant_id, "order_id": order_id, "kind": kind, "subject": subject[:64]}
    now = datetime.now(UTC)
    current = await Alert.filter(**key, cleared_at__isnull=True).select_for_update().first()
    if current is not None:
        return await _update(current, message, severity, details, actor, source, now)
    recent = await Alert.filter(**key, state=AlertState.RESOLVED, resolved_by__not=AUTO,
                                cleared_at__gte=now - REOPEN_WITHIN).order_by("-id").select_for_update().first()
    if recent is not None:
        return await _reopen(recent, message, severity, details, actor, source, now)
    alert = await Alert.create(
        **key, severity=severity, message=message, details=details or {}, state=AlertState.OPEN,
        updated_at=now, due_at=now + sla_for(severity), warehouse_id=warehouse_id, channel_id=channel_id,
    )
    await record(alert, "alert.raised", actor=actor, source=source)
    return alert


async def _update(alert: Alert, message: str, severity: Severity, details: dict[str, Any] | None,
                  actor: str, source: str, now: datetime) -> Alert:
    """The same problem again: keep the newest facts; a higher severity escalates (and restarts its SLA)."""
    escalated = severity.rank > Severity(alert.severity).rank
    new_details = details if details is not None else alert.details
    if not escalated and message == alert.message and new_details == alert.details:
        return alert
    before = {"severity": alert.severity, "message": alert.message}
    alert.message, alert.details, alert.updated_at = message, new_details, now
    if escalated:
        alert.severity, alert.due_at = severity, now + sla_for(severity)
    await alert.save(update_fields=["message", "details", "updated_at", "severity", "due_at"])
    await record(alert, "alert.updated", actor=actor, source=source, before=before)
    return alert


async def _reopen(alert: Alert, message: str, severity: Severity, details: dict[str, Any] | None,
                  actor: str, source: str, now: datetime) -> Alert:
    before = {"state": alert.state, "resolution": alert.resolution}
    alert.state, alert.cleared_at, alert.reopened = AlertState.OPEN, None, alert.reopened + 1
    alert.message, alert.details, alert.updated_at = message, details or {}, now
    alert.severity = severity if severity.rank > Severity(alert.severity).rank else alert.severity
    alert.due_at, alert.snoozed_until = now + sla_for(alert.severity), None
    await alert.save()
    await record(alert, "alert.reopened", actor=actor, source=source, before=before,
                 reason=f"the problem came back after it was resolved: {message}")
    return alert


async def clear_alerts(
    *, tenant_id: int, kind: AlertKind | str, order_id: int | None = None, subject: str = "", actor: str = "system",
    reason: str = "the condition cleared",
) -> int:
    """Resolve the open alert of a kind because its condition went away; returns how many were open."""
    now = datetime.now(UTC)
    rows = await Alert.filter(tenant_id=tenant_id, order_id=order_id, kind=AlertKind(kind), subject=subject[:64],
                              cleared_at__isnull=True).select_for_update()
    for alert in rows:
        before = {"state": alert.state}
        alert.state, alert.cleared_at, alert.updated_at = AlertState.RESOLVED, now, now
        alert.resolved_by, alert.resolution = AUTO, reason
        await alert.save(update_fields=["state", "cleared_at", "updated_at", "resolved_by", "resolution"])
        await record(alert, "alert.cleared", actor=actor, before=before, reason=reason)
    return len(rows)
