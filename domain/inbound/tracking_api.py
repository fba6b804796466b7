"""What a tracking provider's API must offer, whatever its protocol: subscribe a waybill, ask for its scans now.

The port ``domain.tracking``'s subscriptions, silent-parcel queries and
provider accounts use, kept beside the channel port so the adapters that
implement it may see it (they see ``domain.inbound``'s types, never
``domain.tracking``).

    api = apis.for_account(account.provider, account.config)   # adapters.carriers.api: kuaidi100, kdniao, aftership
    await api.subscribe("SF", "SF1234567890", callback_url=".../hooks/acme/carrier/kuaidi100", phone_tail="5678")
    for tracking in await api.query("SF", "SF1234567890"):
        ...   # the same InboundTracking the provider's push parser gives: applied through the push path

Carriers are named by the normalised code a shipment stores (``SF``,
``ZTO``: :mod:`domain.inbound.carrier_codes`); each client maps it to its
provider's own company code. A carrier the provider does not know is an
:class:`ApiRefused` with code :data:`UNSUPPORTED_CARRIER`. A waybill the
provider already tracks is a successful subscription. Errors are the channel
port's (:mod:`domain.inbound.channel_api`): :class:`Throttled` (wait
``retry_after`` seconds), :class:`ApiUnavailable` (try later),
:class:`ApiRefused` (retrying will not help: credentials, parameters).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from domain.inbound.channel_api import ApiRefused, ApiUnavailable, ChannelApiError, Throttled
from domain.inbound.normalized import InboundTracking

__all__ = ["CREDENTIALS", "NOT_CONFIGURED", "SECRET_KEYS", "UNSUPPORTED_CARRIER", "ApiRefused", "ApiUnavailable",
           "ChannelApiError", "Throttled", "TrackingProviderApi", "TrackingProviderApis", "redacted"]

#: ``ApiRefused.code`` when the provider has no company code for the carrier (nothing to retry).
UNSUPPORTED_CARRIER = "UNSUPPORTED_CARRIER"
#: ``ApiRefused.code`` when the account lacks the API credentials (the account only receives pushes).
NOT_CONFIGURED = "NOT_CONFIGURED"
#: ``ApiRefused.code`` when the provider refused the account's credentials: every call of the account will fail.
CREDENTIALS = "CREDENTIALS"
#: Keys of a tracking provider account's ``config`` that are credentials: never shown, never logged.
SECRET_KEYS = frozenset({"key", "app_key", "api_key"})


class TrackingProviderApi(Protocol):
    """One tenant's account with one tracking provider."""

    #: The provider's name (``kuaidi100``, ``kdniao``, ``aftership``), as in ``/hooks/{tenant}/carrier/{provider}``.
    provider: str

    async def subscribe(self, carrier: str, tracking_no: str, *, callback_url: str, phone_tail: str = "") -> None:
        """Ask the provider to push this waybill's scans to ``callback_url`` (returns when it accepted)."""
        ...

    async def query(self, carrier: str, tracking_no: str, *, phone_tail: str = "") -> list[InboundTracking]:
        """The waybill's scans now, as the provider's push parser reads them (empty: nothing known yet)."""
        ...


class TrackingProviderApis(Protocol):
    """Builds the API client of a tracking provider account from its provider name and sealed ``config``."""

    def for_account(self, provider: str, config: Mapping[str, Any], secret: str = "") -> TrackingProviderApi | None:
        """``None`` when the provider has no API; :class:`ApiRefused` (``NOT_CONFIGURED``) when credentials lack."""
        ...


def redacted(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """An account's config fit to show or log: the credentials' values replaced by ``"***"``."""
    return {key: ("***" if key in SECRET_KEYS and value else value) for key, value in (config or {}).items()}
