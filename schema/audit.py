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


@strawberry.type(description="What is wrong with the lineage at one event.")
class LineageProblem:
    kind: str = strawberry.field(description="edited, deleted, truncated, inserted, reordered, forged_checkpoint, "
                                             "unknown_key or root_mismatch")
    event_id: strawberry.ID | None = strawberry.field(description="The event's id (null: not known, e.g. a truncated log).")
    detail: str

    @classmethod
    def of(cls, problem: Problem) -> LineageProblem:
        return cls(kind=problem.kind, event_id=strawberry.ID(str(problem.event_id)) if problem.event_id else None,
                   detail=problem.detail)


@strawberry.type(description="The tenant's lineage recomputed against its Merkle log and signed checkpoints.")
class LineageVerification:
    ok: bool
    events_checked: int
    leaves: int
    pending: int = strawberry.field(description="Events committed but not sealed yet (sealing runs after commit).")
    checkpoints_checked: int
    first_problem: LineageProblem | None
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
    tree_size: int
    root_hash: str
    last_event_id: strawberry.ID
    signed_at: datetime
    key_id: str
    signature: str
    json: JSON = strawberry.field(description="The checkpoint as tools/verify_lineage.py reads it.")

    @classmethod
    def of(cls, row: AuditCheckpoint) -> LineageCheckpoint:
        return cls(tree_size=row.tree_size, root_hash=b64(bytes(row.root_hash)),
                   last_event_id=strawberry.ID(str(row.last_event_id)), signed_at=row.signed_at, key_id=row.key_id,
                   signature=b64(bytes(row.signature)), json=checkpoint_json(row))


@strawberry.type(description="RFC 6962 audit path of one event up to a tree size.")
class InclusionProof:
    event_id: strawberry.ID
    index: int
    tree_size: int
    leaf_hash: str
    path: list[str]
    root_hash: str
    signed_at: str | None = strawberry.field(description="When the checkpoint of this size was signed (null: none).")
    json: JSON

    @classmethod
    def of(cls, proof: InclusionData) -> InclusionProof:
        return cls(event_id=strawberry.ID(str(proof.event_id)), index=proof.index, tree_size=proof.tree_size,
                   leaf_hash=proof.leaf_hash, path=proof.path, root_hash=proof.root_hash,
                   signed_at=proof.checkpoint["signed_at"] if proof.checkpoint else None, json=proof.to_json())


@strawberry.type(description="RFC 6962 proof that the log at size `from` is a prefix of the log at size `to`.")
class ConsistencyProof:
    from_size: int = strawberry.field(name="from")
    to_size: int = strawberry.field(name="to")
    path: list[str]
    from_root: str
    to_root: str
    json: JSON

    @classmethod
    def of(cls, proof: ConsistencyData) -> ConsistencyProof:
        return cls(from_size=proof.first, to_size=proof.second, path=proof.path, from_root=proof.first_root,
                   to_root=proof.second_root, json=proof.to_json())


@strawberry.type
class AuditQuery:
    @strawberry.field(description="Recompute the lineage chain (from an event id); auditors and admins.")
    async def lineage_verification(self, info: Info, from_id: strawberry.ID | None = None) -> LineageVerification:
        return LineageVerification.of(await resolvers.verification(info.context, from_id))

    @strawberry.field(description="The newest signed checkpoints, largest first; auditors and admins.")
    async def lineage_checkpoints(self, info: Info, first: int = 10) -> list[LineageCheckpoint]:
        return [LineageCheckpoint.of(row) for row in await resolvers.checkpoints(info.context, first)]

    @strawberry.field(description="An event's inclusion proof (default tree size: the newest checkpoint).")
    async def inclusion_proof(self, info: Info, event_id: strawberry.ID, tree_size: int | None = None) -> InclusionProof:
        return InclusionProof.of(await resolvers.inclusion(info.context, event_id, tree_size))

    @strawberry.field(description="A consistency proof between two tree sizes (default `to`: the newest checkpoint).")
    async def consistency_proof(self, info: Info, from_: Annotated[int, strawberry.argument(name="from")],
                                to: int | None = None) -> ConsistencyProof:
        return ConsistencyProof.of(await resolvers.consistency(info.context, from_, to))
