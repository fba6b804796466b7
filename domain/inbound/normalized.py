"""The one shape every inbound order and tracking push is turned into.

Frozen dataclasses, so a parsed payload cannot drift after it was checked.
Money is ``Decimal`` in currency units (yuan, dollars), never float; every
datetime is timezone-aware UTC; external ids are exact strings.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from decimal import Decimal


class PayloadError(ValueError):
    """A payload we refuse to trust: a required field missing, a wrong type, a bad timestamp.

    ``field`` is the dotted JSON path of the culprit (``"orders.order[1].num"``),
    so an alert can point at it; ``str(error)`` says what is wrong *and* where.
    """

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.reason = message


def _require_utc(value: datetime | None, name: str) -> None:
    """Guard the 'UTC everywhere' convention at construction time (programming errors, not payload errors)."""
    if value is not None and value.utcoffset() != timedelta(0):
        raise ValueError(f"{name} must be a timezone-aware UTC datetime, got {value!r}")


@dataclasses.dataclass(frozen=True, slots=True)
class InboundLine:
    """One ordered SKU as the channel states it; ``unit_price`` is per unit, before order-level discounts."""

    sku: str
    quantity: int
    unit_price: Decimal
    title: str = ""
    external_line_id: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class InboundAddress:
    """A delivery address, in clear. What a platform sends only encrypted or masked goes in :class:`SealedContact`."""

    name: str = ""
    phone: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    address: str = ""
    street: str = ""
    postal_code: str = ""
    country_code: str = ""
    company: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class SealedContact:
    """Receiver contact a platform sent encrypted (Taobao, Pinduoduo, Douyin): ciphertext plus its own masked forms.

    The ciphertext is never shown; the masked forms (``张*``, ``138****5678``)
    are what a person sees until the clear values are fetched through the
    platform's decryption API for a role that may see them. ``open_id`` is the
    platform's handle for decrypting where it has one (Taobao OAID).
    """

    platform: str
    name_cipher: str = ""
    phone_cipher: str = ""
    address_cipher: str = ""
    name_masked: str = ""
    phone_masked: str = ""
    address_masked: str = ""
    open_id: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class InboundShipment:
    """A parcel the channel already knows of: its waybill, carrier and (optionally) which lines it holds.

    ``carrier`` is the normalised code (``domain.inbound.carrier_codes``),
    ``carrier_name`` what the channel wrote (``顺丰速运``, ``44``, ``UPS``).
    """

    carrier: str
    tracking_no: str
    carrier_name: str = ""
    shipped_at: datetime | None = None
    line_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _require_utc(self.shipped_at, "shipped_at")


@dataclasses.dataclass(frozen=True, slots=True)
class InboundRefundLine:
    """One line a channel refund or after-sale is about: the channel's line id and units (0: the whole line)."""

    external_line_id: str
    quantity: int = 0


@dataclasses.dataclass(frozen=True, slots=True)
class InboundRefund:
    """A refund, return or exchange the channel reports for the order (Taobao refund, Shopify refund, …).

    ``external_id`` is the channel's refund id, verbatim. ``status_code`` is
    the channel's own code; ``after_sale`` is the after-sale status when the
    adapter can state it without a mapping table (a Shopify refund exists only
    once made: ``REFUNDED``), else empty and the domain maps the line's code
    (``refund_status@<oid>``). ``kind`` is ``refund_only``, ``return_refund``,
    ``exchange`` or empty (the domain decides: a return once the goods left).
    ``amount`` is what the buyer asks for or got back, ``None`` when the payload
    does not say (the lines' paid share is assumed).
    """

    external_id: str
    status_code: str
    lines: tuple[InboundRefundLine, ...]
    amount: Decimal | None = None
    kind: str = ""
    after_sale: str = ""
    reason: str = ""


#: A buyer asked the platform to cancel the order (Amazon ``IsBuyerRequestedCancel``, …).
BUYER_CANCEL = "cancel"
#: A buyer asked for a refund that the after-sale codes do not already say.
BUYER_REFUND = "refund"


