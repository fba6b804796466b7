"""Streaming a tenant's lineage out as JSONL or CSV, with a manifest, and recording that it was exported.

    scope = await range_scope(actor, date(2026, 11, 30), date(2026, 11, 30), by="placed")
    with open("day.jsonl", "wb") as out:
        manifest = await export_lineage(actor, scope, "jsonl", out.write, progress=lambda done, total: ...)

Rows are read in id order in batches (``id > last``: constant memory however
long the range). The manifest counts events by type, names the first and last
id and the time range, carries the SHA-256 of the body exactly as written, the
signed checkpoint the export is proven against (one is signed first for what is
sealed already) and a multiproof of every sealed record (``domain.lineage.sealing``):
each record carries ``sealed`` — its leaf index and canonical row — so
``tools/verify_lineage.py --export FILE`` verifies it offline. The export itself
is a ``lineage.exported`` event (params and counts).
"""

from __future__ import annotations

import csv
import hashlib
import inspect
import io
import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import events.log
from domain.actor import Actor
from domain.errors import ValidationFailed
from domain.lineage.records import COLUMNS, CSV_FIELDS, decode_body, to_csv_row, to_record
from domain.lineage.scope import EXPORT_ROLES, Scope
from domain.lineage.sealing import CSV_FIELDS as SEALED_CSV_FIELDS
from domain.lineage.sealing import ExportSeals, csv_cells
from domain.unit_of_work import unit_of_work
from models import InboundPayload, OrderEvent

FORMATS = ("jsonl", "csv")
BATCH = 2000
Progress = Callable[[int, int], Any]


def dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


async def count(scope: Scope) -> int:
    return await OrderEvent.filter(**scope.filters()).count()


async def iter_batches(scope: Scope, batch: int = BATCH):  # type: ignore[no-untyped-def]
    """Rows of the scope as ``values()`` dicts, ``batch`` at a time, in id order."""
    last = 0
    while True:
        rows = await (OrderEvent.filter(**scope.filters(), id__gt=last).order_by("id").limit(batch)
                      .values(*COLUMNS))
        if not rows:
            return
        yield rows
        last = rows[-1]["id"]
        if len(rows) < batch:
            return


async def payloads_for(tenant_id: int, rows: list[dict[str, Any]], clear: bool) -> dict[str, Any]:
    """The stored bodies the rows refer to, decoded and masked (one query per batch)."""
    digests = {row["payload_ref"].split(":", 1)[1] for row in rows
               if row.get("payload_ref") and row["payload_ref"].startswith("sha256:")}
    if not digests:
        return {}
    found = await InboundPayload.filter(tenant_id=tenant_id, sha256__in=list(digests)).values("sha256", "body")
    return {item["sha256"]: decode_body(bytes(item["body"]), clear) for item in found}


async def _report(progress: Progress | None, done: int, total: int) -> None:
    """Tell ``progress`` (a plain or an async callable) how far the export is."""
    if progress is not None:
        answer = progress(done, total)
        if inspect.isawaitable(answer):
            await answer


class _Tally:
    """Counts, first/last id and time range of what was written."""

    def __init__(self) -> None:
        self.by_type: Counter[str] = Counter()
        self.first_id: int | None = None
        self.last_id: int | None = None
        self.first_at: str | None = None
        self.last_at: str | None = None

    def add(self, record: dict[str, Any]) -> None:
        self.by_type[record["type"]] += 1
        if self.first_id is None:
            self.first_id, self.first_at = record["id"], record["recorded_utc"]
        self.last_id, self.last_at = record["id"], record["recorded_utc"]
        if self.first_at and record["recorded_utc"] < self.first_at:
            self.first_at = record["recorded_utc"]


async def export_lineage(actor: Actor, scope: Scope, fmt: str, write: Callable[[bytes], Any],
                         progress: Progress | None = None, *, record_event: bool = True) -> dict[str, Any]:
    """Write the scope's events to ``write`` in ``fmt``; return the manifest."""
    if fmt not in FORMATS:
        raise ValidationFailed("format is jsonl or csv", field="format")
    show_payload = actor.role in EXPORT_ROLES
    clear = actor.sees_personal_data
    seals = await ExportSeals.start(scope.tenant_id) if show_payload else None
    total = await count(scope)
    digest = hashlib.sha256()
    tally = _Tally()
    size = 0

    def emit(text: str) -> None:
        nonlocal size
        data = text.encode()
        digest.update(data)
        size += len(data)
        write(data)

    if fmt == "csv":
        header = io.StringIO()
        csv.writer(header).writerow((*CSV_FIELDS, *SEALED_CSV_FIELDS) if seals else CSV_FIELDS)
        emit(header.getvalue())
    done = 0
    await _report(progress, 0, total)
    async for rows in iter_batches(scope):
        payloads = await payloads_for(scope.tenant_id, rows, clear) if show_payload else {}
        records = [to_record(row, scope.zone, payloads, show_payload) for row in rows]
        if seals is not None:
            sealed = await seals.for_rows(rows)
            for record in records:
                record["sealed"] = sealed[record["id"]]
        for record in records:
            tally.add(record)
        if fmt == "jsonl":
            emit("".join(dumps(record) + "\n" for record in records))
        else:
            buffer = io.StringIO()
            csv.writer(buffer).writerows(to_csv_row(record) + (csv_cells(record["sealed"]) if seals else [])
                                         for record in records)
            emit(buffer.getvalue())
        done += len(records)
        await _report(progress, done, max(total, done))
    manifest = {
        "tenant_id": scope.tenant_id,
        "scope": scope.params(),
        "format": fmt,
        "exported_at": datetime.now(UTC).isoformat(),
        "exported_by": actor.name,
        "payloads": "clear" if clear else ("masked" if show_payload else "hash only"),
        "count": done,
        "counts_by_type": dict(sorted(tally.by_type.items())),
        "first_id": tally.first_id,
        "last_id": tally.last_id,
        "first_recorded_utc": tally.first_at,
        "last_recorded_utc": tally.last_at,
        "body_sha256": digest.hexdigest(),
        "body_bytes": size,
    }
    if seals is not None:
        manifest.update(await seals.manifest(tally.last_id, done))
    if record_event:
        await record_export(actor, "lineage.exported", {**scope.params(), "format": fmt},
                            {"count": done, "last_id": tally.last_id, "body_sha256": manifest["body_sha256"]})
    return manifest


async def record_export(actor: Actor, kind: str, params: dict[str, Any], counts: dict[str, Any]) -> None:
    """An export or look-up by an auditor is itself lineage (tenant-wide, not on the order's own timeline)."""
    async with unit_of_work():
        await events.log.append(tenant_id=actor.tenant_id, order_id=None, type=kind, actor=actor.name,
                                source=actor.source, after={"params": params, **counts})
