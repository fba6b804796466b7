"""Shopify: ``orders/*`` webhooks and REST order objects.

Money is decimal strings in the shop currency; times are ISO-8601 with
offset; ids are 64-bit and must stay strings.  ``status_code`` combines the
two REST dimensions as ``"<financial_status>/<fulfillment_status or unfulfilled>"``;
a cancellation is reported separately in ``extra_codes["cancelled"]``.

Amounts: ``total_price`` is what the buyer pays; the parts are
``total_line_items_price`` (goods), ``total_discounts``, the shop-currency
``total_shipping_price_set`` (else the ``shipping_lines`` prices) and
``total_tax`` — already inside the prices when ``taxes_included``.  Shopify
does not say when a payment was captured: for an order it reports paid,
``paid_at`` is ``processed_at``, when checkout took the payment.
Fulfilments with a tracking number are the order's waybills (cancelled or
failed ones are not), with the line item ids they hold.

Refunds (``refunds[]``) are after-sales already made: each becomes an
:class:`InboundRefund` stated ``REFUNDED``, with its line items and quantities,
its amount (the successful ``refund`` transactions, else the lines'
subtotals) and its kind (a line restocked as ``return`` makes it a return).
"""

from __future__ import annotations

from decimal import Decimal

from adapters import signing, wire
from adapters.channels.common import (
    check_parts,
    merchant_sku,
    named_shipments,
    require_lines,
    shipment,
    total_of,
    unwrap,
)
from adapters.reader import Reader
from domain.inbound.normalized import (
    InboundAddress,
    InboundLine,
    InboundOrder,
    InboundRefund,
    InboundRefundLine,
    InboundShipment,
)

SOURCE = "shopify"
SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"
#: Financial states in which checkout's payment was captured.
_CAPTURED = {"paid", "partially_refunded", "refunded"}
#: Fulfilment states that never left (or no longer stand for) a parcel.
_VOID_FULFILMENTS = {"cancelled", "error", "failure"}


def verify(raw_body: bytes, secret: str, header_value: str) -> bool:
    """``X-Shopify-Hmac-Sha256``: base64 HMAC-SHA256 of the raw body with the app secret (verify before decoding)."""
    return signing.verify_hmac_sha256_base64(raw_body, secret, header_value)


def _status_code(order: Reader) -> str:
    financial = order.req("financial_status", wire.ident)
    fulfillment = order.opt("fulfillment_status", wire.ident) or "unfulfilled"
    return f"{financial}/{fulfillment}"


def _line(item: Reader, issues: list[str]) -> InboundLine:
    return InboundLine(
        sku=merchant_sku(item, ("sku",), issues),
        quantity=item.req("quantity", wire.count),
        unit_price=item.req("price", wire.money_from_decimal),
        title=item.first_text("title", "name"),
        external_line_id=item.req("id", wire.ident),
    )


def _address(ship: Reader) -> InboundAddress:
    full_name = ship.text("name") or " ".join(p for p in (ship.text("first_name"), ship.text("last_name")) if p)
    return InboundAddress(
        name=full_name,
        phone=ship.text("phone"),
        province=ship.first_text("province", "province_code"),
        city=ship.text("city"),
        address=", ".join(p for p in (ship.text("address1"), ship.text("address2")) if p),
        postal_code=ship.text("zip"),
        country_code=ship.text("country_code").upper(),
        company=ship.text("company"),
    )


def _paid_amount(order: Reader, total: Decimal) -> Decimal | None:
    """Captured so far = total_price - total_outstanding; unknown when Shopify omits the outstanding amount."""
    outstanding = order.opt("total_outstanding", wire.money_from_decimal)
    if outstanding is None:
        return None
    return max(total - outstanding, Decimal(0))


def _shipping_fee(order: Reader) -> Decimal | None:
    price_set = order.obj("total_shipping_price_set", required=False)
    if price_set.data:
        return price_set.obj("shop_money").req("amount", wire.money_from_decimal)
    lines = order.objs("shipping_lines", required=False)
    return total_of(line.opt("price", wire.money_from_decimal) for line in lines)


def _waybills(fulfilment: Reader) -> list[str]:
    """``tracking_numbers`` (a parcel per number), else the single ``tracking_number``."""
    numbers = fulfilment.data.get("tracking_numbers")
    if isinstance(numbers, list) and numbers:
        where = fulfilment.at("tracking_numbers")
        return [wire.ident(number, f"{where}[{index}]") for index, number in enumerate(numbers)]
    number = fulfilment.opt("tracking_number", wire.ident)
    return [number] if number else []


