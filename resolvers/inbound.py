"""The inbound pipeline shared by the webhook endpoints and the admin replay: verify, keep, parse, apply.

    answer = await receive_channel(tenant_id, "tmall", channel, body, headers)
    answer.http_status, answer.body        # 200 {"status": "created", "order": "OG000000042", ...}

Order of checks, so nothing is lost and nothing unauthenticated is applied:

1. unknown channel / carrier account → the body is kept in the quarantine
   (unverified) and answered 404;
2. signature → 401, nothing stored (the caller counts it);
3. the body is kept, content-addressed (``InboundPayload``);
4. undecodable body → 400, payload not matching the parser or mapping → 422,
   both quarantined with the reason and the field;
5. the domain use case applies it; a tracking push for a waybill we do not
   know yet is parked in the quarantine and acknowledged (the carrier would
   otherwise retry for days), and retried by the periodic check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from adapters import standard_webhooks, wire
from adapters.carriers import PARSERS as CARRIER_PARSERS
from adapters.carriers import aftership, kdniao, kuaidi100
from adapters.channels import PARSERS as CHANNEL_PARSERS
from adapters.channels import amazon, generic, shopify
from adapters.normalized import InboundOrder, InboundTracking, PayloadError
from domain import payloads, quarantine
from domain.intake import Arrival, apply_order, channel_actor
from domain.intake_sources import GENERIC_KIND, channel_mapping
from domain.tracking_intake import TrackingOutcome, apply_tracking, carrier_actor
from models import CarrierAccount, Channel, QuarantinedPayload
from models.order import order_no

#: Headers kept with a payload: what identifies, signs or describes it (never cookies or API keys).
KEPT_HEADERS = frozenset({
    "content-type", "user-agent",
    "x-shopify-hmac-sha256", "x-shopify-webhook-id", "x-shopify-event-id", "x-shopify-topic",
    "x-shopify-shop-domain", "x-shopify-triggered-at", "x-shopify-api-version",
    standard_webhooks.ID_HEADER, standard_webhooks.TIMESTAMP_HEADER, standard_webhooks.SIGNATURE_HEADER,
    aftership.SIGNATURE_HEADER.lower(), "x-request-id", "x-delivery-via",
})


def kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value[:1000] for name, value in headers.items() if name.lower() in KEPT_HEADERS}


@dataclass(slots=True)
class Answer:
    """What to send back, and what happened (for metrics and the replay mutation)."""

    http_status: int
    body: dict[str, Any]
    outcome: str
    content_type: str = "application/json"
    raw: bytes | None = None
    quarantine_id: int | None = None
    order_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Replay:
    """A quarantined payload being replayed: its row, and whether its signature was checked on arrival."""

    row: QuarantinedPayload
    actor: Any = None


# ------------------------------------------------------------------ channels


def verify_channel(channel: Channel, body: bytes, headers: Mapping[str, str], *, tolerance: int | None) -> str | None:
    """``None`` when authentic, else why not. Shopify signs its own way; everyone else uses Standard Webhooks."""
    if not channel.secret:
        return "the channel has no secret; set one before sending webhooks"
    if channel.kind == shopify.SOURCE:
        if shopify.verify(body, channel.secret, headers.get("x-shopify-hmac-sha256", "")):
            return None
        return "X-Shopify-Hmac-Sha256 does not match the body"
    if standard_webhooks.verify(channel.secret, headers, body, tolerance=tolerance):
        return None
    return "webhook-signature does not match, or webhook-timestamp is missing or more than 5 minutes off"


def delivery_id(channel: Channel, headers: Mapping[str, str]) -> str:
    if channel.kind == shopify.SOURCE:
        return headers.get("x-shopify-webhook-id", "")
    return headers.get(standard_webhooks.ID_HEADER, "")


class BadMapping(Exception):
    """The channel's configured mapping cannot be used (fix it, then replay)."""


