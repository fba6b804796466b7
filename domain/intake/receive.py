"""A channel's webhook delivery through the pipeline: verify, keep, parse, apply (see ``domain.inbound.pipeline``).

A delivery to a channel code the tenant never registered is answered 404
with nothing stored: it is unauthenticated (no secret to check it against),
so keeping its body would let anyone fill the database with up to the body
limit per request. The platform retries; once the channel is registered the
retry is applied.

    answer = await receive_channel(tenant_id, "tmall", channel, body, headers, formats=FORMATS)
    answer.http_status, answer.body        # 200 {"status": "created", "order": "OG000000042", ...}
"""

from __future__ import annotations

from collections.abc import Mapping

from domain.inbound import payloads, quarantine
from domain.inbound.formats import BadMapping, ChannelFormat, Formats
from domain.inbound.normalized import InboundOrder, PayloadError
from domain.inbound.pipeline import Answer, Replay, quarantined
from domain.intake.apply import Arrival, apply_order, channel_actor
from domain.intake.sources import channel_mapping
from domain.intake.announcements import receive_announced
from models import Channel, QuarantinedPayload
from models.order import order_no

#: Seconds a Standard Webhooks timestamp may be off (the spec's five minutes).
DEFAULT_TOLERANCE = 300


def verify_channel(formats: Formats, channel: Channel, body: bytes, headers: Mapping[str, str], *,
                   tolerance: int | None) -> str | None:
    """``None`` when authentic, else why not."""
    if not channel.secret:
        return "the channel has no secret; set one before sending webhooks"
    wire_format = formats.channels.get(channel.kind)
    if wire_format is None:
        return f"no wire format for channel kind {channel.kind!r}"
    return wire_format.verify(channel.secret, body, headers, tolerance=tolerance)


def parse_channel_order(formats: Formats, channel: Channel, body: bytes, headers: Mapping[str, str]) -> InboundOrder:
    """``PayloadError`` for a bad payload, ``BadMapping`` for configuration that cannot be used."""
    wire_format = formats.channels.get(channel.kind)
    if wire_format is None:
        raise BadMapping(f"no parser for channel kind {channel.kind!r}")
    return wire_format.parse(body, headers, channel_mapping(channel))


async def unknown_channel(channel_code: str, replay: Replay | None) -> Answer:
    """404, storing nothing: anyone can post to a made-up channel, so its body is not ours to keep.

    (A quarantined payload from before this rule, replayed while its channel is
    still missing, stays open with the reason.)
    """
    reason = f"no channel {channel_code!r} is registered"
    if replay:
        await quarantine.still_failing(replay.row, "unknown_channel", reason)
    return Answer(404, {"status": "refused", "error": "unknown_channel", "reason": reason}, "unknown_channel")


async def receive_channel(
    tenant_id: int,
    channel_code: str,
    channel: Channel | None,
    body: bytes,
    headers: Mapping[str, str],
    *,
    formats: Formats,
    tolerance: int | None = DEFAULT_TOLERANCE,
    mapping_max_age: float = 0.0,
    replay: Replay | None = None,
    pulled: bool = False,
) -> Answer:
    """Run one channel delivery (or a quarantined one, ``replay``) through the pipeline.

    ``pulled``: the body was fetched by us from the platform's API with the shop's credentials (the poller):
    it needs no signature and is applied as the poller's.
    """
    headers = formats.keep(headers)
    if channel is None:
        return await unknown_channel(channel_code, replay)
    verified = pulled or bool(replay and replay.row.verified)
    if not verified:
        problem = verify_channel(formats, channel, body, headers, tolerance=None if replay else tolerance)
        if problem:
            if replay:
                await quarantine.still_failing(replay.row, "signature", problem)
            return Answer(401, {"status": "unauthorized", "reason": problem}, "unauthorized")
    via = "replay" if replay else ("poller" if pulled or headers.get("x-delivery-via") == "poller" else "webhook")
    wire_format = formats.channels.get(channel.kind)
    try:  # a body the poller fetched is a whole order, never a message announcing one
        announced = wire_format.announced(body, headers) if wire_format and not pulled else ()
    except PayloadError as error:
        return _acknowledged(wire_format, headers, await _refused_payload(tenant_id, channel, body, headers, error, replay))
    if announced:
        return _acknowledged(wire_format, headers, await receive_announced(
            tenant_id, channel, announced, body, headers, formats=formats, replay=replay,
            apply=lambda external_id, fetched: apply_body(
                tenant_id, channel, fetched, headers, formats=formats, via="replay" if replay else "announced",
                replay=replay, mapping_max_age=mapping_max_age, resolve=False, one_of=external_id),
            resolve=resolve_replay))
    return await apply_body(tenant_id, channel, body, headers, formats=formats, via=via, replay=replay,
                            mapping_max_age=mapping_max_age)


