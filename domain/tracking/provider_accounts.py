"""Which tracking provider account speaks for each tenant, and where its pushes must come back.

    accounts = await provider_accounts(apis, callback_base="https://og.example.com")
    account = accounts[tenant_id]          # the tenant's first CarrierAccount whose config has API credentials
    account.callback_url                   # https://og.example.com/hooks/acme/carrier/kuaidi100

A tenant may keep several carrier accounts (one per provider that pushes to
it); subscriptions and direct queries go through the first one, by creation
order, that holds API credentials. An account without them only receives.
``config["callback_base"]`` overrides the server's public base for one tenant.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.inbound.tracking_api import ApiRefused, TrackingProviderApi, TrackingProviderApis
from models import CarrierAccount, Order


@dataclass(frozen=True, slots=True)
class ProviderAccount:
    tenant_id: int
    slug: str
    provider: str
    api: TrackingProviderApi
    callback_base: str

    @property
    def callback_url(self) -> str:
        """Where the provider pushes (``""`` when no base is known: only providers with a console URL work)."""
        if not self.callback_base:
            return ""
        return f"{self.callback_base.rstrip('/')}/hooks/{self.slug}/carrier/{self.provider}"


async def provider_accounts(apis: TrackingProviderApis, *, callback_base: str = "",
                            tenant_id: int | None = None) -> dict[int, ProviderAccount]:
    """tenant id -> its speaking account (tenants without API credentials are absent)."""
    query = CarrierAccount.all() if tenant_id is None else CarrierAccount.filter(tenant_id=tenant_id)
    chosen: dict[int, ProviderAccount] = {}
    for row in await query.order_by("tenant_id", "id").prefetch_related("tenant"):
        tenant = row.tenant  # type: ignore[attr-defined]
        if tenant.id in chosen:
            continue
        config = row.config or {}
        try:
            api = apis.for_account(row.provider, config, row.secret or "")
        except ApiRefused:
            continue
        if api is not None:
            base = str(config.get("callback_base") or callback_base or "")
            chosen[tenant.id] = ProviderAccount(tenant.id, tenant.slug, row.provider, api, base)
    return chosen


def phone_tail(order: Order) -> str:
    """The last 4 digits of the receiver's phone (SF and ZTO want them), from the clear or the masked number."""
    for phone in (order.ship_phone or "", str((order.contact_masked or {}).get("phone") or "")):
        digits = "".join(ch for ch in phone if ch.isdigit())
        if len(digits) >= 4 and phone.rstrip()[-4:].isdigit():
            return digits[-4:]
    return ""
