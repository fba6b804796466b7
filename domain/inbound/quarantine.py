"""The quarantine: inbound payloads that could not be applied, kept until an admin replays or discards them.

A payload is quarantined once per (kind, source); the same bytes arriving
again only bump ``seen_count``. Nothing here applies anything: replaying is
the caller's pipeline, which reports back with :func:`resolve` or
:func:`still_failing`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.queryset import QuerySet

from domain.actor import Actor, Role
from domain.errors import Forbidden, NotFound, ValidationFailed
from domain.unit_of_work import unit_of_work
from events import log
from models import QuarantinedPayload

OPEN, REPLAYED, DISCARDED = "open", "replayed", "discarded"
STATUSES = (OPEN, REPLAYED, DISCARDED)


async def hold(
    *,
    tenant_id: int,
    payload_id: int,
    kind: str,
    source: str,
    reason_code: str,
    reason: str,
    field: str = "",
    http_status: int = 422,
    verified: bool = False,
) -> QuarantinedPayload:
    """Keep a payload that could not be applied (or note that it came again); returns the row."""
    values = {"reason_code": reason_code[:32], "reason": reason[:500], "field": field[:200],
              "http_status": http_status, "verified": verified}
    for _ in range(2):
        existing = await QuarantinedPayload.filter(
            tenant_id=tenant_id, kind=kind, source=source[:64], payload_id=payload_id
        ).first()
        if existing is not None:
            await QuarantinedPayload.filter(id=existing.id).update(
                **values, status=OPEN, seen_count=F("seen_count") + 1, last_seen_at=datetime.now(UTC)
            )
            await existing.refresh_from_db()
            return existing
        try:
            async with unit_of_work():
                row = await QuarantinedPayload.create(
                    tenant_id=tenant_id, payload_id=payload_id, kind=kind, source=source[:64], **values
                )
                await log.append(tenant_id=tenant_id, order_id=None, type="intake.quarantined", actor=f"{kind}:{source}"[:100],
                                 source=kind, reason=f"{reason_code}: {reason}",
                                 after={"quarantine_id": row.id, "field": field, "http_status": http_status})
            return row
        except IntegrityError:  # a twin quarantined it a moment ago: count this arrival on its row
            continue
    raise AssertionError("unreachable")


def require_admin(actor: Actor) -> None:
    if actor.role != Role.ADMIN:
        raise Forbidden("only an admin may manage intake")


async def get(actor: Actor, quarantine_id: int) -> QuarantinedPayload:
    require_admin(actor)
    row = await QuarantinedPayload.filter(id=quarantine_id, tenant_id=actor.tenant_id).prefetch_related("payload").first()
    if row is None:
        raise NotFound("no such quarantined payload", field="id")
    return row


def visible(actor: Actor, status: str | None) -> QuerySet[QuarantinedPayload]:
    """The tenant's quarantined payloads (admins only), narrowed to one status: the query callers page."""
    require_admin(actor)
    query = QuarantinedPayload.filter(tenant_id=actor.tenant_id)
    if status:
        if status not in STATUSES:
            raise ValidationFailed(f"status is one of {', '.join(STATUSES)}", field="status")
        query = query.filter(status=status)
    return query


async def resolve(actor: Actor, row: QuarantinedPayload, outcome: dict[str, Any]) -> None:
    """Mark a payload replayed with what it did."""
    async with unit_of_work():
        await QuarantinedPayload.filter(id=row.id).update(
            status=REPLAYED, outcome=outcome, resolved_by=actor.name[:100], resolved_at=datetime.now(UTC),
            attempts=F("attempts") + 1, last_error="",
        )
        await log.append(tenant_id=actor.tenant_id, order_id=outcome.get("order_id"), type="intake.replayed",
                         actor=actor.name, source=actor.source, reason=f"quarantined payload {row.id} replayed",
                         after={"quarantine_id": row.id, **outcome},
                         payload_ref=f"sha256:{row.payload.sha256}" if row.payload else None)


async def still_failing(row: QuarantinedPayload, reason_code: str, reason: str, field: str = "") -> None:
    await QuarantinedPayload.filter(id=row.id).update(
        attempts=F("attempts") + 1, last_error=f"{reason_code}: {reason}"[:500], reason_code=reason_code[:32],
        reason=reason[:500], field=field[:200], status=OPEN,
    )


async def discard(actor: Actor, quarantine_id: int, reason: str) -> QuarantinedPayload:
    row = await get(actor, quarantine_id)
    if not reason.strip():
        raise ValidationFailed("say why the payload is discarded", field="reason")
    async with unit_of_work():
        await QuarantinedPayload.filter(id=row.id).update(
            status=DISCARDED, resolved_by=actor.name[:100], resolved_at=datetime.now(UTC), last_error=reason[:500]
        )
        await log.append(tenant_id=actor.tenant_id, order_id=None, type="intake.discarded", actor=actor.name,
                         source=actor.source, reason=reason, after={"quarantine_id": row.id},
                         payload_ref=f"sha256:{row.payload.sha256}")
    await row.refresh_from_db()
    return row
