"""Tenants, their API keys, and turning a presented key into an ``Actor``.

    tenant = await create_tenant("acme", "Acme Tea")
    key, secret = await create_api_key("acme", Role.OPS, name="ops desk", owner="Li Wei <li.wei@acme.cn>")
    actor = await authenticate(secret)
    # Actor(tenant_id=…, role=Role.OPS, name="Li Wei <li.wei@acme.cn> via ops desk (ops key)")

An actor is named by the key's owner (the person or system behind it), the
label the merchant gave the key and its role: ``<owner> via <label> (<role> key)``,
or ``<owner> via <role> key #<id>`` for an unlabelled key. Keys made before
owners were recorded keep ``<label> (<role> key)`` / ``<role> key #<id>``.
Lineage, partner webhooks and subscriptions show that, never the key's secret
prefix. ``domain.lineage.records.key_of`` parses every form back.

Every new key needs an owner: an auditor must be able to say who acted. The
owner may not contain `` via `` (the separator) and the whole name must fit
the 100-character actor columns of lineage.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime

import email_validator

from domain.actor import Actor, Role
from domain.errors import Duplicate, NotFound, ValidationFailed
from models import ApiKey, Tenant

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
KEY_PREFIX = "og_"
OWNER_MAX = 120
#: ``order_event.actor`` and the other actor columns hold this many characters.
ACTOR_MAX = 100
#: Between the owner and the key in an actor name (an owner may not contain it).
OWNER_SEPARATOR = " via "
_ANGLE_EMAIL = re.compile(r"^(?P<name>[^<>]*?)\s*<(?P<email>[^<>]+)>$")


def key_label(key_id: int, role: str, name: str, owner: str | None = None) -> str:
    """The public name of a key: its owner, then its label and role, or its role and number."""
    key = f"{name} ({role} key)" if name else f"{role} key #{key_id}"
    return f"{owner}{OWNER_SEPARATOR}{key}" if owner else key


def validate_owner(owner: str | None) -> str:
    """The owner as stored: trimmed, spaces collapsed, 1-120 printable characters, an email (bare or in
    ``Name <email>``) of a valid shape. Raises ``ValidationFailed`` (field ``owner``)."""
    text = " ".join(str(owner or "").split())
    if not text:
        raise ValidationFailed("owner is required: the person or system behind the key, e.g. "
                               "'Li Wei <li.wei@acme.cn>'", field="owner")
    if len(text) > OWNER_MAX:
        raise ValidationFailed(f"owner is at most {OWNER_MAX} characters, got {len(text)}", field="owner")
    if not text.isprintable():
        raise ValidationFailed("owner may not contain control characters", field="owner")
    if OWNER_SEPARATOR in text.lower():
        raise ValidationFailed(f"owner may not contain {OWNER_SEPARATOR.strip()!r} between spaces "
                               "(it separates the owner from the key in lineage)", field="owner")
    angled = _ANGLE_EMAIL.match(text)
    if angled:
        email = _email(angled.group("email"))
        return f"{angled.group('name')} <{email}>" if angled.group("name") else f"<{email}>"
    if "<" in text or ">" in text:
        raise ValidationFailed("owner: write an email as 'Name <name@example.com>'", field="owner")
    if "@" in text:
        if " " in text:
            raise ValidationFailed("owner: write a name with an email as 'Name <name@example.com>'", field="owner")
        return _email(text)
    return text


def _email(text: str) -> str:
    try:
        return email_validator.validate_email(text.strip(), check_deliverability=False).normalized
    except email_validator.EmailNotValidError as error:
        raise ValidationFailed(f"owner: {text.strip()[:60]!r} is not a valid email ({error})", field="owner") from None


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_tenant(slug: str, name: str) -> Tenant:
    if not _SLUG.match(slug):
        raise ValidationFailed("slug: 2-63 lowercase letters, digits or '-'", field="slug")
    if await Tenant.exists(slug=slug):
        raise Duplicate(f"tenant {slug} exists", field="slug")
    return await Tenant.create(slug=slug, name=name)


async def tenant_and_role(tenant_slug: str, role: Role | str) -> tuple[Tenant, Role]:
    """The tenant a key or a console account is for, and its role; ``NotFound``/``ValidationFailed`` otherwise."""
    tenant = await Tenant.filter(slug=tenant_slug).first()
    if tenant is None:
        raise NotFound(f"no tenant {tenant_slug}", field="tenant")
    try:
        return tenant, Role(role)
    except ValueError:
        raise ValidationFailed(f"unknown role {role}; one of {', '.join(r.value for r in Role)}", field="role") from None


async def create_api_key(tenant_slug: str, role: Role | str, name: str = "", *,
                         owner: str) -> tuple[ApiKey, str]:
    """Mint a key owned by a person or system; the secret is returned once and only its hash is stored."""
    tenant, role = await tenant_and_role(tenant_slug, role)
    owner = validate_owner(owner)
    name = " ".join(name.split())
    longest = key_label(2**31 - 1, role.value, name, owner)  # the widest id a key may get
    if len(longest) > ACTOR_MAX:
        raise ValidationFailed(f"owner and label together name the key in lineage ({longest!r}) and must fit "
                               f"{ACTOR_MAX} characters: shorten one of them", field="owner")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = await ApiKey.create(
        tenant=tenant, role=role.value, name=name, owner=owner, key_hash=hash_key(secret), prefix=secret[:11]
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
        name=key_label(key.id, key.role, key.name, key.owner),
        source=source,
        key_id=key.id,
    )
