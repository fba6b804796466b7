"""AfterShip tracking webhooks.

JSON body signed with ``aftership-hmac-sha256`` (base64 HMAC-SHA256 of the
raw body).  ``status_code`` is ``msg.tag``; ``msg.subtag`` and, on the first
update under a tag, ``first_tag`` (first ``InTransit`` = carrier pick-up)
go to ``extra_codes``.  Checkpoint times without a UTC offset (carriers
report local time) cannot be placed on the UTC axis: such checkpoints are
skipped and reported.  AfterShip only needs a 2xx answer; on failure the
endpoint should answer non-2xx so it retries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters import signing, wire
from adapters.carriers.common import collect_events, json_reply, lenient_time
from adapters.reader import Reader
from domain.inbound.normalized import InboundTracking, InboundTrackingEvent

PROVIDER = "aftership"
SIGNATURE_HEADER = "aftership-hmac-sha256"


def verify(raw_body: bytes, secret: str, header_value: str) -> bool:
    """Base64 HMAC-SHA256 of the raw body with the webhook secret (verify before decoding)."""
    return signing.verify_hmac_sha256_base64(raw_body, secret, header_value)


def _location(checkpoint: Reader) -> str:
    parts = (checkpoint.text("city"), checkpoint.text("state"), checkpoint.text("country_name"))
    return checkpoint.text("location") or ", ".join(part for part in parts if part)


def _event(checkpoint: Reader) -> InboundTrackingEvent:
    return InboundTrackingEvent(
        status_code=checkpoint.text("tag"),
        occurred_at=checkpoint.req("checkpoint_time", wire.iso_time),
        description=checkpoint.first_text("message", "subtag_message"),
        location=_location(checkpoint),
    )


def parse_push(payload: Mapping[str, Any]) -> list[InboundTracking]:
    """A decoded webhook body -> a one-element list."""
    body = Reader(payload)
    msg = body.obj("msg")
    issues: list[str] = []
    tag = msg.req("tag", wire.ident)
    extra_codes: dict[str, str] = {}
    if msg.has("subtag"):
        extra_codes["subtag"] = msg.req("subtag", wire.ident)
    if body.opt("is_tracking_first_tag", wire.boolean):
        extra_codes["first_tag"] = tag
    return [InboundTracking(
        provider=PROVIDER,
        carrier=msg.req("slug", wire.ident),
        tracking_no=msg.req("tracking_number", wire.ident),
        status_code=tag,
        events=collect_events(msg.objs("checkpoints", required=False), _event, issues),
        estimated_delivery=lenient_time(msg, "expected_delivery", wire.iso_time, issues),
        extra_codes=extra_codes,
        issues=tuple(issues),
    )]


def reply(success: bool, reason: str = "") -> tuple[str, bytes]:
    """A small JSON acknowledgement; the HTTP status (2xx or not) is what AfterShip acts on."""
    body: dict[str, Any] = {"success": success}
    if reason:
        body["reason"] = reason
    return json_reply(body)
