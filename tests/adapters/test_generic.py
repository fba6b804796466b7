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
    InboundShipment,
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


# The same kind of webhook from a self-built shop that already shipped, with every optional part mapped.
SHIPPED = """{
  "orderNo": "MP20240522000777",
  "state": "SHIPPED",
  "updatedAt": "2024-05-22T18:05:00+08:00",
  "paidAt": "2024-05-22T09:31:12+08:00",
  "amount": {"goods": "258.00", "discount": "30.00", "freight": "12.00", "tax": "0.00", "payable": "240.00"},
  "buyer": {"email": "chen@example.cn"},
  "receiver": {"name": "陈先生", "company": "朝阳设计工作室", "zip": "100027", "country": "CN"},
  "items": [{"skuCode": "A1", "num": 2, "price": "99.00", "lineId": 11},
            {"skuCode": "B2", "num": 1, "price": "60.00", "lineId": 12}],
  "parcels": [
    {"expressCompany": "顺丰速运", "expressNo": "SF1409876500001", "sentAt": "2024-05-22T17:40:00+08:00",
     "lineIds": [11]},
    {"expressCompany": "Local Courier Co.", "expressNo": "LC-8812", "lineIds": 12}
  ]
}"""

SHIPPED_MAPPING = {
    "source": "miniprogram", "external_id": "orderNo", "status": "state", "currency": "'CNY'",
    "updated_at": "updatedAt", "paid_at": "paidAt", "total_amount": "amount.payable",
    "goods_total": "amount.goods", "discount_total": "amount.discount", "shipping_fee": "amount.freight",
    "tax_total": "amount.tax", "customer_email": "buyer.email", "address.name": "receiver.name",
    "address.company": "receiver.company", "address.postal_code": "receiver.zip",
    "address.country_code": "receiver.country", "lines": "items", "line.sku": "skuCode", "line.quantity": "num",
    "line.unit_price": "price", "line.external_line_id": "lineId", "shipments": "parcels",
    "shipment.carrier": "expressCompany", "shipment.tracking_no": "expressNo", "shipment.shipped_at": "sentAt",
    "shipment.line_ids": "lineIds",
}


def test_optional_parts_address_company_email_and_shipments_are_mapped() -> None:
    order = generic.parse_order(wire.load_json(SHIPPED), SHIPPED_MAPPING)
    assert (order.total_amount, order.goods_total, order.discount_total, order.shipping_fee, order.tax_total) == (
        Decimal("240.00"), Decimal("258.00"), Decimal("30.00"), Decimal("12.00"), Decimal("0.00"))
    assert order.paid_at == utc(2024, 5, 22, 1, 31, 12) and order.customer_email == "chen@example.cn"
    assert order.address == InboundAddress(name="陈先生", company="朝阳设计工作室", postal_code="100027",
                                           country_code="CN")
    assert order.shipments == (
        InboundShipment("SF", "SF1409876500001", "顺丰速运", utc(2024, 5, 22, 9, 40, 0), ("11",)),
        InboundShipment("", "LC-8812", "Local Courier Co.", None, ("12",)),
    )
    assert order.issues == ()


def test_a_parcel_without_a_carrier_is_left_out_and_reported() -> None:
    payload = wire.load_json(SHIPPED)
    payload["parcels"][1]["expressCompany"] = ""
    order = generic.parse_order(payload, SHIPPED_MAPPING)
    assert [parcel.tracking_no for parcel in order.shipments] == ["SF1409876500001"]
    assert order.issues == ("shipments (parcels): waybill LC-8812 names no carrier; not recorded as a shipment",)


def test_parts_that_do_not_add_up_are_an_issue_not_a_refusal() -> None:
    payload = wire.load_json(SHIPPED)
    payload["amount"]["payable"] = "250.00"
    order = generic.parse_order(payload, SHIPPED_MAPPING)
    assert order.total_amount == Decimal("250.00")
    assert order.issues == ("total_amount (amount.payable): amount parts do not add up: goods 258.00 - discounts "
                            "30.00 + shipping 12.00 + tax 0.00 = 240.00, but the buyer pays 250.00",)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda p: p["parcels"][1].pop("expressNo"), "shipments[1].shipment.tracking_no (expressNo)"),
        (lambda p: p["parcels"][0].update(sentAt="2024-05-22 17:40"), "shipments[0].shipment.shipped_at (sentAt)"),
        (lambda p: p.update(parcels={"expressNo": "X"}), "shipments (parcels)"),
        (lambda p: p["amount"].update(freight="12,00"), "shipping_fee (amount.freight)"),
        (lambda p: p.update(paidAt=1716341472), "paid_at (paidAt)"),
        (lambda p: p["parcels"][0].update(lineIds=[11, 1.5]), "shipments[0].shipment.line_ids (lineIds)[1]"),
    ],
)
def test_malformed_new_fields_name_the_mapping_key(mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    payload = wire.load_json(SHIPPED)
    mutate(payload)
    with pytest.raises(PayloadError) as err:
        generic.parse_order(payload, SHIPPED_MAPPING)
    assert err.value.field == field


def test_a_shipments_mapping_needs_its_waybill_and_carrier_keys() -> None:
    mapping = {k: v for k, v in SHIPPED_MAPPING.items() if k not in ("shipment.tracking_no", "shipment.carrier")}
    with pytest.raises(ValueError) as err:
        generic.check_mapping(mapping)
    assert "'shipment.tracking_no'" in str(err.value) and "'shipment.carrier'" in str(err.value)
    without_list = {k: v for k, v in SHIPPED_MAPPING.items() if k != "shipments"}
    with pytest.raises(ValueError, match="'shipments'"):
        generic.check_mapping(without_list)


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
