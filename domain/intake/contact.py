"""Who receives a channel order, and what of it we may keep: clear fields, the platform's masked forms, sealed ciphertext.

Platforms that encrypt receiver data (Taobao, Pinduoduo, Douyin) send it as
ciphertext plus their own masked forms (``张*``, ``138****5678``). Neither is
a name, phone or address, so neither is stored in ``ship_name`` /
``ship_phone`` / ``ship_address``: the ciphertext goes to a ``SealedContact``
row kept apart from the order, the masked forms to ``Order.contact_masked``,
and such an order matches no customer (masked values would merge strangers).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from domain.inbound.normalized import InboundOrder, SealedContact
from domain.masking import is_masked, looks_encrypted
from domain.orders.create import NewCustomer

#: Tags the channel parsers put on orders whose contact is not in clear.
PII_TAGS = frozenset({"pii:masked", "pii:ciphertext"})
#: Loose on purpose (one @, a dotted domain, no spaces); stricter validation is a later issue.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CONTACT = ("name", "phone", "address")


def _fit(value: str, size: int, notes: list[str], what: str) -> str:
    """A value that fits its column; an over-long one is left out (the raw payload keeps it) and noted."""
    if len(value) <= size:
        return value
    notes.append(f"{what} longer than {size} characters: kept only in the raw payload")
    return ""


def sealed_of(inbound: InboundOrder) -> SealedContact | None:
    """The order's sealed contact: the parser's, or one built from ciphertext a parser left in the address fields."""
    if inbound.sealed is not None:
        return inbound.sealed
    address = inbound.address
    street = _street_line(inbound)
    ciphers = {key: value for key, value in (("name", address.name), ("phone", address.phone), ("address", street))
               if looks_encrypted(value)}
    if not ciphers:
        return None
    return SealedContact(platform=inbound.source[:32], name_cipher=ciphers.get("name", ""),
                         phone_cipher=ciphers.get("phone", ""), address_cipher=ciphers.get("address", ""))


def _street_line(inbound: InboundOrder) -> str:
    address = inbound.address
    line = address.address
    if address.street and address.street not in line:
        line = f"{address.street} {line}".strip()
    return line


def _clear(value: str, sealed: SealedContact | None) -> bool:
    """A value is clear unless it is masked, ciphertext, or one of the sealed contact's ciphertexts."""
    if not value or is_masked(value) or looks_encrypted(value):
        return False
    return sealed is None or value not in (sealed.name_cipher, sealed.phone_cipher, sealed.address_cipher)


def masked_contact(inbound: InboundOrder, sealed: SealedContact | None) -> dict[str, str]:
    """``{"name", "phone", "address"}`` as the platform masked them, or ``{}`` when nothing arrived masked."""
    given = {"name": inbound.address.name, "phone": inbound.address.phone, "address": _street_line(inbound)}
    result = {}
    for key in _CONTACT:
        from_sealed = getattr(sealed, f"{key}_masked") if sealed is not None else ""
        result[key] = from_sealed or (given[key] if is_masked(given[key]) else "")
    return result if any(result.values()) else {}


def contact_fields(inbound: InboundOrder, notes: list[str]) -> dict[str, Any]:
    """The order's receiver columns: clear values only, the platform's masked forms apart."""
    address = inbound.address
    sealed = sealed_of(inbound)
    country = address.country_code.strip().upper()
    if country and not (len(country) == 2 and country.isalpha()):
        notes.append(f"address.country_code {address.country_code!r} is not a 2-letter ISO code: not stored")
        country = ""
    street = _street_line(inbound)
    return {
        "ship_name": _fit(address.name, 100, notes, "receiver name") if _clear(address.name, sealed) else "",
        "ship_phone": _fit(address.phone, 32, notes, "receiver phone") if _clear(address.phone, sealed) else "",
        "ship_province": _fit(address.province, 50, notes, "province"),
        "ship_city": _fit(address.city, 50, notes, "city"),
        "ship_district": _fit(address.district, 50, notes, "district"),
        "ship_address": _fit(street, 300, notes, "street address") if _clear(street, sealed) else "",
        "ship_postal_code": _fit(address.postal_code.strip(), 20, notes, "postal code"),
        "ship_country_code": country,
        "ship_company": _fit(address.company, 100, notes, "receiver company"),
        "contact_masked": masked_contact(inbound, sealed),
    }


def sealed_row_values(sealed: SealedContact) -> dict[str, str]:
    """The ``SealedContact`` row's columns (the masked forms live on the order)."""
    return {"platform": sealed.platform[:32], "name_cipher": sealed.name_cipher, "phone_cipher": sealed.phone_cipher,
            "address_cipher": sealed.address_cipher, "open_id": sealed.open_id}


def address_digest(inbound: InboundOrder) -> str:
    """Fingerprint of where the parcel goes, as the channel states it.

    Covers the clear fields, the masked forms and the platform's handle
    (Taobao OAID), not the ciphertext: a platform may encrypt the same
    address differently each time, which is not a change of address.
    """
    address = inbound.address
    sealed = sealed_of(inbound)
    masked = masked_contact(inbound, sealed)
    value = [address.name, address.phone, address.province, address.city, address.district, address.street,
             address.address, address.postal_code, address.country_code, address.company,
             sorted(masked.items()), sealed.open_id if sealed else ""]
    return hashlib.sha256(json.dumps(value, ensure_ascii=False).encode()).hexdigest()


def clean_email(value: str, notes: list[str]) -> str | None:
    """The buyer's email if it looks like one (loosely); a masked one is not the buyer's, a broken one is noted."""
    email = value.strip()
    if not email or is_masked(email):
        return None
    if len(email) > 200 or not _EMAIL.match(email):
        notes.append(f"customer_email {email[:60]!r} is not an email address: not stored")
        return None
    return email


def customer_of(inbound: InboundOrder, notes: list[str]) -> NewCustomer | None:
    """The buyer to match or create, only when the contact is in clear (masked values would merge strangers)."""
    if PII_TAGS & set(inbound.tags) or sealed_of(inbound) is not None:
        return None
    name, phone = inbound.customer_name.strip(), inbound.customer_phone.strip()
    if is_masked(name) or is_masked(phone) or looks_encrypted(name) or looks_encrypted(phone):
        return None
    if len(phone) > 32:
        phone = ""
    email = clean_email(inbound.customer_email, notes)
    if not (phone or name or email):
        return None
    return NewCustomer(name=name[:100], phone=phone or None, email=email)
