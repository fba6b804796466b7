"""The JMESPath mapping parser for arbitrary webhooks."""

from __future__ import annotations

from decimal import Decimal

import pytest
from adapters_samples import utc

from adapters import wire
from adapters.channels import generic
from domain.inbound.normalized import (
    InboundAddress,
    InboundLine,
    InboundOrder,
    PayloadError,
)

# A self-built mini-program's order webhook, as a merchant might configure it.
BODY = """{
  "event": "order.paid",
  "data": {
    "orderNo": "MP20240301000123",
    "state": "PAID",
    "amountFen": 25800,
    "payNo": "4200002299202403011234567890",
    "createdAt": "2024-03-01 11:58:00",
    "updatedAt": "2024-03-01 12:00:00",
    "buyer": {"name": "陈先生", "mobile": "13912345678"},
    "receiver": {"province": "北京市", "city": "北京市", "district": "朝阳区", "detail": "工体北路 8 号"},
    "items": [
      {"skuCode": "A1", "num": 2, "priceFen": 9900, "name": "Tee", "lineId": 1},
      {"skuCode": "B2", "num": 1, "priceFen": 6000, "name": "Cap", "lineId": 2}
    ]
  }
}""".encode("utf-8")

MAPPING = {
    "source": "miniprogram",
    "external_id": "data.orderNo",
    "status": "data.state",
    "lines": "data.items",
    "line.sku": "skuCode",
    "line.quantity": "num",
    "line.unit_price": "priceFen",
    "line.title": "name",
    "line.external_line_id": "lineId",
    "total_amount": "data.amountFen",
    "currency": "'CNY'",
    "updated_at": "data.updatedAt",
    "placed_at": "data.createdAt",
    "customer_name": "data.buyer.name",
    "customer_phone": "data.buyer.mobile",
    "payment_reference": "data.payNo",
    "address.name": "data.buyer.name",
    "address.phone": "data.buyer.mobile",
    "address.province": "data.receiver.province",
    "address.city": "data.receiver.city",
    "address.district": "data.receiver.district",
    "address.address": "data.receiver.detail",
    "money_unit": "fen",
    "time_format": "china",
}


def test_maps_a_custom_webhook_exactly() -> None:
    assert generic.parse_order(wire.load_json(BODY), MAPPING) == InboundOrder(
        source="miniprogram",
        external_id="MP20240301000123",
        status_code="PAID",
        lines=(InboundLine("A1", 2, Decimal("99.00"), "Tee", "1"), InboundLine("B2", 1, Decimal("60.00"), "Cap", "2")),
        currency="CNY",
        total_amount=Decimal("258.00"),
        paid_amount=None,
        updated_at=utc(2024, 3, 1, 4, 0, 0),
        placed_at=utc(2024, 3, 1, 3, 58, 0),
        customer_name="陈先生",
        customer_phone="13912345678",
        address=InboundAddress(name="陈先生", phone="13912345678", province="北京市", city="北京市",
                               district="朝阳区", address="工体北路 8 号"),
        payment_reference="4200002299202403011234567890",
    )


def test_defaults_are_yuan_and_iso() -> None:
    payload = {"id": 7, "s": "open", "t": "19.90", "at": "2024-03-01T12:00:00+08:00",
               "items": [{"sku": "X", "q": 1, "p": Decimal("19.9")}]}
    mapping = {"external_id": "id", "status": "s", "lines": "items", "line.sku": "sku", "line.quantity": "q",
               "line.unit_price": "p", "total_amount": "t", "currency": "'EUR'", "updated_at": "at"}
    order = generic.parse_order(payload, mapping)
    assert (order.source, order.external_id, order.total_amount) == ("generic", "7", Decimal("19.90"))
    assert order.lines == (InboundLine("X", 1, Decimal("19.90")),)
    assert order.updated_at == utc(2024, 3, 1, 4, 0, 0)


def test_missing_line_value_names_key_expression_and_line() -> None:
    payload = wire.load_json(BODY)
    del payload["data"]["items"][1]["skuCode"]
    with pytest.raises(PayloadError) as err:
        generic.parse_order(payload, MAPPING)
    assert err.value.field == "lines[1].line.sku (skuCode)"
    assert "missing" in str(err.value)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("orderNo"), "external_id (data.orderNo)"),
        (lambda d: d.update(items={"skuCode": "A1"}), "lines (data.items)"),
        (lambda d: d.update(items=[]), "lines (data.items)"),
        (lambda d: d.update(updatedAt="2024-03-01T12:00:00Z"), "updated_at (data.updatedAt)"),
        (lambda d: d.update(amountFen="258.00"), "total_amount (data.amountFen)"),
    ],
)
def test_payload_errors_name_the_mapping_key(mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    payload = wire.load_json(BODY)
    mutate(payload["data"])
    with pytest.raises(PayloadError) as err:
        generic.parse_order(payload, MAPPING)
    assert err.value.field == field


def test_broken_mappings_are_configuration_errors_listing_every_problem() -> None:
    mapping = {k: v for k, v in MAPPING.items() if k != "currency"}
    mapping.update({"money_unit": "cents", "line.sku": "items[?", "colour": "x"})
    with pytest.raises(ValueError) as err:
        generic.parse_order({}, mapping)
    assert not isinstance(err.value, PayloadError)
    message = str(err.value)
    for fragment in ("'currency'", "'colour'", "cents", "line.sku: bad JMESPath"):
        assert fragment in message
    generic.check_mapping(MAPPING)  # a good one passes
