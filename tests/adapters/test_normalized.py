"""The normalised shapes guard their own conventions."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from adapters_samples import utc

from adapters import wire
from domain.inbound.normalized import (
    InboundAddress,
    InboundLine,
    InboundOrder,
    InboundTrackingEvent,
    PayloadError,
)


def _order(**changes: object) -> InboundOrder:
    base = InboundOrder(
        source="generic", external_id="1", status_code="PAID", lines=(InboundLine("A", 1, Decimal("1.00")),),
        currency="CNY", total_amount=Decimal("1.00"), paid_amount=None, updated_at=utc(2024, 3, 1),
        placed_at=None, customer_name="", customer_phone="", address=InboundAddress(),
    )
    return dataclasses.replace(base, **changes)


def test_payload_error_says_what_and_where() -> None:
    error = PayloadError("expected an integer, got str 'x'", field="orders.order[1].num")
    assert isinstance(error, ValueError)
    assert str(error) == "orders.order[1].num: expected an integer, got str 'x'"
    assert (error.field, error.reason) == ("orders.order[1].num", "expected an integer, got str 'x'")
    assert str(PayloadError("no field")) == "no field" and PayloadError("x").field == ""


def test_times_must_be_utc() -> None:
    with pytest.raises(ValueError, match="updated_at"):
        _order(updated_at=datetime(2024, 3, 1))
    with pytest.raises(ValueError, match="placed_at"):
        _order(placed_at=datetime(2024, 3, 1, tzinfo=timezone(timedelta(hours=8))))
    with pytest.raises(ValueError, match="occurred_at"):
        InboundTrackingEvent("1", datetime(2024, 3, 1), "", "")
    assert _order(updated_at=wire.china_time("2024-03-01 08:00:00", "t")).updated_at == utc(2024, 3, 1)


def test_shapes_are_frozen_and_text_errors_do_not_echo_personal_data() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        _order().external_id = "2"  # type: ignore[misc]
    with pytest.raises(PayloadError) as err:
        wire.text({"phone": "13912345678"}, "receiver_phone")
    assert "13912345678" not in str(err.value)
