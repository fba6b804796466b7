"""Pinduoduo pdd.order.information.get -> InboundOrder."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from adapters_samples import load, raw, utc

from adapters.channels import pinduoduo
from domain.inbound.normalized import (
    InboundAddress,
    InboundLine,
    InboundOrder,
    PayloadError,
)

NAME = "~AgAAAAEnTiwWzMXfPQBO2m8hkLL5QGhZ7lrNS2kFXZ8=~"
PHONE = "~AgAAAAHkWkQ0eTm2b1Vx3b3n0Kq5T1pXo8wq7nA9w1s=~"
ADDRESS = "~AgAAAAGb8h9gWm0cJz2K1x6f7kPpQm3VYc4rT0aH5uE=~"
INFO = "order_info_get_response.order_info"


def test_parses_the_order_exactly() -> None:
    assert pinduoduo.parse_order(load("pinduoduo_order.json")) == InboundOrder(
        source="pinduoduo",
        external_id="240301-512345678901234",
        status_code="1",
        lines=(InboundLine("CUP-350-W", 1, Decimal("69.90"), "陶瓷马克杯 350ml", ""),),
        currency="CNY",
        total_amount=Decimal("59.90"),
        paid_amount=Decimal("59.90"),
        updated_at=utc(2024, 3, 1, 12, 6, 0),
        placed_at=utc(2024, 3, 1, 12, 5, 11),
        customer_name=NAME,
        customer_phone=PHONE,
        address=InboundAddress(name=NAME, phone=PHONE, province="广东省", city="深圳市", district="南山区",
                               address=ADDRESS),
        payment_reference="4200002234202403012345678901",
        payment_gateway="WEIXIN",
        extra_codes={"confirm_status": "1", "refund_status": "1", "after_sales_status": "0", "trade_type": "0"},
        tags=("pii:ciphertext",),
        issues=(),
    )


def test_yuan_json_number_is_exact_to_the_fen() -> None:
    order = pinduoduo.parse_order(load("pinduoduo_order.json"))
    assert order.total_amount == Decimal("59.90") and isinstance(order.total_amount, Decimal)
    assert order.lines[0].unit_price - order.total_amount == Decimal("10.00")


def test_lossy_float_decoding_is_refused_with_the_field() -> None:
    lossy = json.loads(raw("pinduoduo_order.json"))  # plain json.loads: 59.9 becomes a float
    with pytest.raises(PayloadError, match="load_json") as err:
        pinduoduo.parse_order(lossy)
    assert err.value.field.startswith(INFO)


def test_falls_back_to_outer_goods_id_and_reports_missing_sku() -> None:
    payload = load("pinduoduo_order.json")
    item = payload["order_info_get_response"]["order_info"]["item_list"][0]
    item["outer_id"] = ""
    assert pinduoduo.parse_order(payload).lines[0].sku == "CUP-350"
    item["outer_goods_id"] = None
    order = pinduoduo.parse_order(payload)
    assert order.lines[0].sku == ""
    assert order.issues == (f"{INFO}.item_list[0]: no merchant SKU code (looked at outer_id, outer_goods_id)",)


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [("updated_at", "2024-03-01 20:06", f"{INFO}.updated_at"),
     ("order_sn", "", f"{INFO}.order_sn"),
     ("item_list", "CUP", f"{INFO}.item_list"),
     ("pay_amount", "59.9元", f"{INFO}.pay_amount")],
)
def test_malformed_orders_name_the_field(key: str, value: object, field: str) -> None:
    payload = load("pinduoduo_order.json")
    payload["order_info_get_response"]["order_info"][key] = value
    with pytest.raises(PayloadError) as err:
        pinduoduo.parse_order(payload)
    assert err.value.field == field
