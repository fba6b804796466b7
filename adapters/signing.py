"""Signature schemes the sources use, compared in constant time.

Kept apart from the parsers so each provider module states *which* scheme
it uses in one line, and the byte-level details live in one place.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def same(expected: str, received: str) -> bool:
    """Constant-time equality of two signature strings (non-ASCII input is fine, it just never matches)."""
    return hmac.compare_digest(expected.encode("utf-8"), received.encode("utf-8"))


def hmac_sha256_base64(secret: str, raw_body: bytes) -> str:
    """Base64 of HMAC-SHA256 over the raw body bytes (Shopify, AfterShip)."""
    digest = hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_hmac_sha256_base64(raw_body: bytes, secret: str, header_value: str | None) -> bool:
    """True iff ``header_value`` is the base64 HMAC-SHA256 of exactly these bytes under ``secret``."""
    if not secret or not header_value:
        return False
    return same(hmac_sha256_base64(secret, raw_body), header_value.strip())


def md5_hex(text: str) -> str:
    """Lowercase hex MD5 of the UTF-8 text (Kdniao and Kuaidi100 build on it)."""
    return hashlib.md5(text.encode("utf-8")).hexdigest()
