"""Tamper evidence in GraphQL, for auditors and admins.

    query { lineageVerification(fromId: "120000") { ok eventsChecked pending firstProblem { kind eventId detail } } }
    query { lineageCheckpoints(first: 5) { treeSize rootHash lastEventId signedAt keyId signature } }
    query { inclusionProof(eventId: "4711", treeSize: 5000) { index path rootHash json } }
    query { consistencyProof(from: 4000, to: 5000) { path fromRoot toRoot json } }

Hashes and signatures are base64. ``json`` is the proof as ``tools/verify_lineage.py`` reads it (one JSONL
record); the signing key is served at ``GET /audit/public-key``. See docs/audit.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.audit.verify import ConsistencyProof as ConsistencyData
from domain.audit.verify import InclusionProof as InclusionData
from domain.audit.verify import Problem, VerifyReport, b64, checkpoint_json
from models import AuditCheckpoint
from resolvers import audit as resolvers
from schema.connections import AFTER_ARGUMENT, PAGE_ARGUMENT, Connection


@strawberry.type(description="What is wrong with the lineage at one event.")
class LineageProblem:
    kind: str = strawberry.field(description="edited, deleted, truncated, inserted, reordered, forged_checkpoint, "
                                             "unknown_key or root_mismatch")
    event_id: strawberry.ID | None = strawberry.field(description="The event's id (null: not known, e.g. a truncated log).")
    detail: str = strawberry.field(description="What is wrong, in words.")

    @classmethod
    def of(cls, problem: Problem) -> LineageProblem:
        return cls(kind=problem.kind, event_id=strawberry.ID(str(problem.event_id)) if problem.event_id else None,
                   detail=problem.detail)


@strawberry.type(description="The tenant's lineage recomputed against its Merkle log and signed checkpoints.")
class LineageVerification:
    ok: bool = strawberry.field(description="true: every event and checkpoint checked out.")
    events_checked: int = strawberry.field(description="Events recomputed.")
    leaves: int = strawberry.field(description="Leaves in the Merkle log.")
    pending: int = strawberry.field(description="Events committed but not sealed yet (sealing runs after commit).")
    checkpoints_checked: int = strawberry.field(description="Signed checkpoints verified.")
    first_problem: LineageProblem | None = strawberry.field(description="The first problem found; null when ok.")
    problems: list[LineageProblem] = strawberry.field(description="Up to 100 problems, in the order found.")

    @classmethod
    def of(cls, report: VerifyReport) -> LineageVerification:
        first = report.first
        return cls(ok=report.ok, events_checked=report.events_checked, leaves=report.leaves, pending=report.pending,
                   checkpoints_checked=report.checkpoints_checked,
                   first_problem=LineageProblem.of(first) if first else None,
                   problems=[LineageProblem.of(p) for p in report.problems[:100]])


@strawberry.type(description="A signed statement of the tenant's log: its size and Merkle root at a moment.")
class LineageCheckpoint:
    tree_size: int = strawberry.field(description="Leaves (events) the log held when signed.")
    root_hash: str = strawberry.field(description="The Merkle root at that size (base64).")
    last_event_id: strawberry.ID = strawberry.field(description="The last event the log held then.")
    signed_at: datetime = strawberry.field(description="When it was signed (UTC).")
    key_id: str = strawberry.field(description="Which signing key signed it (see `GET /audit/public-key`).")
    signature: str = strawberry.field(description="The signature (base64).")
    json: JSON = strawberry.field(description="The checkpoint as tools/verify_lineage.py reads it.")

    @classmethod
    def of(cls, row: AuditCheckpoint) -> LineageCheckpoint:
        return cls(tree_size=row.tree_size, root_hash=b64(bytes(row.root_hash)),
                   last_event_id=strawberry.ID(str(row.last_event_id)), signed_at=row.signed_at, key_id=row.key_id,
                   signature=b64(bytes(row.signature)), json=checkpoint_json(row))


@strawberry.type(description="Signed checkpoints, largest first, a page at a time.")
class LineageCheckpointConnection(Connection[LineageCheckpoint]):
    pass


@strawberry.type(description="RFC 6962 audit path of one event up to a tree size.")
class InclusionProof:
    event_id: strawberry.ID = strawberry.field(description="The event proven.")
    index: int = strawberry.field(description="The event's leaf index in the log, from 0.")
    tree_size: int = strawberry.field(description="The log size the proof is for.")
    leaf_hash: str = strawberry.field(description="The event's leaf hash (base64).")
    path: list[str] = strawberry.field(description="The audit path, leaf to root (base64 hashes).")
    root_hash: str = strawberry.field(description="The Merkle root at `treeSize` (base64).")
    signed_at: str | None = strawberry.field(description="When the checkpoint of this size was signed (null: none).")
    json: JSON = strawberry.field(description="The proof as tools/verify_lineage.py reads it.")

    @classmethod
    def of(cls, proof: InclusionData) -> InclusionProof:
        return cls(event_id=strawberry.ID(str(proof.event_id)), index=proof.index, tree_size=proof.tree_size,
                   leaf_hash=proof.leaf_hash, path=proof.path, root_hash=proof.root_hash,
                   signed_at=proof.checkpoint["signed_at"] if proof.checkpoint else None, json=proof.to_json())


@strawberry.type(description="RFC 6962 proof that the log at size `from` is a prefix of the log at size `to`.")
class ConsistencyProof:
    from_size: int = strawberry.field(description="The smaller log size.", name="from")
    to_size: int = strawberry.field(description="The larger log size.", name="to")
    path: list[str] = strawberry.field(description="The consistency path (base64 hashes).")
    from_root: str = strawberry.field(description="The Merkle root at `from` (base64).")
    to_root: str = strawberry.field(description="The Merkle root at `to` (base64).")
    json: JSON = strawberry.field(description="The proof as tools/verify_lineage.py reads it.")

    @classmethod
    def of(cls, proof: ConsistencyData) -> ConsistencyProof:
        return cls(from_size=proof.first, to_size=proof.second, path=proof.path, from_root=proof.first_root,
                   to_root=proof.second_root, json=proof.to_json())


@strawberry.type
class AuditQuery:
    @strawberry.field(description="Recompute the lineage chain (from an event id); auditors and admins.")
    async def lineage_verification(self, info: Info, from_id: Annotated[strawberry.ID | None, strawberry.argument(description="Start at this event id (OrderEvent.eventId); null for the whole log.")] = None) -> LineageVerification:
        return LineageVerification.of(await resolvers.verification(info.context, from_id))

    @strawberry.field(description="The signed checkpoints, largest first, a page at a time; auditors and admins.")
    async def lineage_checkpoints(
        self, info: Info, first: Annotated[int, strawberry.argument(description=PAGE_ARGUMENT)] = 10,
        after: Annotated[str | None, strawberry.argument(description=AFTER_ARGUMENT)] = None,
    ) -> LineageCheckpointConnection:
        return LineageCheckpointConnection.of(await resolvers.checkpoints(info.context, first, after), LineageCheckpoint.of)

    @strawberry.field(description="An event's inclusion proof (default tree size: the newest checkpoint).")
    async def inclusion_proof(self, info: Info, event_id: Annotated[strawberry.ID, strawberry.argument(description="The event's id (OrderEvent.eventId).")], tree_size: Annotated[int | None, strawberry.argument(description="The log size to prove against; the newest checkpoint's if omitted.")] = None) -> InclusionProof:
        return InclusionProof.of(await resolvers.inclusion(info.context, event_id, tree_size))

    @strawberry.field(description="A consistency proof between two tree sizes (default `to`: the newest checkpoint).")
    async def consistency_proof(self, info: Info, from_: Annotated[int, strawberry.argument(description="The smaller log size.", name="from")],
                                to: Annotated[int | None, strawberry.argument(description="The larger log size; the newest checkpoint's if omitted.")] = None) -> ConsistencyProof:
        return ConsistencyProof.of(await resolvers.consistency(info.context, from_, to))
