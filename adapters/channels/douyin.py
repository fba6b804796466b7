"""Douyin shop (抖店): ``order.orderDetail`` (``shop_order_detail``).

Money is integer fen; times are unix seconds (``pay_time`` 0 = unpaid); ids
are strings beyond 2^53.  ``status_code`` is ``order_status``; ``main_status``
(adds 103 part paid and 21/22/39 refunded) and ``pay_type`` go to
``extra_codes``.

Amounts: ``total_amount`` is ``pay_amount``, what the buyer pays after every
promotion — including the platform's (``promotion_platform_amount``), which
Douyin pays to the merchant but which the buyer does not pay; ``order_amount``
is *not* the buyer's amount.  The parts: goods = the lines' ``sum_amount``
(current price x count), discounts = ``promotion_amount`` (shop + platform +
influencer) + ``promotion_pay_amount`` (payment-channel discount) less a
seller re-pricing ``modify_amount`` (negative = cheaper), shipping =
``post_amount``.  So goods 119.80 paid 109.80 reads total 109.80, discount
10.00 — as the same order does on Pinduoduo.

Receivers are ciphertext (``encrypt_post_*``, ``post_addr.encrypt_detail``)
with Douyin's masks (``mask_post_*``): both go to ``sealed``.  Waybills are
``logistics_info[]`` (``tracking_no``, ``company`` code, ``company_name``,
``ship_time``, ``product_info[].sku_order_id``).  A line with an open
after-sale (``after_sale_info``: applied, returning, refund pending) is a
buyer refund request; Douyin's after-sale codes have no mapping table, so it
is stated in ``buyer_requests`` and kept raw as ``after_sale_status@<line>``.
"""

from __future__ import annotations

from decimal import Decimal

from adapters import wire
from adapters.channels.common import (
    CHINA,
    Contact,
    check_parts,
    contact,
    merchant_sku,
    merge_shipments,
    named_shipments,
    require_lines,
    shipment,
    total_of,
    unwrap,
)
from adapters.reader import Reader
from domain.inbound.normalized import BUYER_REFUND, InboundAddress, InboundLine, InboundOrder, InboundShipment

SOURCE = "douyin"
CURRENCY = "CNY"
_EXTRA_CODE_FIELDS = ("main_status", "pay_type")
#: Open after-sales: ``after_sale_status`` 6 applied, 7 goods being returned, 11 return shipped;
#: ``refund_status`` 1 to refund, 2 refunding.
_OPEN_AFTER_SALE = {"6", "7", "11"}
_OPEN_REFUND = {"1", "2"}


def _fen(value: object, field: str) -> Decimal:
    """Signed integer fen (``modify_amount`` is negative when the seller lowered the price)."""
    return Decimal(wire.integer(value, field)).scaleb(-2)


def _line_id(sku_order: Reader) -> str:
    return sku_order.opt("order_id", wire.ident) or ""


def _line(sku_order: Reader, issues: list[str]) -> InboundLine:
    return InboundLine(
        sku=merchant_sku(sku_order, ("code", "out_sku_id"), issues),
        quantity=sku_order.req("item_num", wire.count),
        unit_price=sku_order.req("origin_amount", wire.money_from_fen),  # 商品现价, per unit
        title=sku_order.text("product_name"),
        external_line_id=_line_id(sku_order),
    )


def _contact(detail: Reader) -> Contact:
    post = detail.obj("post_addr", required=False)
    masked_post = detail.obj("mask_post_addr", required=False)
    return contact(
        SOURCE,
        name=detail.first_text("encrypt_post_receiver", "post_receiver"),
        phone=detail.first_text("encrypt_post_tel", "post_tel"),
        address=post.first_text("encrypt_detail", "detail"),
        name_masked=detail.text("mask_post_receiver"),
        phone_masked=detail.text("mask_post_tel"),
        address_masked=masked_post.text("detail"),
    )


def _address(detail: Reader, receiver: Contact) -> InboundAddress:
    post = detail.obj("post_addr", required=False)
    return InboundAddress(
        name=receiver.name,
        phone=receiver.phone,
        province=post.obj("province", required=False).text("name"),
        city=post.obj("city", required=False).text("name"),
        district=post.obj("town", required=False).text("name"),
        street=post.obj("street", required=False).text("name"),
        address=receiver.address,
        country_code=CHINA,  # Douyin shop ships to mainland addresses only
    )


