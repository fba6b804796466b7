"""Taobao / Tmall (TOP): ``taobao.trade.fullinfo.get`` trades and TMC messages.

Money is decimal strings in yuan; times are 'yyyy-MM-dd HH:mm:ss' China time;
``tid``/``oid`` exceed 2^53.  ``status_code`` is the trade ``status``.
``extra_codes`` carries ``step_trade_status`` (presale deposits) and, per
sub-order, ``status@<oid>`` when it differs from the trade and
``refund_status@<oid>`` when a refund exists (so buyer refund requests need
no ``buyer_requests`` entry). A sub-order naming its refund (``refund_id``,
the latest refund of that line) adds an :class:`InboundRefund` for the whole
line: the trade gives neither the refund's fee nor whether goods go back
(``taobao.refund.get`` would), so amount and kind are left to the domain.

Amounts: ``payment`` is what the buyer pays (``total_amount``); the parts are
``total_fee`` (goods), ``discount_fee`` less the seller's ``adjust_fee``
re-pricing (a negative adjustment is a discount), ``post_fee`` and the Tmall
Global ``order_tax_fee``.  Receivers arrive masked (``张**``) with an ``oaid``,
Taobao's handle for decrypting them: both go to ``sealed``, never to the clear
address.  Each sub-order names its parcel (``logistics_company`` +
``invoice_no``); sub-orders sharing a waybill become one shipment.

TMC messages are only notifications (tid, status, payment): use
:func:`unwrap_tmc` to read them, then fetch the full trade to parse an order.
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
    merge_shipments,
    named_shipments,
    require_lines,
    shipment,
    signed_money,
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
    PayloadError,
)

SOURCE = "taobao"
CURRENCY = "CNY"
_NO_REFUND = {"NO_REFUND", ""}


def unwrap_tmc(message: dict) -> dict:
    """The payload of a TMC message: its ``content`` field is a JSON *string*, decoded here exactly.

    TMC messages are not signed one by one; their authenticity comes from the TMC connection.
    """
    envelope = Reader(message)
    content = envelope.data.get("content")
    if isinstance(content, dict):  # some SDKs decode it already
        return dict(content)
    raw = envelope.req("content", wire.text)
    try:
        decoded = wire.load_json(raw)
    except PayloadError as exc:
        raise PayloadError(f"content is not a JSON string: {exc.reason}", field="content") from exc
    if not isinstance(decoded, dict):
        raise PayloadError(f"content must hold a JSON object, got {wire.describe(decoded)}", field="content")
    return decoded


def _sub_orders(trade: Reader) -> list[Reader]:
    """TOP JSON nests sub-orders as ``orders.order[]``; some SDKs flatten that to ``orders[]``."""
    if isinstance(trade.data.get("orders"), list):
        return trade.objs("orders")
    return trade.obj("orders").objs("order")


def _oid(sub: Reader) -> str:
    return sub.opt("oid_str", wire.ident) or sub.req("oid", wire.ident)


def _line(sub: Reader, issues: list[str]) -> InboundLine:
    return InboundLine(
        sku=merchant_sku(sub, ("outer_sku_id", "outer_iid"), issues),
        quantity=sub.req("num", wire.count),
        unit_price=sub.req("price", wire.money_from_decimal),
        title=sub.text("title"),
        external_line_id=_oid(sub),
    )


def _extra_codes(trade: Reader, status: str, subs: list[Reader]) -> dict[str, str]:
    codes: dict[str, str] = {}
    if trade.has("step_trade_status"):
        codes["step_trade_status"] = trade.req("step_trade_status", wire.ident)
    for sub in subs:
        oid = _oid(sub)
        sub_status = sub.opt("status", wire.ident)
        if sub_status and sub_status != status:
            codes[f"status@{oid}"] = sub_status
        refund = sub.opt("refund_status", wire.ident) or ""
        if refund not in _NO_REFUND:
            codes[f"refund_status@{oid}"] = refund
    return codes


def _refunds(subs: list[Reader]) -> tuple[InboundRefund, ...]:
    """Sub-orders with a refund id and a refund status: one refund each, for the whole line."""
    refunds = []
    for sub in subs:
        refund_id = sub.opt("refund_id", wire.ident)
        status = sub.opt("refund_status", wire.ident) or ""
        if refund_id and refund_id != "0" and status not in _NO_REFUND:
            refunds.append(InboundRefund(external_id=refund_id, status_code=status,
                                         lines=(InboundRefundLine(_oid(sub)),)))
    return tuple(refunds)


def _contact(trade: Reader) -> Contact:
    return contact(
        SOURCE,
        name=trade.text("receiver_name"),
        phone=trade.first_text("receiver_mobile", "receiver_phone"),
        address=trade.text("receiver_address"),
        open_id=trade.text("oaid"),
    )


def _address(trade: Reader, receiver: Contact, issues: list[str]) -> InboundAddress:
    province = trade.text("receiver_state")
    return InboundAddress(
        name=receiver.name,
        phone=receiver.phone,
        province=province,
        city=trade.text("receiver_city"),
        district=trade.text("receiver_district"),
        street=trade.text("receiver_town"),
        address=receiver.address,
        postal_code=trade.text("receiver_zip"),
        country_code=country_code(trade.text("receiver_country"), province, trade.at("receiver_country"), issues),
    )


def _discount(trade: Reader, subs: list[Reader]) -> Decimal | None:
    """``discount_fee`` less the seller's re-pricing; sub-orders carry ``adjust_fee`` when a trade has several."""
    discount = trade.opt("discount_fee", wire.money_from_decimal)
    adjustments = [sub.opt("adjust_fee", signed_money) for sub in subs]
    adjust = total_of(adjustments) if any(a is not None for a in adjustments) else trade.opt("adjust_fee", signed_money)
    if not adjust:
        return discount
    return max((discount if discount is not None else Decimal(0)) - adjust, Decimal(0))


