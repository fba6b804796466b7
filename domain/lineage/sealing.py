"""The sealed part of an export: each record's leaf and canonical row, the checkpoint, one multiproof.

    seals = await ExportSeals.start(tenant_id)       # signs a checkpoint for what is sealed already
    sealed = await seals.for_rows(rows)              # {event id: {"index", "row"}} per batch (None: unsealed)
    manifest.update(await seals.manifest(last_id))   # checkpoint (with its note), proof, sealed/unsealed

Sealing itself is the leader's (``domain.audit.sealer``); an export never seals (``seal_pending`` would step
over gaps): it signs a checkpoint of what is sealed (``checkpoint_now``) and proves against the newest one.
A record whose event is not in that tree is ``unsealed``. Rows whose actor names part of an API key's secret
(``key:og_…`` lineage written before keys had labels) carry their leaf hash instead of the row: ``withheld``.
The proof reads the tenant's leaf hashes [0, n) once, in index order (O(n), O(log n) memory).
"""

from __future__ import annotations

import base64
from typing import Any

from domain.audit import signing
from domain.audit.canonical import FIELDS, canonical, utc_text
from domain.audit.multiproof import RangeRoots, proof_ranges
from domain.audit.sealer import checkpoint_now
from domain.audit.verify import checkpoint_json
from events.actors import public_actor
from models import AuditCheckpoint, AuditLeaf

LEAF_BATCH = 50_000
#: CSV columns after ``records.CSV_FIELDS``: the leaf index, the canonical row as JSON text, a withheld row's leaf.
CSV_FIELDS = ("leaf_index", "sealed_row", "sealed_leaf_hash")


def csv_cells(sealed: dict[str, Any] | None) -> list[str]:
    """The CSV cells of a record's ``sealed`` entry (empty while unsealed)."""
    if sealed is None:
        return ["", "", ""]
    row = sealed.get("row")
    return [str(sealed["index"]), canonical(row).decode() if row is not None else "", sealed.get("leaf_hash", "")]


def canonical_row(row: dict[str, Any]) -> dict[str, Any]:
    """The row as ``canonical.canonical`` serialises it (same keys, ``created_at`` as UTC text)."""
    form = {name: row.get(name) for name in FIELDS}
    form["created_at"] = utc_text(row["created_at"])
    return form


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class ExportSeals:
    """Collects the sealed leaves of one export and proves them against one signed checkpoint."""

    def __init__(self, tenant_id: int, checkpoint: AuditCheckpoint | None) -> None:
        self.tenant_id = tenant_id
        self.checkpoint = checkpoint
        self.size = checkpoint.tree_size if checkpoint else 0
        self.indices: list[int] = []
        self.last_sealed: tuple[int, int] | None = None
        self.unsealed = 0
        self.withheld = 0

    @classmethod
    async def start(cls, tenant_id: int) -> ExportSeals:
        await checkpoint_now(tenant_id)
        latest = await AuditCheckpoint.filter(tenant_id=tenant_id).order_by("-tree_size").first()
        return cls(tenant_id, latest)

    async def for_rows(self, rows: list[dict[str, Any]]) -> dict[int, dict[str, Any] | None]:
        """Each row's ``sealed`` entry, in one query per batch."""
        found: dict[int, tuple[int, bytes]] = {}
        if self.size:
            ids = [row["id"] for row in rows]
            for event_id, index, leaf in await (AuditLeaf.filter(tenant_id=self.tenant_id, event_id__in=ids,
                                                                 index__lt=self.size)
                                                .values_list("event_id", "index", "leaf_hash")):
                found[int(event_id)] = (int(index), bytes(leaf))
        out: dict[int, dict[str, Any] | None] = {}
        for row in rows:
            hit = found.get(row["id"])
            if hit is None:
                self.unsealed += 1
                out[row["id"]] = None
                continue
            index, leaf = hit
            self.indices.append(index)
            self.last_sealed = (row["id"], index)
            if public_actor(row["actor"]) != row["actor"]:
                self.withheld += 1
                out[row["id"]] = {"index": index, "leaf_hash": b64(leaf),
                                  "withheld": "the actor names part of an API key's secret"}
            else:
                out[row["id"]] = {"index": index, "row": canonical_row({**row, "tenant_id": self.tenant_id})}
        return out

    async def proof(self) -> dict[str, Any] | None:
        """``{"tree_size", "hashes"}`` for every sealed leaf of the export (None: no checkpoint yet)."""
        if self.checkpoint is None:
            return None
        roots = RangeRoots(proof_ranges(sorted(self.indices), self.size))
        start = 0
        while start < roots.needed:
            upto = min(start + LEAF_BATCH, roots.needed)
            batch = await (AuditLeaf.filter(tenant_id=self.tenant_id, index__gte=start, index__lt=upto)
                           .order_by("index").values_list("leaf_hash", flat=True))
            if len(batch) != upto - start:
                raise ValueError(f"leaves {start}..{upto - 1} of the log are incomplete")
            roots.feed(bytes(leaf) for leaf in batch)
            start = upto
        return {"tree_size": self.size, "hashes": [b64(h) for h in roots.finish()]}

    async def manifest(self, last_id: int | None, count: int) -> dict[str, Any]:
        """The manifest's ``checkpoint``, ``proof``, ``sealed``, ``unsealed`` and ``withheld``."""
        checkpoint = self.checkpoint
        shown = None
        if checkpoint is not None:
            note = signing.note(self.tenant_id, checkpoint.tree_size, bytes(checkpoint.root_hash),
                                checkpoint.signed_at)
            shown = {**(checkpoint_json(checkpoint) or {}), "note": note.decode(),
                     "leaf_index": self.last_sealed[1] if self.last_sealed and self.last_sealed[0] == last_id else None}
        try:
            proof, error = await self.proof(), None
        except ValueError as broken:  # the leaf table is damaged: ``ordergraph lineage verify`` names it
            proof, error = None, str(broken)
        out = {"checkpoint": shown, "proof": proof, "sealed": count - self.unsealed, "unsealed": self.unsealed,
               "withheld": self.withheld}
        if error:
            out["proof_error"] = error
        return out