def _goods(sku_orders: list[Reader]) -> Decimal | None:
    """Σ ``sum_amount`` (price x count) per line; without it, ``origin_amount`` x ``item_num``."""
    amounts = []
    for sku_order in sku_orders:
        stated = sku_order.opt("sum_amount", wire.money_from_fen)
        if stated is None:
            stated = sku_order.req("origin_amount", wire.money_from_fen) * sku_order.req("item_num", wire.count)
        amounts.append(stated)
    return total_of(amounts)


def _discount(detail: Reader) -> Decimal | None:
    promotions = total_of(detail.opt(key, wire.money_from_fen) for key in ("promotion_amount", "promotion_pay_amount"))
    modify = detail.opt("modify_amount", _fen)
    if not modify:
        return promotions
    return max((promotions if promotions is not None else Decimal(0)) - modify, Decimal(0))


def _shipments(detail: Reader, issues: list[str]) -> tuple[InboundShipment, ...]:
    parcels = []
    for info in detail.objs("logistics_info", required=False):
        waybill = info.opt("tracking_no", wire.ident)
        if waybill is None:
            continue
        line_ids = [item.req("sku_order_id", wire.ident) for item in info.objs("product_info", required=False)
                    if item.has("sku_order_id")]
        shipped_at = info.opt("ship_time", wire.unix_time, zero_is_missing=True)
        parcels.append(shipment(info.first_text("company_name", "company"), waybill, shipped_at, line_ids,
                                aliases=(info.text("company"),)))
    return merge_shipments(named_shipments(parcels, detail.at("logistics_info"), issues))


def _after_sales(sku_orders: list[Reader]) -> tuple[dict[str, str], tuple[str, ...]]:
    """Raw per-line after-sale codes, and ``BUYER_REFUND`` when one is still open."""
    codes: dict[str, str] = {}
    open_request = False
    for sku_order in sku_orders:
        info = sku_order.obj("after_sale_info", required=False)
        status = info.opt("after_sale_status", wire.ident) or "0"
        refund = info.opt("refund_status", wire.ident) or "0"
        if status != "0":
            codes[f"after_sale_status@{_line_id(sku_order)}"] = status
        open_request = open_request or status in _OPEN_AFTER_SALE or refund in _OPEN_REFUND
    return codes, ((BUYER_REFUND,) if open_request else ())


def parse_order(payload: dict) -> InboundOrder:
    """A Douyin order (``{"data": {"shop_order_detail": ...}}`` or the bare detail) -> :class:`InboundOrder`."""
    detail = unwrap(payload, "data", "shop_order_detail")
    issues: list[str] = []
    sku_orders = require_lines(detail.objs("sku_order_list"), detail.at("sku_order_list"))
    paid_at = detail.opt("pay_time", wire.unix_time, zero_is_missing=True)
    pay_amount = detail.req("pay_amount", wire.money_from_fen)
    detail.opt("order_amount", wire.money_from_fen)  # validated, not used: it is not what the buyer pays
    receiver = _contact(detail)
    lines = tuple(_line(sku_order, issues) for sku_order in sku_orders)
    goods, discount = _goods(sku_orders), _discount(detail)
    shipping = detail.opt("post_amount", wire.money_from_fen)
    check_parts(pay_amount, goods=goods, discount=discount, shipping=shipping, tax=None,
                where=detail.at("pay_amount"), issues=issues)
    after_sale_codes, requests = _after_sales(sku_orders)
    shipments = _shipments(detail, issues)
    extra_codes = {key: detail.req(key, wire.ident) for key in _EXTRA_CODE_FIELDS if detail.has(key)}
    return InboundOrder(
        source=SOURCE,
        external_id=detail.req("order_id", wire.ident),
        status_code=detail.req("order_status", wire.ident),
        lines=lines,
        currency=CURRENCY,
        total_amount=pay_amount,
        paid_amount=pay_amount if paid_at else None,
        updated_at=detail.req("update_time", wire.unix_time),
        placed_at=detail.opt("create_time", wire.unix_time, zero_is_missing=True),
        customer_name=receiver.name,
        customer_phone=receiver.phone,
        address=_address(detail, receiver),
        payment_reference=detail.text("channel_payment_no"),
        extra_codes={**extra_codes, **after_sale_codes},
        tags=receiver.tags,
        issues=tuple(issues),
        goods_total=goods,
        discount_total=discount,
        shipping_fee=shipping,
        paid_at=paid_at,
        sealed=receiver.sealed,
        shipments=shipments,
        buyer_requests=requests,
    )
