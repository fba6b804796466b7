"""Idempotency keys: the first answer to a mutation, kept so a retried request gets it back instead of running twice.

Claiming a key is one ``INSERT … ON CONFLICT DO NOTHING``: of two concurrent
requests with the same key exactly one runs; the other sees it in flight
(409), or — once it is done — gets its answer replayed. A request whose
process died keeps its claim until ``locked_until``; after that the key can
be taken over. Keys live at least 24 hours (``expires_at``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from domain.sql import insert_ignoring_conflict
from models import IdempotencyRecord

MIN_TTL = timedelta(hours=24)


class ClaimKind(StrEnum):
    RUN = "run"
    REPLAY = "replay"
    MISMATCH = "mismatch"
    IN_FLIGHT = "in_flight"


@dataclass(slots=True)
class Claim:
    kind: ClaimKind
    record_id: int | None = None
    record: IdempotencyRecord | None = None


async def claim(
    tenant_id: int, key_scope: str, key: str, fingerprint: str, *, ttl: timedelta, lock: timedelta,
    now: datetime | None = None,
) -> Claim:
    """Decide what a request carrying ``key`` may do."""
    ttl = max(ttl, MIN_TTL)
    for _ in range(4):
        moment = now or datetime.now(UTC)
        new_id = await insert_ignoring_conflict(
            "idempotency_record",
            ("tenant_id", "key_scope", "key", "fingerprint", "state", "response_headers", "created_at",
             "locked_until", "expires_at"),
            (tenant_id, key_scope, key, fingerprint, "in_flight", "[]", moment, moment + lock, moment + ttl),
        )
        if new_id is not None:
            return Claim(ClaimKind.RUN, new_id)
        row = await IdempotencyRecord.filter(tenant_id=tenant_id, key_scope=key_scope, key=key).first()
        if row is None:
            continue  # released a moment ago: try again
        if row.expires_at <= moment:
            await IdempotencyRecord.filter(id=row.id, expires_at__lte=moment).delete()
            continue
        if row.fingerprint != fingerprint:
            return Claim(ClaimKind.MISMATCH, row.id, row)
        if row.state == "done":
            return Claim(ClaimKind.REPLAY, row.id, row)
        if row.locked_until > moment:
            return Claim(ClaimKind.IN_FLIGHT, row.id, row)
        taken = await IdempotencyRecord.filter(id=row.id, state="in_flight", locked_until=row.locked_until).update(
            locked_until=moment + lock
        )
        return Claim(ClaimKind.RUN, row.id) if taken else Claim(ClaimKind.IN_FLIGHT, row.id, row)
    return Claim(ClaimKind.IN_FLIGHT)


async def complete(record_id: int, status: int, headers: list[list[str]], body: bytes) -> None:
    await IdempotencyRecord.filter(id=record_id).update(
        state="done", status_code=status, response_headers=headers, response_body=body
    )


async def release(record_id: int) -> None:
    """Forget a claim whose request failed unexpectedly, so the client may retry it."""
    await IdempotencyRecord.filter(id=record_id, state="in_flight").delete()


async def purge_expired(now: datetime | None = None) -> int:
    return await IdempotencyRecord.filter(expires_at__lt=now or datetime.now(UTC)).delete()
