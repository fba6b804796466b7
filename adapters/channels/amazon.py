"""Amazon SP-API Orders v0: ``getOrder`` plus ``getOrderItems``.

An order needs both calls; :func:`combine` merges the two responses into the
payload :func:`parse_order` reads (the order object with ``OrderItems``).
Money is ``{CurrencyCode, Amount}`` with decimal-string amounts; times are
ISO-8601; booleans may arrive as "true"/"false".  ``ItemPrice`` is the
price of the whole line (unit price x quantity), so the unit price is
derived by division and any rounding is reported in ``issues``.  Pending
orders carry no prices at all: their amounts read as 0 with an issue.

``OrderTotal`` is what the buyer pays; the parts are summed over the items:
``ItemPrice`` (goods), ``PromotionDiscount`` + ``ShippingDiscount``,
``ShippingPrice`` and ``ItemTax`` + ``ShippingTax`` (inside the prices in VAT
marketplaces).  A part no item states stays ``None``.  An item's
``BuyerRequestedCancel.IsBuyerRequestedCancel`` is the buyer asking to cancel
(:data:`BUYER_CANCEL`).  The Orders API carries neither the payment time nor
the seller's waybills, so ``paid_at`` and ``shipments`` stay empty.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from adapters import wire
from adapters.channels.common import check_parts, require_lines, total_of, unwrap
from adapters.reader import Reader
from domain.inbound.normalized import (
    BUYER_CANCEL,
    InboundAddress,
    InboundLine,
    InboundOrder,
    PayloadError,
)

SOURCE = "amazon"
_FLAG_TAGS = {
    "IsPrime": "prime",
    "IsBusinessOrder": "business",
    "IsReplacementOrder": "replacement",
    "IsPremiumOrder": "premium",
}


def _refuse_errors(payload: object, field: str) -> None:
    if isinstance(payload, dict) and payload.get("errors"):
        raise PayloadError(f"SP-API answered with errors, not data: {payload['errors']!r}"[:300], field=field)


def combine(order_response: dict, items_response: dict) -> dict:
    """Merge a ``getOrder`` and a ``getOrderItems`` response (wrapped in ``payload`` or bare) into one order dict."""
    _refuse_errors(order_response, "getOrder.errors")
    _refuse_errors(items_response, "getOrderItems.errors")
    order = unwrap(order_response, "payload")
    items = unwrap(items_response, "payload")
    order_id = order.req("AmazonOrderId", wire.ident)
    items_for = items.opt("AmazonOrderId", wire.ident)
    if items_for is not None and items_for != order_id:
        raise PayloadError(f"items belong to order {items_for}, not {order_id}", field="getOrderItems.AmazonOrderId")
    items.objs("OrderItems")  # must be an array of objects
    merged = dict(order.data)
    merged["OrderItems"] = list(items.data["OrderItems"])
    return merged


def _unit_price(item: Reader, quantity: int, issues: list[str]) -> Decimal:
    """ItemPrice.Amount / QuantityOrdered at (at least) cent precision; an inexact split is reported."""
    price = item.obj("ItemPrice", required=False)
    if not price.has("Amount"):
        issues.append(f"{item.at('ItemPrice')}: no price disclosed (Pending orders carry none); unit price read as 0")
        return Decimal(0)
    line_total = price.req("Amount", wire.money_from_decimal)
    if quantity == 0:
        return line_total
    places = Decimal(1).scaleb(min(line_total.as_tuple().exponent, -2))
    unit = (line_total / quantity).quantize(places, rounding=ROUND_HALF_EVEN)
    if unit * quantity != line_total:
        issues.append(f"{item.at('ItemPrice')}: line total {line_total} / {quantity} is not a whole unit price; "
                      f"rounded to {unit}")
    return unit


def _line(item: Reader, issues: list[str]) -> InboundLine:
    quantity = item.req("QuantityOrdered", wire.count)
    return InboundLine(
        sku=item.req("SellerSKU", wire.ident),
        quantity=quantity,
        unit_price=_unit_price(item, quantity, issues),
        title=item.text("Title"),
        external_line_id=item.req("OrderItemId", wire.ident),
    )


def _address(ship: Reader) -> InboundAddress:
    lines = (ship.text("AddressLine1"), ship.text("AddressLine2"), ship.text("AddressLine3"))
    return InboundAddress(
        name=ship.text("Name"),
        phone=ship.text("Phone"),
        province=ship.text("StateOrRegion"),
        city=ship.text("City"),
        district=ship.first_text("District", "County"),
        address=", ".join(line for line in lines if line),
        postal_code=ship.text("PostalCode"),
        country_code=ship.text("CountryCode").upper(),
        company=ship.text("CompanyName"),
    )


def _currency(total: Reader, items: list[Reader]) -> str:
    """OrderTotal's currency, else the first priced item's (Pending orders may lack OrderTotal)."""
    if total.has("CurrencyCode"):
        return total.req("CurrencyCode", wire.ident)
    for item in items:
        price = item.obj("ItemPrice", required=False)
        if price.has("CurrencyCode"):
            return price.req("CurrencyCode", wire.ident)
    return ""


def _item_sum(items: list[Reader], *keys: str) -> Decimal | None:
    """Σ ``<key>.Amount`` over the items and keys; ``None`` when no item states any of them."""
    return total_of(item.obj(key, required=False).opt("Amount", wire.money_from_decimal)
                    for item in items for key in keys)


def _buyer_requests(items: list[Reader]) -> tuple[str, ...]:
    asked = any(item.obj("BuyerRequestedCancel", required=False).opt("IsBuyerRequestedCancel", wire.boolean)
                for item in items)
    return (BUYER_CANCEL,) if asked else ()


def _tags(order: Reader, items: list[Reader]) -> tuple[str, ...]:
    tags = [tag for key, tag in _FLAG_TAGS.items() if order.opt(key, wire.boolean)]
    if any(item.opt("IsGift", wire.boolean) for item in items):
        tags.append("gift")
    return tuple(tags)


def parse_order(payload: dict) -> InboundOrder:
    """A combined Amazon order (see :func:`combine`) -> :class:`InboundOrder`."""
    _refuse_errors(payload, "errors")
    order = unwrap(payload, "payload")
    issues: list[str] = []
    items = require_lines(order.objs("OrderItems"), order.at("OrderItems"))
    lines = tuple(_line(item, issues) for item in items)
    total = order.obj("OrderTotal", required=False)
    currency = _currency(total, items)
    if total.has("Amount"):
        total_amount = total.req("Amount", wire.money_from_decimal)
    else:
        total_amount = Decimal(0)
        issues.append(f"{order.at('OrderTotal')}: no order total disclosed; read as 0")
    if not currency:
        issues.append(f"{order.at('OrderTotal')}: no currency disclosed")
    address = _address(order.obj("ShippingAddress", required=False))
    goods, shipping = _item_sum(items, "ItemPrice"), _item_sum(items, "ShippingPrice")
    discount = _item_sum(items, "PromotionDiscount", "ShippingDiscount")
    tax = _item_sum(items, "ItemTax", "ShippingTax")
    if total.has("Amount"):
        check_parts(total_amount, goods=goods, discount=discount, shipping=shipping, tax=tax,
                    where=order.at("OrderTotal"), issues=issues, tax_may_be_included=True)
    buyer = order.obj("BuyerInfo", required=False)
    extra_codes: dict[str, str] = {}
    if order.has("FulfillmentChannel"):  # AFN = Amazon fulfils it, MFN = we do
        extra_codes["fulfillment_channel"] = order.req("FulfillmentChannel", wire.ident)
    return InboundOrder(
        source=SOURCE,
        external_id=order.req("AmazonOrderId", wire.ident),
        status_code=order.req("OrderStatus", wire.ident),
        lines=lines,
        currency=currency,
        total_amount=total_amount,
        paid_amount=None,  # Amazon collects payment itself; the Orders API does not report captures
        updated_at=order.req("LastUpdateDate", wire.iso_time),
        placed_at=order.opt("PurchaseDate", wire.iso_time),
        customer_name=buyer.text("BuyerName") or address.name,
        customer_phone=address.phone,
        address=address,
        payment_gateway=order.text("PaymentMethod"),
        extra_codes=extra_codes,
        tags=_tags(order, items),
        issues=tuple(issues),
        customer_email=buyer.text("BuyerEmail"),
        goods_total=goods,
        discount_total=discount,
        shipping_fee=shipping,
        tax_total=tax,
        buyer_requests=_buyer_requests(items),
    )
