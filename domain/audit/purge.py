"""The audited retention purge: old rows' payloads become tombstones that keep their sealed leaf hash.

    await purge_before(actor, before_id=120_000, reason="retention: 7 years")

Only sealed rows are purged. Each keeps its id, tenant, order, type and time; actor, source, reason,
before, after and payload_ref are replaced by ``actor="purged"`` and ``after={"tombstone": {...}}``
carrying the leaf hash, so ``verify`` still checks the chain (it accepts a tombstone only below a
recorded purge). On PostgreSQL the immutability trigger lets this one kind of UPDATE through when the
transaction sets ``ordergraph.audit_purge`` (``SET LOCAL``); the purge itself is a ``lineage.purged`` event.
"""

from __future__ import annotations

import base64

from tortoise.transactions import in_transaction

from domain.actor import Actor, Role
from domain.audit.verify import PURGE_EVENT
from domain.errors import Forbidden, ValidationFailed
from events import log, signals
from models import AuditLeaf, AuditTree, OrderEvent


async def purge_before(actor: Actor, before_id: int, reason: str) -> int:
    """Tombstone the tenant's sealed events with ``id < before_id``; return how many were purged."""
    if actor.role is not Role.ADMIN:
        raise Forbidden("only an admin may purge lineage")
    if not reason.strip():
        raise ValidationFailed("a purge needs a reason", field="reason")
    tenant_id = actor.tenant_id
    tree = await AuditTree.filter(tenant_id=tenant_id).first()
    if tree is None or before_id > tree.last_event_id + 1:
        raise ValidationFailed("only sealed events may be purged: seal first or lower before_id", field="before_id")
    async with in_transaction() as connection:
        if connection.capabilities.dialect == "postgres":
            await connection.execute_script("SET LOCAL ordergraph.audit_purge = 'on'")
        leaves = dict(await AuditLeaf.filter(tenant_id=tenant_id, event_id__lt=before_id)
                      .values_list("event_id", "leaf_hash"))
        purged = 0
        for event_id in await OrderEvent.filter(tenant_id=tenant_id, id__lt=before_id).exclude(actor="purged") \
                .values_list("id", flat=True):
            leaf = leaves.get(event_id)
            if leaf is None:
                continue
            await OrderEvent.filter(id=event_id).update(
                actor="purged", source="purge", reason="", before=None, payload_ref=None,
                after={"tombstone": {"leaf_hash": base64.b64encode(bytes(leaf)).decode(), "purge_before": before_id}})
            purged += 1
        await log.append(tenant_id=tenant_id, order_id=None, type=PURGE_EVENT, actor=actor.name,
                         source=actor.source, reason=reason,
                         after={"before_id": before_id, "count": purged})
    signals.ring()
    return purged
