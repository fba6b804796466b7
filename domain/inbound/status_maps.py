"""Default mapping tables from each source's raw codes to OrderGraph's vocabulary — as data.

Order tables map a raw code to ``{"order": ..., "payment": ..., "after_sale": ...}``
(``None`` in a slot = this code says nothing about that dimension); shipment
tables map to ``{"shipment": ...}``.  :func:`lookup` returns ``None`` for a
code that is not in the table: unknown codes are never guessed, they become
alerts with the raw input.

Table names: a source's main ``status_code`` uses the source name
(``"taobao"``); another dimension from ``extra_codes`` uses
``"<source>.<key>"`` (``"taobao.refund_status"``); per-line keys such as
``"refund_status@<oid>"`` use the part before ``@`` (see :func:`table_for`).

Rules encoded here, from ``reference/channels.md``:
- a channel's "shipped" means a waybill was uploaded -> ``SHIPPED``, never
  ``DELIVERED``; only signed/received codes mean ``DELIVERED``;
- Taobao ``PAID_FORBID_CONSIGN`` is a hold; ``TRADE_CLOSED_BY_TAOBAO`` is a
  cancellation before payment (nothing was paid, so no payment status);
- carrier tables prefer the detailed codes (Kdniao ``StateEx``, Kuaidi100
  ``resultv2``); both code sets live in one table because they do not collide.
"""

from __future__ import annotations

from collections.abc import Mapping

from domain.statuses import AfterSaleStatus as A
from domain.statuses import OrderStatus as O
from domain.statuses import PaymentStatus as P
from domain.statuses import ShipmentStatus as S

Entry = Mapping[str, str | None]


def _o(order: O | None, payment: P | None = None, after_sale: A | None = None) -> Entry:
    return {"order": order, "payment": payment, "after_sale": after_sale}


def _s(shipment: S) -> Entry:
    return {"shipment": shipment}


# ------------------------------------------------------------------ Shopify

SHOPIFY_FINANCIAL: dict[str, Entry] = {
    "pending": _o(O.PENDING_PAYMENT, P.PENDING),
    "authorized": _o(O.PAID, P.AUTHORIZED),  # fulfillable; capture follows
    "partially_paid": _o(O.DEPOSIT_PAID),
    "paid": _o(O.PAID, P.PAID),
    "partially_refunded": _o(None, P.PARTIALLY_REFUNDED),
    "refunded": _o(None, P.REFUNDED),
    "voided": _o(None, P.VOIDED),
    "expired": _o(None, P.VOIDED),  # authorisation lapsed: nothing will be captured
}
SHOPIFY_FULFILLMENT: dict[str, Entry] = {
    "unfulfilled": _o(None),  # REST null
    "partial": _o(O.PARTIALLY_SHIPPED),
    "fulfilled": _o(O.SHIPPED),  # fulfilment created with tracking, not delivered
    # "restocked" is deliberately unmapped: it follows a cancel or a return, which one is not said.
}


def _shopify_combined() -> dict[str, Entry]:
    """``status_code`` is ``"<financial>/<fulfillment>"``: the fulfilment's order status wins over the payment's."""
    table: dict[str, Entry] = {}
    for fin_code, fin in SHOPIFY_FINANCIAL.items():
        for ful_code, ful in SHOPIFY_FULFILLMENT.items():
            table[f"{fin_code}/{ful_code}"] = _o(ful["order"] or fin["order"], fin["payment"])  # type: ignore[arg-type]
    return table


# ------------------------------------------------------------------ Taobao / Tmall

