"""Sealing committed events into their tenants' Merkle logs: the ``audit`` outbox consumer.

Run by the leader after commit (``api.audit_tasks``), so the write path pays nothing. For each batch it
stores every event's leaf hash and index, moves each tenant's right edge, signs a checkpoint when a tenant
has ``every`` new leaves or its last checkpoint is ``seconds`` old, and advances the ``audit`` cursor —
all in ONE transaction, so a crash redoes a batch wholly or not at all; a second leader's attempt fails on
the leaves' primary key (``CursorMoved``) instead of sealing twice.

    sealer = Sealer(every=1000, seconds=60)
    await seal_pending(sealer)            # tests, the CLI, the bench: everything committed so far
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain.audit import signing
from domain.audit.canonical import FIELDS, row_leaf
from domain.audit.merkle import Frontier
from events import cursor as cursors
from events.cursor import CursorMoved
from models import AuditCheckpoint, AuditLeaf, AuditTree, OrderEvent

CURSOR = "audit"


def row_dict(row: OrderEvent) -> dict[str, Any]:
    return {name: getattr(row, name) for name in FIELDS}


def frontier_of(tree: AuditTree) -> Frontier:
    return Frontier(tree.size, [base64.b64decode(h) for h in tree.frontier or []])


def store_frontier(tree: AuditTree, edge: Frontier) -> None:
    tree.size = edge.size
    tree.frontier = [base64.b64encode(h).decode() for h in edge.hashes]


async def sign_checkpoint(tree: AuditTree, root: bytes, now: datetime) -> AuditCheckpoint:
    """Sign and store the tree's current size and root (inside the caller's transaction)."""
    signature = signing.sign(signing.note(tree.tenant_id, tree.size, root, now))
    checkpoint = await AuditCheckpoint.create(
        tenant_id=tree.tenant_id, tree_size=tree.size, root_hash=root, last_event_id=tree.last_event_id,
        signed_at=now, key_id=signing.key_id(), signature=signature)
    tree.checkpoint_size = tree.size
    tree.checkpoint_at = now
    return checkpoint


def due(tree: AuditTree, now: datetime, every: int, seconds: float) -> bool:
    if tree.size <= tree.checkpoint_size:
        return False
    if tree.checkpoint_at is None or tree.size - tree.checkpoint_size >= every:
        return True
    return (now - tree.checkpoint_at).total_seconds() >= seconds


class Sealer:
    """The durable ``audit`` consumer; starts from the very first event so old history is sealed too."""

    name = CURSOR

    def __init__(self, every: int = 1000, seconds: float = 60.0) -> None:
        self.every = every
        self.seconds = seconds
        self._stored: int | None = None

    async def start_position(self) -> int:
        self._stored = await cursors.load_or_start(CURSOR, 0)
        return self._stored

    async def consume(self, rows: list[OrderEvent], previous: int) -> None:
        if self._stored is None:
            await self.start_position()
        tenants = {row.tenant_id for row in rows}  # type: ignore[attr-defined]
        now = datetime.now(UTC)
        try:
            async with in_transaction():
                trees = {tree.tenant_id: tree for tree in
                         await AuditTree.filter(tenant_id__in=tenants).select_for_update()}
                fresh = {tenant for tenant in tenants if tenant not in trees}
                for tenant in fresh:
                    trees[tenant] = AuditTree(tenant_id=tenant, size=0, frontier=[], last_event_id=0,
                                              checkpoint_size=0)
                edges = {tenant: frontier_of(tree) for tenant, tree in trees.items()}
                leaves = []
                for row in rows:
                    tenant = row.tenant_id  # type: ignore[attr-defined]
                    edge = edges[tenant]
                    leaf = row_leaf(row_dict(row))
                    leaves.append(AuditLeaf(event_id=row.id, tenant_id=tenant, index=edge.size, leaf_hash=leaf))
                    edge.append(leaf)
                    tree = trees[tenant]
                    tree.last_event_id = row.id
                    if edge.size - tree.checkpoint_size >= self.every:  # every N leaves, exactly at N
                        tree.size = edge.size
                        await sign_checkpoint(tree, edge.root(), now)
                await AuditLeaf.bulk_create(leaves, batch_size=1000)
                for tenant, tree in trees.items():
                    store_frontier(tree, edges[tenant])
                    if due(tree, now, self.every, self.seconds):
                        await sign_checkpoint(tree, edges[tenant].root(), now)
                    if tenant in fresh:
                        await tree.save(force_create=True)
                    else:
                        await tree.save()
                await cursors.advance(CURSOR, self._stored, rows[-1].id)
        except IntegrityError:
            raise CursorMoved(CURSOR) from None
        self._stored = rows[-1].id


async def checkpoint_stale(seconds: float) -> int:
    """Sign a checkpoint for every tenant with unsigned leaves whose last checkpoint is ``seconds`` old."""
    now = datetime.now(UTC)
    signed = 0
    for tenant in await AuditTree.all().values_list("tenant_id", flat=True):
        if await checkpoint_now(tenant, seconds=seconds, now=now):
            signed += 1
    return signed


async def checkpoint_now(tenant_id: int, *, seconds: float = 0.0,
                         now: datetime | None = None) -> AuditCheckpoint | None:
    """Sign the tenant's log as sealed now, if it grew since its last checkpoint (and that one is old enough)."""
    now = now or datetime.now(UTC)
    try:
        async with in_transaction():
            tree = await AuditTree.filter(tenant_id=tenant_id).select_for_update().first()
            if tree is None or tree.size <= tree.checkpoint_size:
                return None
            if seconds and tree.checkpoint_at is not None and (now - tree.checkpoint_at).total_seconds() < seconds:
                return None
            checkpoint = await sign_checkpoint(tree, frontier_of(tree).root(), now)
            await tree.save()
            return checkpoint
    except IntegrityError:  # another process signed this size first
        return None


async def seal_pending(sealer: Sealer | None = None, batch: int = 5000) -> int:
    """Seal everything committed after the ``audit`` cursor, ignoring gaps (for quiet writers only)."""
    sealer = sealer or Sealer()
    position = await sealer.start_position()
    sealed = 0
    while rows := await OrderEvent.filter(id__gt=position).order_by("id").limit(batch):
        await sealer.consume(rows, position)
        position = rows[-1].id
        sealed += len(rows)
    return sealed
