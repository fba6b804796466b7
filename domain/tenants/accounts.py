"""Tenants, their API keys, and turning a presented key into an ``Actor``.

    tenant = await create_tenant("acme", "Acme Tea")
    key, secret = await create_api_key("acme", Role.OPS, name="ops desk")
    actor = await authenticate(secret)      # Actor(tenant_id=…, role=Role.OPS, name="ops desk (ops key)")

An actor is named by the label the merchant gave the key and its role
(``ops key #7`` for an unlabelled one): lineage, partner webhooks and
subscriptions show that, never the key's secret prefix.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime

from domain.actor import Actor, Role
from domain.errors import Duplicate, NotFound, ValidationFailed
from models import ApiKey, Tenant

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
KEY_PREFIX = "og_"


def key_label(key_id: int, role: str, name: str) -> str:
    """The public name of a key: its label and role, or its role and number."""
    return f"{name} ({role} key)" if name else f"{role} key #{key_id}"


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_tenant(slug: str, name: str) -> Tenant:
    if not _SLUG.match(slug):
        raise ValidationFailed("slug: 2-63 lowercase letters, digits or '-'", field="slug")
    if await Tenant.exists(slug=slug):
        raise Duplicate(f"tenant {slug} exists", field="slug")
    return await Tenant.create(slug=slug, name=name)


async def create_api_key(tenant_slug: str, role: Role | str, name: str = "") -> tuple[ApiKey, str]:
    """Mint a key; the secret is returned once and only its hash is stored."""
    tenant = await Tenant.filter(slug=tenant_slug).first()
    if tenant is None:
        raise NotFound(f"no tenant {tenant_slug}", field="tenant")
    try:
        role = Role(role)
    except ValueError:
        raise ValidationFailed(f"unknown role {role}; one of {', '.join(r.value for r in Role)}", field="role") from None
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = await ApiKey.create(
        tenant=tenant, role=role.value, name=name, key_hash=hash_key(secret), prefix=secret[:11]
    )
    return key, secret


async def revoke_api_key(tenant_slug: str, prefix: str) -> ApiKey:
    """Revoke the tenant's live key with this prefix (``og_`` and 8 characters, as ``keys list`` shows it).

    Requests with it are refused within the key cache's ttl, and open
    subscriptions made with it are closed (4403) as soon as they notice.
    """
    key = await ApiKey.filter(tenant__slug=tenant_slug, prefix=prefix, revoked_at__isnull=True).first()
    if key is None:
        raise NotFound(f"tenant {tenant_slug} has no live key {prefix}", field="prefix")
    key.revoked_at = datetime.now(UTC)
    await key.save(update_fields=["revoked_at"])
    return key


async def authenticate(secret: str, source: str = "graphql") -> Actor | None:
    """The actor a key stands for, or None for an unknown or revoked key."""
    if not secret.startswith(KEY_PREFIX):
        return None
    key = await ApiKey.filter(key_hash=hash_key(secret), revoked_at__isnull=True).first()
    if key is None:
        return None
    return Actor(
        tenant_id=key.tenant_id,  # type: ignore[attr-defined]
        role=Role(key.role),
        name=key_label(key.id, key.role, key.name),
        source=source,
    )
