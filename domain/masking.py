"""Masking of personal data for roles that may not see it.

    >>> mask_phone("13812341234")
    '138****1234'
    >>> mask_name("张三丰")
    '张**'
"""

from __future__ import annotations

import hashlib

import phonenumbers


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_name(name: str | None) -> str | None:
    if not name:
        return name
    return name[0] + "*" * max(1, len(name) - 1)


def mask_address(address: str | None) -> str | None:
    """Keep nothing of the street line but that it exists."""
    if not address:
        return address
    return "****"


def normalize_phone(phone: str, region: str = "CN") -> str:
    """E.164 form so that "+86 138-1234-1234" and "13812341234" are the same number."""
    try:
        parsed = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return "".join(ch for ch in phone if ch.isdigit())
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_hash(phone: str) -> str:
    """Lookup key for a phone number that is safe to index and to log."""
    return hashlib.sha256(normalize_phone(phone).encode()).hexdigest()