TAOBAO: dict[str, Entry] = {
    "TRADE_NO_CREATE_PAY": _o(O.PENDING_PAYMENT, P.PENDING),
    "WAIT_BUYER_PAY": _o(O.PENDING_PAYMENT, P.PENDING),
    "PAY_PENDING": _o(O.PENDING_PAYMENT, P.PENDING),  # foreign card being confirmed
    # WAIT_PRE_AUTH_CONFIRM (0-yuan purchase contract) is unmapped: whether it may ship is not documented.
    "WAIT_SELLER_SEND_GOODS": _o(O.PAID, P.PAID),
    "PAID_FORBID_CONSIGN": _o(O.ON_HOLD, P.PAID),  # paid, shipping blocked by the platform
    "SELLER_CONSIGNED_PART": _o(O.PARTIALLY_SHIPPED, P.PAID),
    "WAIT_BUYER_CONFIRM_GOODS": _o(O.SHIPPED, P.PAID),  # waybill uploaded
    "TRADE_BUYER_SIGNED": _o(O.DELIVERED, P.PAID),  # cash on delivery, signed and paid
    "TRADE_FINISHED": _o(O.COMPLETED, P.PAID),
    "TRADE_CLOSED": _o(O.CANCELLED, P.REFUNDED),  # closed after a full refund
    "TRADE_CLOSED_BY_TAOBAO": _o(O.CANCELLED),  # closed before payment: never ship, nothing to refund
}
TAOBAO_REFUND: dict[str, Entry] = {
    "NO_REFUND": _o(None),
    "WAIT_SELLER_AGREE": _o(None, after_sale=A.REQUESTED),
    "WAIT_BUYER_RETURN_GOODS": _o(None, after_sale=A.AWAITING_RETURN),
    "WAIT_SELLER_CONFIRM_GOODS": _o(None, after_sale=A.AWAITING_RETURN),  # buyer sent it back, not yet received
    "SELLER_REFUSE_BUYER": _o(None, after_sale=A.REJECTED),
    "CLOSED": _o(None, after_sale=A.CLOSED),
    "SUCCESS": _o(None, after_sale=A.REFUNDED),  # one sub-order; whole-order payment status comes from the trade
}
TAOBAO_STEP: dict[str, Entry] = {  # presale (deposit) trades
    "FRONT_NOPAID_FINAL_NOPAID": _o(O.PENDING_PAYMENT, P.PENDING),
    "FRONT_PAID_FINAL_NOPAID": _o(O.DEPOSIT_PAID),
    "FRONT_PAID_FINAL_PAID": _o(O.PAID, P.PAID),
}

# ------------------------------------------------------------------ Pinduoduo

PINDUODUO: dict[str, Entry] = {  # order_status; PDD only lists paid orders
    "1": _o(O.PAID, P.PAID),  # to ship
    "2": _o(O.SHIPPED, P.PAID),  # shipped, not signed
    "3": _o(O.DELIVERED, P.PAID),  # signed
}
PINDUODUO_CONFIRM: dict[str, Entry] = {
    "0": _o(O.ON_HOLD),  # group not concluded yet: must not ship
    "1": _o(None),  # concluded; order_status says the rest
    "2": _o(O.CANCELLED),
}
PINDUODUO_REFUND: dict[str, Entry] = {
    "1": _o(None),  # no after-sale, or closed: ambiguous, so says nothing
    "2": _o(None, after_sale=A.REQUESTED),  # after-sale in progress
    "3": _o(None, after_sale=A.APPROVED),  # refunding
    "4": _o(None, after_sale=A.REFUNDED),
}

# ------------------------------------------------------------------ Douyin shop

DOUYIN: dict[str, Entry] = {  # order_status
    "1": _o(O.PENDING_PAYMENT, P.PENDING),
    "105": _o(O.PAID, P.PAID),
    "2": _o(O.PAID, P.PAID),  # stocking = paid, to ship
    "101": _o(O.PARTIALLY_SHIPPED, P.PAID),
    "3": _o(O.SHIPPED, P.PAID),
    "4": _o(O.CANCELLED),  # before or after payment: main_status tells refunds apart
    "5": _o(O.COMPLETED, P.PAID),
}
DOUYIN_MAIN: dict[str, Entry] = {
    **DOUYIN,
    "103": _o(O.DEPOSIT_PAID),  # part paid
    "21": _o(O.CANCELLED, P.REFUNDED, A.REFUNDED),  # refunded before shipping
    "22": _o(O.CANCELLED, P.REFUNDED, A.REFUNDED),  # refunded after shipping
    "39": _o(O.CANCELLED, P.REFUNDED, A.REFUNDED),  # refunded after receipt
}

# ------------------------------------------------------------------ WeChat Channels shop