async def apply_body(tenant_id: int, channel: Channel, body: bytes, headers: Mapping[str, str], *, formats: Formats,
                     via: str, replay: Replay | None, mapping_max_age: float, resolve: bool = True,
                     one_of: str = "") -> Answer:
    """Parse a whole order and apply it; what does not fit is quarantined with its reason.

    ``one_of``: the order is one of several a message announced: its delivery id is the message's and the
    order's together (each order of the message is applied once, not only the first).
    """
    wire_format = formats.channels.get(channel.kind)
    delivery_id = wire_format.delivery_id(headers) if wire_format else ""
    if delivery_id and one_of:
        delivery_id = f"{delivery_id}#{one_of}"
    try:
        inbound = parse_channel_order(formats, channel, body, headers)
        # The body is kept inside the applying transaction (with the delivery id, one round trip).
        result = await apply_order(
            channel_actor(tenant_id, channel.code, via), channel, inbound,
            Arrival(payload_sha256=payloads.sha256_hex(body),
                    delivery_id=delivery_id[:128],
                    via=via, body=body, headers=dict(headers)),
            mapping_max_age=mapping_max_age,
        )
    except BadMapping as error:
        return await quarantined(tenant_id, "channel", channel.code, body, headers, "bad_mapping", str(error),
                                 "mapping", 422, True, replay)
    except PayloadError as error:
        return await _refused_payload(tenant_id, channel, body, headers, error, replay)
    answer = {"status": result.outcome.value, "order": order_no(result.order_id) if result.order_id else None,
              "orderStatus": result.status}
    if replay and resolve:
        await resolve_replay(replay, {"order_id": result.order_id, "outcome": result.outcome.value})
    return Answer(200, answer, result.outcome.value, order_ids=[result.order_id] if result.order_id else [])


async def resolve_replay(replay: Replay, outcome: dict[str, object]) -> None:
    actor = replay.actor or channel_actor(replay.row.tenant_id, replay.row.source, "replay")  # type: ignore[attr-defined]
    await quarantine.resolve(actor, replay.row, outcome)


def _acknowledged(wire_format: ChannelFormat | None, headers: Mapping[str, str], answer: Answer) -> Answer:
    """The answer in the sender's own format where it wants one (the HTTP status is kept)."""
    reply = wire_format.acknowledge(headers, answer.http_status == 200, str(answer.body.get("reason", ""))) \
        if wire_format else None
    if reply is not None:
        answer.content_type, answer.raw = reply
    return answer


async def _refused_payload(tenant_id: int, channel: Channel, body: bytes, headers: Mapping[str, str],
                           error: PayloadError, replay: Replay | None) -> Answer:
    """Quarantined: 400 for a body that is not JSON at all, 422 for one that does not fit."""
    malformed = error.field in ("$", "") and "JSON" in error.reason
    return await quarantined(tenant_id, "channel", channel.code, body, headers,
                             "malformed" if malformed else "invalid_payload", error.reason, error.field,
                             400 if malformed else 422, True, replay)


async def replay_channel(row: QuarantinedPayload, formats: Formats, replay: Replay) -> Answer:
    """Run a quarantined channel payload again, with today's channel and mapping."""
    payload = row.payload
    channel = await Channel.filter(tenant_id=row.tenant_id, code=row.source).first()  # type: ignore[attr-defined]
    return await receive_channel(row.tenant_id, row.source, channel, bytes(payload.body),  # type: ignore[attr-defined]
                                 dict(payload.headers or {}), formats=formats, replay=replay)
