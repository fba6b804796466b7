"""What the inbound pipelines share: the answer they give, the replay they may be running, the quarantine step.

The channel pipeline is ``domain.intake.receive``, the tracking-push one
``domain.tracking.receive``. Both follow the same order of checks, so nothing
is lost and nothing unauthenticated is applied:

1. unknown channel → 404 with nothing stored (``domain.intake.receive``);
   unknown carrier account → the body is kept in the quarantine
   (unverified) and answered 404;
2. signature → 401, nothing stored (the caller counts it);
3. the body is kept, content-addressed (``InboundPayload``);
4. undecodable body → 400, payload not matching the parser or mapping → 422,
   both quarantined with the reason and the field;
5. the domain use case applies it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.actor import Actor
from domain.inbound import payloads, quarantine
from models import QuarantinedPayload


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
    """A quarantined payload being replayed: its row, and who asked (``None``: the source itself, e.g. a retry)."""

    row: QuarantinedPayload
    actor: Actor | None = None


async def quarantined(
    tenant_id: int, kind: str, source: str, body: bytes, headers: Mapping[str, str], code: str, reason: str,
    field_name: str, http_status: int, verified: bool, replay: Replay | None, *, reply: tuple[str, bytes] | None = None,
) -> Answer:
    """Keep the payload in the quarantine (or note that its replay failed again) and say so."""
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
