"""Douyin shop order detail -> InboundOrder."""

from __future__ import annotations

from decimal import Decimal

import pytest
from adapters_samples import load, utc

from adapters.channels import douyin
from domain.inbound.normalized import (
    BUYER_REFUND,
    InboundAddress,
    InboundLine,
    InboundOrder,
    InboundShipment,
    PayloadError,
    SealedContact,
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
        total_amount=Decimal("109.80"),  # what the buyer pays; the platform's 10.00 subsidy is a discount to them
        paid_amount=Decimal("109.80"),
        updated_at=utc(2024, 3, 1, 3, 15, 30),
        placed_at=utc(2024, 3, 1, 2, 15, 0),
        customer_name="",
        customer_phone="",
        address=InboundAddress(province="浙江省", city="杭州市", district="余杭区", street="五常街道",
                               country_code="CN"),
        payment_reference="4200002245202403016543210987",
        payment_gateway="",
        extra_codes={"main_status": "105", "pay_type": "1"},
        tags=("pii:ciphertext",),
        issues=(),
        goods_total=Decimal("119.80"),
        discount_total=Decimal("10.00"),
        shipping_fee=Decimal("0.00"),
        paid_at=utc(2024, 3, 1, 2, 15, 30),
        sealed=SealedContact("douyin", name_cipher=NAME, phone_cipher=PHONE,
                             address_cipher="#R7AdAPCMq3vYx1bE8zK0wL5n#", name_masked="王**",
                             phone_masked="1********35"),
    )


def test_fen_amounts_are_exact_decimals() -> None:
    order = douyin.parse_order(load("douyin_order.json"))
    assert str(order.total_amount) == "109.80" and str(order.goods_total) == "119.80"
    assert str(order.lines[0].unit_price) == "59.90"


def test_shipped_order_brings_waybill_lines_masks_and_an_open_refund() -> None:
    order = douyin.parse_order(load("douyin_order_shipped.json"))
    assert order.shipments == (InboundShipment("ZTO", "75109876543210", "中通快递", utc(2024, 5, 21, 8, 38, 32),
                                               ("6920418823456789013", "6920418823456789014")),)
    # goods 158.80 - (promotions 15.00 + payment discount 2.00) + postage 8.00
    assert (order.total_amount, order.goods_total, order.discount_total, order.shipping_fee) == (
        Decimal("149.80"), Decimal("158.80"), Decimal("17.00"), Decimal("8.00"))
    assert order.issues == ()
    assert order.sealed is not None
    assert (order.sealed.name_masked, order.sealed.phone_masked, order.sealed.address_masked) == (
        "孙**", "138****0021", "碧波路****")
    assert order.sealed.address_cipher.startswith("##Hq4L") and order.address.address == ""
    # the cup's refund application is still open, and Douyin's after-sale codes have no mapping table
    assert order.buyer_requests == (BUYER_REFUND,)
    assert order.extra_codes == {"main_status": "3", "pay_type": "1", "after_sale_status@6920418823456789014": "6"}


def test_a_closed_after_sale_is_not_a_request_and_a_re_pricing_is_a_discount() -> None:
    payload = load("douyin_order_shipped.json")
    detail = _detail(payload)
    detail["sku_order_list"][1]["after_sale_info"] = {"after_sale_status": 28, "after_sale_type": 1, "refund_status": 4}
    detail.update(modify_amount=-500, pay_amount=14480)
    order = douyin.parse_order(payload)
    assert order.buyer_requests == ()
    assert (order.total_amount, order.discount_total, order.issues) == (Decimal("144.80"), Decimal("22.00"), ())


def test_a_carrier_known_only_by_its_code_is_still_normalised() -> None:
    payload = load("douyin_order_shipped.json")
    _detail(payload)["logistics_info"][0].update(company="jtexpress", company_name="J&T极兔")
    (parcel,) = douyin.parse_order(payload).shipments
    assert (parcel.carrier, parcel.carrier_name) == ("JT", "J&T极兔")


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
        (("pay_amount",), None, f"{DETAIL}.pay_amount", "missing"),
        (("post_amount",), "8.00", f"{DETAIL}.post_amount", "integer"),
        (("sku_order_list", 0, "sum_amount"), Decimal("119.8"), f"{DETAIL}.sku_order_list[0].sum_amount",
         "integer fen"),
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
