"""Pieces every channel parser needs: API envelopes, SKU fallback, sealed contacts, amount parts, waybills."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from adapters import wire
from adapters.reader import Reader
from domain.inbound.normalized import InboundShipment, PayloadError, SealedContact
from domain.inbound.carrier_codes import normalize as normalize_carrier

#: Tag: buyer name/phone/address are platform ciphertext (PDD ``~..~``, Douyin ``#..#``/``$..$``);
#: only the platform's decrypt API turns them into clear text.
PII_CIPHERTEXT = "pii:ciphertext"
#: Tag: buyer name/phone arrive masked (``张**``, ``138****1234``); the clear value is not in this payload.
PII_MASKED = "pii:masked"
#: Chinese platforms sell domestically; an address without a country is in mainland China.
CHINA = "CN"

_CIPHER_DELIMITERS = "~#$"
_COUNTRY_NAMES = {"中国": CHINA, "中国大陆": CHINA, "中华人民共和国": CHINA, "china": CHINA, "chn": CHINA}
#: Regions with their own ISO code that Chinese platforms file as provinces.
_REGION_PROVINCES = {"香港": "HK", "澳门": "MO", "澳門": "MO", "台湾": "TW"}


def unwrap(payload: object, *envelope: str) -> Reader:
    """Read an order whether it arrives as the API response (``{"x_response": {"trade": ...}}``) or bare.

    Paths in errors then match what was really received.  A platform error
    envelope (TOP / PDD ``error_response``) is refused with its message.
    """
    reader = Reader(payload)
    if reader.has("error_response"):
        error = reader.obj("error_response")
        detail = error.first_text("sub_msg", "error_msg", "msg", "sub_code", "code")
        raise PayloadError(f"the platform answered with an error, not an order: {detail}", field="error_response")
    if envelope and envelope[0] in reader.data:
        for key in envelope:
            reader = reader.obj(key)
    return reader


def require_lines(lines: list[Reader], field: str) -> list[Reader]:
    """An order without lines cannot be fulfilled or reconciled: refuse it."""
    if not lines:
        raise PayloadError("order has no lines", field=field)
    return lines


def merchant_sku(line: Reader, keys: Sequence[str], issues: list[str]) -> str:
    """The merchant's own SKU code from the first filled field; its absence is reported, not invented."""
    sku = line.first_text(*keys)
    if not sku:
        issues.append(f"{line.path}: no merchant SKU code (looked at {', '.join(keys)})")
    return sku


# ---------------------------------------------------------------- personal data


def looks_encrypted(value: str) -> bool:
    """Platform ciphertext is wrapped in a repeated delimiter, e.g. ``~AgAAA..~`` or ``#ZgX..#``."""
    return len(value) > 2 and value[0] == value[-1] and value[0] in _CIPHER_DELIMITERS


def looks_masked(value: str) -> bool:
    return "*" in value


@dataclasses.dataclass(frozen=True, slots=True)
class Contact:
    """A receiver as a platform sent it: the clear parts, and what came sealed (ciphertext, masks, handle)."""

    name: str = ""
    phone: str = ""
    address: str = ""
    sealed: SealedContact | None = None

    @property
    def tags(self) -> tuple[str, ...]:
        """``pii:ciphertext`` when anything is ciphertext, else ``pii:masked`` when a part is only masked."""
        sealed = self.sealed
        if sealed is None:
            return ()
        if sealed.name_cipher or sealed.phone_cipher or sealed.address_cipher:
            return (PII_CIPHERTEXT,)
        masked_only = ((sealed.name_masked and not self.name) or (sealed.phone_masked and not self.phone)
                       or (sealed.address_masked and not self.address))
        return (PII_MASKED,) if masked_only else ()


def _sort(raw: str, masked: str) -> tuple[str, str, str]:
    """(clear, cipher, masked) for one wire value plus the platform's own masked form of it."""
    raw = raw.strip()
    if looks_encrypted(raw):
        return "", raw, masked
    if looks_masked(raw):
        return "", "", masked or raw
    return raw, "", masked


def contact(platform: str, *, name: str = "", phone: str = "", address: str = "", name_masked: str = "",
            phone_masked: str = "", address_masked: str = "", open_id: str = "") -> Contact:
    """Sort receiver fields into clear text and a :class:`SealedContact`; ciphertext and masks never stay clear.

    ``name``/``phone``/``address`` are the wire values, which may be clear,
    ciphertext or masked; the ``*_masked`` arguments are the platform's own
    masked forms where it sends them separately (PDD ``receiver_name_mask``).
    """
    clear_name, name_cipher, name_mask = _sort(name, name_masked.strip())
    clear_phone, phone_cipher, phone_mask = _sort(phone, phone_masked.strip())
    clear_address, address_cipher, address_mask = _sort(address, address_masked.strip())
    sealed = SealedContact(
        platform=platform, name_cipher=name_cipher, phone_cipher=phone_cipher, address_cipher=address_cipher,
        name_masked=name_mask, phone_masked=phone_mask, address_masked=address_mask, open_id=open_id.strip(),
    )
    if sealed == SealedContact(platform=platform):
        return Contact(clear_name, clear_phone, clear_address)
    return Contact(clear_name, clear_phone, clear_address, sealed)


