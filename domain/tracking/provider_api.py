"""The tracking provider port: subscribe a waybill at the tenant's provider, ask it for the scans now.

Defined in :mod:`domain.inbound.tracking_api` (beside the channel port, where
the adapters implementing it may see it); the tracking use cases import it
from here. See that module for the contract.
"""

from __future__ import annotations

from domain.inbound.tracking_api import (
    CREDENTIALS,
    NOT_CONFIGURED,
    SECRET_KEYS,
    UNSUPPORTED_CARRIER,
    ApiRefused,
    ApiUnavailable,
    ChannelApiError,
    Throttled,
    TrackingProviderApi,
    TrackingProviderApis,
    redacted,
)

__all__ = ["CREDENTIALS", "NOT_CONFIGURED", "SECRET_KEYS", "UNSUPPORTED_CARRIER", "ApiRefused", "ApiUnavailable",
           "ChannelApiError", "Throttled", "TrackingProviderApi", "TrackingProviderApis", "redacted"]
