"""The platforms' after-sale APIs, as the port ``domain.after_sales.ports`` asks for: our refund decisions, pushed.

    from adapters.channels.api.after_sales import CHANNEL_AFTER_SALE_APIS
    api = CHANNEL_AFTER_SALE_APIS.for_channel(channel.kind, channel.config.get("api") or {})
    await api.approve_refund(refund_id, Decimal("100.00"))       # None above: the kind takes no pushes

Built from the same sealed ``config["api"]`` account as the pull API.
Supported: Taobao / Tmall (``adapters.channels.api.taobao_refunds``).
Shopify refunds are made in Shopify (they reach us already refunded), so
there is nothing to push; the other platforms' after-sale APIs are not
wired yet.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from domain.after_sales.ports import ChannelAfterSaleApi

_MODULES = {"taobao": "adapters.channels.api.taobao_refunds"}


class ChannelAfterSaleApis:
    """Builds a shop's after-sale API from its kind and account (``None`` for a kind without one)."""

    kinds = frozenset(_MODULES)

    def for_channel(self, kind: str, config: Mapping[str, Any]) -> ChannelAfterSaleApi | None:
        module = _MODULES.get(kind)
        if module is None:
            return None
        return importlib.import_module(module).refund_client(config)  # type: ignore[no-any-return]


CHANNEL_AFTER_SALE_APIS = ChannelAfterSaleApis()
