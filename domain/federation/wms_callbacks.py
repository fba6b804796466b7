"""A WMS's callback (delivery confirmed, stock changed) through the inbound pipeline, answered in its own format.

    answer = await receive_wms_callback(tenant_id, "SH", body, headers, query, systems=SYSTEMS)

The order of checks follows ``domain.inbound.pipeline``:

1. a warehouse we do not know, or one no WMS runs → 404, kept in the quarantine;
2. the warehouse's WMS adapter verifies and reads it; unsigned or badly
   signed → 401, malformed → 400, not what the interface allows → 422, each
   kept in the quarantine with the reason and the field, and answered in the
   WMS's own failure shape;
3. the body is kept (content-addressed) and the exchange kept as evidence;
4. codes, warehouses and SKUs are checked against what we know (422 when wrong);
5. confirmations ship the order's lines (``wms_shipping``), stock changes go
   to the ledger (``wms_stock``); each is idempotent, so a repeat changes nothing;
6. a confirmation for a delivery order we do not know yet is parked (answered
   success, so the WMS stops retrying) and replayed by ``retry_parked_wms``
   from the maintenance loop — like a carrier push for an unknown waybill;
   one the order cannot take, or a stock loss larger than what is not
   promised, raises an alert and is kept (``conflict``) for a person to
   replay once fixed (replays are idempotent).

Query parameters (where Qimen carries its signature) are kept with the body
so a replay verifies exactly what arrived.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from domain.actor import Actor, Role
from domain.alerts.raising import raise_alert
from domain.federation.connections import connection_key, wms_for
from domain.federation.evidence import keep, ref
from domain.federation.ports import Callback, CallbackRefused, Exchange, Systems
from domain.federation.wms_shipping import CONFLICT, UNKNOWN, ConfirmOutcome, apply_confirmation
from domain.federation.wms_stock import CONFLICT as STOCK_CONFLICT
from domain.federation.wms_stock import ChangeOutcome, apply_stock_changes, unknown_skus
from domain.inbound import payloads, quarantine
from domain.inbound.pipeline import Answer, Replay, quarantined
from domain.unit_of_work import unit_of_work
from models import DeliveryOrder, QuarantinedPayload, SystemConnection, Warehouse, WarehouseSystems

KIND = "wms"
QUERY_HEADER = "x-ordergraph-query"
PARKED = "unknown_delivery_order"
CONFLICT_ALERT = "wms_confirm_conflict"
_KEPT_HEADERS = ("content-type", "user-agent")


def wms_actor(tenant_id: int, connection: SystemConnection) -> Actor:
    """The WMS as it appears in lineage: ``wms:<connection code>``."""
    return Actor(tenant_id=tenant_id, role=Role.SERVICE, name=f"wms:{connection.code}"[:100], source="wms")


def kept_headers(headers: Mapping[str, str], query: Mapping[str, str]) -> dict[str, str]:
    """What is stored with the body: content type, signature headers, and the query string (Qimen signs it)."""
    kept = {name.lower(): value[:1000] for name, value in headers.items()
            if name.lower() in _KEPT_HEADERS or "sign" in name.lower()}
    if query:
        kept[QUERY_HEADER] = urlencode(list(query.items()))[:4000]
    return kept


async def receive_wms_callback(tenant_id: int, warehouse_code: str, body: bytes, headers: Mapping[str, str],
                               query: Mapping[str, str], *, systems: Systems, replay: Replay | None = None) -> Answer:
    """Run one WMS callback (or a quarantined one) through the pipeline (see the module docstring)."""
    kept = kept_headers(headers, query)
    warehouse = await Warehouse.filter(tenant_id=tenant_id, code=warehouse_code).first()
    running = await wms_for(warehouse.id) if warehouse else None
    if warehouse is None or running is None:
        reason = f"no warehouse {warehouse_code!r}" if warehouse is None else f"no WMS runs warehouse {warehouse_code}"
        return await quarantined(tenant_id, KIND, warehouse_code, body, kept, "unknown_warehouse", reason, "warehouse",
                                 404, False, replay)
    connection, link = running
    try:
        wms = systems.wms(connection.adapter, connection.config, key=connection_key(connection))
    except ValueError as error:  # the stored config no longer reads: keep the body until someone fixes it
        return await quarantined(tenant_id, KIND, warehouse_code, body, kept, "bad_connection",
                                 f"WMS connection {connection.code}: {error}", "config", 503, False, replay)
    try:
        callback = wms.read_callback(body, headers, query)
    except CallbackRefused as refusal:
        code = "signature" if refusal.status in (401, 403) else ("malformed" if refusal.status == 400 else "invalid_payload")
        if code != "signature":  # signed by the WMS and still unusable: a failed callback of that system
            await _keep_exchange(tenant_id, connection, warehouse_code, Callback(), wms.reply(False, refusal.reason)[1],
                                 status=refusal.status, error=refusal.reason)
        return await quarantined(tenant_id, KIND, warehouse_code, body, kept, code, refusal.reason, refusal.field,
                                 refusal.status, code != "signature", replay, reply=wms.reply(False, refusal.reason))
    problem = await _check(tenant_id, link, callback)
    if problem is not None:
        reason, field = problem
        await _keep_exchange(tenant_id, connection, warehouse_code, callback, wms.reply(False, reason)[1],
                             status=422, error=reason)
        return await quarantined(tenant_id, KIND, warehouse_code, body, kept, "invalid_payload", reason, field, 422,
                                 True, replay, reply=wms.reply(False, reason))
    if replay:
        payload_id, sha = replay.row.payload_id, replay.row.payload.sha256  # type: ignore[attr-defined]
    else:
        payload_id, sha = await payloads.store(tenant_id, KIND, warehouse_code, body, kept, kept.get("content-type", ""))
    content_type, reply = wms.reply(True, "")
    actor = wms_actor(tenant_id, connection)
    evidence_ref = await _keep_exchange(tenant_id, connection, warehouse_code, callback, reply)
    confirmed: list[ConfirmOutcome] = [
        await apply_confirmation(actor, warehouse.id, confirmation, evidence_ref=evidence_ref,
                                 payload_ref=payloads.ref(sha))
        for confirmation in callback.confirmations]
    changed: list[ChangeOutcome] = (await apply_stock_changes(actor, warehouse.id, callback.stock_changes,
                                                              evidence_ref=evidence_ref)
                                    if callback.stock_changes else [])
    await _raise_conflicts(actor, confirmed)
    summary: dict[str, Any] = {
        "status": "accepted", "evidence": evidence_ref,
        "confirmations": [{"code": c.code, "outcome": c.outcome, "reason": c.reason} for c in confirmed],
        "stockChanges": [{"sku": c.sku, "reference": c.reference, "outcome": c.outcome} for c in changed],
    }
    order_ids = [c.order_id for c in confirmed if c.order_id]
    parked = [c.code for c in confirmed if c.outcome == UNKNOWN]
    refused = [f"{c.code}: {c.reason}" for c in confirmed if c.outcome == CONFLICT] + \
              [f"{c.sku} {c.reference}: {c.reason}" for c in changed if c.outcome == STOCK_CONFLICT]
    if parked or refused:
        # Acknowledged (the WMS retrying cannot help), kept for a retry or for a person to replay once fixed.
        code, reason = (PARKED, "delivery order not known yet: " + ", ".join(parked)) if parked else \
            (CONFLICT, "not applied: " + "; ".join(refused))
        if replay:
            await quarantine.still_failing(replay.row, code, reason)
            row_id = replay.row.id
        else:
            row = await quarantine.hold(tenant_id=tenant_id, payload_id=payload_id, kind=KIND, source=warehouse_code,
                                        reason_code=code, reason=reason, http_status=200, verified=True)
            row_id = row.id
        summary["quarantineId"] = row_id
        return Answer(200, summary, "parked" if parked else "conflict", content_type=content_type, raw=reply,
                      quarantine_id=row_id, order_ids=order_ids)
    if replay:
        await quarantine.resolve(replay.actor or actor, replay.row,
                                 {"order_id": next(iter(order_ids), None), "outcome": "applied"})
    return Answer(200, summary, "applied", content_type=content_type, raw=reply, order_ids=order_ids)


async def _check(tenant_id: int, link: WarehouseSystems, callback: Callback) -> tuple[str, str] | None:
    """A reason and field when the callback names another warehouse or SKUs the catalogue does not have."""
    expected = link.wms_warehouse_code
    for index, confirmation in enumerate(callback.confirmations):
        if expected and confirmation.warehouse_code != expected:
            return (f"confirmation for warehouse {confirmation.warehouse_code!r} sent to the address of {expected!r}",
                    f"confirmations[{index}].warehouseCode")
    for index, item in enumerate(callback.stock_changes):
        if expected and item.warehouse_code != expected:
            return (f"stock change for warehouse {item.warehouse_code!r} sent to the address of {expected!r}",
                    f"stockChanges[{index}].warehouseCode")
    missing = await unknown_skus(tenant_id, callback.stock_changes)
    if missing:
        return f"unknown SKU {', '.join(missing[:5])}: add the item to the catalogue, then replay", "itemCode"
    return None


async def _keep_exchange(tenant_id: int, connection: SystemConnection, warehouse_code: str, callback: Callback,
                         reply: bytes, *, status: int = 200, error: str = "") -> str | None:
    """The callback as evidence (redacted by the adapter), linked to the first order it confirms."""
    exchange = Exchange(system="wms", operation=callback.operation or "callback", method="POST",
                        url=f"/hooks/…/wms/{warehouse_code}", request_body=callback.evidence, status_code=status,
                        response_body=reply.decode("utf-8", "replace"), outcome="error" if error else "ok",
                        elapsed_ms=0.0, error=error[:500], direction="in")
    codes = [c.code for c in callback.confirmations]
    order_id = await DeliveryOrder.filter(tenant_id=tenant_id, code__in=codes).first().values_list("order_id", flat=True) \
        if codes else None
    ids = await keep(tenant_id, connection, [exchange], order_id=order_id)  # type: ignore[arg-type]
    return ref(ids[-1]) if ids else None


async def _raise_conflicts(actor: Actor, confirmed: list[ConfirmOutcome]) -> None:
    """A confirmation the order could not take: a person must look (the WMS shipped something we did not expect)."""
    for outcome in confirmed:
        if outcome.outcome != CONFLICT:
            continue
        async with unit_of_work():
            await raise_alert(tenant_id=actor.tenant_id, order_id=outcome.order_id, kind=CONFLICT_ALERT,
                              severity="critical", message=f"WMS confirmation of {outcome.code} not applied: {outcome.reason}",
                              details={"code": outcome.code}, actor=actor.name, source=actor.source)


async def replay_wms(row: QuarantinedPayload, systems: Systems, replay: Replay) -> Answer:
    """Run a quarantined WMS callback again, with today's connections and delivery orders."""
    payload = row.payload  # type: ignore[attr-defined]
    stored = dict(payload.headers or {})
    query = dict(parse_qsl(stored.get(QUERY_HEADER, ""), keep_blank_values=True))
    headers = {name: value for name, value in stored.items() if name != QUERY_HEADER}
    return await receive_wms_callback(row.tenant_id, row.source, bytes(payload.body), headers, query,  # type: ignore[attr-defined]
                                      systems=systems, replay=replay)


async def retry_parked_wms(systems: Systems, tenant_id: int | None = None, limit: int = 200) -> int:
    """Replay callbacks parked for a delivery order we did not know (it may exist by now); how many resolved."""
    query = QuarantinedPayload.filter(kind=KIND, status=quarantine.OPEN, reason_code=PARKED)
    if tenant_id is not None:
        query = query.filter(tenant_id=tenant_id)
    resolved = 0
    for row in await query.order_by("id").limit(limit).prefetch_related("payload"):
        answer = await replay_wms(row, systems, Replay(row))
        if answer.outcome == "applied":
            resolved += 1
    return resolved