def _shipments(order: Reader, issues: list[str]) -> tuple[InboundShipment, ...]:
    parcels: list[InboundShipment] = []
    for fulfilment in order.objs("fulfillments", required=False):
        if (fulfilment.opt("status", wire.ident) or "").lower() in _VOID_FULFILMENTS:
            continue
        line_ids = [item.req("id", wire.ident) for item in fulfilment.objs("line_items", required=False)]
        shipped_at = fulfilment.opt("created_at", wire.iso_time)
        carrier_name = fulfilment.text("tracking_company")
        parcels += [shipment(carrier_name, waybill, shipped_at, line_ids) for waybill in _waybills(fulfilment)]
    return tuple(named_shipments(parcels, order.at("fulfillments"), issues))


def _refund(refund: Reader) -> InboundRefund | None:
    """One ``refunds[]`` entry; ``None`` when it refunds no line item (shipping or an adjustment only)."""
    items = refund.objs("refund_line_items", required=False)
    lines = tuple(InboundRefundLine(item.req("line_item_id", wire.ident), item.req("quantity", wire.count))
                  for item in items)
    if not lines:
        return None
    paid_back = [t.req("amount", wire.money_from_decimal) for t in refund.objs("transactions", required=False)
                 if t.text("kind") == "refund" and t.text("status") in ("success", "")]
    amount = total_of(paid_back) if paid_back else total_of(
        item.opt("subtotal", wire.money_from_decimal) for item in items)
    returned = any(item.text("restock_type") == "return" for item in items)
    return InboundRefund(external_id=refund.req("id", wire.ident), status_code="refunded", lines=lines,
                         amount=amount, kind="return_refund" if returned else "refund_only", after_sale="REFUNDED",
                         reason=refund.text("note")[:500])


def _refunds(order: Reader) -> tuple[InboundRefund, ...]:
    found = (_refund(refund) for refund in order.objs("refunds", required=False))
    return tuple(refund for refund in found if refund is not None)


def _tags(order: Reader) -> tuple[str, ...]:
    tags = [t.strip() for t in order.text("tags").split(",") if t.strip()]
    if order.opt("test", wire.boolean):
        tags.append("test")
    return tuple(tags)


def _gateway(order: Reader) -> str:
    names = order.data.get("payment_gateway_names")
    if isinstance(names, list) and names and isinstance(names[0], str):
        return names[0]
    return order.text("gateway")


def parse_order(payload: dict) -> InboundOrder:
    """A Shopify order (webhook body, or REST ``{"order": {...}}``) -> :class:`InboundOrder`."""
    order = unwrap(payload, "order")
    issues: list[str] = []
    lines = tuple(_line(item, issues) for item in require_lines(order.objs("line_items"), order.at("line_items")))
    customer = order.obj("customer", required=False)
    shipping = _address(order.obj("shipping_address", required=False))
    billing = order.obj("billing_address", required=False)
    total = order.req("total_price", wire.money_from_decimal)
    goods = order.opt("total_line_items_price", wire.money_from_decimal)
    discount = order.opt("total_discounts", wire.money_from_decimal)
    shipping_fee = _shipping_fee(order)
    tax = order.opt("total_tax", wire.money_from_decimal)
    check_parts(total, goods=goods, discount=discount, shipping=shipping_fee, tax=tax, where=order.at("total_price"),
                issues=issues, tax_may_be_included=bool(order.opt("taxes_included", wire.boolean)))
    processed_at = order.opt("processed_at", wire.iso_time)
    financial = order.req("financial_status", wire.ident)
    shipments = _shipments(order, issues)
    customer_name = " ".join(p for p in (customer.text("first_name"), customer.text("last_name")) if p)
    extra_codes: dict[str, str] = {}
    if order.has("cancelled_at"):
        order.req("cancelled_at", wire.iso_time)  # validated: a cancellation with a garbled time is suspect
        extra_codes["cancelled"] = "true"
        if order.has("cancel_reason"):
            extra_codes["cancel_reason"] = order.req("cancel_reason", wire.ident)
    return InboundOrder(
        source=SOURCE,
        external_id=order.req("id", wire.ident),
        status_code=_status_code(order),
        lines=lines,
        currency=order.req("currency", wire.ident),
        total_amount=total,
        paid_amount=_paid_amount(order, total),
        updated_at=order.req("updated_at", wire.iso_time),
        placed_at=processed_at or order.opt("created_at", wire.iso_time),
        customer_name=customer_name or billing.text("name") or shipping.name,
        customer_phone=customer.text("phone") or order.text("phone") or shipping.phone or billing.text("phone"),
        address=shipping,
        payment_gateway=_gateway(order),
        extra_codes=extra_codes,
        tags=_tags(order),
        issues=tuple(issues),
        customer_email=order.first_text("email", "contact_email") or customer.text("email"),
        goods_total=goods,
        discount_total=discount,
        shipping_fee=shipping_fee,
        tax_total=tax,
        paid_at=processed_at if financial in _CAPTURED else None,
        shipments=shipments,
        refunds=_refunds(order),
    )