@dataclasses.dataclass(frozen=True, slots=True)
class InboundOrder:
    """A channel order, normalised but not interpreted.

    ``status_code`` is the source's own code (mapping it is the domain's job, via
    :mod:`domain.inbound.status_maps`); ``extra_codes`` holds the other status
    dimensions the source reports (``{"refund_status": "2"}``), keyed so that
    ``status_maps.table_for(source, key)`` names the table that maps them.
    ``total_amount`` means the same on every channel: what the buyer pays for
    the order, goods - discounts + shipping + tax (a platform subsidy the
    merchant is paid for is a discount to the buyer); ``paid_amount`` is what
    was actually paid, or ``None`` when the payload does not say.
    ``goods_total``, ``discount_total``, ``shipping_fee`` and ``tax_total``
    are the parts as the channel states them (``None``: not stated).
    ``buyer_requests`` lists what the buyer asked the platform for
    (:data:`BUYER_CANCEL`, :data:`BUYER_REFUND`); ``refunds`` the channel's refunds and
    after-sales with their ids (:class:`InboundRefund`).  ``issues`` lists things the parser
    noticed but did not refuse the order for (a line without SKU, a rounded
    unit price), so they can become alerts.
    """

    source: str
    external_id: str
    status_code: str
    lines: tuple[InboundLine, ...]
    currency: str
    total_amount: Decimal
    paid_amount: Decimal | None
    updated_at: datetime
    placed_at: datetime | None
    customer_name: str
    customer_phone: str
    address: InboundAddress
    payment_reference: str = ""
    payment_gateway: str = ""
    extra_codes: dict[str, str] = dataclasses.field(default_factory=dict)
    tags: tuple[str, ...] = ()
    issues: tuple[str, ...] = ()
    customer_email: str = ""
    goods_total: Decimal | None = None
    discount_total: Decimal | None = None
    shipping_fee: Decimal | None = None
    tax_total: Decimal | None = None
    paid_at: datetime | None = None
    sealed: SealedContact | None = None
    shipments: tuple[InboundShipment, ...] = ()
    buyer_requests: tuple[str, ...] = ()
    refunds: tuple[InboundRefund, ...] = ()

    def __post_init__(self) -> None:
        _require_utc(self.updated_at, "updated_at")
        _require_utc(self.placed_at, "placed_at")
        _require_utc(self.paid_at, "paid_at")


@dataclasses.dataclass(frozen=True, slots=True)
class InboundTrackingEvent:
    """One carrier scan; ``status_code`` is the provider's raw per-scan code (may be empty).

    ``time_inferred``: the provider gave a local time without an offset and
    the parser inferred it from where the scan happened (the checkpoint's
    country, China time for Chinese carriers); ``time_zone`` names the IANA
    zone it was read in (``"America/Los_Angeles"``), for lineage.
    """

    status_code: str
    occurred_at: datetime
    description: str
    location: str
    time_inferred: bool = False
    time_zone: str = ""

    def __post_init__(self) -> None:
        _require_utc(self.occurred_at, "occurred_at")


@dataclasses.dataclass(frozen=True, slots=True)
class InboundTracking:
    """The state of one parcel as a tracking provider pushed it; events oldest first.

    ``status_code`` is the most detailed raw code the provider gave (Kdniao
    ``StateEx`` over ``State``); the coarser or secondary codes are kept in
    ``extra_codes``.  ``issues`` lists what was skipped (a trace with a
    malformed timestamp) so a half-broken push still lands, visibly.
    """

    provider: str
    carrier: str
    tracking_no: str
    status_code: str
    events: tuple[InboundTrackingEvent, ...]
    estimated_delivery: datetime | None
    extra_codes: dict[str, str] = dataclasses.field(default_factory=dict)
    issues: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _require_utc(self.estimated_delivery, "estimated_delivery")
