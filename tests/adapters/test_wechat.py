"""WeChat Channels shop order -> InboundOrder."""

from __future__ import annotations

from decimal import Decimal

import pytest
from adapters_samples import load, utc

from adapters.channels import wechat
from domain.inbound.normalized import (
    BUYER_REFUND,
    InboundAddress,
    InboundLine,
    InboundOrder,
    InboundShipment,
    PayloadError,
    SealedContact,
)


def test_parses_the_order_exactly() -> None:
    assert wechat.parse_order(load("wechat_channels_order.json")) == InboundOrder(
        source="wechat_channels",
        external_id="3713995673005065728",
        status_code="20",
        lines=(
            InboundLine("KRILL-1KG", 1, Decimal("69.00"), "淡干磷虾肉 500g*2包", "1573386083"),
            InboundLine("SAUCE-200", 2, Decimal("19.90"), "海鲜酱 200g", "1573386099"),
        ),
        currency="CNY",
        total_amount=Decimal("108.80"),
        paid_amount=Decimal("108.80"),
        updated_at=utc(2023, 8, 30, 7, 9, 16),
        placed_at=utc(2023, 8, 30, 7, 8, 52),
        customer_name="",
        customer_phone="",
        address=InboundAddress(province="山东省", city="淄博市", district="张店区", postal_code="255022",
                               country_code="CN"),
        payment_reference="4200001896202308306862200509",
        payment_gateway="wechatpay",
        extra_codes={},
        tags=("pii:masked",),
        issues=(),
        goods_total=Decimal("108.80"),
        discount_total=Decimal("0.00"),
        shipping_fee=Decimal("0.00"),
        paid_at=utc(2023, 8, 30, 7, 9, 6),
        sealed=SealedContact("wechat_channels", name_masked="苑**", phone_masked="130****5941",
                             address_masked="傅家镇华福家园8号楼***"),
    )


def test_shipped_order_brings_its_parcel_discount_freight_and_an_open_after_sale() -> None:
    order = wechat.parse_order(load("wechat_channels_order_shipped.json"))
    assert order.status_code == "30"
    assert order.shipments == (InboundShipment("YTO", "YT7512345678901", "圆通速递", utc(2024, 5, 23, 5, 5, 0),
                                               ("1580001101", "1580001102")),)
    assert [line.external_line_id for line in order.lines] == ["1580001101", "1580001102"]
    assert (order.total_amount, order.goods_total, order.discount_total, order.shipping_fee) == (
        Decimal("151.90"), Decimal("157.90"), Decimal("12.00"), Decimal("6.00"))
    assert order.issues == () and order.paid_at == utc(2024, 5, 22, 6, 42, 13)
    assert order.buyer_requests == (BUYER_REFUND,)  # one jar of sauce is in after-sale
    assert order.sealed == SealedContact("wechat_channels", name_masked="周**", phone_masked="139****8866",
                                         address_masked="香港中路***号")


def test_a_virtual_relay_number_is_the_phone_to_dial() -> None:
    payload = load("wechat_channels_order.json")
    info = payload["order"]["order_detail"]["delivery_info"]["address_info"]
    info.update(virtual_order_tel_number="95013200012-4321")
    order = wechat.parse_order(payload)
    assert order.address.phone == "95013200012-4321" and order.sealed is not None
    assert order.sealed.phone_masked == "130****5941" and order.sealed.name_masked == "苑**"
    assert order.tags == ("pii:masked",)  # the name is still only masked


def test_numeric_order_id_and_unpaid_order() -> None:
    payload = load("wechat_channels_order.json")
    payload["order"].update(order_id=3713995673005065728, status=10)
    payload["order"]["order_detail"]["pay_info"] = {"prepay_time": 1693379333}
    order = wechat.parse_order(payload)
    assert order.external_id == "3713995673005065728"
    assert order.paid_amount is None and order.payment_reference == "" and order.payment_gateway == ""


def test_api_error_is_refused() -> None:
    with pytest.raises(PayloadError, match="invalid credential") as err:
        wechat.parse_order({"errcode": 40001, "errmsg": "invalid credential"})
    assert err.value.field == "errcode"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda o: o["order_detail"].pop("price_info"), "order.order_detail.price_info"),
        (lambda o: o["order_detail"]["product_infos"][1].update(sku_cnt="2件"),
         "order.order_detail.product_infos[1].sku_cnt"),
        (lambda o: o["order_detail"]["product_infos"][0].update(sale_price=69.0),
         "order.order_detail.product_infos[0].sale_price"),
        (lambda o: o.update(update_time=None), "order.update_time"),
        (lambda o: o["order_detail"]["price_info"].update(freight="6.00"), "order.order_detail.price_info.freight"),
        (lambda o: o["order_detail"]["delivery_info"]["delivery_product_info"][0].update(delivery_time="today"),
         "order.order_detail.delivery_info.delivery_product_info[0].delivery_time"),
    ],
)
def test_malformed_orders_name_the_field(mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    payload = load("wechat_channels_order_shipped.json")
    mutate(payload["order"])
    with pytest.raises(PayloadError) as err:
        wechat.parse_order(payload)
    assert err.value.field == field
