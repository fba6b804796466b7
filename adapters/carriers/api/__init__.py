"""The tracking providers' APIs, one module per provider, as the port ``domain.inbound.tracking_api`` asks for.

    from adapters.carriers.api import PROVIDER_APIS
    api = PROVIDER_APIS.for_account(account.provider, account.config, account.secret)
    await api.subscribe("SF", "SF1234567890", callback_url=f"{base}/hooks/acme/carrier/kuaidi100", phone_tail="5678")

Each module exposes ``client(config, secret) -> TrackingProviderApi`` built
from the carrier account's sealed ``config`` (keys documented in the module;
a missing one is ``ApiRefused`` with code ``NOT_CONFIGURED`` naming it) and
the account's push secret (Kuaidi100's salt, Kdniao's AppKey). Common to all:
optional ``base_url`` (a simulator in development) and ``timeout_seconds``.
Carriers are mapped to each provider's company code by :mod:`.codes`.
Modules are imported on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from domain.inbound.tracking_api import TrackingProviderApi

_MODULES = {
    "kuaidi100": "adapters.carriers.api.kuaidi100",
    "kdniao": "adapters.carriers.api.kdniao",
    "aftership": "adapters.carriers.api.aftership",
}


class ProviderApis:
    """Builds a tracking provider account's API client from its provider name, config and secret."""

    providers = frozenset(_MODULES)

    def for_account(self, provider: str, config: Mapping[str, Any], secret: str = "") -> TrackingProviderApi | None:
        module = _MODULES.get(provider)
        if module is None:
            return None
        return importlib.import_module(module).client(config or {}, secret)  # type: ignore[no-any-return]


PROVIDER_APIS = ProviderApis()
