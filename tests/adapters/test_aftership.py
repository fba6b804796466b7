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


def test_parses_the_webhook_and_reads_offsetless_checkpoints_in_local_time() -> None:
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
            # 22:40 in Portland, Oregon (PST, UTC-8) is 06:40 UTC the next day
            InboundTrackingEvent("InTransit", utc(2024, 3, 3, 6, 40, 0), "Departed from Facility", "Portland, OR, USA",
                                 time_inferred=True, time_zone="America/Los_Angeles"),
        ),
        estimated_delivery=utc(2024, 3, 5, 23, 0, 0),
        extra_codes={"subtag": "InTransit_001", "first_tag": "InTransit"},
        issues=(),
    )


def test_local_checkpoint_times_in_two_countries_are_placed_in_each_ones_zone() -> None:
    (tracking,) = aftership.parse_push(load("aftership_cross_border.json"))
    assert tracking.carrier == "sf-express"
    assert [(e.occurred_at, e.time_inferred, e.time_zone) for e in tracking.events] == [
        (utc(2024, 3, 8, 15, 15, 0), True, "Asia/Shanghai"),  # Shenzhen 23:15, UTC+8
        (utc(2024, 3, 11, 11, 30, 0), True, "America/Los_Angeles"),  # Los Angeles 04:30, PDT since 10 March
        (utc(2024, 3, 12, 16, 5, 0), True, "America/Vancouver"),  # Richmond, British Columbia 09:05, PDT
        (utc(2024, 3, 12, 21, 20, 0), False, ""),  # sent with its own offset: taken as given
    ]
    assert tracking.issues == ()


def test_the_carriers_date_only_estimate_is_the_end_of_that_day_at_the_destination() -> None:
    (tracking,) = aftership.parse_push(load("aftership_cross_border.json"))
    # courier_estimated_delivery_date 2024-03-14 in Burnaby, BC: 23:59:59 PDT
    assert tracking.estimated_delivery == utc(2024, 3, 15, 6, 59, 59)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"expected_delivery": "2024-03-05"}, utc(2024, 3, 6, 4, 59, 59)),  # legacy field, New York EST
        ({"expected_delivery": "2024-03-05T18:00:00"}, utc(2024, 3, 5, 23, 0, 0)),  # local time at the destination
        ({"aftership_estimated_delivery_date": {"estimated_delivery_date": None, "estimated_delivery_date_max": "2024-03-07"}},
         utc(2024, 3, 8, 4, 59, 59)),  # of a range, the latest end
        ({"latest_estimated_delivery": {"type": "specific", "source": "Carrier EDD", "datetime": "2024-03-06T12:00:00Z"}},
         utc(2024, 3, 6, 12, 0, 0)),
    ],
)
def test_every_estimate_field_is_read_in_the_destination_zone(fields: dict, expected: object) -> None:
    payload = load("aftership_webhook.json")
    del payload["msg"]["expected_delivery"]
    payload["msg"].update(destination_country_iso3="USA", destination_state="NY", **fields)
    (tracking,) = aftership.parse_push(payload)
    assert tracking.estimated_delivery == expected
    assert tracking.issues == ()


def test_a_date_with_no_known_destination_is_read_where_the_parcel_was_last_seen() -> None:
    payload = load("aftership_webhook.json")
    payload["msg"]["expected_delivery"] = "2024-03-05"
    (tracking,) = aftership.parse_push(payload)  # last local checkpoint: Portland, Oregon (PST)
    assert tracking.estimated_delivery == utc(2024, 3, 6, 7, 59, 59)


def test_a_date_with_nowhere_to_place_it_is_reported_not_guessed() -> None:
    payload = load("aftership_webhook.json")
    payload["msg"].update(expected_delivery="2024-03-05", checkpoints=[])
    (tracking,) = aftership.parse_push(payload)
    assert tracking.estimated_delivery is None
    assert tracking.issues == ("msg.expected_delivery: '2024-03-05' is a local date/time and the place it is local "
                               "to is not given; ignored",)


def test_a_checkpoint_naming_no_country_is_read_in_the_destination_zone() -> None:
    payload = load("aftership_cross_border.json")
    checkpoint = payload["msg"]["checkpoints"][1]
    for key in ("country_region", "country_region_name", "state", "city"):
        del checkpoint[key]
    (tracking,) = aftership.parse_push(payload)
    assert (tracking.events[1].occurred_at, tracking.events[1].time_zone) == (utc(2024, 3, 11, 11, 30), "America/Vancouver")


def test_only_an_unreadable_checkpoint_time_is_skipped() -> None:
    payload = load("aftership_cross_border.json")
    payload["msg"]["checkpoints"][1]["checkpoint_time"] = "11/03/2024 04:30"
    (tracking,) = aftership.parse_push(payload)
    assert len(tracking.events) == 3
    assert tracking.issues == ("msg.checkpoints[1].checkpoint_time: expected an ISO-8601 date and time, "
                               "got '11/03/2024 04:30'; trace skipped",)


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
