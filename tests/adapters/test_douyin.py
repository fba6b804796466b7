"""Douyin shop order detail -> InboundOrder."""

from __future__ import annotations

from decimal import Decimal

import pytest
from adapters_samples import load, utc

from adapters.channels import douyin
from domain.inbound.normalized import (
    InboundAddress,
    InboundLine,
    InboundOrder,
    PayloadError,
)

DETAIL = "data.shop_order_detail"
NAME = "##W9XxK4iMfrlBYVbC3pAmYQ==##"
PHONE = "$$Y0nEbB8dC2bX1Jk3o9pQ7r4sT6u8V0w2Xy4Z6a8B0c2D4e6F$1$"


def _detail(payload: dict) -> dict:
    return payload["data"]["shop_order_detail"]


def test_parses_the_order_exactly() -> None:
    assert douyin.parse_order(load("douyin_order.json")) == InboundOrder(
        source="douyin",
        external_id="6919283812345678901",
        status_code="105",
        lines=(InboundLine("TEA-LJ-250", 2, Decimal("59.90"), "明前龙井 250g", "6919283812345678902"),),
        currency="CNY",
        total_amount=Decimal("119.80"),
        paid_amount=Decimal("109.80"),
        updated_at=utc(2024, 3, 1, 3, 15, 30),
        placed_at=utc(2024, 3, 1, 2, 15, 0),
        customer_name=NAME,
        customer_phone=PHONE,
        address=InboundAddress(name=NAME, phone=PHONE, province="浙江省", city="杭州市", district="余杭区",
                               street="五常街道", address="#R7AdAPCMq3vYx1bE8zK0wL5n#"),
        payment_reference="4200002245202403016543210987",
        payment_gateway="",
        extra_codes={"main_status": "105", "pay_type": "1"},
        tags=("pii:ciphertext",),
        issues=(),
    )


def test_fen_amounts_are_exact_decimals() -> None:
    order = douyin.parse_order(load("douyin_order.json"))
    assert str(order.total_amount) == "119.80" and str(order.lines[0].unit_price) == "59.90"


def test_unpaid_order_reads_pay_time_zero_as_unpaid() -> None:
    payload = load("douyin_order.json")
    _detail(payload).update(pay_time=0, order_status=1, main_status=1)
    order = douyin.parse_order(payload)
    assert order.paid_amount is None and order.status_code == "1"


def test_bare_detail_falls_back_to_out_sku_id() -> None:
    detail = _detail(load("douyin_order.json"))
    detail["sku_order_list"][0].update(code="", out_sku_id="OUT-TEA-250")
    assert douyin.parse_order(detail).lines[0].sku == "OUT-TEA-250"


@pytest.mark.parametrize(
    ("path", "value", "field", "message"),
    [
        (("update_time",), 1709262930000, f"{DETAIL}.update_time", "milliseconds"),
        (("update_time",), "2024-03-01 11:15:30", f"{DETAIL}.update_time", "integer"),
        (("order_amount",), Decimal("119.8"), f"{DETAIL}.order_amount", "integer fen"),
        (("sku_order_list", 0, "origin_amount"), "59.90", f"{DETAIL}.sku_order_list[0].origin_amount", "integer"),
        (("order_id",), None, f"{DETAIL}.order_id", "missing"),
    ],
)
def test_malformed_orders_name_the_field(path: tuple, value: object, field: str, message: str) -> None:
    payload = load("douyin_order.json")
    target = _detail(payload)
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(PayloadError, match=message) as err:
        douyin.parse_order(payload)
    assert err.value.field == field
