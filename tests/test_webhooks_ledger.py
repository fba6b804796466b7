"""Successful webhook attempts written in batches: nothing lost when the database refuses, only the lease holder's rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tortoise import connections

from domain.actor import Role
from domain.webhooks import endpoints as webhooks
from events.webhooks.fanout import delivery_for
from events.webhooks.ledger import Delivered, SuccessLedger
from models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.helpers import paid_order


async def _leased(world, count: int, token: str) -> tuple[WebhookEndpoint, list[WebhookDelivery]]:
    endpoint, _ = await webhooks.register_endpoint(world.actor(Role.ADMIN), "https://hooks.partner.example/og",
                                                   webhooks.UrlPolicy())
    order = await paid_order(world.actor(), world.channel.id, "LEDGER-1")
    now = datetime.now(UTC)
    rows = []
    for event_id in range(1, count + 1):
        message = {"id": event_id, "tenant_id": world.tenant.id, "order_id": order.id, "type": "order.updated",
                   "actor": "a", "source": "s", "reason": "", "before": None, "after": None, "payload_ref": None,
                   "created_at": now.isoformat(), "channel_id": world.channel.id, "warehouse_id": None,
                   "order_status": "PAID"}
        delivery = delivery_for(endpoint, message, now)
        delivery.status, delivery.lease_token, delivery.lease_until = "delivering", token, now + timedelta(seconds=60)
        await delivery.save()
        rows.append(delivery)
    return endpoint, rows


def _answered(delivery: WebhookDelivery, endpoint: WebhookEndpoint, token: str, *, failing: bool = False) -> Delivered:
    return Delivered(delivery.id, token, endpoint.id, failing, 204, datetime.now(UTC), 12.5, "")


async def test_a_batch_is_written_once_per_delivery_and_clears_the_failing_flag(world, db):
    endpoint, rows = await _leased(world, 5, "tok-a")
    await WebhookEndpoint.filter(id=endpoint.id).update(failing_since=datetime.now(UTC))
    ledger = SuccessLedger(batch=100)
    for delivery in rows:
        ledger.add(_answered(delivery, endpoint, "tok-a", failing=True))
    ledger.add(_answered(rows[0], endpoint, "someone-else"))  # a lapsed lease another process re-claimed
    await ledger.flush()
    stored = await WebhookDelivery.filter(endpoint_id=endpoint.id).order_by("id")
    assert [(d.status, d.attempt_count, d.last_status_code, d.lease_token) for d in stored] == \
        [("succeeded", 1, 204, None)] * 5  # the stranger's answer changed nothing (its attempt is still kept)
    assert all(d.delivered_at is not None for d in stored)
    assert await WebhookAttempt.filter(delivery__endpoint_id=endpoint.id).count() == 6
    assert (await WebhookEndpoint.get(id=endpoint.id)).failing_since is None


async def test_a_flush_the_database_refuses_is_kept_and_written_later(world, db):
    endpoint, rows = await _leased(world, 3, "tok-b")
    ledger = SuccessLedger(batch=100)
    for delivery in rows:
        ledger.add(_answered(delivery, endpoint, "tok-b"))
    connection = connections.get("default")
    await connection.execute_script('ALTER TABLE "webhook_attempt" RENAME TO "webhook_attempt_away"')
    try:
        await ledger.flush()
    finally:
        await connection.execute_script('ALTER TABLE "webhook_attempt_away" RENAME TO "webhook_attempt"')
    assert {d.status for d in await WebhookDelivery.filter(endpoint_id=endpoint.id)} == {"delivering"}  # all or none

    await ledger.start()
    await ledger.stop()  # stopping writes what is held
    assert {d.status for d in await WebhookDelivery.filter(endpoint_id=endpoint.id)} == {"succeeded"}
    assert await WebhookAttempt.filter(delivery__endpoint_id=endpoint.id).count() == 3
