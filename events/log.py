"""Appending to the lineage. Called only from ``domain/`` inside its transaction."""

from __future__ import annotations

from typing import Any

from events import reasons
from models import OrderEvent


async def append(
    *,
    tenant_id: int,
    order_id: int | None,
    type: str,
    actor: str,
    source: str,
    reason: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    payload_ref: str | None = None,
) -> OrderEvent:
    """Insert one lineage row; it becomes visible (and publishable) when the caller commits.

    The reason its request gave (``events.reasons``) comes first, then the row's own.
    """
    return await OrderEvent.create(
        tenant_id=tenant_id,
        order_id=order_id,
        type=type,
        actor=actor,
        source=source,
        reason=reasons.combined(reason),
        before=before,
        after=after,
        payload_ref=payload_ref,
    )
