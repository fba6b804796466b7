"""The tenant's payment-gateway accounts: the keys its notices are checked with, sealed at rest, never shown.

    account = await save_account(admin, "wechatpay", {"api_v3_key": "…", "platform_certificate": "-----BEGIN…"},
                                 gateways=GATEWAYS)

Only admins save keys. A save merges into what is stored (send only what
changes: a new platform certificate without the API v3 key again; ``null``
removes a key), then the gateway's adapter checks the result, so a bad key is
refused before it is stored. Lineage records which keys changed, never a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tortoise.exceptions import IntegrityError

from domain.actor import Actor, Role
from domain.errors import Duplicate, Forbidden, ValidationFailed
from domain.payments.ports import PaymentGateway
from domain.unit_of_work import unit_of_work
from events import log
from models import PaymentGatewayAccount

#: Largest config accepted (PEM certificates are ~2 KB each).
MAX_CONFIG_CHARS = 32_000


def require_admin(actor: Actor) -> None:
    if actor.role != Role.ADMIN:
        raise Forbidden("only an admin may manage payment gateway keys")


def gateway_of(gateways: Mapping[str, PaymentGateway], name: str) -> PaymentGateway:
    gateway = gateways.get(name)
    if gateway is None:
        raise ValidationFailed(f"gateway is one of {', '.join(sorted(gateways))}", field="gateway")
    return gateway


def merged(stored: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` over ``stored``; a key given as ``None`` is removed."""
    result = dict(stored)
    for key, value in given.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


async def save_account(actor: Actor, name: str, config: Any, *,
                       gateways: Mapping[str, PaymentGateway]) -> PaymentGatewayAccount:
    """Create or update the tenant's account with gateway ``name`` (see module doc)."""
    require_admin(actor)
    gateway = gateway_of(gateways, name)
    if not isinstance(config, Mapping):
        raise ValidationFailed("config is an object", field="config")
    if len(repr(config)) > MAX_CONFIG_CHARS:
        raise ValidationFailed(f"config is longer than {MAX_CONFIG_CHARS} characters", field="config")
    async with unit_of_work():
        row = await PaymentGatewayAccount.filter(tenant_id=actor.tenant_id, gateway=name).select_for_update().first()
        try:
            cleaned = gateway.check_config(merged(row.config if row else {}, config))
        except ValueError as error:
            raise ValidationFailed(str(error)[:300], field="config") from None
        changed = sorted(key for key in set(cleaned) | set(row.config if row else {})
                         if (row.config if row else {}).get(key) != cleaned.get(key))
        if row is None:
            try:
                row = await PaymentGatewayAccount.create(tenant_id=actor.tenant_id, gateway=name, config=cleaned)
            except IntegrityError:
                raise Duplicate(f"an account for {name} was saved at the same time; try again", field="gateway") from None
        else:
            row.config = cleaned
            await row.save(update_fields=["config"])
        await log.append(tenant_id=actor.tenant_id, order_id=None, type="payment.gateway_saved", actor=actor.name,
                         source=actor.source, reason=f"{name} keys saved",
                         after={"gateway": name, "changed": changed, "shown": gateway.describe(cleaned)})
    return row


async def account_config(tenant_id: int, name: str) -> dict[str, Any] | None:
    """The clear config of the tenant's account with ``name`` (for verifying a notice), or ``None``."""
    row = await PaymentGatewayAccount.filter(tenant_id=tenant_id, gateway=name).first()
    return dict(row.config) if row else None


async def accounts(actor: Actor) -> list[PaymentGatewayAccount]:
    require_admin(actor)
    return list(await PaymentGatewayAccount.filter(tenant_id=actor.tenant_id).order_by("gateway"))
