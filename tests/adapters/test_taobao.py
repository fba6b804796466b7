"""Taobao TOP trades and TMC messages -> InboundOrder."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from adapters_samples import load, utc

from adapters.channels import taobao
from domain.inbound.normalized import (
    InboundAddress,
    InboundLine,
    InboundOrder,
    InboundShipment,
    PayloadError,
    SealedContact,
)

TRADE = "trade_fullinfo_get_response.trade"


def test_parses_the_trade_exactly() -> None:
    assert taobao.parse_order(load("taobao_trade.json")) == InboundOrder(
        source="taobao",
        external_id="3612345678901234567",
        status_code="WAIT_SELLER_SEND_GOODS",
        lines=(
            InboundLine("SCARF-GRY", 2, Decimal("45.00"), "美利奴羊毛围巾 灰色", "3612345678901234568"),
            InboundLine("HAT-01", 1, Decimal("90.90"), "羊毛帽", "3612345678901234569"),
        ),
        currency="CNY",
        total_amount=Decimal("185.90"),
        paid_amount=Decimal("185.90"),
        updated_at=utc(2024, 3, 1, 2, 16, 5),
        placed_at=utc(2024, 3, 1, 2, 15, 30),
        customer_name="",
        customer_phone="",
        address=InboundAddress(
            province="浙江省", city="杭州市", district="西湖区", street="文新街道", postal_code="310000",
            country_code="CN",
        ),
        payment_reference="2024030122001123456789012345",
        payment_gateway="alipay",
        extra_codes={"refund_status@3612345678901234569": "WAIT_SELLER_AGREE"},
        tags=("pii:masked",),
        issues=(),
        goods_total=Decimal("180.90"),
        discount_total=Decimal("0.00"),
        shipping_fee=Decimal("5.00"),
        paid_at=utc(2024, 3, 1, 2, 16, 2),
        sealed=SealedContact("taobao", name_masked="张**", phone_masked="138****5678", address_masked="文**路**号"),
    )


def test_shipped_trade_brings_its_waybills_amount_parts_and_oaid() -> None:
    order = taobao.parse_order(load("taobao_trade_shipped.json"))
    assert order.shipments == (
        InboundShipment("SF", "SF1409876543210", "顺丰速运", utc(2024, 5, 21, 1, 30, 0),
                        ("4019283746501928375", "4019283746501928376")),
        InboundShipment("ZTO", "78654321098765", "中通快递", utc(2024, 5, 21, 8, 2, 11), ("4019283746501928377",)),
    )
    assert [line.external_line_id for line in order.lines] == [
        "4019283746501928375", "4019283746501928376", "4019283746501928377"]
    # payment = goods - (shop promotion 20.00 + seller re-pricing 5.00) + postage
    assert (order.total_amount, order.goods_total, order.discount_total, order.shipping_fee, order.tax_total) == (
        Decimal("250.80"), Decimal("267.80"), Decimal("25.00"), Decimal("8.00"), None)
    assert order.paid_at == utc(2024, 5, 20, 13, 47, 40) and order.issues == ()
    assert order.sealed == SealedContact(
        "taobao", name_masked="刘**", phone_masked="*******1234", address_masked="星**路**号",
        open_id="1Qicz5OvbfWxf3dJLo4S2XCyjbNhuQzXW2e9HnDCbHdOVHqXoLK7pPwEGE2kgPTU0ibhB")
    assert (order.address.name, order.address.phone, order.address.address) == ("", "", "")
    assert (order.address.street, order.address.postal_code, order.address.country_code) == ("娄葑街道", "215000", "CN")
    assert order.customer_name == "" and order.tags == ("pii:masked",)


def test_clear_receiver_stays_clear_and_a_masked_nick_is_not_a_name() -> None:
    payload = load("taobao_trade.json")
    trade = payload["trade_fullinfo_get_response"]["trade"]
    trade.update(receiver_name="张三", receiver_mobile="13812345678", receiver_address="文三路 90 号")
    order = taobao.parse_order(payload)
    assert (order.address.name, order.address.phone, order.address.address) == ("张三", "13812345678", "文三路 90 号")
    assert order.sealed is None and order.tags == () and order.customer_name == "张三"
    trade.update(receiver_name="", buyer_nick="t**1")
    assert taobao.parse_order(payload).customer_name == ""


def test_amount_parts_that_do_not_add_up_are_reported_not_refused() -> None:
    payload = load("taobao_trade_shipped.json")
    payload["trade_fullinfo_get_response"]["trade"]["post_fee"] = "10.00"
    order = taobao.parse_order(payload)
    assert order.total_amount == Decimal("250.80")
    assert order.issues == ("trade_fullinfo_get_response.trade.payment: amount parts do not add up: goods 267.80 - "
                            "discounts 25.00 + shipping 10.00 + tax 0 = 252.80, but the buyer pays 250.80",)


def test_hong_kong_receivers_get_their_own_country_code_and_unknown_countries_are_reported() -> None:
    payload = load("taobao_trade.json")
    trade = payload["trade_fullinfo_get_response"]["trade"]
    trade.update(receiver_state="香港特别行政区", receiver_country="中国")
    assert taobao.parse_order(payload).address.country_code == "HK"
    trade.update(receiver_state="浙江省", receiver_country="Atlantis")
    order = taobao.parse_order(payload)
    assert order.address.country_code == ""
    assert order.issues == ("trade_fullinfo_get_response.trade.receiver_country: country 'Atlantis' is not a known "
                            "name; country code left empty",)


def test_bare_trade_and_flattened_orders_and_numeric_ids() -> None:
    trade = load("taobao_trade.json")["trade_fullinfo_get_response"]["trade"]
    del trade["tid_str"]
    for sub in trade["orders"]["order"]:
        del sub["oid_str"]
    trade["orders"] = trade["orders"]["order"]
    order = taobao.parse_order(trade)
    assert order.external_id == "3612345678901234567"
    assert [line.external_line_id for line in order.lines] == ["3612345678901234568", "3612345678901234569"]


def test_unpaid_trade_has_no_paid_amount_and_sub_order_status_differences_are_kept() -> None:
    payload = load("taobao_trade.json")
    trade = payload["trade_fullinfo_get_response"]["trade"]
    trade.update(status="SELLER_CONSIGNED_PART")
    trade["orders"]["order"][0]["status"] = "WAIT_BUYER_CONFIRM_GOODS"
    trade["orders"]["order"][1]["status"] = "SELLER_CONSIGNED_PART"
    assert taobao.parse_order(payload).extra_codes == {
        "status@3612345678901234568": "WAIT_BUYER_CONFIRM_GOODS",
        "refund_status@3612345678901234569": "WAIT_SELLER_AGREE",
    }
    trade.update(status="WAIT_BUYER_PAY", pay_time=None, alipay_no="", step_trade_status="FRONT_NOPAID_FINAL_NOPAID")
    order = taobao.parse_order(payload)
    assert order.paid_amount is None and order.payment_gateway == ""
    assert order.extra_codes["step_trade_status"] == "FRONT_NOPAID_FINAL_NOPAID"


def test_unwrap_tmc_decodes_the_content_string_exactly() -> None:
    content = taobao.unwrap_tmc(load("taobao_tmc.json"))
    assert content["tid"] == 3612345678901234567  # exact int, not a float approximation
    assert content["payment"] == "185.90"
    assert content["seller_nick"] == "北风羊毛旗舰店"
    assert taobao.unwrap_tmc({"topic": "x", "content": {"tid": 1}}) == {"tid": 1}


@pytest.mark.parametrize("message", [{"topic": "x"}, {"content": "{not json"}, {"content": "[1, 2]"}, {"content": 12}])
def test_unwrap_tmc_refuses_broken_content(message: dict) -> None:
    with pytest.raises(PayloadError) as err:
        taobao.unwrap_tmc(message)
    assert err.value.field == "content"


def test_error_response_is_refused() -> None:
    error = {"error_response": {"code": 27, "msg": "Invalid session", "sub_code": "invalid-sessionkey"}}
    with pytest.raises(PayloadError, match="Invalid session|invalid-sessionkey"):
        taobao.parse_order(error)


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("modified", "2024-03-01T10:16:05", f"{TRADE}.modified"),
        ("payment", "185.9.0", f"{TRADE}.payment"),
        ("status", None, f"{TRADE}.status"),
        ("orders", {"order": []}, f"{TRADE}.orders"),
        ("orders", None, f"{TRADE}.orders"),
        ("pay_time", "2024/03/01 10:16", f"{TRADE}.pay_time"),
        ("post_fee", "5元", f"{TRADE}.post_fee"),
    ],
)
def test_malformed_trades_name_the_field(key: str, value: object, field: str) -> None:
    payload = load("taobao_trade.json")
    payload["trade_fullinfo_get_response"]["trade"][key] = value
    with pytest.raises(PayloadError) as err:
        taobao.parse_order(payload)
    assert err.value.field == field


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [("consign_time", "21/05/2024", "orders.order[2].consign_time"),
     ("adjust_fee", "-5,00", "orders.order[2].adjust_fee"),
     ("invoice_no", 7.5, "orders.order[2].invoice_no")],
)
def test_malformed_sub_order_waybill_or_adjustment_names_the_field(key: str, value: object, field: str) -> None:
    payload = load("taobao_trade_shipped.json")
    payload["trade_fullinfo_get_response"]["trade"]["orders"]["order"][2][key] = value
    with pytest.raises(PayloadError) as err:
        taobao.parse_order(payload)
    assert err.value.field == f"{TRADE}.{field}"


def test_sub_order_quantity_type_error_points_at_the_sub_order() -> None:
    payload = json.loads(json.dumps(load("taobao_trade.json"), default=str))
    payload["trade_fullinfo_get_response"]["trade"]["orders"]["order"][1]["num"] = "one"
    with pytest.raises(PayloadError) as err:
        taobao.parse_order(payload)
    assert err.value.field == f"{TRADE}.orders.order[1].num"
