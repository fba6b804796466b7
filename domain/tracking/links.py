"""Signed, expiring links to one order: ``/track/t/{token}``, verified without the database.

    >>> token = mint_token("s3cret", tenant_id=1, order_id=42, expires_at=2_000_000_000)
    >>> read_token("s3cret", token, now=1_900_000_000)
    LinkGrant(tenant_id=1, order_id=42, expires_at=2000000000)
    >>> read_token("s3cret", token, now=2_000_000_001) is None
    True

A token is ``tenant.order.expiry`` in hex and a truncated HMAC-SHA256 (132
bits), about 40 characters, short enough for an SMS. Keys are derived per
purpose from the one tracking secret, so a session cookie can never be
replayed as a link, nor the other way round.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

from domain.errors import NotFound
from models import Order, Tenant
from models.order import parse_order_no

LINK_PATH = "/track/t/"


def derive_key(secret: str, purpose: str) -> bytes:
    return hmac.new(secret.encode(), f"ordergraph-tracking:{purpose}".encode(), hashlib.sha256).digest()


def mac(key: bytes, text: str, length: int = 22) -> str:
    """URL-safe, truncated HMAC-SHA256 of ``text``."""
    digest = hmac.new(key, text.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:length]


@dataclass(frozen=True, slots=True)
class LinkGrant:
    tenant_id: int
    order_id: int
    expires_at: int


def mint_token(secret: str, *, tenant_id: int, order_id: int, expires_at: int) -> str:
    payload = f"{tenant_id:x}.{order_id:x}.{expires_at:x}"
    return f"{payload}.{mac(derive_key(secret, 'link'), payload)}"


def read_token(secret: str, token: str, *, now: float | None = None) -> LinkGrant | None:
    """The grant a token carries, or None if it is malformed, tampered with or expired."""
    parts = token.split(".")
    if len(parts) != 4 or len(token) > 120:
        return None
    payload = ".".join(parts[:3])
    if not hmac.compare_digest(parts[3], mac(derive_key(secret, "link"), payload)):
        return None
    try:
        tenant_id, order_id, expires_at = (int(part, 16) for part in parts[:3])
    except ValueError:
        return None
    if expires_at < (time.time() if now is None else now):
        return None
    return LinkGrant(tenant_id, order_id, expires_at)


async def mint_order_link(secret: str, tenant_slug: str, order_no: str, *, days: int = 30) -> str:
    """The path of a fresh link to an existing order (for notifications and the CLI)."""
    tenant = await Tenant.filter(slug=tenant_slug).first()
    order_id = parse_order_no(order_no)
    if tenant is None or order_id is None or not await Order.exists(id=order_id, tenant_id=tenant.id):
        raise NotFound("no such order for that tenant", field="orderNo")
    expires_at = int(time.time()) + days * 86400
    return LINK_PATH + mint_token(secret, tenant_id=tenant.id, order_id=order_id, expires_at=expires_at)