def parse_channel_order(channel: Channel, body: bytes, headers: Mapping[str, str]) -> InboundOrder:
    """Decode and parse with the channel's adapter; ``PayloadError`` for a bad payload, ``BadMapping`` for bad config."""
    topic = headers.get("x-shopify-topic", "")
    if channel.kind == shopify.SOURCE and topic and not topic.startswith("orders/"):
        raise PayloadError(f"topic {topic!r} is not an order topic", field="X-Shopify-Topic")
    payload = wire.load_json(body)
    if not isinstance(payload, dict):
        raise PayloadError(f"expected a JSON object, got {wire.describe(payload)}", field="$")
    if channel.kind == GENERIC_KIND:
        mapping = channel_mapping(channel)
        if not mapping:
            raise BadMapping("the generic channel has no field mapping")
        try:
            generic.check_mapping(mapping)
        except ValueError as error:
            raise BadMapping(str(error)) from None
        return generic.parse_order(payload, mapping)
    if channel.kind == "taobao" and "topic" in payload and "content" in payload:
        raise PayloadError("a TMC message only announces a change: fetch the trade (taobao.trade.fullinfo.get) "
                           "and post it", field="content")
    if channel.kind == amazon.SOURCE and "order" in payload and "items" in payload:
        payload = amazon.combine(payload["order"], payload["items"])
    parser = CHANNEL_PARSERS.get(channel.kind)
    if parser is None:
        raise BadMapping(f"no parser for channel kind {channel.kind!r}")
    return parser(payload)


async def receive_channel(
    tenant_id: int,
    channel_code: str,
    channel: Channel | None,
    body: bytes,
    headers: Mapping[str, str],
    *,
    tolerance: int | None = standard_webhooks.DEFAULT_TOLERANCE,
    mapping_max_age: float = 0.0,
    replay: Replay | None = None,
) -> Answer:
    """Run one channel delivery (or a quarantined one, ``replay``) through the pipeline."""
    headers = kept_headers(headers)
    if channel is None:
        return await _quarantine(tenant_id, "channel", channel_code, body, headers, "unknown_channel",
                                 f"no channel {channel_code!r} is registered", "", 404, False, replay)
    verified = bool(replay and replay.row.verified)
    if not verified:
        problem = verify_channel(channel, body, headers, tolerance=None if replay else tolerance)
        if problem:
            if replay:
                await quarantine.still_failing(replay.row, "signature", problem)
            return Answer(401, {"status": "unauthorized", "reason": problem}, "unauthorized")
    via = "replay" if replay else ("poller" if headers.get("x-delivery-via") == "poller" else "webhook")
    try:
        inbound = parse_channel_order(channel, body, headers)
        # The body is kept inside the applying transaction (with the delivery id, one round trip).
        result = await apply_order(
            channel_actor(tenant_id, channel.code, via), channel, inbound,
            Arrival(payload_sha256=payloads.sha256_hex(body), delivery_id=delivery_id(channel, headers)[:128],
                    via=via, body=body, headers=dict(headers)),
            mapping_max_age=mapping_max_age,
        )
    except BadMapping as error:
        return await _quarantine(tenant_id, "channel", channel.code, body, headers, "bad_mapping", str(error),
                                 "mapping", 422, True, replay)
    except PayloadError as error:
        malformed = error.field in ("$", "") and "JSON" in error.reason
        return await _quarantine(tenant_id, "channel", channel.code, body, headers,
                                 "malformed" if malformed else "invalid_payload", error.reason, error.field,
                                 400 if malformed else 422, True, replay)
    answer = {"status": result.outcome.value, "order": order_no(result.order_id) if result.order_id else None,
              "orderStatus": result.status}
    if replay:
        await quarantine.resolve(replay_actor(replay), replay.row, {"order_id": result.order_id, "outcome": result.outcome.value})
    return Answer(200, answer, result.outcome.value, order_ids=[result.order_id] if result.order_id else [])


def replay_actor(replay: Replay) -> Any:
    return replay.actor or channel_actor(replay.row.tenant_id, replay.row.source, "replay")  # type: ignore[attr-defined]


