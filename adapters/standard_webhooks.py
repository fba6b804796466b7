"""Standard Webhooks signatures (https://www.standardwebhooks.com), for sources without a scheme of their own.

Channels other than Shopify (and our own pollers relaying Taobao, Pinduoduo,
Douyin, WeChat or Amazon orders, and generic sources) sign with
``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` =
``v1,`` + base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}")). A secret
written ``whsec_<base64>`` is base64-decoded into the key, as the reference
libraries do; any other secret is used as its UTF-8 bytes. Several
space-separated signatures allow key rotation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
DEFAULT_TOLERANCE = 300


def _key(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret[6:], validate=True)
        except binascii.Error:
            return secret.encode("utf-8")
    return secret.encode("utf-8")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for one message."""
    digest = hmac.new(_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def verify(secret: str, headers: Mapping[str, str], body: bytes, *, tolerance: int | None = DEFAULT_TOLERANCE,
           now: float | None = None) -> bool:
    """True iff one of the v1 signatures matches and (unless ``tolerance`` is None) the timestamp is recent."""
    msg_id = headers.get(ID_HEADER, "")
    raw_timestamp = headers.get(TIMESTAMP_HEADER, "")
    signatures = headers.get(SIGNATURE_HEADER, "")
    if not (secret and msg_id and raw_timestamp.isdigit() and signatures):
        return False
    timestamp = int(raw_timestamp)
    if tolerance is not None and abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = sign(secret, msg_id, timestamp, body).encode("ascii")
    for candidate in signatures.split():
        if candidate.startswith("v1,") and hmac.compare_digest(candidate.encode("utf-8", "replace"), expected):
            return True
    return False
