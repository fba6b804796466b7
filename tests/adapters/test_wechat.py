"""WeChat Channels shop order -> InboundOrder."""

from __future__ import annotations

from decimal import Decimal

import pytest
from adapters_samples import load, utc

from adapters.channels import wechat
from domain.inbound.normalized import (
    InboundAddress,
    InboundLine,
    InboundOrder,
    PayloadError,
)


def test_parses_the_order_exactly() -> None:
    assert wechat.parse_order(load("wechat_channels_order.json")) == InboundOrder(
        source="wechat_channels",
        external_id="3713995673005065728",
        status_code="20",
        lines=(
            InboundLine("KRILL-1KG", 1, Decimal("69.00"), "淡干磷虾肉 500g*2包", "3713995673005065728_001"),
            InboundLine("SAUCE-200", 2, Decimal("19.90"), "海鲜酱 200g", "3713995673005065728_002"),
        ),
        currency="CNY",
        total_amount=Decimal("108.80"),
        paid_amount=Decimal("108.80"),
        updated_at=utc(2023, 8, 30, 7, 9, 16),
        placed_at=utc(2023, 8, 30, 7, 8, 52),
        customer_name="苑**",
        customer_phone="130****5941",
        address=InboundAddress(name="苑**", phone="130****5941", province="山东省", city="淄博市",
                               district="张店区", address="傅家镇华福家园8号楼***", postal_code="255022"),
        payment_reference="4200001896202308306862200509",
        payment_gateway="wechatpay",
        extra_codes={},
        tags=("pii:masked",),
        issues=(),
    )


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
    ],
)
def test_malformed_orders_name_the_field(mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    payload = load("wechat_channels_order.json")
    mutate(payload["order"])
    with pytest.raises(PayloadError) as err:
        wechat.parse_order(payload)
    assert err.value.field == field