def country_code(stated: str, province: str, field: str, issues: list[str], *, default: str = CHINA) -> str:
    """ISO 3166 alpha-2 from what a Chinese platform states: a code, a country name, a HK/MO/TW province, or none.

    A country name we cannot place is reported in ``issues`` and left empty rather than guessed.
    """
    stated = stated.strip()
    if len(stated) == 2 and stated.isascii() and stated.isalpha():
        return stated.upper()
    if stated:
        code = _COUNTRY_NAMES.get(stated.lower())
        if code is None:
            issues.append(f"{field}: country {stated!r} is not a known name; country code left empty")
            return ""
        if code != CHINA:
            return code
    for prefix, code in _REGION_PROVINCES.items():
        if province.startswith(prefix):
            return code
    return default if not stated else CHINA


# ---------------------------------------------------------------- money


def signed_money(value: object, field: str) -> Decimal:
    """An amount that may be negative (a seller's price adjustment: ``"-10.00"``, ``-1000`` fen handled by caller)."""
    if isinstance(value, str) and value.strip().startswith("-"):
        return -wire.money_from_decimal(value.strip()[1:], field)
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool) and value < 0:
        return -wire.money_from_decimal(-value, field)
    return wire.money_from_decimal(value, field)


def total_of(amounts: Iterable[Decimal | None]) -> Decimal | None:
    """The sum of the stated amounts, ``None`` when none is stated."""
    stated = [amount for amount in amounts if amount is not None]
    return sum(stated, Decimal(0)) if stated else None


def check_parts(total: Decimal, *, goods: Decimal | None, discount: Decimal | None, shipping: Decimal | None,
                tax: Decimal | None, where: str, issues: list[str], tax_may_be_included: bool = False) -> None:
    """Report (not refuse) parts that do not add up to what the buyer pays: goods - discounts + shipping + tax.

    ``tax_may_be_included``: prices may already contain the tax (EU VAT on
    Amazon, Shopify ``taxes_included``), so the sum without tax also agrees.
    """
    if goods is None:
        return
    less, ship, levy = (part if part is not None else Decimal(0) for part in (discount, shipping, tax))
    without_tax = goods - less + ship
    candidates = [without_tax + levy]
    if tax_may_be_included or not levy:
        candidates.append(without_tax)
    if total in candidates:
        return
    issues.append(f"{where}: amount parts do not add up: goods {goods} - discounts {less} + shipping {ship} "
                  f"+ tax {levy} = {candidates[0]}, but the buyer pays {total}")


# ---------------------------------------------------------------- waybills


def shipment(carrier_name: str, tracking_no: str, shipped_at: datetime | None = None,
             line_ids: Iterable[str] = (), *, carrier: str = "", aliases: Sequence[str] = ()) -> InboundShipment:
    """A waybill the channel already holds.

    ``carrier`` defaults to the first of ``carrier_name`` and ``aliases`` (the
    channel's carrier code next to its display name) that normalises.
    """
    if not carrier:
        carrier = next((code for code in map(normalize_carrier, (carrier_name, *aliases)) if code), "")
    return InboundShipment(
        carrier=carrier,
        tracking_no=tracking_no,
        carrier_name=carrier_name,
        shipped_at=shipped_at,
        line_ids=tuple(dict.fromkeys(line_ids)),
    )


def named_shipments(shipments: Iterable[InboundShipment], where: str, issues: list[str]) -> list[InboundShipment]:
    """The parcels whose carrier the channel names; a waybill with no carrier at all is reported, not kept.

    A tracking number alone cannot be traced or matched to a carrier push, and
    the order it came with should not be refused for it.
    """
    kept = []
    for parcel in shipments:
        if parcel.carrier or parcel.carrier_name.strip():
            kept.append(parcel)
        else:
            issues.append(f"{where}: waybill {parcel.tracking_no} names no carrier; not recorded as a shipment")
    return kept


def merge_shipments(shipments: Iterable[InboundShipment]) -> tuple[InboundShipment, ...]:
    """One shipment per (carrier, waybill): platforms repeat the waybill on every line it carries."""
    merged: dict[tuple[str, str, str], InboundShipment] = {}
    for parcel in shipments:
        key = (parcel.carrier, parcel.carrier_name, parcel.tracking_no)
        seen = merged.get(key)
        if seen is None:
            merged[key] = parcel
            continue
        times = [t for t in (seen.shipped_at, parcel.shipped_at) if t is not None]
        merged[key] = dataclasses.replace(seen, shipped_at=min(times) if times else None,
                                          line_ids=tuple(dict.fromkeys(seen.line_ids + parcel.line_ids)))
    return tuple(merged.values())
