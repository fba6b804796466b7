"""Masking of personal data for roles that may not see it, and recognising data that arrived masked or sealed.

    >>> mask_phone("13812341234")
    '138****1234'
    >>> mask_name("张三丰")
    '张**'
    >>> mask_phone("138****5678")       # already masked by the platform: kept as is
    '138****5678'

Platforms (Taobao, Pinduoduo, Douyin) send receiver data masked (``张*``,
``138****5678``) or encrypted (``~AgAAAA…~``). Masking an already-masked value
again would squeeze out its asterisks (``1385678``) and show garbage, so every
masking function returns masked input unchanged.
"""

from __future__ import annotations

import hashlib
import hmac

import phonenumbers

#: Characters platforms mask with: ASCII and full-width asterisks, bullets.
MASK_CHARS = frozenset("*＊•●")
#: Delimiters platforms wrap ciphertext in (Pinduoduo ``~…~``, Douyin ``#…#`` / ``$…$``).
_CIPHER_DELIMITERS = "~#$"


def is_masked(value: str | None) -> bool:
    """The value was masked by someone (it contains a mask character), so it is not the clear value."""
    return bool(value) and not MASK_CHARS.isdisjoint(value)  # type: ignore[arg-type]


def looks_encrypted(value: str | None) -> bool:
    """Platform ciphertext: wrapped in a repeated delimiter, e.g. ``~AgAAA…~`` or ``#ZgX…#``."""
    return bool(value) and len(value) > 2 and value[0] == value[-1] and value[0] in _CIPHER_DELIMITERS  # type: ignore[arg-type,index]


def mask_phone(phone: str | None) -> str | None:
    if not phone or is_masked(phone):
        return phone
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_name(name: str | None) -> str | None:
    if not name or is_masked(name):
        return name
    return name[0] + "*" * max(1, len(name) - 1)


def mask_address(address: str | None) -> str | None:
    """Keep nothing of the street line but that it exists (a platform's own masked form is kept as sent)."""
    if not address or is_masked(address):
        return address
    return "****"


def normalize_phone(phone: str, region: str = "CN") -> str:
    """E.164 form so that "+86 138-1234-1234" and "13812341234" are the same number."""
    try:
        parsed = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return "".join(ch for ch in phone if ch.isdigit())
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


#: Used until the app sets the server's key (``ORDERGRAPH_PHONE_HASH_KEY``; production refuses to start without one).
DEV_PHONE_KEY = b"ordergraph-development-phone-key"
_phone_key = DEV_PHONE_KEY


def use_phone_key(key: str | bytes) -> None:
    """Set the server secret phone look-up keys are made with (once, at start-up)."""
    global _phone_key
    _phone_key = key.encode() if isinstance(key, str) else key


def phone_hash(phone: str) -> str:
    """Look-up key for a phone number: HMAC-SHA256 under the server's secret, of the E.164 form.

    A plain hash of a phone number is reversed by trying the ~10^8 numbers of
    a prefix in well under a second; without the key, a log line or a database
    dump holding this value gives nothing away.
    """
    return hmac.new(_phone_key, normalize_phone(phone).encode(), hashlib.sha256).hexdigest()
