"""A tracking provider's push through the pipeline (see ``domain.inbound.pipeline``), answered in its own format.

    answer = await receive_carrier(tenant_id, "kuaidi100", account, body, headers, formats=FORMATS)

A push for a waybill we do not know yet is parked in the quarantine and
acknowledged (the provider would otherwise retry for days), and replayed by
``retry_parked_tracking`` from the maintenance loop.
"""

from __future__ import annotations

from collections.abc import Mapping

from domain.actor import Actor
from domain.inbound import payloads, quarantine
from domain.inbound.formats import Formats
from domain.inbound.normalized import PayloadError
from domain.inbound.pipeline import Answer, Replay, quarantined
from domain.tracking.carrier_pushes import (
    TrackingOutcome,
    apply_tracking,
    carrier_actor,
)
from models import CarrierAccount, QuarantinedPayload


async def receive_carrier(
    tenant_id: int,
    provider: str,
    account: CarrierAccount | None,
    body: bytes,
    headers: Mapping[str, str],
    *,
    formats: Formats,
    mapping_max_age: float = 0.0,
    replay: Replay | None = None,
) -> Answer:
    """Run one tracking push (or a quarantined one) through the pipeline; answers in the provider's format."""
    headers = formats.keep(headers)
    wire_format = formats.carriers.get(provider)
    if account is None or wire_format is None:
        reason = f"no {provider} account is registered" if wire_format else f"unknown tracking provider {provider!r}"
        reply = wire_format.reply(False, reason, None, None) if wire_format else None
        return await quarantined(tenant_id, "carrier", provider, body, headers, "unknown_provider", reason, "", 404,
                                 False, replay, reply=reply)
    config = account.config or {}
    try:
        form = wire_format.decode(body)
    except PayloadError as error:
        return await quarantined(tenant_id, "carrier", provider, body, headers, "malformed", error.reason,
                                 error.field, 400, False, replay,
                                 reply=wire_format.reply(False, error.reason, config, None))
    verified = bool(replay and replay.row.verified)
    if not verified and not wire_format.verify(account.secret, body, headers, form):
        if replay:
            await quarantine.still_failing(replay.row, "signature", "signature does not match")
        kind, raw = wire_format.reply(False, "invalid signature", config, form)
        return Answer(401, {"status": "unauthorized"}, "unauthorized", content_type=kind, raw=raw)
    if replay:
        payload_id, payload_sha = replay.row.payload_id, replay.row.payload.sha256  # type: ignore[attr-defined]
    else:
        payload_id, payload_sha = await payloads.store(tenant_id, "carrier", provider, body, headers,
                                                       headers.get("content-type", ""))
    try:
        pushes = wire_format.parse(body, form)
    except PayloadError as error:
        malformed = "JSON" in error.reason or error.field in ("$", "")
        return await quarantined(tenant_id, "carrier", provider, body, headers,
                                 "malformed" if malformed else "invalid_payload", error.reason, error.field,
                                 400 if malformed else 422, True, replay,
                                 reply=wire_format.reply(False, error.reason, config, form))
    actor = carrier_actor(tenant_id, provider)
    results = [await apply_tracking(actor, push, payload_sha256=payload_sha, mapping_max_age=mapping_max_age)
               for push in pushes]
    order_ids = [r.order_id for r in results if r.order_id]
    parked = [r for r in results if r.outcome in (TrackingOutcome.UNKNOWN_WAYBILL, TrackingOutcome.AMBIGUOUS)]
    summary = {"status": "accepted", "waybills": [
        {"trackingNo": r.tracking_no, "outcome": r.outcome.value, "status": r.status, "newScans": r.new_scans}
        for r in results]}
    kind, raw = wire_format.reply(True, "", config, form)
    if parked:
        numbers = ", ".join(r.tracking_no for r in parked)
        reason = f"waybill not matched to one shipment yet: {numbers}"
        code = "ambiguous_waybill" if any(r.outcome == TrackingOutcome.AMBIGUOUS for r in parked) else "unknown_waybill"
        if replay:
            await quarantine.still_failing(replay.row, code, reason)
            row_id = replay.row.id
        else:
            row = await quarantine.hold(tenant_id=tenant_id, payload_id=payload_id, kind="carrier", source=provider,
                                        reason_code=code, reason=reason, http_status=200, verified=True)
            row_id = row.id
        summary["quarantineId"] = row_id
        return Answer(200, summary, "parked", content_type=kind, raw=raw, quarantine_id=row_id, order_ids=order_ids)
    if replay:
        resolver: Actor = replay.actor or actor
        await quarantine.resolve(resolver, replay.row, {"order_id": next(iter(order_ids), None), "outcome": "applied"})
    return Answer(200, summary, "applied", content_type=kind, raw=raw, order_ids=order_ids)


async def replay_carrier(row: QuarantinedPayload, formats: Formats, replay: Replay) -> Answer:
    """Run a quarantined tracking push again, with today's account and mappings."""
    payload = row.payload
    account = await CarrierAccount.filter(tenant_id=row.tenant_id, provider=row.source).first()  # type: ignore[attr-defined]
    return await receive_carrier(row.tenant_id, row.source, account, bytes(payload.body),  # type: ignore[attr-defined]
                                 dict(payload.headers or {}), formats=formats, replay=replay)


async def retry_parked_tracking(formats: Formats, tenant_id: int | None = None, limit: int = 200) -> int:
    """Replay tracking pushes parked for an unknown waybill (the shipment may exist by now); returns how many resolved."""
    query = QuarantinedPayload.filter(kind="carrier", status=quarantine.OPEN,
                                      reason_code__in=["unknown_waybill", "ambiguous_waybill"])
    if tenant_id is not None:
        query = query.filter(tenant_id=tenant_id)
    resolved = 0
    for row in await query.order_by("id").limit(limit).prefetch_related("payload"):
        answer = await replay_carrier(row, formats, Replay(row))
        if answer.outcome == "applied":
            resolved += 1
    return resolved
