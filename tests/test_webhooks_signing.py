"""Signatures checked by the independent ``standardwebhooks`` package; retry schedule; payload ids."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from events.webhooks import payload, schedule, signing
from resolvers import ids


def _verify(secret: str, headers: dict[str, str], body: bytes) -> dict:
    return Webhook(secret).verify(body, headers)


def test_a_signed_message_verifies_with_the_standard_library():
    secret = signing.new_secret()
    body = b'{"type":"order.shipped","data":{"eventId":7}}'
    headers = signing.headers([secret], "msg_og7", int(time.time()), body)
    assert secret.startswith("whsec_")
    assert headers["webhook-signature"].startswith("v1,")
    assert _verify(secret, headers, body)["data"]["eventId"] == 7


def test_a_tampered_body_or_wrong_secret_fails():
    secret = signing.new_secret()
    body = b'{"a":1}'
    headers = signing.headers([secret], "msg_og1", int(time.time()), body)
    with pytest.raises(WebhookVerificationError):
        _verify(secret, headers, b'{"a":2}')
    with pytest.raises(WebhookVerificationError):
        _verify(signing.new_secret(), headers, body)


def test_during_rotation_both_secrets_verify():
    old, new = signing.new_secret(), signing.new_secret()
    body = b"{}"
    headers = signing.headers([new, old], "msg_og2", int(time.time()), body)
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert _verify(old, headers, body) == {} and _verify(new, headers, body) == {}


def test_an_old_timestamp_is_rejected_by_receivers():
    secret = signing.new_secret()
    headers = signing.headers([secret], "msg_og3", int(time.time()) - 3600, b"{}")
    with pytest.raises(WebhookVerificationError):
        _verify(secret, headers, b"{}")


def test_the_retry_schedule_spans_about_three_days_with_jitter():
    rng = random.Random(1)
    delays = [schedule.next_delay(n, rng=rng) for n in range(len(schedule.DELAYS))]
    assert schedule.next_delay(len(schedule.DELAYS)) is None  # ten attempts, then give up
    total = sum(d for d in delays if d)
    assert 2.5 * 86400 < total < 3.8 * 86400
    for base, actual in zip(schedule.DELAYS, delays, strict=True):
        assert actual is not None and 0.8 * base <= actual <= 1.2 * base


def test_retry_after_is_honoured_when_it_asks_for_longer():
    assert schedule.next_delay(0, retry_after=120) == 120
    assert schedule.next_delay(2, retry_after=1) >= 1800 * 0.8
    assert schedule.next_delay(0, retry_after=10**9) == schedule.MAX_RETRY_AFTER


def test_retry_after_parses_seconds_and_http_dates():
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert schedule.parse_retry_after("30") == 30
    assert schedule.parse_retry_after(format_datetime(now + timedelta(minutes=2), usegmt=True), now) == 120
    assert schedule.parse_retry_after("soon") is None and schedule.parse_retry_after(None) is None


def test_payload_ids_are_the_api_global_ids():
    assert payload.global_id("Order", 42) == ids.encode("Order", 42)
    message = {
        "id": 9, "tenant_id": 1, "order_id": 42, "type": "order.shipped", "actor": "a", "source": "s", "reason": "r",
        "before": {}, "after": {}, "payload_ref": None, "created_at": "2026-11-22T00:00:00+00:00",
        "channel_id": 3, "warehouse_id": None, "order_status": "SHIPPED",
    }
    body = payload.body(message)
    assert body["type"] == "order.shipped" and body["data"]["order"] == {
        "id": ids.encode("Order", 42), "number": "OG000000042", "status": "SHIPPED",
    }
    assert body["data"]["channelId"] == ids.encode("Channel", 3) and body["data"]["warehouseId"] is None


@pytest.mark.parametrize(
    ("types", "channels", "kind", "channel", "wanted"),
    [
        ([], [], "order.shipped", 1, True),
        (["order.shipped"], [], "order.shipped", 1, True),
        (["order.*"], [], "order.cancelled", 1, True),
        (["order.*"], [], "stock.received", 1, False),
        ([], [2], "order.shipped", 1, False),
        ([], [1], "order.shipped", 1, True),
    ],
)
def test_endpoint_filters(types, channels, kind, channel, wanted):
    assert payload.matches(types, channels, {"type": kind, "channel_id": channel}) is wanted
