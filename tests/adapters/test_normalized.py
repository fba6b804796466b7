"""The normalised shapes guard their own conventions."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from adapters_samples import load, utc

from adapters import wire
from adapters.channels import amazon, douyin, pinduoduo, shopify, taobao, wechat
from adapters.channels.common import looks_encrypted
from domain.inbound.normalized import (
    InboundAddress,
    InboundLine,
    InboundOrder,
    InboundShipment,
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


def test_shipment_and_payment_times_must_be_utc() -> None:
    with pytest.raises(ValueError, match="paid_at"):
        _order(paid_at=datetime(2024, 3, 1, 8, tzinfo=timezone(timedelta(hours=8))))
    with pytest.raises(ValueError, match="shipped_at"):
        InboundShipment("SF", "SF1", shipped_at=datetime(2024, 3, 1))


def _every_sample_order() -> list[InboundOrder]:
    samples = ["taobao_trade.json", "taobao_trade_shipped.json", "pinduoduo_order.json",
               "pinduoduo_order_shipped.json", "douyin_order.json", "douyin_order_shipped.json",
               "wechat_channels_order.json", "wechat_channels_order_shipped.json", "shopify_order.json",
               "shopify_order_fulfilled.json"]
    kinds = {"taobao": taobao, "pinduoduo": pinduoduo, "douyin": douyin, "wechat": wechat, "shopify": shopify}
    orders = [kinds[name.split("_")[0]].parse_order(load(name)) for name in samples]
    for order_file, items_file in [("amazon_get_order.json", "amazon_get_order_items.json"),
                                   ("amazon_get_order_cancel_requested.json",
                                    "amazon_get_order_items_cancel_requested.json")]:
        orders.append(amazon.parse_order(amazon.combine(load(order_file), load(items_file))))
    return orders


@pytest.mark.parametrize("order", _every_sample_order(), ids=lambda order: f"{order.source}-{order.external_id}")
def test_no_channel_puts_ciphertext_or_masks_into_clear_contact_fields(order: InboundOrder) -> None:
    clear = [order.customer_name, order.customer_phone, order.address.name, order.address.phone,
             order.address.address, order.address.street]
    assert not any("*" in value or looks_encrypted(value) for value in clear), clear
    sealed = order.sealed
    if sealed is not None:  # what was sealed is said by the tags other code relies on
        assert set(order.tags) & {"pii:masked", "pii:ciphertext"}


@pytest.mark.parametrize("order", _every_sample_order(), ids=lambda order: f"{order.source}-{order.external_id}")
def test_every_sample_states_its_amount_parts_consistently_and_lines_carry_ids(order: InboundOrder) -> None:
    assert order.goods_total is not None and order.discount_total is not None, order.source
    parts = order.goods_total - order.discount_total + (order.shipping_fee or 0)
    assert order.total_amount in (parts, parts + (order.tax_total or 0)), order.source
    assert all(line.external_line_id for line in order.lines), order.source
    assert order.address.country_code, order.source
    for parcel in order.shipments:
        assert parcel.carrier and parcel.tracking_no and parcel.carrier_name, parcel