WECHAT_CHANNELS: dict[str, Entry] = {
    "10": _o(O.PENDING_PAYMENT, P.PENDING),
    "12": _o(O.ON_HOLD, P.PAID),  # gift paid, recipient has not accepted: no address yet
    "13": _o(O.ON_HOLD, P.PAID),  # group-buy not formed yet
    "20": _o(O.PAID, P.PAID),
    "21": _o(O.PARTIALLY_SHIPPED, P.PAID),
    "30": _o(O.SHIPPED, P.PAID),  # waybill uploaded, awaiting receipt
    "100": _o(O.COMPLETED, P.PAID),
    "200": _o(O.CANCELLED, P.REFUNDED),  # cancelled after a full after-sale
    "250": _o(O.CANCELLED),  # cancelled unpaid
}

# ------------------------------------------------------------------ Amazon

AMAZON: dict[str, Entry] = {
    "Pending": _o(O.PENDING_PAYMENT, P.PENDING),
    "PendingAvailability": _o(O.PENDING_PAYMENT, P.PENDING),  # pre-order, not yet authorised
    "Unshipped": _o(O.PAID, P.AUTHORIZED),  # Amazon charges on shipment
    "PartiallyShipped": _o(O.PARTIALLY_SHIPPED),
    "Shipped": _o(O.SHIPPED, P.PAID),
    "InvoiceUnconfirmed": _o(O.SHIPPED),
    "Canceled": _o(O.CANCELLED),
    # "Unfulfillable" (multi-channel fulfilment only) is unmapped: hold or cancel is the merchant's call.
}

# ------------------------------------------------------------------ carriers
# Every documented code of each tracking provider is here, so a normal push never raises an
# "unmapped code" alert; a code missing from these tables is genuinely new and alerts with the raw input.

