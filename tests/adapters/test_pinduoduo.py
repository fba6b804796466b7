"""Pinduoduo pdd.order.information.get -> InboundOrder."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

import pytest
from adapters_samples import load, raw, utc

from adapters.channels import douyin, pinduoduo
from domain.inbound.normalized import (
    InboundAddress,
    InboundLine,
    InboundOrder,
    InboundShipment,
    PayloadError,
    SealedContact,
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
        lines=(InboundLine("CUP-350-W", 1, Decimal("69.90"), "陶瓷马克杯 350ml", "1098765432101"),),
        currency="CNY",
        total_amount=Decimal("59.90"),
        paid_amount=Decimal("59.90"),
        updated_at=utc(2024, 3, 1, 12, 6, 0),
        placed_at=utc(2024, 3, 1, 12, 5, 11),
        customer_name="",
        customer_phone="",
        address=InboundAddress(province="广东省", city="深圳市", district="南山区", country_code="CN"),
        payment_reference="4200002234202403012345678901",
        payment_gateway="WEIXIN",
        extra_codes={"confirm_status": "1", "refund_status": "1", "after_sales_status": "0", "trade_type": "0"},
        tags=("pii:ciphertext",),
        issues=(),
        goods_total=Decimal("69.90"),
        discount_total=Decimal("10.00"),
        shipping_fee=Decimal("0"),
        paid_at=utc(2024, 3, 1, 12, 5, 29),
        sealed=SealedContact("pinduoduo", name_cipher=NAME, phone_cipher=PHONE, address_cipher=ADDRESS,
                             name_masked="李*", phone_masked="186****1234", address_masked="广东省深圳市南山区科技园****"),
    )


def test_ciphertext_never_reaches_the_clear_address_or_customer() -> None:
    order = pinduoduo.parse_order(load("pinduoduo_order.json"))
    clear = (order.customer_name, order.customer_phone, order.address.name, order.address.phone, order.address.address)
    assert not any(clear)
    assert not any("~" in value for value in dataclasses.astuple(order.address))


def test_shipped_order_brings_its_waybill_with_the_carrier_behind_the_logistics_id() -> None:
    order = pinduoduo.parse_order(load("pinduoduo_order_shipped.json"))
    assert order.status_code == "2"
    assert order.shipments == (InboundShipment("ZTO", "78712345678901", "115", utc(2024, 5, 21, 9, 45, 12)),)
    assert order.sealed is not None and order.sealed.phone_masked == "*******5566"
    assert order.address.country_code == "CN" and order.issues == ()


def test_the_same_discounted_order_reads_the_same_on_pinduoduo_and_douyin() -> None:
    """Goods 119.80, buyer pays 109.80 after a 10.00 platform subsidy: one meaning of total on both channels."""
    pdd = pinduoduo.parse_order(load("pinduoduo_order_shipped.json"))
    detail = load("douyin_order.json")
    dy = douyin.parse_order(detail)
    for order in (pdd, dy):
        assert (order.total_amount, order.goods_total, order.discount_total) == (
            Decimal("109.80"), Decimal("119.80"), Decimal("10.00")), order.source
        assert order.paid_amount == Decimal("109.80") and order.shipping_fee == 0, order.source


def test_an_unknown_logistics_id_keeps_the_number_and_says_so() -> None:
    payload = load("pinduoduo_order_shipped.json")
    payload["order_info_get_response"]["order_info"]["logistics_id"] = 999
    order = pinduoduo.parse_order(payload)
    assert order.shipments == (InboundShipment("", "78712345678901", "999", utc(2024, 5, 21, 9, 45, 12)),)
    assert order.issues == (f"{INFO}.logistics_id: carrier id 999 is not in the PDD carrier table",)


def test_a_malformed_shipping_time_names_the_field() -> None:
    payload = load("pinduoduo_order_shipped.json")
    payload["order_info_get_response"]["order_info"]["shipping_time"] = "yesterday"
    with pytest.raises(PayloadError) as err:
        pinduoduo.parse_order(payload)
    assert err.value.field == f"{INFO}.shipping_time"


def test_confirmed_logistics_ids_map_to_carrier_codes() -> None:
    assert {key: pinduoduo.LOGISTICS_IDS[key] for key in ("44", "85", "121", "132")} == {
        "44": "SF", "85": "YTO", "121": "YUNDA", "132": "CHINAPOST"}


def test_discount_is_summed_from_its_parts_when_the_total_is_absent() -> None:
    payload = load("pinduoduo_order_shipped.json")
    info = payload["order_info_get_response"]["order_info"]
    info.pop("discount_amount")
    info.update(platform_discount=Decimal("6.5"), seller_discount=Decimal("3.5"))
    assert pinduoduo.parse_order(payload).discount_total == Decimal("10.0")


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
     ("pay_amount", "59.9元", f"{INFO}.pay_amount"),
     ("pay_time", "2024-03-01T20:05:29", f"{INFO}.pay_time"),
     ("goods_amount", Decimal("-69.9"), f"{INFO}.goods_amount")],
)
def test_malformed_orders_name_the_field(key: str, value: object, field: str) -> None:
    payload = load("pinduoduo_order.json")
    payload["order_info_get_response"]["order_info"][key] = value
    with pytest.raises(PayloadError) as err:
        pinduoduo.parse_order(payload)
    assert err.value.field == field
