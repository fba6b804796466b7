"""Shopify: ``orders/*`` webhooks and REST order objects.

Money is decimal strings in the shop currency; times are ISO-8601 with
offset; ids are 64-bit and must stay strings.  ``status_code`` combines the
two REST dimensions as ``"<financial_status>/<fulfillment_status or unfulfilled>"``;
a cancellation is reported separately in ``extra_codes["cancelled"]``.
"""

from __future__ import annotations

from decimal import Decimal

from adapters import signing, wire
from adapters.channels.common import merchant_sku, require_lines, unwrap
from adapters.reader import Reader
from domain.inbound.normalized import InboundAddress, InboundLine, InboundOrder

SOURCE = "shopify"
SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"


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
        country_code=ship.text("country_code"),
    )


def _paid_amount(order: Reader, total: Decimal) -> Decimal | None:
    """Captured so far = total_price - total_outstanding; unknown when Shopify omits the outstanding amount."""
    outstanding = order.opt("total_outstanding", wire.money_from_decimal)
    if outstanding is None:
        return None
    return max(total - outstanding, Decimal(0))


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
        placed_at=order.opt("processed_at", wire.iso_time) or order.opt("created_at", wire.iso_time),
        customer_name=customer_name or billing.text("name") or shipping.name,
        customer_phone=customer.text("phone") or order.text("phone") or shipping.phone or billing.text("phone"),
        address=shipping,
        payment_gateway=_gateway(order),
        extra_codes=extra_codes,
        tags=_tags(order),
        issues=tuple(issues),
    )
