"""Verifying a tenant's lineage against its Merkle log and signed checkpoints, and proving to others.

    report = await verify(tenant_id)            # names the FIRST bad event and what is wrong
    proof = await inclusion_proof(tenant_id, event_id, tree_size)
    proof = await consistency_proof(tenant_id, size1, size2)

Kinds of problem: ``edited`` (a row no longer hashes to its leaf), ``deleted`` (a sealed row is gone),
``truncated`` (every sealed row or leaf from there to the end is gone), ``inserted`` (a row that was never
sealed sits among sealed ones), ``reordered`` (two rows' contents were swapped), ``forged_checkpoint`` (a
signature that does not verify under the key its ``key_id`` names), ``unknown_key`` (a checkpoint signed by a
key that is neither the current signing key nor in ``ORDERGRAPH_AUDIT_PREVIOUS_PUBLIC_KEYS``), ``root_mismatch`` (the stored leaves no longer give
a signed root: the leaf table itself was rewritten).

Speed: rows are read in keyset batches (PostgreSQL: plain SQL, the next batch read while this one is
hashed) and the cyclic garbage collector is paused while a verification runs; 1,000,000 events take
about 25 s (``bench/audit.py``).
"""

from __future__ import annotations

import base64
import gc
from dataclasses import asdict, dataclass, field
from typing import Any

from domain.audit import signing, store
from domain.audit.canonical import FIELDS, row_leaf, utc_text
from domain.audit.merkle import Frontier, consistency_path, inclusion_path, root_of
from domain.errors import NotFound, ValidationFailed
from models import AuditCheckpoint, AuditTree, OrderEvent

KINDS = ("edited", "deleted", "truncated", "inserted", "reordered", "forged_checkpoint", "unknown_key",
         "root_mismatch")
PURGE_EVENT = "lineage.purged"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass(frozen=True)
class Problem:
    kind: str
    event_id: int | None
    detail: str


@dataclass
class VerifyReport:
    tenant_id: int
    events_checked: int = 0
    leaves: int = 0
    pending: int = 0  # committed, not sealed yet
    checkpoints_checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        """The problem with the lowest event id (problems without one come last)."""
        if not self.problems:
            return None
        return min(self.problems, key=lambda p: (p.event_id is None, p.event_id or 0))

    def summary(self) -> str:
        if self.ok:
            return (f"tenant {self.tenant_id}: ok — {self.events_checked} events, {self.leaves} leaves, "
                    f"{self.checkpoints_checked} checkpoints, {self.pending} not sealed yet")
        first = self.first
        assert first is not None
        return f"tenant {self.tenant_id}: event {first.event_id}: {first.kind}: {first.detail}"


def _tombstone_hash(row: dict[str, Any]) -> str | None:
    after = row.get("after")
    if row.get("actor") == "purged" and isinstance(after, dict) and isinstance(after.get("tombstone"), dict):
        return after["tombstone"].get("leaf_hash")
    return None


async def _purge_horizon(tenant_id: int) -> int:
    horizon = 0
    for after in await OrderEvent.filter(tenant_id=tenant_id, type=PURGE_EVENT).values_list("after", flat=True):
        if isinstance(after, dict):
            horizon = max(horizon, int(after.get("before_id") or 0))
    return horizon


def _swapped(row: dict[str, Any], other: dict[str, Any], stored: bytes) -> bool:
    """Does ``row``'s content, put under ``other``'s id (and time), give ``other``'s sealed leaf?"""
    moved = dict(row, id=other["id"])
    if row_leaf(moved) == stored:
        return True
    return row_leaf(dict(moved, created_at=other["created_at"])) == stored


async def verify(tenant_id: int, from_id: int | None = None) -> VerifyReport:
    """Recompute the tenant's leaves from its rows (from ``from_id``) and every signed root; report problems."""
    collecting = gc.isenabled()
    gc.disable()  # millions of short-lived rows: full collections would make this quadratic
    try:
        return await _verify(tenant_id, from_id)
    finally:
        if collecting:
            gc.enable()


