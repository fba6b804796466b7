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
    PayloadError,
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
        customer_name="张**",
        customer_phone="138****5678",
        address=InboundAddress(
            name="张**", phone="138****5678", province="浙江省", city="杭州市", district="西湖区",
            street="文新街道", address="文**路**号", postal_code="310000",
        ),
        payment_reference="2024030122001123456789012345",
        payment_gateway="alipay",
        extra_codes={"refund_status@3612345678901234569": "WAIT_SELLER_AGREE"},
        tags=("pii:masked",),
        issues=(),
    )


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
    ],
)
def test_malformed_trades_name_the_field(key: str, value: object, field: str) -> None:
    payload = load("taobao_trade.json")
    payload["trade_fullinfo_get_response"]["trade"][key] = value
    with pytest.raises(PayloadError) as err:
        taobao.parse_order(payload)
    assert err.value.field == field


def test_sub_order_quantity_type_error_points_at_the_sub_order() -> None:
    payload = json.loads(json.dumps(load("taobao_trade.json"), default=str))
    payload["trade_fullinfo_get_response"]["trade"]["orders"]["order"][1]["num"] = "one"
    with pytest.raises(PayloadError) as err:
        taobao.parse_order(payload)
    assert err.value.field == f"{TRADE}.orders.order[1].num"
