"""Backlog gauges on ``/metrics``, read from the database when Prometheus scrapes.

An operator alerting on ``ordergraph_outbox_oldest_undelivered_seconds`` learns
that subscribers see stale data before a customer does. If the database does
not answer, the gauges keep their last values and the scrape still succeeds
(``/healthz`` is the place that reports the database).
"""

from __future__ import annotations

import logging

from prometheus_client import Gauge

from events import backlog

log = logging.getLogger("ordergraph.metrics")

OUTBOX_EVENTS = Gauge("ordergraph_outbox_backlog_events", "Committed events a consumer has not handled yet", ["consumer"])
OUTBOX_AGE = Gauge(
    "ordergraph_outbox_oldest_undelivered_seconds", "Age of the oldest event a consumer has not handled yet", ["consumer"]
)
WEBHOOKS_OPEN = Gauge("ordergraph_webhook_deliveries_open", "Webhook deliveries pending or in flight")
WEBHOOKS_AGE = Gauge("ordergraph_webhook_oldest_open_seconds", "Age of the oldest event still owed to an endpoint")


async def refresh() -> None:
    """Re-read the backlog into the gauges."""
    try:
        lags = await backlog.consumer_lags()
        queue = await backlog.webhook_queue()
    except Exception as exc:  # a metrics scrape must not fail because the database is away
        log.warning("backlog gauges not refreshed: %s", type(exc).__name__)
        return
    for lag in lags:
        OUTBOX_EVENTS.labels(lag.consumer).set(lag.events)
        OUTBOX_AGE.labels(lag.consumer).set(lag.oldest_seconds)
    WEBHOOKS_OPEN.set(queue.open)
    WEBHOOKS_AGE.set(queue.oldest_seconds)