async def _verify(tenant_id: int, from_id: int | None) -> VerifyReport:
    report = VerifyReport(tenant_id=tenant_id)
    start = from_id or 0
    tree = await AuditTree.filter(tenant_id=tenant_id).first()
    sealed_upto = tree.last_event_id if tree else 0
    all_leaves = await store.leaves(tenant_id)
    report.leaves = len(all_leaves)
    horizon = await _purge_horizon(tenant_id)
    problems = report.problems

    # The leaf table: indices 0..n-1, event ids increasing.
    previous_event = 0
    for position, (event_id, index, _) in enumerate(all_leaves):
        if index != position:
            problems.append(Problem("deleted", event_id, f"leaf index {position} is missing (next is {index})"))
            break
        if event_id <= previous_event:
            problems.append(Problem("reordered", event_id, f"leaf {index} is out of event order"))
            break
        previous_event = event_id

    # Rows against leaves: a merge walk in id order.
    leaves = [leaf for leaf in all_leaves if leaf[0] >= start]
    mismatched: list[tuple[dict[str, Any], bytes]] = []
    missing: list[int] = []
    cursor = 0
    async for row in store.rows(tenant_id, start):
        if row["id"] > sealed_upto:
            report.pending += 1
            continue
        report.events_checked += 1
        while cursor < len(leaves) and leaves[cursor][0] < row["id"]:
            missing.append(leaves[cursor][0])
            cursor += 1
        if cursor < len(leaves) and leaves[cursor][0] == row["id"]:
            stored = leaves[cursor][2]
            cursor += 1
            tomb = _tombstone_hash(row)
            if tomb is not None:
                if tomb != b64(stored) or row["id"] >= horizon:
                    problems.append(Problem("edited", row["id"], "a tombstone that no recorded purge covers"))
            elif row_leaf(row) != stored:
                mismatched.append((row, stored))
        else:
            problems.append(Problem("inserted", row["id"], "a row that was never sealed sits among sealed ones"))
    missing.extend(event_id for event_id, _, _ in leaves[cursor:] if event_id <= sealed_upto)
    if missing:
        tail = len(missing) >= 1 and missing == [leaf[0] for leaf in leaves if leaf[0] >= missing[0]]
        for event_id in missing:
            problems.append(Problem("truncated" if tail else "deleted", event_id,
                                    "the sealed tail of the log is gone" if tail else "a sealed row is gone"))
            if tail:
                break
    for row, stored in mismatched:
        partner = next((other for other, other_stored in mismatched
                        if other is not row and _swapped(other, row, stored)), None)
        if partner is not None:
            problems.append(Problem("reordered", row["id"], f"holds the content sealed for event {partner['id']}"))
        else:
            problems.append(Problem("edited", row["id"], "the row no longer hashes to its sealed leaf"))

    # Signed checkpoints: signature, then the root of the stored leaves at that size.
    if tree is not None and tree.size > len(all_leaves):
        problems.append(Problem("truncated", None, f"the log holds {len(all_leaves)} leaves; {tree.size} were sealed"))
    edge = Frontier()
    for checkpoint in await AuditCheckpoint.filter(tenant_id=tenant_id).order_by("tree_size"):
        report.checkpoints_checked += 1
        size = checkpoint.tree_size
        covered = all_leaves[size - 1][0] if 0 < size <= len(all_leaves) else checkpoint.last_event_id
        text = signing.note(tenant_id, size, bytes(checkpoint.root_hash), checkpoint.signed_at)
        public = signing.public_for(checkpoint.key_id)
        if public is None:
            problems.append(Problem("unknown_key", covered,
                                    f"checkpoint of size {size}: signed with key {checkpoint.key_id}, which is "
                                    f"neither the current signing key ({signing.key_id()}) nor in "
                                    "ORDERGRAPH_AUDIT_PREVIOUS_PUBLIC_KEYS"))
            continue
        if not signing.verify_note(public, text, bytes(checkpoint.signature)):
            problems.append(Problem("forged_checkpoint", covered,
                                    f"checkpoint of size {size}: the signature does not verify"))
            continue
        if size > len(all_leaves):
            problems.append(Problem("truncated", None,
                                    f"checkpoint of size {size} (up to event {checkpoint.last_event_id}) but "
                                    f"only {len(all_leaves)} leaves remain"))
            continue
        first_new = all_leaves[edge.size][0] if edge.size < size else covered
        while edge.size < size:
            edge.append(all_leaves[edge.size][2])
        if edge.root() != bytes(checkpoint.root_hash):
            problems.append(Problem("root_mismatch", first_new,
                                    f"the leaves no longer give the root signed at size {size}"))
    return report


