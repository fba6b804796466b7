"""How far behind the outbox's consumers and the webhook queue are, for operators' dashboards.

    for lag in await consumer_lags():
        print(lag.consumer, lag.events, lag.oldest_seconds)

A consumer (a ``DispatchCursor``: ``bus`` publishes to Redis, ``webhooks`` fans
out to endpoints) is behind by the events committed after its cursor; the age
of the first of them says how stale subscribers' view is. The webhook queue is
behind by its deliveries still pending or in flight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from events.outbox import newest_id
from models import DispatchCursor, OrderEvent, WebhookDelivery

OPEN_DELIVERIES = ("pending", "delivering")


@dataclass(frozen=True, slots=True)
class Lag:
    consumer: str
    events: int
    oldest_seconds: float


@dataclass(frozen=True, slots=True)
class WebhookQueue:
    open: int
    oldest_seconds: float


def _age(since: datetime | None, now: datetime) -> float:
    return max((now - since).total_seconds(), 0.0) if since else 0.0


async def consumer_lags() -> list[Lag]:
    """One ``Lag`` per stored cursor: events after it, and how old the first of them is."""
    newest = await newest_id()
    now = datetime.now(UTC)
    lags = []
    for name, last_id in await DispatchCursor.all().order_by("name").values_list("name", "last_id"):
        first = await OrderEvent.filter(id__gt=last_id).order_by("id").first().values_list("created_at", flat=True)
        lags.append(Lag(name, max(newest - last_id, 0), _age(first, now)))  # type: ignore[arg-type]
    return lags


async def webhook_queue() -> WebhookQueue:
    """Deliveries not yet done, and the age of the oldest event among them."""
    open_rows = WebhookDelivery.filter(status__in=OPEN_DELIVERIES)
    oldest = await open_rows.order_by("event_created_at").first().values_list("event_created_at", flat=True)
    return WebhookQueue(await open_rows.count(), _age(oldest, datetime.now(UTC)))  # type: ignore[arg-type]