async def _quarantine(
    tenant_id: int, kind: str, source: str, body: bytes, headers: Mapping[str, str], code: str, reason: str,
    field_name: str, http_status: int, verified: bool, replay: Replay | None, *, reply: tuple[str, bytes] | None = None,
) -> Answer:
    if replay:
        await quarantine.still_failing(replay.row, code, reason, field_name)
        row_id = replay.row.id
    else:
        payload_id, _ = await payloads.store(tenant_id, kind, source, body, headers, headers.get("content-type", ""))
        row = await quarantine.hold(tenant_id=tenant_id, payload_id=payload_id, kind=kind, source=source,
                                    reason_code=code, reason=reason, field=field_name, http_status=http_status,
                                    verified=verified)
        row_id = row.id
    body_json = {"status": "quarantined", "error": code, "reason": reason, "field": field_name, "quarantineId": row_id}
    if reply is not None:
        return Answer(http_status, body_json, code, content_type=reply[0], raw=reply[1], quarantine_id=row_id)
    return Answer(http_status, body_json, code, quarantine_id=row_id)


# ------------------------------------------------------------------ carriers


def carrier_reply(provider: str, success: bool, reason: str = "", account: CarrierAccount | None = None,
                  form: Mapping[str, str] | None = None) -> tuple[str, bytes]:
    """The acknowledgement in the provider's own format."""
    if provider == kdniao.PROVIDER:
        business = str((account.config or {}).get("ebusiness_id", "")) if account else ""
        if not business and form and form.get("RequestData"):
            try:
                decoded = wire.load_json(form["RequestData"])
                business = str(decoded.get("EBusinessID", "")) if isinstance(decoded, dict) else ""
            except PayloadError:
                business = ""
        return kdniao.reply(success, reason, ebusiness_id=business)
    if provider == kuaidi100.PROVIDER:
        return kuaidi100.reply(success, reason)
    return aftership.reply(success, reason)


def verify_carrier(provider: str, account: CarrierAccount, body: bytes, headers: Mapping[str, str],
                   form: Mapping[str, str] | None) -> bool:
    if provider == kdniao.PROVIDER:
        return form is not None and kdniao.verify(form, account.secret)
    if provider == kuaidi100.PROVIDER:
        return form is not None and kuaidi100.verify(form, account.secret)
    return aftership.verify(body, account.secret, headers.get(aftership.SIGNATURE_HEADER.lower(), ""))


def parse_carrier_push(provider: str, body: bytes, form: Mapping[str, str] | None) -> list[InboundTracking]:
    if provider == aftership.PROVIDER:
        payload = wire.load_json(body)
        if not isinstance(payload, dict):
            raise PayloadError(f"expected a JSON object, got {wire.describe(payload)}", field="$")
        return aftership.parse_push(payload)
    assert form is not None
    return CARRIER_PARSERS[provider](form)


