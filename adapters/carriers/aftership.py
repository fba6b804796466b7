"""AfterShip tracking webhooks.

JSON body signed with ``aftership-hmac-sha256`` (base64 HMAC-SHA256 of the
raw body).  ``status_code`` is ``msg.tag``; ``msg.subtag`` and, on the first
update under a tag, ``first_tag`` (first ``InTransit`` = carrier pick-up)
go to ``extra_codes``.  AfterShip only needs a 2xx answer; on failure the
endpoint should answer non-2xx so it retries.

Times: ``checkpoint_time`` is the checkpoint's *local* time, usually without
an offset. It is read in the zone of the checkpoint's own place
(``country_region`` or the older ``country_iso3``, plus ``state`` for
countries with several zones, see :mod:`adapters.carriers.local_time`); a
checkpoint that names no country is read in the destination's zone, else the
origin's, else UTC. Each such scan is marked ``time_inferred`` with the zone.

Estimated delivery: AfterShip gives it in the recipient's zone, as a date or a
date and time, in several fields. The first one present wins: the carrier's
``courier_estimated_delivery_date``, the legacy ``expected_delivery``,
``latest_estimated_delivery``, AfterShip's predicted
``aftership_estimated_delivery_date``, then the merchant's
``custom_estimated_delivery_date``; of a range the latest end is kept. A date
means the end of that day in the destination's zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from adapters import signing, wire
from adapters.carriers.common import collect_events, json_reply
from adapters.carriers.local_time import FALLBACK, delivery_estimate, scan_time, zone_for
from adapters.reader import Reader
from domain.inbound.normalized import InboundTracking, InboundTrackingEvent, PayloadError

PROVIDER = "aftership"
SIGNATURE_HEADER = "aftership-hmac-sha256"

#: (object, keys of the single date then of the range's end), in order of preference; "" = a plain field.
_ESTIMATES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("courier_estimated_delivery_date", ("estimated_delivery_date", "estimated_delivery_date_max")),
    ("", ("expected_delivery",)),
    ("latest_estimated_delivery", ("datetime", "datetime_max")),
    ("aftership_estimated_delivery_date", ("estimated_delivery_date", "estimated_delivery_date_max")),
    ("custom_estimated_delivery_date", ("datetime", "datetime_max")),
)


def verify(raw_body: bytes, secret: str, header_value: str) -> bool:
    """Base64 HMAC-SHA256 of the raw body with the webhook secret (verify before decoding)."""
    return signing.verify_hmac_sha256_base64(raw_body, secret, header_value)


def _country(place: Reader, prefix: str = "") -> str:
    """The ISO alpha-3 country of a place: the 2024+ ``*country_region`` or the older ``*country_iso3``."""
    return place.first_text(f"{prefix}country_region", f"{prefix}country_iso3")


def _zone(place: Reader, prefix: str = "") -> ZoneInfo | None:
    return zone_for(_country(place, prefix), place.text(f"{prefix}state"))


def _location(checkpoint: Reader) -> str:
    parts = (checkpoint.text("city"), checkpoint.text("state"), checkpoint.text("country_name"))
    return checkpoint.text("location") or ", ".join(part for part in parts if part)


def _event(checkpoint: Reader, fallback: ZoneInfo) -> InboundTrackingEvent:
    zone = _zone(checkpoint) or zone_for(checkpoint.text("country_name"), checkpoint.text("state")) or fallback
    stamp = checkpoint.req("checkpoint_time", lambda value, field: scan_time(value, field, zone))
    return InboundTrackingEvent(
        status_code=checkpoint.text("tag"),
        occurred_at=stamp.at,
        description=checkpoint.first_text("message", "subtag_message"),
        location=_location(checkpoint),
        time_inferred=stamp.inferred,
        time_zone=stamp.zone,
    )


def _estimate(msg: Reader, zone: ZoneInfo | None, issues: list[str]) -> datetime | None:
    """The preferred estimated delivery (see module doc), or ``None``; an unreadable one is reported and skipped."""
    for name, keys in _ESTIMATES:
        try:
            holder = msg.obj(name, required=False) if name else msg
            key = next((key for key in keys if holder.has(key)), None)
            if key is not None:
                return holder.req(key, lambda value, field: delivery_estimate(value, field, zone))
        except PayloadError as exc:
            issues.append(f"{exc}; ignored")
    return None


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
    destination = _zone(msg, "destination_") or _zone(msg, "courier_destination_")
    origin = _zone(msg, "origin_")
    events = collect_events(msg.objs("checkpoints", required=False),
                            lambda checkpoint: _event(checkpoint, destination or origin or FALLBACK), issues)
    return [InboundTracking(
        provider=PROVIDER,
        carrier=msg.req("slug", wire.ident),
        tracking_no=msg.req("tracking_number", wire.ident),
        status_code=tag,
        events=events,
        estimated_delivery=_estimate(msg, destination or _last_zone(events), issues),
        extra_codes=extra_codes,
        issues=tuple(issues),
    )]


def _last_zone(events: tuple[InboundTrackingEvent, ...]) -> ZoneInfo | None:
    """The zone of the newest checkpoint read in local time: the nearest known place to the recipient."""
    zones = [event.time_zone for event in events if event.time_zone and event.time_zone != FALLBACK.key]
    return ZoneInfo(zones[-1]) if zones else None


def reply(success: bool, reason: str = "") -> tuple[str, bytes]:
    """A small JSON acknowledgement; the HTTP status (2xx or not) is what AfterShip acts on."""
    body: dict[str, Any] = {"success": success}
    if reason:
        body["reason"] = reason
    return json_reply(body)