def _shipments(trade: Reader, subs: list[Reader], issues: list[str]) -> tuple[InboundShipment, ...]:
    """Sub-orders with a waybill (``invoice_no``), grouped by parcel; ``consign_time`` is when it was handed over."""
    trade_consigned = trade.opt("consign_time", wire.china_time)
    parcels = []
    for sub in subs:
        waybill = sub.opt("invoice_no", wire.ident)
        if waybill is None:
            continue
        shipped_at = sub.opt("consign_time", wire.china_time) or trade_consigned
        parcels.append(shipment(sub.text("logistics_company"), waybill, shipped_at, (_oid(sub),)))
    return merge_shipments(named_shipments(parcels, trade.at("orders"), issues))


def parse_order(payload: dict) -> InboundOrder:
    """A TOP trade (``trade_fullinfo_get_response`` or the bare ``trade``) -> :class:`InboundOrder`."""
    trade = unwrap(payload, "trade_fullinfo_get_response", "trade")
    issues: list[str] = []
    subs = require_lines(_sub_orders(trade), trade.at("orders"))
    status = trade.req("status", wire.ident)
    payment = trade.req("payment", wire.money_from_decimal)
    paid_at = trade.opt("pay_time", wire.china_time)
    receiver = _contact(trade)
    address = _address(trade, receiver, issues)
    lines = tuple(_line(sub, issues) for sub in subs)
    goods = trade.opt("total_fee", wire.money_from_decimal)
    discount = _discount(trade, subs)
    shipping = trade.opt("post_fee", wire.money_from_decimal)
    tax = trade.opt("order_tax_fee", wire.money_from_decimal)
    check_parts(payment, goods=goods, discount=discount, shipping=shipping, tax=tax, where=trade.at("payment"),
                issues=issues)
    shipments = _shipments(trade, subs, issues)
    alipay_no = trade.text("alipay_no")
    nick = trade.text("buyer_nick")
    return InboundOrder(
        source=SOURCE,
        external_id=trade.opt("tid_str", wire.ident) or trade.req("tid", wire.ident),
        status_code=status,
        lines=lines,
        currency=CURRENCY,
        total_amount=payment,
        paid_amount=payment if paid_at else None,
        updated_at=trade.req("modified", wire.china_time),
        placed_at=trade.opt("created", wire.china_time),
        customer_name=address.name or ("" if "*" in nick else nick),
        customer_phone=address.phone,
        address=address,
        payment_reference=alipay_no,
        payment_gateway="alipay" if alipay_no else "",
        extra_codes=_extra_codes(trade, status, subs),
        tags=receiver.tags,
        issues=tuple(issues),
        goods_total=goods,
        discount_total=discount,
        shipping_fee=shipping,
        tax_total=tax,
        paid_at=paid_at,
        sealed=receiver.sealed,
        shipments=shipments,
        refunds=_refunds(subs),
    )
