"""WeChat Channels shop (视频号小店): ``/channels/ec/order/get``.

Money is integer fen; times are unix seconds; ``order_id`` exceeds 2^53.
``status_code`` is ``status`` (10 to pay ... 250 cancelled unpaid).  The
merchant SKU is ``sku_code`` (``out_sku_id`` as fallback); lines are
identified by WeChat's ``sku_id``, which is also how a parcel names its lines.

Amounts (``price_info``): ``order_price`` is what the buyer pays
(``total_amount``); ``product_price`` the goods, ``freight`` the shipping,
and the discounts are ``discounted_price`` (coupons) plus a seller
re-pricing ``change_down_price`` and a points ``deduction_price`` where
present.  ``pay_info.pay_time`` is the payment time and the WeChat Pay
``transaction_id`` the payment reference.

WeChat sends the receiver masked (``苑**``, ``130****5941``, the street
partly starred): the masked forms go to ``sealed``.  A virtual relay number
(``virtual_order_tel_number``) is a real, dialable number issued for this
order and is kept as the phone.  Parcels are
``delivery_info.delivery_product_info[]`` (``waybill_id``, ``delivery_id``
carrier code, ``delivery_time``, ``product_infos[].sku_id``).  A line with
units in after-sale (``on_aftersale_sku_cnt``) is a buyer refund request:
WeChat's order status has no after-sale dimension to say it.
"""

from __future__ import annotations

from decimal import Decimal

from adapters import wire
from adapters.channels.common import (
    CHINA,
    Contact,
    check_parts,
    contact,
    looks_masked,
    merchant_sku,
    merge_shipments,
    named_shipments,
    require_lines,
    shipment,
    total_of,
    unwrap,
)
from adapters.reader import Reader
from domain.inbound.normalized import (
    BUYER_REFUND,
    InboundAddress,
    InboundLine,
    InboundOrder,
    InboundShipment,
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
        external_line_id=product.opt("sku_id", wire.ident) or "",
    )


def _contact(info: Reader) -> Contact:
    ext = info.obj("tel_number_ext_info", required=False)
    real = info.first_text("tel_number") or ext.text("real_tel_number")
    relay = info.first_text("virtual_order_tel_number") or ext.text("virtual_tel_number")
    if relay and (not real or looks_masked(real)):  # the relay number reaches the buyer; the masked one is shown
        return contact(SOURCE, name=info.text("user_name"), phone=relay, phone_masked=real,
                       address=info.text("detail_info"))
    return contact(SOURCE, name=info.text("user_name"), phone=real, address=info.text("detail_info"))


def _address(info: Reader, receiver: Contact) -> InboundAddress:
    return InboundAddress(
        name=receiver.name,
        phone=receiver.phone,
        province=info.text("province_name"),
        city=info.text("city_name"),
        district=info.text("county_name"),
        address=receiver.address,
        postal_code=info.text("postal_code"),
        country_code=CHINA,  # Channels shop delivers within mainland China
    )


def _discount(price: Reader) -> Decimal | None:
    return total_of(price.opt(key, wire.money_from_fen) for key in ("discounted_price", "change_down_price",
                                                                       "deduction_price"))


def _shipments(delivery: Reader, issues: list[str]) -> tuple[InboundShipment, ...]:
    parcels = []
    for info in delivery.objs("delivery_product_info", required=False):
        waybill = info.opt("waybill_id", wire.ident)
        if waybill is None:
            continue
        line_ids = [item.req("sku_id", wire.ident) for item in info.objs("product_infos", required=False)
                    if item.has("sku_id")]
        shipped_at = info.opt("delivery_time", wire.unix_time, zero_is_missing=True)
        parcels.append(shipment(info.first_text("delivery_name", "delivery_id"), waybill, shipped_at, line_ids,
                                aliases=(info.text("delivery_id"),)))
    return merge_shipments(named_shipments(parcels, delivery.at("delivery_product_info"), issues))


def _buyer_requests(detail: Reader, products: list[Reader]) -> tuple[str, ...]:
    on_line = any((product.opt("on_aftersale_sku_cnt", wire.count) or 0) > 0 for product in products)
    on_order = (detail.obj("aftersale_detail", required=False).opt("on_aftersale_order_cnt", wire.count) or 0) > 0
    return (BUYER_REFUND,) if on_line or on_order else ()


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
    price = detail.obj("price_info")
    total = price.req("order_price", wire.money_from_fen)
    paid_at = pay_info.opt("pay_time", wire.unix_time, zero_is_missing=True)
    delivery = detail.obj("delivery_info", required=False)
    address_info = delivery.obj("address_info", required=False)
    receiver = _contact(address_info)
    lines = tuple(_line(product, issues) for product in products)
    goods, discount = price.opt("product_price", wire.money_from_fen), _discount(price)
    shipping = price.opt("freight", wire.money_from_fen)
    check_parts(total, goods=goods, discount=discount, shipping=shipping, tax=None, where=price.at("order_price"),
                issues=issues)
    shipments = _shipments(delivery, issues)
    transaction_id = pay_info.text("transaction_id")
    return InboundOrder(
        source=SOURCE,
        external_id=order.req("order_id", wire.ident),
        status_code=order.req("status", wire.ident),
        lines=lines,
        currency=CURRENCY,
        total_amount=total,
        paid_amount=total if paid_at else None,
        updated_at=order.req("update_time", wire.unix_time),
        placed_at=order.opt("create_time", wire.unix_time, zero_is_missing=True),
        customer_name=receiver.name,
        customer_phone=receiver.phone,
        address=_address(address_info, receiver),
        payment_reference=transaction_id,
        payment_gateway="wechatpay" if transaction_id else "",
        tags=receiver.tags,
        issues=tuple(issues),
        goods_total=goods,
        discount_total=discount,
        shipping_fee=shipping,
        paid_at=paid_at,
        sealed=receiver.sealed,
        shipments=shipments,
        buyer_requests=_buyer_requests(detail, products),
    )
