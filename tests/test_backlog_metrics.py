"""Operators see on /metrics how far behind subscribers and webhook endpoints are."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from prometheus_client import REGISTRY
from tortoise.transactions import in_transaction

from api import backlog_metrics
from events import cursor as cursors
from events.webhooks.fanout import delivery_for
from models import OrderEvent, WebhookDelivery, WebhookEndpoint
from tests.helpers import paid_order


def gauge(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


async def test_outbox_and_webhook_backlog_are_gauged_until_caught_up(world, db):
    order = await paid_order(world.actor(), world.channel.id, "LAG-1")
    events = await OrderEvent.all().count()
    async with in_transaction() as connection:  # backdate as a DBA would: order_event refuses UPDATE on PostgreSQL
        if connection.capabilities.dialect == "postgres":
            await connection.execute_script("SET LOCAL session_replication_role = replica")
        await OrderEvent.all().update(created_at=datetime.now(UTC) - timedelta(seconds=90))
    await cursors.advance("bus", None, 0)  # a publisher that has handled nothing yet
    endpoint = await WebhookEndpoint.create(tenant_id=world.tenant.id, url="https://partner.example.com/hooks", event_types=["*"])
    message = {"id": 1, "tenant_id": world.tenant.id, "order_id": order.id, "type": "order.created", "actor": "a",
               "source": "s", "reason": "", "before": None, "after": None, "payload_ref": None,
               "created_at": (datetime.now(UTC) - timedelta(seconds=30)).isoformat(),
               "channel_id": world.channel.id, "warehouse_id": None, "order_status": "PAID"}
    await delivery_for(endpoint, message, datetime.now(UTC)).save()

    await backlog_metrics.refresh()
    assert gauge("ordergraph_outbox_backlog_events", consumer="bus") == events > 0
    assert gauge("ordergraph_outbox_oldest_undelivered_seconds", consumer="bus") >= 90
    assert gauge("ordergraph_webhook_deliveries_open") == 1
    assert gauge("ordergraph_webhook_oldest_open_seconds") >= 30

    newest = await OrderEvent.all().order_by("-id").first()
    await cursors.advance("bus", 0, newest.id)
    await WebhookDelivery.all().update(status="succeeded")
    await backlog_metrics.refresh()
    assert gauge("ordergraph_outbox_backlog_events", consumer="bus") == 0
    assert gauge("ordergraph_outbox_oldest_undelivered_seconds", consumer="bus") == 0
    assert (gauge("ordergraph_webhook_deliveries_open"), gauge("ordergraph_webhook_oldest_open_seconds")) == (0, 0)


async def test_the_metrics_page_carries_the_backlog(world, app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        page = (await http.get("/metrics")).text
    assert "ordergraph_webhook_deliveries_open" in page
    assert "ordergraph_outbox_backlog_events" in page
