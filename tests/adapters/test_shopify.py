"""Shopify orders webhook -> InboundOrder, and the webhook signature."""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
import hmac
from decimal import Decimal

import pytest
from adapters_samples import load, raw, utc

from adapters.channels import shopify
from domain.inbound.normalized import (
    InboundAddress,
    InboundLine,
    InboundOrder,
    InboundShipment,
    PayloadError,
)

SECRET = "shpss_0a1b2c3d4e5f"


def _header(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def test_parses_the_webhook_exactly() -> None:
    assert shopify.parse_order(load("shopify_order.json")) == InboundOrder(
        source="shopify",
        external_id="5123456789012345678",
        status_code="paid/unfulfilled",
        lines=(
            InboundLine("SCARF-GRY", 2, Decimal("45.00"), "Merino Scarf", "15234567890123456"),
            InboundLine("", 1, Decimal("5.00"), "Gift wrap", "15234567890123457"),
            InboundLine("HAT-01", 1, Decimal("75.00"), "Wool Hat", "15234567890123458"),
        ),
        currency="USD",
        total_amount=Decimal("185.90"),
        paid_amount=Decimal("185.90"),
        updated_at=utc(2024, 3, 2, 13, 0, 0),
        placed_at=utc(2024, 3, 1, 15, 15, 31),
        customer_name="Ada Lovelace",
        customer_phone="+14155550123",
        address=InboundAddress(
            name="Ada Lovelace", phone="+1 415-555-0123", province="New York", city="Brooklyn",
            address="1 Analytical Way, Suite 2", postal_code="11201", country_code="US",
        ),
        payment_gateway="shopify_payments",
        extra_codes={},
        tags=("vip", "wholesale"),
        issues=("line_items[1]: no merchant SKU code (looked at sku)",),
        customer_email="ada@example.com",
        goods_total=Decimal("170.00"),
        discount_total=Decimal("0.00"),
        shipping_fee=Decimal("5.00"),
        tax_total=Decimal("10.90"),
        paid_at=utc(2024, 3, 1, 15, 15, 31),
    )


def test_fulfilled_order_brings_its_tracked_parcel_discount_company_and_email() -> None:
    order = shopify.parse_order(load("shopify_order_fulfilled.json"))
    # the cancelled fulfilment is not a parcel; the live one holds the scarves only
    assert order.shipments == (InboundShipment("UPS", "1Z999AA10123456784", "UPS", utc(2024, 5, 19, 14, 20, 31),
                                               ("15298765432100001",)),)
    assert (order.total_amount, order.goods_total, order.discount_total, order.shipping_fee, order.tax_total) == (
        Decimal("175.19"), Decimal("170.00"), Decimal("17.00"), Decimal("9.95"), Decimal("12.24"))
    assert order.issues == ()
    assert (order.address.company, order.address.postal_code, order.address.country_code) == (
        "Lovelace Analytics LLC", "02110", "US")
    assert order.customer_email == "orders@lovelace-analytics.example"
    assert order.status_code == "paid/partial" and order.paid_at == utc(2024, 5, 18, 13, 12, 41)


def test_tax_included_prices_still_add_up_and_unpaid_orders_have_no_paid_time() -> None:
    payload = load("shopify_order_fulfilled.json")
    payload.update(taxes_included=True, total_price="162.95", financial_status="pending", total_outstanding="162.95")
    order = shopify.parse_order(payload)
    assert order.issues == () and order.paid_at is None and order.tax_total == Decimal("12.24")


def test_a_tracking_number_without_any_carrier_is_reported_not_kept() -> None:
    payload = load("shopify_order_fulfilled.json")
    payload["fulfillments"][1]["tracking_company"] = None
    order = shopify.parse_order(payload)
    assert order.shipments == ()
    assert order.issues == ("fulfillments: waybill 1Z999AA10123456784 names no carrier; not recorded as a shipment",)


def test_several_tracking_numbers_are_several_parcels_and_shipping_lines_stand_in_for_the_total() -> None:
    payload = load("shopify_order_fulfilled.json")
    payload["fulfillments"][1]["tracking_numbers"] = ["1Z999AA10123456784", "1Z999AA10123456791"]
    del payload["total_shipping_price_set"]
    order = shopify.parse_order(payload)
    assert [parcel.tracking_no for parcel in order.shipments] == ["1Z999AA10123456784", "1Z999AA10123456791"]
    assert order.shipping_fee == Decimal("9.95")


def test_big_id_beyond_2_pow_53_is_exact() -> None:
    order = shopify.parse_order(load("shopify_order.json"))
    assert int(order.external_id) == 5_123_456_789_012_345_678 > 2**53
    assert order.lines[0].external_line_id == "15234567890123456"


def test_rest_envelope_gives_the_same_order_with_paths_as_received() -> None:
    wrapped = shopify.parse_order({"order": load("shopify_order.json")})
    bare = shopify.parse_order(load("shopify_order.json"))
    assert dataclasses.replace(wrapped, issues=()) == dataclasses.replace(bare, issues=())
    assert wrapped.issues == ("order.line_items[1]: no merchant SKU code (looked at sku)",)


def test_fulfilment_and_cancellation_codes() -> None:
    payload = load("shopify_order.json")
    payload.update(financial_status="refunded", fulfillment_status="partial",
                   cancelled_at="2024-03-03T09:00:00-05:00", cancel_reason="customer", total_outstanding=None)
    order = shopify.parse_order(payload)
    assert order.status_code == "refunded/partial"
    assert order.extra_codes == {"cancelled": "true", "cancel_reason": "customer"}
    assert order.paid_amount is None  # total_outstanding absent: not derivable


def test_authorized_order_has_nothing_captured_yet() -> None:
    payload = load("shopify_order.json")
    payload.update(financial_status="authorized", total_outstanding="185.90")
    assert shopify.parse_order(payload).paid_amount == Decimal("0")


def test_verify_accepts_the_right_secret_only() -> None:
    body = raw("shopify_order.json")
    header = _header(body)
    assert shopify.verify(body, SECRET, header)
    assert shopify.verify(body, SECRET, f"  {header}\n")
    assert not shopify.verify(body.replace(b'"185.90"', b'"1.00"', 1), SECRET, header)
    assert not shopify.verify(body, "another-secret", header)
    assert not shopify.verify(body, SECRET, "")
    assert not shopify.verify(body, "", _header(body, ""))
    assert not shopify.verify(body, SECRET, "ünïcode")


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda p: p.pop("financial_status"), "financial_status"),
        (lambda p: p.pop("id"), "id"),
        (lambda p: p["line_items"][0].update(price="45,00"), "line_items[0].price"),
        (lambda p: p["line_items"][2].update(quantity=-1), "line_items[2].quantity"),
        (lambda p: p.update(updated_at="2024-03-02 08:00:00"), "updated_at"),
        (lambda p: p.update(line_items=[]), "line_items"),
        (lambda p: p.update(total_price=185.9), "total_price"),
        (lambda p: p.update(customer="Ada"), "customer"),
        (lambda p: p.update(total_tax="ten"), "total_tax"),
        (lambda p: p.update(total_shipping_price_set={"shop_money": {"amount": "9,95"}}),
         "total_shipping_price_set.shop_money.amount"),
        (lambda p: p.update(fulfillments=[{"status": "success", "tracking_number": "1Z1", "created_at": "May 19"}]),
         "fulfillments[0].created_at"),
    ],
)
def test_malformed_payloads_name_the_field(mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    payload = copy.deepcopy(load("shopify_order.json"))
    mutate(payload)
    with pytest.raises(PayloadError) as err:
        shopify.parse_order(payload)
    assert err.value.field == field
    assert field in str(err.value)
