"""Turning committed events into webhook deliveries, exactly once per (endpoint, event).

An outbox consumer run by the leader. The deliveries for a batch and the
``webhooks`` cursor are written in ONE transaction, so after a crash the batch
is either wholly recorded or wholly redone; the unique (endpoint, event)
constraint makes a second leader's attempt fail instead of duplicating.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from events import cursor as cursors
from events import signals
from events.cursor import CursorMoved
from events.messages import to_messages
from events.outbox import newest_id
from events.webhooks import payload
from models import OrderEvent, WebhookDelivery, WebhookEndpoint

CURSOR = "webhooks"


def delivery_for(endpoint: WebhookEndpoint, message: dict[str, Any], now: datetime) -> WebhookDelivery:
    return WebhookDelivery(
        endpoint_id=endpoint.id,
        tenant_id=message["tenant_id"],
        event_id=message["id"],
        event_type=message["type"],
        order_id=message["order_id"],
        message_id=payload.message_id(message["id"]),
        payload=payload.body(message),
        status="pending",
        next_attempt_at=now,
        event_created_at=datetime.fromisoformat(message["created_at"]),
    )


class WebhookFanout:
    name = CURSOR

    def __init__(self) -> None:
        self._stored: int | None = None

    async def start_position(self) -> int:
        self._stored = await cursors.load_or_start(CURSOR, await newest_id())
        return self._stored

    async def consume(self, rows: list[OrderEvent], previous: int) -> None:
        messages = await to_messages(rows)
        tenants = {message["tenant_id"] for message in messages}
        by_tenant: dict[int, list[WebhookEndpoint]] = defaultdict(list)
        for endpoint in await WebhookEndpoint.filter(tenant_id__in=tenants, status="active").order_by("id"):
            by_tenant[endpoint.tenant_id].append(endpoint)  # type: ignore[attr-defined]
        now = datetime.now(UTC)
        deliveries = [
            delivery_for(endpoint, message, now)
            for message in messages
            for endpoint in by_tenant.get(message["tenant_id"], ())
            if payload.matches(endpoint.event_types, endpoint.channel_ids, message)
        ]
        try:
            async with in_transaction():
                if deliveries:
                    await WebhookDelivery.bulk_create(deliveries)
                await cursors.advance(CURSOR, self._stored, rows[-1].id)
        except IntegrityError:
            raise CursorMoved(CURSOR) from None
        self._stored = rows[-1].id
        if deliveries:
            signals.ring(signals.DELIVERIES)
