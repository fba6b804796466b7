"""What every tracking parser shares: tolerant trace collection, so one bad scan never sinks a push."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from adapters import wire
from adapters.reader import Convert, Reader
from domain.inbound.normalized import InboundTrackingEvent, PayloadError


def collect_events(
    traces: list[Reader], build: Callable[[Reader], InboundTrackingEvent], issues: list[str]
) -> tuple[InboundTrackingEvent, ...]:
    """Build every trace it can, oldest first; a malformed one is skipped and reported in ``issues``.

    Providers order traces differently (Kdniao oldest first, Kuaidi100 newest first),
    so the result is sorted by time; equal times keep the provider's order.
    """
    events: list[InboundTrackingEvent] = []
    for trace in traces:
        try:
            events.append(build(trace))
        except PayloadError as exc:
            issues.append(f"{exc}; trace skipped")
    return tuple(sorted(events, key=lambda event: event.occurred_at))


def lenient_time(reader: Reader, key: str, convert: Convert[datetime], issues: list[str]) -> datetime | None:
    """An optional time that, if malformed, is reported and read as unknown rather than failing the push."""
    try:
        return reader.opt(key, convert)
    except PayloadError as exc:
        issues.append(f"{exc}; ignored")
        return None


def decode_embedded_json(raw: str | None, field: str) -> Reader:
    """Form pushes carry their payload as a JSON string in one field; decode it exactly, keeping the field in paths."""
    if raw is None or not raw.strip():
        raise PayloadError("required field is missing", field=field)
    try:
        return Reader(wire.load_json(raw), field)
    except PayloadError as exc:
        raise PayloadError(exc.reason, field=field if exc.field == "$" else exc.field) from exc


def json_reply(body: dict[str, Any]) -> tuple[str, bytes]:
    """Compact UTF-8 JSON (no ``\\u`` escapes: Kuaidi100 compares the text literally)."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return "application/json;charset=utf-8", text.encode("utf-8")