KDNIAO: dict[str, Entry] = {  # State (coarse) and StateEx / Traces[].Action (detailed) share one code space
    # "0" (no trace yet) states nothing about the parcel: see SILENT.
    "1": _s(S.PICKED_UP),
    "2": _s(S.IN_TRANSIT),
    "3": _s(S.DELIVERED),
    "4": _s(S.EXCEPTION),
    "5": _s(S.IN_TRANSIT),  # forwarded (转寄)
    "6": _s(S.CUSTOMS),  # customs clearance (清关)
    "10": _s(S.LABEL_CREATED),  # awaiting pick-up
    "201": _s(S.IN_TRANSIT),  # arrived in delivery city
    "202": _s(S.OUT_FOR_DELIVERY),
    "204": _s(S.IN_TRANSIT),  # arrived at a transit hub
    "205": _s(S.IN_TRANSIT),  # arrived at the delivering station, not yet out for delivery
    "206": _s(S.IN_TRANSIT),  # sent on by the collecting station
    "211": _s(S.AT_PICKUP_POINT),  # in locker / station
    "301": _s(S.DELIVERED),
    "302": _s(S.DELIVERED),  # signed after an exception
    "304": _s(S.DELIVERED),  # signed by proxy
    "311": _s(S.DELIVERED),  # taken from locker
    "401": _s(S.EXCEPTION),  # no info after shipping
    "402": _s(S.EXCEPTION),  # overdue
    "403": _s(S.EXCEPTION),  # no update
    "404": _s(S.RETURNING),  # refused by the recipient (goes back)
    "405": _s(S.ATTEMPT_FAILED),  # delivery exception
    "406": _s(S.RETURNED),  # return signed
    "407": _s(S.RETURNING),  # return not yet signed
    "412": _s(S.EXCEPTION),  # locker pick-up overdue
    "413": _s(S.EXCEPTION),  # intercepted in transit: someone must decide where it goes
    "414": _s(S.EXCEPTION),  # damaged
    "415": _s(S.EXCEPTION),  # sender cancelled the shipment
    "416": _s(S.ATTEMPT_FAILED),  # recipient unreachable
    "417": _s(S.EXCEPTION),  # delivery delayed
    "418": _s(S.EXCEPTION),  # taken back out (of locker / station)
    "419": _s(S.OUT_FOR_DELIVERY),  # out for delivery again
    "420": _s(S.EXCEPTION),  # address incomplete
    "421": _s(S.EXCEPTION),  # wrong recipient phone
    "422": _s(S.EXCEPTION),  # mis-sorted
    "423": _s(S.EXCEPTION),  # outside the delivery area
    "601": _s(S.CUSTOMS),  # awaiting clearance
    "602": _s(S.CUSTOMS),  # clearing
    "603": _s(S.IN_TRANSIT),  # cleared, moving on
    "604": _s(S.EXCEPTION),  # clearance problem
}
_KUAIDI100_CODES: dict[str, tuple[str, Entry]] = {  # code -> (state name as data[].status shows it, entry)
    # state (coarse); 1 揽收 is the carrier's acceptance scan, the parcel's first real movement
    "0": ("在途", _s(S.IN_TRANSIT)),
    "1": ("揽收", _s(S.PICKED_UP)),
    "2": ("疑难", _s(S.EXCEPTION)),
    "3": ("签收", _s(S.DELIVERED)),
    "4": ("退签", _s(S.RETURNED)),  # returned and signed by the sender
    "5": ("派件", _s(S.OUT_FOR_DELIVERY)),
    "6": ("退回", _s(S.RETURNING)),
    "7": ("转投", _s(S.IN_TRANSIT)),  # handed to another carrier
    "8": ("清关", _s(S.CUSTOMS)),
    "14": ("拒签", _s(S.RETURNING)),  # refused by the recipient
    # resultv2 (detailed), grouped under the state above them
    "101": ("已下单", _s(S.LABEL_CREATED)),  # 揽收 group, but only ordered: not collected yet
    "102": ("待揽收", _s(S.LABEL_CREATED)),  # 揽收 group, awaiting collection
    "103": ("已揽收", _s(S.PICKED_UP)),
    "1001": ("到达派件城市", _s(S.IN_TRANSIT)),
    "1002": ("干线", _s(S.IN_TRANSIT)),
    "1003": ("转递", _s(S.IN_TRANSIT)),  # forwarded to a new address
    "501": ("投柜或驿站", _s(S.AT_PICKUP_POINT)),
    "301": ("本人签收", _s(S.DELIVERED)),
    "302": ("派件异常后签收", _s(S.DELIVERED)),
    "303": ("代签", _s(S.DELIVERED)),
    "304": ("投柜或站签收", _s(S.DELIVERED)),
    "401": ("已销单", _s(S.EXCEPTION)),  # waybill revoked: not on its way, someone must decide
    "201": ("超时未签收", _s(S.EXCEPTION)),
    "202": ("超时未更新", _s(S.EXCEPTION)),
    "203": ("拒收", _s(S.RETURNING)),  # refused, as state 14
    "204": ("派件异常", _s(S.ATTEMPT_FAILED)),
    "205": ("柜或驿站超时未取", _s(S.EXCEPTION)),
    "206": ("无法联系", _s(S.ATTEMPT_FAILED)),
    "207": ("超区", _s(S.EXCEPTION)),
    "208": ("滞留", _s(S.EXCEPTION)),
    "209": ("破损", _s(S.EXCEPTION)),
    "210": ("销单", _s(S.EXCEPTION)),  # the sender asked to cancel: not on its way, someone must decide
    "10": ("待清关", _s(S.CUSTOMS)),
    "11": ("清关中", _s(S.CUSTOMS)),
    "12": ("已清关", _s(S.IN_TRANSIT)),
    "13": ("清关异常", _s(S.EXCEPTION)),
}
#: Codes and, for traces that carry only ``status`` (resultv2=1), the state names; they never collide.
KUAIDI100: dict[str, Entry] = {
    **{code: entry for code, (_, entry) in _KUAIDI100_CODES.items()},
    **{name: entry for _, (name, entry) in _KUAIDI100_CODES.items()},
}
KUAIDI100_PUSH_STATUS: dict[str, Entry] = {  # param.status, the subscription's state
    # polling / updateall (a full re-push) / shutdown (tracking ended, normally on signing): see SILENT.
    "abort": _s(S.EXPIRED),  # Kuaidi100 gave up: "3天查询无记录" or "60天无变化"
}
AFTERSHIP: dict[str, Entry] = {  # tag
    # "Pending" (no information yet) states nothing: see SILENT.
    "InfoReceived": _s(S.LABEL_CREATED),
    "InTransit": _s(S.IN_TRANSIT),
    "OutForDelivery": _s(S.OUT_FOR_DELIVERY),
    "AttemptFail": _s(S.ATTEMPT_FAILED),
    "Delivered": _s(S.DELIVERED),
    "AvailableForPickup": _s(S.AT_PICKUP_POINT),
    "Exception": _s(S.EXCEPTION),
    "Expired": _s(S.EXPIRED),
}
AFTERSHIP_FIRST_TAG: dict[str, Entry] = {  # refinement: the tag of an is_tracking_first_tag update
    "InTransit": _s(S.PICKED_UP),  # the first InTransit checkpoint is the carrier's acceptance scan
}
AFTERSHIP_SUBTAG: dict[str, Entry] = {  # refinement: only subtags that mean more than their tag
    "InTransit_002": _s(S.PICKED_UP),  # acceptance scan
    "InTransit_006": _s(S.CUSTOMS),  # handed over to customs for clearance
    "Exception_010": _s(S.RETURNING),  # returning to sender
    "Exception_011": _s(S.RETURNED),  # returned to sender
}
SHOPIFY_FULFILLMENT_EVENT: dict[str, Entry] = {
    "LABEL_PRINTED": _s(S.LABEL_CREATED),
    "CARRIER_PICKED_UP": _s(S.PICKED_UP),
    "IN_TRANSIT": _s(S.IN_TRANSIT),
    "OUT_FOR_DELIVERY": _s(S.OUT_FOR_DELIVERY),
    "ATTEMPTED_DELIVERY": _s(S.ATTEMPT_FAILED),
    "READY_FOR_PICKUP": _s(S.AT_PICKUP_POINT),
    "DELIVERED": _s(S.DELIVERED),
    "FAILURE": _s(S.EXCEPTION),
}

