"""Raising and clearing alerts, once per problem rather than once per occurrence."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from events import log
from models import Alert


async def raise_alert(
    *,
    tenant_id: int,
    kind: str,
    message: str,
    order_id: int | None = None,
    severity: str = "warning",
    details: dict[str, Any] | None = None,
    actor: str = "system",
    source: str = "ordergraph",
) -> Alert:
    """Open an alert unless the same kind is already open for the same order (call in a transaction)."""
    existing = await Alert.filter(
        tenant_id=tenant_id, order_id=order_id, kind=kind, cleared_at__isnull=True
    ).first()
    if existing:
        return existing
    alert = await Alert.create(
        tenant_id=tenant_id,
        order_id=order_id,
        kind=kind,
        severity=severity,
        message=message[:500],
        details=details or {},
    )
    await log.append(
        tenant_id=tenant_id,
        order_id=order_id,
        type="alert.raised",
        actor=actor,
        source=source,
        reason=message,
        after={"alert_id": alert.id, "kind": kind, "severity": severity},
    )
    return alert


async def clear_alerts(*, tenant_id: int, kind: str, order_id: int | None = None, actor: str = "system") -> int:
    """Close open alerts of a kind; returns how many were open."""
    now = datetime.now(UTC)
    count = await Alert.filter(
        tenant_id=tenant_id, order_id=order_id, kind=kind, cleared_at__isnull=True
    ).update(cleared_at=now)
    if count:
        await log.append(
            tenant_id=tenant_id,
            order_id=order_id,
            type="alert.cleared",
            actor=actor,
            source="ordergraph",
            after={"kind": kind, "cleared": count},
        )
    return count
