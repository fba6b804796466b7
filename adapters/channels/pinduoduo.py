"""Pinduoduo: ``pdd.order.information.get``.

Money is yuan as JSON *numbers* (59.9 — exact only if decoded with
``wire.load_json``); times are 'yyyy-MM-dd HH:mm:ss' China time.
``status_code`` is ``order_status`` (1 to ship, 2 shipped, 3 signed);
``confirm_status``, ``refund_status`` and (when present) ``after_sales_status``
and ``trade_type`` go to ``extra_codes`` (so refund requests are already said
there, not in ``buyer_requests``).

Amounts, as PDD defines them: ``pay_amount`` = ``goods_amount`` -
``discount_amount`` + ``postage``, where ``discount_amount`` =
``platform_discount`` + ``seller_discount`` + ``capital_free_discount``.
The platform's share is paid to the merchant by PDD, yet it is a discount to
the buyer, so ``total_amount`` is ``pay_amount`` — the same figure Douyin
gives for the same order.  Receiver name/phone/address arrive as ciphertext
(``~...~``) with PDD's masked forms (``*_mask``): both go to ``sealed``.

A waybill is ``tracking_number`` with a numeric ``logistics_id``; PDD has no
per-line order id, so lines are identified by their ``sku_id``.
"""

from __future__ import annotations

from decimal import Decimal

from adapters import wire
from adapters.channels.common import (
    Contact,
    check_parts,
    contact,
    country_code,
    merchant_sku,
    named_shipments,
    require_lines,
    shipment,
    total_of,
    unwrap,
)
from adapters.reader import Reader
from domain.inbound.normalized import InboundAddress, InboundLine, InboundOrder, InboundShipment

SOURCE = "pinduoduo"
CURRENCY = "CNY"
_EXTRA_CODE_FIELDS = ("confirm_status", "refund_status", "after_sales_status", "trade_type")

#: ``logistics_id`` (``pdd.logistics.companies.get``) -> normalised carrier code.
#: 44, 85, 121 and 132 are confirmed by two independent integrations; the
#: others by one (an ERP's PDD shipping table) and are worth re-checking
#: against the merchant's own ``pdd.logistics.companies.get`` answer.
#: J&T (极兔) and Deppon ids could not be confirmed and are deliberately absent:
#: an unknown id keeps its number as ``carrier_name`` and an empty ``carrier``.
LOGISTICS_IDS: dict[str, str] = {
    "44": "SF",  # 顺丰速运
    "85": "YTO",  # 圆通速递
    "121": "YUNDA",  # 韵达快递
    "132": "CHINAPOST",  # 邮政快递包裹
    "115": "ZTO",  # 中通快递
    "1": "STO",  # 申通快递
    "118": "EMS",  # EMS
    "120": "JD",  # 京东快递
    "229": "BEST",  # 百世快递
}


def _line(item: Reader, issues: list[str]) -> InboundLine:
    return InboundLine(
        sku=merchant_sku(item, ("outer_id", "outer_goods_id"), issues),
        quantity=item.req("goods_count", wire.count),
        unit_price=item.req("goods_price", wire.money_from_decimal),
        title=item.text("goods_name"),
        external_line_id=item.opt("sku_id", wire.ident) or "",
    )


def _contact(order: Reader) -> Contact:
    return contact(
        SOURCE,
        name=order.text("receiver_name"),
        phone=order.text("receiver_phone"),
        address=order.first_text("address", "receiver_address"),
        name_masked=order.text("receiver_name_mask"),
        phone_masked=order.text("receiver_phone_mask"),
        address_masked=order.text("address_mask"),
    )


def _address(order: Reader, receiver: Contact, issues: list[str]) -> InboundAddress:
    province = order.text("province")
    return InboundAddress(
        name=receiver.name,
        phone=receiver.phone,
        province=province,
        city=order.text("city"),
        district=order.text("town"),
        address=receiver.address,
        country_code=country_code(order.text("country"), province, order.at("country"), issues),
    )


def _discount(order: Reader) -> Decimal | None:
    stated = order.opt("discount_amount", wire.money_from_decimal)
    if stated is not None:
        return stated
    parts = ("platform_discount", "seller_discount", "capital_free_discount")
    return total_of(order.opt(key, wire.money_from_decimal) for key in parts)


def _shipments(order: Reader, issues: list[str]) -> tuple[InboundShipment, ...]:
    """The order's one waybill; PDD does not say which lines it holds (it is the whole order)."""
    waybill = order.opt("tracking_number", wire.ident)
    if waybill is None:
        return ()
    logistics_id = order.opt("logistics_id", wire.ident) or ""
    carrier = LOGISTICS_IDS.get(logistics_id, "")
    if logistics_id and not carrier:
        issues.append(f"{order.at('logistics_id')}: carrier id {logistics_id} is not in the PDD carrier table")
    parcel = shipment(logistics_id, waybill, order.opt("shipping_time", wire.china_time), carrier=carrier)
    return tuple(named_shipments([parcel], order.at("tracking_number"), issues))


def parse_order(payload: dict) -> InboundOrder:
    """A PDD order (``order_info_get_response`` or the bare ``order_info``) -> :class:`InboundOrder`."""
    order = unwrap(payload, "order_info_get_response", "order_info")
    issues: list[str] = []
    items = require_lines(order.objs("item_list"), order.at("item_list"))
    pay_amount = order.req("pay_amount", wire.money_from_decimal)
    paid_at = order.opt("pay_time", wire.china_time)
    receiver = _contact(order)
    address = _address(order, receiver, issues)
    lines = tuple(_line(item, issues) for item in items)
    goods = order.opt("goods_amount", wire.money_from_decimal)
    discount = _discount(order)
    shipping = order.opt("postage", wire.money_from_decimal)
    check_parts(pay_amount, goods=goods, discount=discount, shipping=shipping, tax=None,
                where=order.at("pay_amount"), issues=issues)
    shipments = _shipments(order, issues)
    return InboundOrder(
        source=SOURCE,
        external_id=order.req("order_sn", wire.ident),
        status_code=order.req("order_status", wire.ident),
        lines=lines,
        currency=CURRENCY,
        total_amount=pay_amount,
        paid_amount=pay_amount if paid_at else None,
        updated_at=order.req("updated_at", wire.china_time),
        placed_at=order.opt("created_time", wire.china_time),
        customer_name=address.name,
        customer_phone=address.phone,
        address=address,
        payment_reference=order.text("pay_no"),
        payment_gateway=order.text("pay_type"),
        extra_codes={key: order.req(key, wire.ident) for key in _EXTRA_CODE_FIELDS if order.has(key)},
        tags=receiver.tags,
        issues=tuple(issues),
        goods_total=goods,
        discount_total=discount,
        shipping_fee=shipping,
        paid_at=paid_at,
        sealed=receiver.sealed,
        shipments=shipments,
    )
