"""The platforms' pull APIs, one module per platform, as the port ``domain.inbound.channel_api`` asks for.

    from adapters.channels.api import CHANNEL_APIS
    api = CHANNEL_APIS.for_channel(channel.kind, channel.config.get("api") or {})
    page = await api.list_updated(Window(start, end), None)

Each module exposes ``client(config) -> ChannelApi`` built from the
channel's sealed ``config["api"]`` (keys documented in the module; a missing
one is :class:`~domain.inbound.channel_api.ApiRefused` naming it) and signs with
:mod:`adapters.channels.platform_signing`. Modules are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from domain.inbound.channel_api import ChannelApi

_MODULES = {
    "taobao": "adapters.channels.api.taobao",
    "pinduoduo": "adapters.channels.api.pinduoduo",
    "douyin": "adapters.channels.api.douyin",
    "wechat_channels": "adapters.channels.api.wechat",
    "amazon": "adapters.channels.api.amazon",
    "shopify": "adapters.channels.api.shopify",
}


class ChannelApis:
    """Builds a channel's pull API client from its kind and account settings."""

    kinds = frozenset(_MODULES)

    def for_channel(self, kind: str, config: dict[str, Any]) -> ChannelApi | None:
        module = _MODULES.get(kind)
        if module is None:
            return None
        return importlib.import_module(module).client(config)  # type: ignore[no-any-return]


CHANNEL_APIS = ChannelApis()
