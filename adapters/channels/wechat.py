"""WeChat Channels shop (视频号小店): ``/channels/ec/order/get``.

Money is integer fen; times are unix seconds; ``order_id`` exceeds 2^53.
``status_code`` is ``status`` (10 to pay ... 250 cancelled unpaid).  The
merchant SKU is ``sku_code`` (``out_sku_id`` as fallback).  ``total_amount``
is ``price_info.order_price`` (what the buyer pays); the WeChat Pay
``transaction_id`` is the payment reference.
"""

from __future__ import annotations

from adapters import wire
from adapters.channels.common import merchant_sku, pii_tags, require_lines, unwrap
from adapters.reader import Reader
from domain.inbound.normalized import (
    InboundAddress,
    InboundLine,
    InboundOrder,
    PayloadError,
)

SOURCE = "wechat_channels"
CURRENCY = "CNY"


def _line(product: Reader, issues: list[str]) -> InboundLine:
    return InboundLine(
        sku=merchant_sku(product, ("sku_code", "out_sku_id"), issues),
        quantity=product.req("sku_cnt", wire.count),
        unit_price=product.req("sale_price", wire.money_from_fen),
        title=product.text("title"),
        external_line_id=product.first_text("product_unique_id", "sku_id"),
    )


def _address(info: Reader) -> InboundAddress:
    phone = info.text("tel_number") or info.obj("tel_number_ext_info", required=False).text("real_tel_number")
    return InboundAddress(
        name=info.text("user_name"),
        phone=phone or info.text("virtual_order_tel_number"),
        province=info.text("province_name"),
        city=info.text("city_name"),
        district=info.text("county_name"),
        address=info.text("detail_info"),
        postal_code=info.text("postal_code"),
    )


def _refuse_api_error(payload: object) -> None:
    if isinstance(payload, dict) and payload.get("errcode") not in (None, 0):
        raise PayloadError(f"WeChat answered with an error, not an order: {payload.get('errmsg')!r}", field="errcode")


def parse_order(payload: dict) -> InboundOrder:
    """A Channels order (``{"errcode": 0, "order": {...}}`` or the bare order) -> :class:`InboundOrder`."""
    _refuse_api_error(payload)
    order = unwrap(payload, "order")
    issues: list[str] = []
    detail = order.obj("order_detail")
    products = require_lines(detail.objs("product_infos"), detail.at("product_infos"))
    pay_info = detail.obj("pay_info", required=False)
    total = detail.obj("price_info").req("order_price", wire.money_from_fen)
    paid_at = pay_info.opt("pay_time", wire.unix_time, zero_is_missing=True)
    address = _address(detail.obj("delivery_info", required=False).obj("address_info", required=False))
    transaction_id = pay_info.text("transaction_id")
    return InboundOrder(
        source=SOURCE,
        external_id=order.req("order_id", wire.ident),
        status_code=order.req("status", wire.ident),
        lines=tuple(_line(product, issues) for product in products),
        currency=CURRENCY,
        total_amount=total,
        paid_amount=total if paid_at else None,
        updated_at=order.req("update_time", wire.unix_time),
        placed_at=order.opt("create_time", wire.unix_time, zero_is_missing=True),
        customer_name=address.name,
        customer_phone=address.phone,
        address=address,
        payment_reference=transaction_id,
        payment_gateway="wechatpay" if transaction_id else "",
        tags=pii_tags(address.name, address.phone),
        issues=tuple(issues),
    )
