"""AfterShip tracking webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from adapters_samples import load, raw, utc

from adapters.carriers import aftership
from domain.inbound import status_maps
from domain.inbound.normalized import (
    InboundTracking,
    InboundTrackingEvent,
    PayloadError,
)

SECRET = "as_webhook_secret_9f2c"


def test_verify_accepts_the_right_secret_only() -> None:
    body = raw("aftership_webhook.json")
    header = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    assert aftership.verify(body, SECRET, header)
    assert not aftership.verify(body + b" ", SECRET, header)
    assert not aftership.verify(body, "other", header)
    assert not aftership.verify(body, SECRET, "")


def test_parses_the_webhook_and_skips_offsetless_checkpoints() -> None:
    (tracking,) = aftership.parse_push(load("aftership_webhook.json"))
    assert tracking == InboundTracking(
        provider="aftership",
        carrier="ups",
        tracking_no="1Z999AA10123456784",
        status_code="InTransit",
        events=(
            InboundTrackingEvent("InfoReceived", utc(2024, 3, 1, 18, 0, 0),
                                 "Shipper created a label, UPS has not received the package yet.", "Seattle, WA, USA"),
            InboundTrackingEvent("InTransit", utc(2024, 3, 2, 17, 12, 0), "Origin Scan", "Kent, WA, USA"),
        ),
        estimated_delivery=utc(2024, 3, 5, 23, 0, 0),
        extra_codes={"subtag": "InTransit_001", "first_tag": "InTransit"},
        issues=(
            "msg.checkpoints[2].checkpoint_time: ISO-8601 time '2024-03-02T22:40:00' has no UTC offset; "
            "its timezone is unknown; trace skipped",
        ),
    )


def test_first_in_transit_is_the_pick_up() -> None:
    (tracking,) = aftership.parse_push(load("aftership_webhook.json"))
    first = status_maps.lookup_first(
        ("aftership.first_tag", tracking.extra_codes.get("first_tag", "")), ("aftership", tracking.status_code)
    )
    assert first == {"shipment": "PICKED_UP"}
    payload = load("aftership_webhook.json")
    payload["is_tracking_first_tag"] = False
    (later,) = aftership.parse_push(payload)
    assert "first_tag" not in later.extra_codes
    assert status_maps.lookup_first(("aftership.first_tag", ""), ("aftership", later.status_code)) == {
        "shipment": "IN_TRANSIT"}


def test_date_only_expected_delivery_is_reported_not_guessed() -> None:
    payload = load("aftership_webhook.json")
    payload["msg"]["expected_delivery"] = "2024-03-05"
    (tracking,) = aftership.parse_push(payload)
    assert tracking.estimated_delivery is None
    assert any(issue.startswith("msg.expected_delivery:") for issue in tracking.issues)


@pytest.mark.parametrize(("key", "field"), [("tracking_number", "msg.tracking_number"), ("slug", "msg.slug"),
                                            ("tag", "msg.tag")])
def test_malformed_webhooks_name_the_field(key: str, field: str) -> None:
    payload = load("aftership_webhook.json")
    del payload["msg"][key]
    with pytest.raises(PayloadError) as err:
        aftership.parse_push(payload)
    assert err.value.field == field
    with pytest.raises(PayloadError) as err:
        aftership.parse_push({"event": "tracking_update"})
    assert err.value.field == "msg"


def test_reply() -> None:
    assert aftership.reply(True) == ("application/json;charset=utf-8", b'{"success":true}')