#: table name -> raw code -> entry.
TABLES: dict[str, dict[str, Entry]] = {
    "shopify": _shopify_combined(),
    "shopify.cancelled": {"true": _o(O.CANCELLED)},
    "shopify.fulfillment_event": SHOPIFY_FULFILLMENT_EVENT,
    "taobao": TAOBAO,
    "taobao.refund_status": TAOBAO_REFUND,
    "taobao.step_trade_status": TAOBAO_STEP,
    "pinduoduo": PINDUODUO,
    "pinduoduo.confirm_status": PINDUODUO_CONFIRM,
    "pinduoduo.refund_status": PINDUODUO_REFUND,
    "douyin": DOUYIN,
    "douyin.main_status": DOUYIN_MAIN,
    "wechat_channels": WECHAT_CHANNELS,
    "amazon": AMAZON,
    "kdniao": KDNIAO,
    "kuaidi100": KUAIDI100,
    "kuaidi100.push_status": KUAIDI100_PUSH_STATUS,
    "aftership": AFTERSHIP,
    "aftership.first_tag": AFTERSHIP_FIRST_TAG,
    "aftership.subtag": AFTERSHIP_SUBTAG,
}

#: Known codes that state nothing about the parcel: they set no status and raise no "unmapped" alert.
SILENT: dict[str, frozenset[str]] = {
    "kdniao": frozenset({"0"}),  # no trace yet
    "aftership": frozenset({"Pending"}),  # AfterShip has no information yet
    "kuaidi100.push_status": frozenset({"polling", "updateall", "shutdown"}),  # normal subscription states
}
#: Tables that only refine another code (a code they lack falls through to the next table, silently).
REFINEMENTS: frozenset[str] = frozenset({"aftership.first_tag", "aftership.subtag"})


def table_for(source: str, key: str = "status") -> str:
    """The table name for a source's main status (``key="status"``) or for an ``extra_codes`` key."""
    dimension = key.split("@", 1)[0]
    return source if dimension == "status" else f"{source}.{dimension}"


def lookup(source: str, code: str) -> dict[str, str | None] | None:
    """The default mapping of ``code`` in table ``source``, or ``None`` when it is not mapped (never a guess).

    Returns a fresh dict, so callers cannot edit the shared table.
    """
    entry = TABLES.get(source, {}).get(str(code))
    return dict(entry) if entry is not None else None


def is_silent(source: str, code: str) -> bool:
    """Whether ``code`` is a known code of table ``source`` that states no status (see :data:`SILENT`)."""
    return str(code) in SILENT.get(source, frozenset())


def lookup_first(*candidates: tuple[str, str]) -> dict[str, str | None] | None:
    """The first mapped ``(table, code)`` pair, for codes with a preferred and a fallback table.

    E.g. ``lookup_first(("aftership.first_tag", "InTransit"), ("aftership", "InTransit"))``.
    """
    for source, code in candidates:
        found = lookup(source, code)
        if found is not None:
            return found
    return None
