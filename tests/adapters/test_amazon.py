"""Amazon SP-API getOrder + getOrderItems -> InboundOrder."""

from __future__ import annotations

from decimal import Decimal

import pytest
from adapters_samples import load, utc

from adapters.channels import amazon
from domain.inbound.normalized import (
    BUYER_CANCEL,
    InboundAddress,
    InboundLine,
    InboundOrder,
    PayloadError,
)


def _combined() -> dict:
    return amazon.combine(load("amazon_get_order.json"), load("amazon_get_order_items.json"))


def test_parses_the_order_exactly() -> None:
    assert amazon.parse_order(_combined()) == InboundOrder(
        source="amazon",
        external_id="902-3159896-1390916",
        status_code="Unshipped",
        lines=(
            InboundLine("MUG-350-W", 2, Decimal("29.99"), "Stoneware Mug 350 ml, White", "52852651034158"),
            InboundLine("TEA-LJ-250", 1, Decimal("39.99"), "Longjing Green Tea 250 g", "52852651034159"),
        ),
        currency="USD",
        total_amount=Decimal("99.97"),
        paid_amount=None,
        updated_at=utc(2024, 3, 2, 9, 30, 0),
        placed_at=utc(2024, 3, 1, 18, 4, 12),
        customer_name="Grace Hopper",
        customer_phone="+1 206-555-0100",
        address=InboundAddress(name="Grace Hopper", phone="+1 206-555-0100", province="WA", city="SEATTLE",
                               address="410 Terry Ave N", postal_code="98109-5210", country_code="US"),
        payment_gateway="Other",
        extra_codes={"fulfillment_channel": "MFN"},
        tags=("prime", "gift"),
        issues=(),
        customer_email="2xd7y0kq1tmzcvh@marketplace.amazon.com",
        goods_total=Decimal("99.97"),
        discount_total=Decimal("0.00"),
        shipping_fee=Decimal("0.00"),
        tax_total=Decimal("0.00"),
    )


def _cancel_requested() -> dict:
    return amazon.combine(load("amazon_get_order_cancel_requested.json"),
                          load("amazon_get_order_items_cancel_requested.json"))


def test_buyer_cancel_request_amount_parts_and_business_address() -> None:
    order = amazon.parse_order(_cancel_requested())
    assert order.buyer_requests == (BUYER_CANCEL,)
    assert order.status_code == "Unshipped"  # the request does not cancel anything by itself
    # OrderTotal = items 99.97 - promotion 5.00 + shipping 4.99 + tax 8.00
    assert (order.total_amount, order.goods_total, order.discount_total, order.shipping_fee, order.tax_total) == (
        Decimal("107.96"), Decimal("99.97"), Decimal("5.00"), Decimal("4.99"), Decimal("8.00"))
    assert order.issues == ()
    assert order.address == InboundAddress(
        name="Katherine Johnson", phone="+1 757-555-0188", province="VA", city="HAMPTON",
        address="8 Langley Blvd, Building 1244", postal_code="23681-2199", country_code="US",
        company="Langley Flight Research")
    assert order.customer_email == "k7m2q9xv4lzt8cw@marketplace.amazon.com"
    assert [line.external_line_id for line in order.lines] == ["68214790531042", "68214790531043"]
    assert order.shipments == () and order.paid_at is None and order.tags == ("business",)


def test_withdrawn_cancel_request_and_vat_inclusive_prices() -> None:
    combined = _cancel_requested()
    for item in combined["OrderItems"]:
        item["BuyerRequestedCancel"]["IsBuyerRequestedCancel"] = "false"
    combined["OrderTotal"]["Amount"] = "99.96"  # EU-style: ItemTax is the VAT already inside ItemPrice
    order = amazon.parse_order(combined)
    assert order.buyer_requests == () and order.issues == ()


def test_item_price_is_a_line_total_and_uneven_splits_are_reported() -> None:
    combined = _combined()
    combined["OrderItems"][0].update(QuantityOrdered=3, ItemPrice={"CurrencyCode": "USD", "Amount": "10.00"})
    combined["OrderTotal"]["Amount"] = "49.99"  # 10.00 + 39.99, so the order stays consistent
    order = amazon.parse_order(combined)
    assert order.lines[0].unit_price == Decimal("3.33")
    assert order.issues == ("OrderItems[0].ItemPrice: line total 10.00 / 3 is not a whole unit price; rounded to 3.33",)


def test_pending_order_without_prices_is_accepted_with_issues() -> None:
    combined = _combined()
    combined.update(OrderStatus="Pending")
    del combined["OrderTotal"]
    for item in combined["OrderItems"]:
        del item["ItemPrice"]
    order = amazon.parse_order(combined)
    assert order.total_amount == Decimal(0) and order.currency == ""
    assert len(order.issues) == 4  # two lines without price, no total, no currency


def test_combine_refuses_items_of_another_order_and_error_envelopes() -> None:
    items = load("amazon_get_order_items.json")
    items["payload"]["AmazonOrderId"] = "111-0000000-0000000"
    with pytest.raises(PayloadError) as err:
        amazon.combine(load("amazon_get_order.json"), items)
    assert err.value.field == "getOrderItems.AmazonOrderId"
    denied = {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied."}]}
    with pytest.raises(PayloadError, match="Unauthorized"):
        amazon.combine(denied, load("amazon_get_order_items.json"))


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda o: o["OrderItems"][1].update(IsGift="maybe"), "OrderItems[1].IsGift"),
        (lambda o: o.update(LastUpdateDate="2024-03-02T09:30:00"), "LastUpdateDate"),
        (lambda o: o["OrderItems"][0].pop("SellerSKU"), "OrderItems[0].SellerSKU"),
        (lambda o: o.update(OrderTotal={"CurrencyCode": "USD", "Amount": "99,97"}), "OrderTotal.Amount"),
        (lambda o: o.pop("OrderItems"), "OrderItems"),
        (lambda o: o["OrderItems"][0].update(BuyerRequestedCancel={"IsBuyerRequestedCancel": "yes"}),
         "OrderItems[0].BuyerRequestedCancel.IsBuyerRequestedCancel"),
        (lambda o: o["OrderItems"][1].update(ItemTax={"CurrencyCode": "USD", "Amount": "3,20"}),
         "OrderItems[1].ItemTax.Amount"),
    ],
)
def test_malformed_orders_name_the_field(mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    combined = _combined()
    mutate(combined)
    with pytest.raises(PayloadError) as err:
        amazon.parse_order(combined)
    assert err.value.field == field
