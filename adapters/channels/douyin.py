"""Douyin shop (抖店): ``order.orderDetail`` (``shop_order_detail``).

Money is integer fen; times are unix seconds (``pay_time`` 0 = unpaid); ids
are strings beyond 2^53; receiver fields are ciphertext (``encrypt_post_*``).
``status_code`` is ``order_status``; ``main_status`` (adds 103 part paid and
21/22/39 refunded) and ``pay_type`` go to ``extra_codes``.
``total_amount`` is ``order_amount``; ``paid_amount`` is ``pay_amount``
(after platform subsidies) once paid.
"""

from __future__ import annotations

from adapters import wire
from adapters.channels.common import merchant_sku, pii_tags, require_lines, unwrap
from adapters.reader import Reader
from domain.inbound.normalized import InboundAddress, InboundLine, InboundOrder

SOURCE = "douyin"
CURRENCY = "CNY"
_EXTRA_CODE_FIELDS = ("main_status", "pay_type")


def _line(sku_order: Reader, issues: list[str]) -> InboundLine:
    return InboundLine(
        sku=merchant_sku(sku_order, ("code", "out_sku_id"), issues),
        quantity=sku_order.req("item_num", wire.count),
        unit_price=sku_order.req("origin_amount", wire.money_from_fen),  # 商品现价, per unit
        title=sku_order.text("product_name"),
        external_line_id=sku_order.opt("order_id", wire.ident) or "",
    )


def _address(detail: Reader) -> InboundAddress:
    post = detail.obj("post_addr", required=False)
    return InboundAddress(
        name=detail.first_text("encrypt_post_receiver", "post_receiver"),
        phone=detail.first_text("encrypt_post_tel", "post_tel"),
        province=post.obj("province", required=False).text("name"),
        city=post.obj("city", required=False).text("name"),
        district=post.obj("town", required=False).text("name"),
        street=post.obj("street", required=False).text("name"),
        address=post.first_text("encrypt_detail", "detail"),
    )


def parse_order(payload: dict) -> InboundOrder:
    """A Douyin order (``{"data": {"shop_order_detail": ...}}`` or the bare detail) -> :class:`InboundOrder`."""
    detail = unwrap(payload, "data", "shop_order_detail")
    issues: list[str] = []
    sku_orders = require_lines(detail.objs("sku_order_list"), detail.at("sku_order_list"))
    paid_at = detail.opt("pay_time", wire.unix_time, zero_is_missing=True)
    address = _address(detail)
    return InboundOrder(
        source=SOURCE,
        external_id=detail.req("order_id", wire.ident),
        status_code=detail.req("order_status", wire.ident),
        lines=tuple(_line(sku_order, issues) for sku_order in sku_orders),
        currency=CURRENCY,
        total_amount=detail.req("order_amount", wire.money_from_fen),
        paid_amount=detail.req("pay_amount", wire.money_from_fen) if paid_at else None,
        updated_at=detail.req("update_time", wire.unix_time),
        placed_at=detail.opt("create_time", wire.unix_time, zero_is_missing=True),
        customer_name=address.name,
        customer_phone=address.phone,
        address=address,
        payment_reference=detail.text("channel_payment_no"),
        extra_codes={key: detail.req(key, wire.ident) for key in _EXTRA_CODE_FIELDS if detail.has(key)},
        tags=pii_tags(address.name, address.phone, address.address),
        issues=tuple(issues),
    )
