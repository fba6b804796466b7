"""Registering where orders and tracking come from: channels (with secret and mapping) and carrier accounts.

Admin-only. A generic channel's JMESPath mapping is checked when saved, so a
broken mapping is refused at the desk instead of quarantining every push.
Secrets never appear in lineage: only that they changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tortoise.exceptions import IntegrityError

from domain.actor import Actor
from domain.catalog import setup as catalog
from domain.errors import Duplicate, NotFound, ValidationFailed
from domain.inbound.quarantine import require_admin
from domain.inbound.tracking_api import redacted
from domain.unit_of_work import unit_of_work
from events import log
from models import CarrierAccount, Channel

GENERIC_KIND = "generic"
#: Kinds whose payloads have a parser of their own (kept in sync with ``adapters.channels.PARSERS``).
NATIVE_KINDS = frozenset({"shopify", "taobao", "pinduoduo", "douyin", "wechat_channels", "amazon"})
CHANNEL_KINDS = NATIVE_KINDS | {GENERIC_KIND}
CARRIER_PROVIDERS = frozenset({"kdniao", "kuaidi100", "aftership"})
MIN_SECRET = 16

MappingCheck = Callable[[Mapping[str, str]], None]

#: Bumped on every change to a channel or carrier account, so per-process caches of them can tell they are stale.
generation = 0


def _changed() -> None:
    global generation
    generation += 1


def _check_secret(secret: str | None) -> None:
    if secret is not None and len(secret) < MIN_SECRET:
        raise ValidationFailed(f"a secret needs at least {MIN_SECRET} characters", field="secret")


def _check_mapping(kind: str, mapping: Mapping[str, Any] | None, check: MappingCheck, *, required: bool) -> None:
    if mapping is None:
        if kind == GENERIC_KIND and required:
            raise ValidationFailed("a generic channel needs a field mapping", field="mapping")
        return
    if not isinstance(mapping, Mapping) or not all(isinstance(v, str) for v in mapping.values()):
        raise ValidationFailed("the mapping is an object of JMESPath strings", field="mapping")
    try:
        check(mapping)
    except ValueError as error:
        raise ValidationFailed(str(error), field="mapping") from None


async def register_channel(
    actor: Actor, code: str, kind: str, name: str, *, secret: str | None, mapping: Mapping[str, str] | None,
    check: MappingCheck,
) -> Channel:
    """Add a channel whose webhooks OrderGraph will accept."""
    require_admin(actor)
    if kind not in CHANNEL_KINDS:
        raise ValidationFailed(f"kind is one of {', '.join(sorted(CHANNEL_KINDS))}", field="kind")
    _check_secret(secret)
    _check_mapping(kind, mapping, check, required=True)
    config = {"mapping": dict(mapping)} if mapping is not None else {}
    try:
        async with unit_of_work():
            channel = await catalog.create_channel(actor.tenant_id, code.strip(), kind, name, secret=secret, config=config)
            await log.append(tenant_id=actor.tenant_id, order_id=None, type="channel.registered", actor=actor.name,
                             source=actor.source, reason=f"channel {channel.code} ({kind}) registered",
                             after={"channel_id": channel.id, "code": channel.code, "kind": kind,
                                    "has_secret": bool(secret), "mapping": config.get("mapping")})
    except IntegrityError:
        raise Duplicate(f"channel {code} exists", field="code") from None
    _changed()
    return channel


#: Keys of a channel's platform API account (``config["api"]``), used to poll, fetch what messages announce and
#: decrypt receivers (each platform's module in ``adapters.channels.api`` says which it needs).
API_KEYS = frozenset({"app_key", "app_secret", "session", "access_token", "base_url", "sign_method",
                      "timeout_seconds", "scene", "page_size", "app_id", "client_id", "client_secret",
                      "refresh_token", "marketplace_ids", "token_url", "api_version"})
#: Checks an API account for a channel kind (builds the platform client); raises ``ValueError`` naming the problem.
ApiCheck = Callable[[str, Mapping[str, Any]], None]


def _check_api(api: Mapping[str, Any] | None) -> None:
    if api is None:
        return
    if not isinstance(api, Mapping):
        raise ValidationFailed("the API account is an object of strings", field="apiAccount")
    for key, value in api.items():
        if key not in API_KEYS:
            raise ValidationFailed(f"unknown API account key {key!r}; known: {', '.join(sorted(API_KEYS))}",
                                   field=f"apiAccount.{key}"[:80])
        if not isinstance(value, (str, int, float)) or isinstance(value, bool) or len(str(value)) > 500:
            raise ValidationFailed("API account values are strings or numbers up to 500 characters",
                                   field=f"apiAccount.{key}")


async def update_channel(
    actor: Actor, code: str, *, name: str | None = None, secret: str | None = None,
    mapping: Mapping[str, str] | None = None, import_mapping: Mapping[str, str] | None = None, check: MappingCheck,
    api: Mapping[str, Any] | None = None, api_check: ApiCheck | None = None, polling: bool | None = None,
) -> Channel:
    """Change a channel's name, secret (rotation), mappings, platform API account or polling; unspecified fields stay.

    The API account (``app_key``, ``app_secret``, ``session``/``access_token`` …) is write-only: lineage
    records which keys changed, never their values, and no query returns it. ``api_check`` refuses an
    account the platform's client cannot be built from (a missing key), before anything is saved.
    ``polling=False`` stops the poller for this channel (announcements are still fetched).
    """
    require_admin(actor)
    _check_secret(secret)
    _check_api(api)
    async with unit_of_work():
        channel = await Channel.filter(tenant_id=actor.tenant_id, code=code).select_for_update().first()
        if channel is None:
            raise NotFound(f"no channel {code}", field="code")
        _check_mapping(channel.kind, mapping, check, required=False)
        _check_mapping(channel.kind, import_mapping, check, required=False)
        if api is not None and api_check is not None:
            try:
                api_check(channel.kind, api)
            except ValueError as error:
                raise ValidationFailed(str(error)[:300], field="apiAccount") from None
        config = dict(channel.config or {})
        before = {"name": channel.name, "mapping": config.get("mapping"), "import_mapping": config.get("import_mapping")}
        if name is not None:
            channel.name = name
        if mapping is not None:
            config["mapping"] = dict(mapping)
        if import_mapping is not None:
            config["import_mapping"] = dict(import_mapping)
        if api is not None:
            config["api"] = dict(api)  # strings and numbers, as checked (a timeout stays a number)
        if polling is not None:
            config["poll"] = polling
        channel.config = config
        if secret is not None:
            channel.secret = secret
        await channel.save()
        await log.append(tenant_id=actor.tenant_id, order_id=None, type="channel.updated", actor=actor.name,
                         source=actor.source, reason=f"channel {code} updated", before=before,
                         after={"name": channel.name, "mapping": config.get("mapping"),
                                "import_mapping": config.get("import_mapping"), "secret_changed": secret is not None,
                                "api_keys_set": sorted(api) if api is not None else None,
                                "polling": config.get("poll") is not False})
    _changed()
    return channel


async def set_carrier_account(actor: Actor, provider: str, secret: str, config: Mapping[str, Any] | None = None) -> CarrierAccount:
    """Create or replace the tenant's account with a tracking provider (its signing key or salt)."""
    require_admin(actor)
    if provider not in CARRIER_PROVIDERS:
        raise ValidationFailed(f"provider is one of {', '.join(sorted(CARRIER_PROVIDERS))}", field="provider")
    if not secret or len(secret) < 8:
        raise ValidationFailed("the provider key needs at least 8 characters", field="secret")
    async with unit_of_work():
        account = await CarrierAccount.filter(tenant_id=actor.tenant_id, provider=provider).select_for_update().first()
        if account is None:
            account = await CarrierAccount.create(tenant_id=actor.tenant_id, provider=provider, secret=secret,
                                                  config=dict(config or {}))
        else:
            account.secret = secret
            if config is not None:
                account.config = dict(config)
            await account.save()
        await log.append(tenant_id=actor.tenant_id, order_id=None, type="carrier_account.saved", actor=actor.name,
                         source=actor.source, reason=f"{provider} account saved",
                         after={"provider": provider, "config": redacted(account.config), "secret_changed": True})
    _changed()
    return account


def channel_mapping(channel: Channel, *, for_import: bool = False) -> dict[str, str] | None:
    config = channel.config or {}
    if for_import and config.get("import_mapping"):
        return dict(config["import_mapping"])
    mapping = config.get("mapping")
    return dict(mapping) if mapping else None
