"""One order's evidence pack: the zip a merchant hands a platform in a dispute.

    data = await build_pack(actor, "OG000000042")
    Path("OG000000042.zip").write_bytes(data)

Holds ``timeline.pdf``, ``lineage.jsonl`` with its ``manifest.json``, the raw
inbound payloads (``payloads/<sha256>.json``), the ERP/WMS requests and
answers (``exchanges.json``), the carrier scans (``carrier_scans.json``), the
inclusion proofs of every event when the audit log has them (``proofs.json``)
and ``contents.json`` (every file's SHA-256). Personal data is masked unless
the caller's role sees it in clear (then payloads are the bytes as received).
``lineage.jsonl`` and ``manifest.json`` are an export like any other (sealed
rows, checkpoint, multiproof): ``tools/verify_lineage.py --pack FILE.zip``.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import zipfile
from dataclasses import asdict, is_dataclass
from typing import Any

from domain.actor import Actor
from domain.errors import DomainError
from domain.lineage.export import export_lineage, record_export
from domain.lineage.pdf import order_html, render_pdf
from domain.lineage.records import decode_body, mask_payload
from domain.lineage.scope import Scope, order_scope
from domain.order_numbers import order_number
from models import InboundPayload, OrderEvent, SystemExchange, TrackingEvent


def _dump(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str).encode()


def _body(text: str, clear: bool) -> Any:
    if clear or not text:
        return text
    try:
        return mask_payload(json.loads(text))
    except ValueError:
        return text


async def exchanges(scope: Scope, clear: bool) -> list[dict[str, Any]]:
    rows = await SystemExchange.filter(tenant_id=scope.tenant_id, order_id=scope.order_id).order_by("id")
    return [{"id": row.id, "system": row.system, "operation": row.operation, "direction": row.direction,
             "method": row.method, "url": row.url, "request": _body(row.request_body, clear),
             "status_code": row.status_code, "response": _body(row.response_body, clear), "outcome": row.outcome,
             "error": row.error, "elapsed_ms": row.elapsed_ms, "at": row.created_at.isoformat()} for row in rows]


async def carrier_scans(scope: Scope) -> list[dict[str, Any]]:
    rows = await (TrackingEvent.filter(shipment__order_id=scope.order_id, shipment__order__tenant_id=scope.tenant_id)
                  .order_by("occurred_at", "id").prefetch_related("shipment"))
    return [{"id": row.id, "carrier": row.shipment.carrier, "tracking_no": row.shipment.tracking_no,
             "status": row.status, "raw_code": row.raw_code, "description": row.description, "location": row.location,
             "occurred_at": row.occurred_at.isoformat(), "time_inferred": row.time_inferred, "source": row.source}
            for row in rows]


async def payload_files(scope: Scope, clear: bool) -> dict[str, bytes]:
    refs = await (OrderEvent.filter(tenant_id=scope.tenant_id, order_id=scope.order_id, payload_ref__startswith="sha256:")
                  .values_list("payload_ref", flat=True))
    digests = sorted({str(ref).split(":", 1)[1] for ref in refs})
    files: dict[str, bytes] = {}
    for item in await InboundPayload.filter(tenant_id=scope.tenant_id, sha256__in=digests):
        body = bytes(item.body)
        if clear:
            files[f"payloads/{item.sha256}.raw"] = body
        else:
            files[f"payloads/{item.sha256}.json"] = _dump({"sha256": item.sha256, "kind": item.kind, "source": item.source,
                                                          "received_at": item.received_at, "masked": True,
                                                          "body": decode_body(body, False)})
    return files


async def proofs(scope: Scope) -> list[dict[str, Any]] | None:
    """Inclusion proofs of the order's events, when the audit log (issue 17 part 1) exists and holds them."""
    try:
        from domain.audit import verify
    except ImportError:
        return None
    prove = getattr(verify, "inclusion_proof", None)
    if prove is None:
        return None
    ids = await OrderEvent.filter(tenant_id=scope.tenant_id, order_id=scope.order_id).order_by("id").values_list("id", flat=True)
    found: list[dict[str, Any]] = []
    for event_id in ids:
        try:
            proof = await prove(scope.tenant_id, event_id, None)
        except DomainError as failed:  # not sealed yet: said so, the pack is still made
            found.append({"event_id": event_id, "error": str(failed)[:200]})
            continue
        found.append({"event_id": event_id, "proof": asdict(proof) if is_dataclass(proof) else proof})
    return found


async def build_pack(actor: Actor, number: str | int) -> bytes:
    """The zip's bytes."""
    scope = await order_scope(actor, number)
    clear = actor.sees_personal_data
    body = io.BytesIO()
    manifest = await export_lineage(actor, scope, "jsonl", body.write, record_event=False)
    files: dict[str, bytes] = {"lineage.jsonl": body.getvalue(), "manifest.json": _dump(manifest)}
    html = await order_html(actor, scope)
    files["timeline.pdf"] = await asyncio.to_thread(render_pdf, html)
    files.update(await payload_files(scope, clear))
    files["exchanges.json"] = _dump(await exchanges(scope, clear))
    files["carrier_scans.json"] = _dump(await carrier_scans(scope))
    found = await proofs(scope)
    if found is not None:
        files["proofs.json"] = _dump(found)
    contents = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}
    files["contents.json"] = _dump({"order": order_number(scope.order_id or 0), "files": contents})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    await record_export(actor, "lineage.exported", {**scope.params(), "format": "pack"},
                        {"count": manifest["count"], "last_id": manifest["last_id"], "files": len(files)})
    return out.getvalue()
