"""Raw evidence and delivery ids: keep every inbound body once, recognise a repeated delivery.

Both are single ``INSERT … ON CONFLICT DO NOTHING RETURNING`` statements, so
they are race-free on PostgreSQL (a concurrent twin waits for the first to
commit, then sees the conflict) and cost one round trip.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from tortoise import connections

from domain.sql import dialect_sql, insert_ignoring_conflict
from models import InboundPayload

#: Lineage ``payload_ref`` prefix for a stored body: ``sha256:<hex>``.
REF_PREFIX = "sha256:"


def sha256_hex(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def ref(sha256: str) -> str:
    return REF_PREFIX + sha256


async def store(
    tenant_id: int, kind: str, source: str, body: bytes, headers: Mapping[str, str], content_type: str = ""
) -> tuple[int, str]:
    """Keep ``body`` (once per tenant and SHA-256); return its row id and hash."""
    digest = sha256_hex(body)
    new_id = await insert_ignoring_conflict(
        "inbound_payload",
        _PAYLOAD_COLUMNS,
        (tenant_id, digest, kind, source[:64], content_type[:128], _json(dict(headers)), body, len(body), datetime.now(UTC)),
    )
    if new_id is None:
        new_id = await InboundPayload.filter(tenant_id=tenant_id, sha256=digest).first().values_list("id", flat=True)
    return int(new_id), digest  # type: ignore[arg-type]


async def store_many(tenant_id: int, kind: str, source: str, bodies: Sequence[bytes]) -> list[str]:
    """Keep each body once (one statement for all); their SHA-256s, in order."""
    digests = [sha256_hex(body) for body in bodies]
    if not bodies:
        return digests
    now = datetime.now(UTC)
    rows = [(tenant_id, digest, kind, source[:64], "application/json", "{}", body, len(body), now)
            for digest, body in zip(digests, bodies)]
    marks = ", ".join("(" + ", ".join("?" for _ in _PAYLOAD_COLUMNS) + ")" for _ in rows)
    sql = f'INSERT INTO "inbound_payload" ({_names(_PAYLOAD_COLUMNS)}) VALUES {marks} ON CONFLICT DO NOTHING'
    values = [value for row in rows for value in row]
    await connections.get("default").execute_query(dialect_sql(sql, len(values)), values)
    return digests


async def record_arrival(
    tenant_id: int, kind: str, source: str, body: bytes, headers: Mapping[str, str], content_type: str,
    *, delivery_source: str = "", delivery_id: str = "",
) -> bool:
    """Keep the body and, if the source stamped one, claim its delivery id — one round trip on PostgreSQL.

    Call inside the applying transaction. ``False`` means the delivery id was already applied.
    """
    digest = sha256_hex(body)
    now = datetime.now(UTC)
    payload_values = (tenant_id, digest, kind, source[:64], content_type[:128], _json(dict(headers)), body, len(body), now)
    connection = connections.get("default")
    if connection.capabilities.dialect != "postgres" or not delivery_id:
        await insert_ignoring_conflict("inbound_payload", _PAYLOAD_COLUMNS, payload_values)
        if not delivery_id:
            return True
        return await claim_delivery(tenant_id, delivery_source, delivery_id, digest)
    delivery_values = (tenant_id, delivery_source[:80], delivery_id[:128], digest, now)
    payload_marks = ", ".join(f"${i + 1}" for i in range(len(payload_values)))
    delivery_marks = ", ".join(f"${len(payload_values) + i + 1}" for i in range(len(delivery_values)))
    sql = (
        f'WITH kept AS (INSERT INTO "inbound_payload" ({_names(_PAYLOAD_COLUMNS)}) VALUES ({payload_marks}) '
        f'ON CONFLICT DO NOTHING) '
        f'INSERT INTO "inbound_delivery" ({_names(_DELIVERY_COLUMNS)}) VALUES ({delivery_marks}) '
        f'ON CONFLICT DO NOTHING RETURNING "id"'
    )
    rows = await connection.execute_query_dict(sql, [*payload_values, *delivery_values])
    return bool(rows)


_PAYLOAD_COLUMNS = ("tenant_id", "sha256", "kind", "source", "content_type", "headers", "body", "size", "received_at")
_DELIVERY_COLUMNS = ("tenant_id", "source", "delivery_id", "payload_sha256", "received_at")


def _names(columns: Sequence[str]) -> str:
    return ", ".join(f'"{column}"' for column in columns)


async def claim_delivery(tenant_id: int, source: str, delivery_id: str, payload_sha256: str) -> bool:
    """Record a delivery id inside the applying transaction; ``False`` if it was already applied."""
    new_id = await insert_ignoring_conflict(
        "inbound_delivery",
        _DELIVERY_COLUMNS,
        (tenant_id, source[:80], delivery_id[:128], payload_sha256, datetime.now(UTC)),
    )
    return new_id is not None


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
