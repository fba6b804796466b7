"""Any webhook: a merchant-configured mapping of JMESPath expressions onto :class:`InboundOrder`.

The mapping is data (stored per channel), for sources that have no parser
of their own.  Keys and meaning::

    external_id, status, currency, total_amount, updated_at   required
    lines                  required; an expression yielding a list
    line.sku, line.quantity, line.unit_price                   required, evaluated on each line
    line.title, line.external_line_id                          optional, on each line
    placed_at, paid_amount, paid_at, customer_name, customer_phone, customer_email,
    payment_reference, payment_gateway                         optional
    goods_total, discount_total, shipping_fee, tax_total       optional amount parts (total_amount is
                           what the buyer pays: goods - discounts + shipping + tax; parts that do not
                           add up are reported in ``issues``, not refused)
    address.name|phone|province|city|district|street|address|postal_code|country_code|company   optional
    shipments              optional; an expression yielding a list of parcels the source already shipped
    shipment.tracking_no, shipment.carrier                     required with ``shipments``, on each parcel
                           (carrier: the source's carrier name or code, normalised by
                           ``domain.inbound.carrier_codes``; an unknown one is kept as given, a
                           parcel with a blank one is left out and reported in ``issues``)
    shipment.shipped_at, shipment.line_ids                     optional, on each parcel (line_ids: one id
                           or a list of ids, matching ``line.external_line_id``)
    money_unit   "yuan" (decimal strings / numbers, default) or "fen" (integer minor units)
    time_format  "iso" (default), "unix" (seconds) or "china" ('yyyy-MM-dd HH:mm:ss', UTC+8)
    source       name stored on the order (default "generic")

A constant is written as a JMESPath raw literal, e.g. ``"currency": "'CNY'"``.
A broken mapping raises ``ValueError`` (configuration); a payload that does
not fit it raises :class:`PayloadError` naming the mapping key and expression.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult

from adapters import wire
from adapters.channels.common import check_parts, named_shipments, shipment
from adapters.reader import is_missing
from domain.inbound.normalized import (
    InboundAddress,
    InboundLine,
    InboundOrder,
    InboundShipment,
    PayloadError,
)

T = TypeVar("T")

REQUIRED = ("external_id", "status", "lines", "line.sku", "line.quantity", "line.unit_price",
            "total_amount", "currency", "updated_at")
OPTIONAL = ("line.title", "line.external_line_id", "placed_at", "paid_amount", "paid_at", "customer_name",
            "customer_phone", "customer_email", "payment_reference", "payment_gateway", "goods_total",
            "discount_total", "shipping_fee", "tax_total", "shipments", "shipment.shipped_at", "shipment.line_ids")
#: Required on each parcel once ``shipments`` is mapped.
SHIPMENT_REQUIRED = ("shipment.tracking_no", "shipment.carrier")
ADDRESS_FIELDS = ("name", "phone", "province", "city", "district", "street", "address", "postal_code",
                  "country_code", "company")
OPTIONS = ("money_unit", "time_format", "source")
_KNOWN = frozenset(REQUIRED + OPTIONAL + SHIPMENT_REQUIRED + OPTIONS + tuple(f"address.{f}" for f in ADDRESS_FIELDS))


@lru_cache(maxsize=1024)
def _compile(expression: str) -> ParsedResult:
    return jmespath.compile(expression)


def check_mapping(mapping: Mapping[str, str]) -> None:
    """Raise ``ValueError`` listing everything wrong with a mapping (call it when the merchant saves one)."""
    problems = [f"missing required key {key!r}" for key in REQUIRED if not mapping.get(key)]
    if mapping.get("shipments") or any(mapping.get(key) for key in SHIPMENT_REQUIRED + ("shipment.shipped_at",
                                                                                      "shipment.line_ids")):
        problems += [f"missing key {key!r} (required with shipments)" for key in ("shipments", *SHIPMENT_REQUIRED)
                     if not mapping.get(key)]
    problems += [f"unknown key {key!r}" for key in mapping if key not in _KNOWN]
    if mapping.get("money_unit", "yuan") not in ("yuan", "fen"):
        problems.append(f"money_unit must be 'yuan' or 'fen', not {mapping['money_unit']!r}")
    if mapping.get("time_format", "iso") not in ("iso", "unix", "china"):
        problems.append(f"time_format must be 'iso', 'unix' or 'china', not {mapping['time_format']!r}")
    for key, expression in mapping.items():
        if key in OPTIONS or not expression:
            continue
        try:
            _compile(expression)
        except JMESPathError as exc:
            problems.append(f"{key}: bad JMESPath {expression!r} ({exc})")
    if problems:
        raise ValueError("invalid order mapping: " + "; ".join(problems))


class _Extractor:
    """Evaluates one mapping against one document, naming key and expression in every error."""

    def __init__(self, mapping: Mapping[str, str], prefix: str = "") -> None:
        self.mapping = mapping
        self.prefix = prefix

    def where(self, key: str) -> str:
        return f"{self.prefix}{key} ({self.mapping[key]})"

    def raw(self, document: Any, key: str) -> Any:
        expression = self.mapping.get(key)
        return _compile(expression).search(document) if expression else None

    def req(self, document: Any, key: str, convert: Callable[[Any, str], T]) -> T:
        value = self.raw(document, key)
        if is_missing(value):
            raise PayloadError("mapped value is missing", field=self.where(key))
        return convert(value, self.where(key))

    def opt(self, document: Any, key: str, convert: Callable[[Any, str], T]) -> T | None:
        value = self.raw(document, key)
        if is_missing(value):
            return None
        return convert(value, self.where(key))

    def text(self, document: Any, key: str) -> str:
        return self.opt(document, key, wire.text) or ""


def _line_ids(value: Any, field: str) -> tuple[str, ...]:
    """One id or a list of ids (numbers kept exact, as for ``line.external_line_id``)."""
    values = value if isinstance(value, list) else [value]
    return tuple(wire.ident(item, f"{field}[{index}]" if isinstance(value, list) else field)
                 for index, item in enumerate(values) if not is_missing(item))


def _shipments(payload: Any, mapping: Mapping[str, str], when: Callable[[Any, str], datetime],
               issues: list[str]) -> tuple[InboundShipment, ...]:
    get = _Extractor(mapping)
    if not mapping.get("shipments"):
        return ()
    raw = get.raw(payload, "shipments")
    if is_missing(raw):
        return ()
    if not isinstance(raw, list):
        raise PayloadError(f"expected a list of shipments, got {wire.describe(raw)}", field=get.where("shipments"))
    parcels = []
    for index, document in enumerate(raw):
        parcel = _Extractor(mapping, prefix=f"shipments[{index}].")
        parcels.append(shipment(
            parcel.text(document, "shipment.carrier").strip(),
            parcel.req(document, "shipment.tracking_no", wire.ident),
            parcel.opt(document, "shipment.shipped_at", when),
            parcel.opt(document, "shipment.line_ids", _line_ids) or (),
        ))
    return tuple(named_shipments(parcels, get.where("shipments"), issues))


def parse_order(payload: dict, mapping: dict[str, str]) -> InboundOrder:
    """Apply a JMESPath ``mapping`` (see module doc) to a decoded payload."""
    check_mapping(mapping)
    unit = mapping.get("money_unit", "yuan")
    fmt = mapping.get("time_format", "iso")

    def money(value: Any, field: str) -> Decimal:
        return wire.money(value, unit, field)  # type: ignore[arg-type]  # checked by check_mapping

    def when(value: Any, field: str) -> datetime:
        return wire.timestamp(value, fmt, field)  # type: ignore[arg-type]

    get = _Extractor(mapping)

    raw_lines = get.raw(payload, "lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise PayloadError(f"expected a non-empty list of lines, got {wire.describe(raw_lines)}",
                           field=get.where("lines"))
    lines: list[InboundLine] = []
    for index, document in enumerate(raw_lines):
        line = _Extractor(mapping, prefix=f"lines[{index}].")
        lines.append(InboundLine(
            sku=line.req(document, "line.sku", wire.ident),
            quantity=line.req(document, "line.quantity", wire.count),
            unit_price=line.req(document, "line.unit_price", money),
            title=line.text(document, "line.title"),
            external_line_id=line.text(document, "line.external_line_id"),
        ))
    address = InboundAddress(**{f: get.text(payload, f"address.{f}") for f in ADDRESS_FIELDS})
    total = get.req(payload, "total_amount", money)
    goods, discount = get.opt(payload, "goods_total", money), get.opt(payload, "discount_total", money)
    shipping, tax = get.opt(payload, "shipping_fee", money), get.opt(payload, "tax_total", money)
    issues: list[str] = []
    check_parts(total, goods=goods, discount=discount, shipping=shipping, tax=tax, where=get.where("total_amount"),
                issues=issues)
    shipments = _shipments(payload, mapping, when, issues)
    return InboundOrder(
        source=mapping.get("source") or "generic",
        external_id=get.req(payload, "external_id", wire.ident),
        status_code=get.req(payload, "status", wire.ident),
        lines=tuple(lines),
        currency=get.req(payload, "currency", wire.ident),
        total_amount=total,
        paid_amount=get.opt(payload, "paid_amount", money),
        updated_at=get.req(payload, "updated_at", when),
        placed_at=get.opt(payload, "placed_at", when),
        customer_name=get.text(payload, "customer_name") or address.name,
        customer_phone=get.text(payload, "customer_phone") or address.phone,
        address=address,
        payment_reference=get.text(payload, "payment_reference"),
        payment_gateway=get.text(payload, "payment_gateway"),
        issues=tuple(issues),
        customer_email=get.text(payload, "customer_email"),
        paid_at=get.opt(payload, "paid_at", when),
        goods_total=goods,
        discount_total=discount,
        shipping_fee=shipping,
        tax_total=tax,
        shipments=shipments,
    )