async def receive_carrier(
    tenant_id: int,
    provider: str,
    account: CarrierAccount | None,
    body: bytes,
    headers: Mapping[str, str],
    *,
    mapping_max_age: float = 0.0,
    replay: Replay | None = None,
) -> Answer:
    """Run one tracking push (or a quarantined one) through the pipeline; answers in the provider's format."""
    headers = kept_headers(headers)
    form: dict[str, str] | None = None
    form_error: PayloadError | None = None
    if provider in (kdniao.PROVIDER, kuaidi100.PROVIDER):
        try:
            form = wire.parse_form(body)
        except PayloadError as error:
            form_error = error
    known = provider in CARRIER_PARSERS
    if account is None:
        reason = f"no {provider} account is registered" if known else f"unknown tracking provider {provider!r}"
        return await _quarantine(tenant_id, "carrier", provider, body, headers, "unknown_provider", reason, "", 404,
                                 False, replay, reply=carrier_reply(provider, False, reason) if known else None)
    verified = bool(replay and replay.row.verified)
    if form_error is not None:
        return await _quarantine(tenant_id, "carrier", provider, body, headers, "malformed", form_error.reason,
                                 form_error.field, 400, False, replay,
                                 reply=carrier_reply(provider, False, form_error.reason, account))
    if not verified and not verify_carrier(provider, account, body, headers, form):
        if replay:
            await quarantine.still_failing(replay.row, "signature", "signature does not match")
        kind, raw = carrier_reply(provider, False, "invalid signature", account, form)
        return Answer(401, {"status": "unauthorized"}, "unauthorized", content_type=kind, raw=raw)
    if replay:
        payload_id, payload_sha = replay.row.payload_id, replay.row.payload.sha256  # type: ignore[attr-defined]
    else:
        payload_id, payload_sha = await payloads.store(tenant_id, "carrier", provider, body, headers,
                                                       headers.get("content-type", ""))
    try:
        pushes = parse_carrier_push(provider, body, form)
    except PayloadError as error:
        malformed = "JSON" in error.reason or error.field in ("$", "")
        return await _quarantine(tenant_id, "carrier", provider, body, headers, "malformed" if malformed else "invalid_payload",
                                 error.reason, error.field, 400 if malformed else 422, True, replay,
                                 reply=carrier_reply(provider, False, error.reason, account, form))
    actor = carrier_actor(tenant_id, provider)
    results = [await apply_tracking(actor, push, payload_sha256=payload_sha, mapping_max_age=mapping_max_age)
               for push in pushes]
    parked = [r for r in results if r.outcome in (TrackingOutcome.UNKNOWN_WAYBILL, TrackingOutcome.AMBIGUOUS)]
    summary = {"status": "accepted", "waybills": [
        {"trackingNo": r.tracking_no, "outcome": r.outcome.value, "status": r.status, "newScans": r.new_scans}
        for r in results]}
    kind, raw = carrier_reply(provider, True, "", account, form)
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
        return Answer(200, summary, "parked", content_type=kind, raw=raw, quarantine_id=row_id,
                      order_ids=[r.order_id for r in results if r.order_id])
    if replay:
        await quarantine.resolve(replay.actor or carrier_actor(tenant_id, provider), replay.row,
                                 {"order_id": next((r.order_id for r in results if r.order_id), None), "outcome": "applied"})
    return Answer(200, summary, "applied", content_type=kind, raw=raw, order_ids=[r.order_id for r in results if r.order_id])


# ------------------------------------------------------------------ replay


async def replay_quarantined(row: QuarantinedPayload, actor: Any = None) -> Answer:
    """Run a quarantined payload through the pipeline again, with today's channels, accounts and mappings."""
    replay = Replay(row, actor)
    payload = row.payload
    headers = dict(payload.headers or {})
    body = bytes(payload.body)
    if row.kind == "channel":
        channel = await Channel.filter(tenant_id=row.tenant_id, code=row.source).first()  # type: ignore[attr-defined]
        return await receive_channel(row.tenant_id, row.source, channel, body, headers, replay=replay)  # type: ignore[attr-defined]
    account = await CarrierAccount.filter(tenant_id=row.tenant_id, provider=row.source).first()  # type: ignore[attr-defined]
    return await receive_carrier(row.tenant_id, row.source, account, body, headers, replay=replay)  # type: ignore[attr-defined]


async def retry_parked_tracking(tenant_id: int | None = None, limit: int = 200) -> int:
    """Replay tracking pushes parked for an unknown waybill (the shipment may exist by now); returns how many resolved."""
    query = QuarantinedPayload.filter(kind="carrier", status=quarantine.OPEN,
                                      reason_code__in=["unknown_waybill", "ambiguous_waybill"])
    if tenant_id is not None:
        query = query.filter(tenant_id=tenant_id)
    resolved = 0
    for row in await query.order_by("id").limit(limit).prefetch_related("payload"):
        answer = await replay_quarantined(row)
        if answer.outcome == "applied":
            resolved += 1
    return resolved