async def _checkpoint_at(tenant_id: int, size: int) -> AuditCheckpoint | None:
    return await AuditCheckpoint.filter(tenant_id=tenant_id, tree_size=size).first()


def event_record(row: dict[str, Any]) -> dict[str, Any]:
    """An event as ``tools/verify_lineage.py`` reads it: the canonical fields, time as ISO-8601 UTC."""
    return {"record": "event", **{name: row.get(name) for name in FIELDS}, "created_at": utc_text(row["created_at"])}


def checkpoint_json(checkpoint: AuditCheckpoint | None) -> dict[str, Any] | None:
    """A checkpoint as the offline verifier reads it."""
    if checkpoint is None:
        return None
    return {"record": "checkpoint", "tenant_id": checkpoint.tenant_id, "tree_size": checkpoint.tree_size,
            "root_hash": b64(bytes(checkpoint.root_hash)), "last_event_id": checkpoint.last_event_id,
            "signed_at": utc_text(checkpoint.signed_at),
            "key_id": checkpoint.key_id, "signature": b64(bytes(checkpoint.signature))}


async def _size(tenant_id: int, tree_size: int | None) -> int:
    if tree_size is not None:
        return tree_size
    latest = await AuditCheckpoint.filter(tenant_id=tenant_id).order_by("-tree_size").first()
    if latest is None:
        raise NotFound("no signed checkpoint yet for this tenant")
    return latest.tree_size


@dataclass
class InclusionProof:
    tenant_id: int
    event_id: int
    index: int
    tree_size: int
    leaf_hash: str
    path: list[str]
    root_hash: str
    checkpoint: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        return {"record": "inclusion", **asdict(self)}


@dataclass
class ConsistencyProof:
    tenant_id: int
    first: int
    second: int
    path: list[str]
    first_root: str
    second_root: str
    first_checkpoint: dict[str, Any] | None
    second_checkpoint: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        return {"record": "consistency", **asdict(self)}


async def inclusion_proof(tenant_id: int, event_id: int, tree_size: int | None = None) -> InclusionProof:
    """RFC 6962 §2.1.1: the audit path of ``event_id`` in the tenant's tree of ``tree_size`` (default: latest
    checkpoint)."""
    size = await _size(tenant_id, tree_size)
    hashes = await store.leaves(tenant_id, size)
    if size <= 0 or size > len(hashes):
        raise ValidationFailed(f"the log has {len(hashes)} sealed leaves; tree size {size} is not available",
                               field="treeSize")
    index = next((i for event, i, _ in hashes if event == event_id), None)
    if index is None:
        raise NotFound(f"event {event_id} is not sealed within tree size {size}")
    leaves = [leaf for _, _, leaf in hashes]
    return InclusionProof(tenant_id=tenant_id, event_id=event_id, index=index, tree_size=size,
                          leaf_hash=b64(leaves[index]), path=[b64(h) for h in inclusion_path(index, leaves)],
                          root_hash=b64(root_of(leaves)), checkpoint=checkpoint_json(await _checkpoint_at(tenant_id, size)))


async def consistency_proof(tenant_id: int, size1: int, size2: int | None = None) -> ConsistencyProof:
    """RFC 6962 §2.1.2: proof that the tree of ``size1`` is a prefix of the tree of ``size2``."""
    second = await _size(tenant_id, size2)
    hashes = await store.leaves(tenant_id, second)
    if not 0 < size1 <= second or second > len(hashes):
        raise ValidationFailed(f"sizes must satisfy 0 < from <= to <= {len(hashes)}", field="from")
    leaves = [leaf for _, _, leaf in hashes]
    return ConsistencyProof(tenant_id=tenant_id, first=size1, second=second,
                            path=[b64(h) for h in consistency_path(size1, leaves)],
                            first_root=b64(root_of(leaves[:size1])), second_root=b64(root_of(leaves)),
                            first_checkpoint=checkpoint_json(await _checkpoint_at(tenant_id, size1)),
                            second_checkpoint=checkpoint_json(await _checkpoint_at(tenant_id, second)))
