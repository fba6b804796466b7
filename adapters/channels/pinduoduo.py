"""Pinduoduo: ``pdd.order.information.get``.

Money is yuan as JSON *numbers* (59.9 — exact only if decoded with
``wire.load_json``); times are 'yyyy-MM-dd HH:mm:ss' China time; receiver
name/phone/address are ciphertext (``~...~``).  ``status_code`` is
``order_status`` (1 to ship, 2 shipped, 3 signed); ``confirm_status``,
``refund_status`` and (when present) ``after_sales_status`` and
``trade_type`` go to ``extra_codes``.
"""

from __future__ import annotations

from adapters import wire
from adapters.channels.common import merchant_sku, pii_tags, require_lines, unwrap
from adapters.reader import Reader
from domain.inbound.normalized import InboundAddress, InboundLine, InboundOrder

SOURCE = "pinduoduo"
CURRENCY = "CNY"
_EXTRA_CODE_FIELDS = ("confirm_status", "refund_status", "after_sales_status", "trade_type")


def _line(item: Reader, issues: list[str]) -> InboundLine:
    return InboundLine(
        sku=merchant_sku(item, ("outer_id", "outer_goods_id"), issues),
        quantity=item.req("goods_count", wire.count),
        unit_price=item.req("goods_price", wire.money_from_decimal),
        title=item.text("goods_name"),
    )


def _address(order: Reader) -> InboundAddress:
    return InboundAddress(
        name=order.text("receiver_name"),
        phone=order.text("receiver_phone"),
        province=order.text("province"),
        city=order.text("city"),
        district=order.text("town"),
        address=order.first_text("address", "receiver_address"),
    )


def parse_order(payload: dict) -> InboundOrder:
    """A PDD order (``order_info_get_response`` or the bare ``order_info``) -> :class:`InboundOrder`."""
    order = unwrap(payload, "order_info_get_response", "order_info")
    issues: list[str] = []
    items = require_lines(order.objs("item_list"), order.at("item_list"))
    pay_amount = order.req("pay_amount", wire.money_from_decimal)
    address = _address(order)
    return InboundOrder(
        source=SOURCE,
        external_id=order.req("order_sn", wire.ident),
        status_code=order.req("order_status", wire.ident),
        lines=tuple(_line(item, issues) for item in items),
        currency=CURRENCY,
        total_amount=pay_amount,
        paid_amount=pay_amount if order.opt("pay_time", wire.china_time) else None,
        updated_at=order.req("updated_at", wire.china_time),
        placed_at=order.opt("created_time", wire.china_time),
        customer_name=address.name,
        customer_phone=address.phone,
        address=address,
        payment_reference=order.text("pay_no"),
        payment_gateway=order.text("pay_type"),
        extra_codes={key: order.req(key, wire.ident) for key in _EXTRA_CODE_FIELDS if order.has(key)},
        tags=pii_tags(address.name, address.phone, address.address),
        issues=tuple(issues),
    )
