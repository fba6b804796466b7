"""Simulated sales platforms: each platform's API and pushes, served over one shop's orders, with faults.

    ordergraph sim channel --kind taobao --port 9400 [--push URL --secret S] [--orders 100]

:mod:`adapters.channels.sim.core` keeps the truth and the faults; one module
per platform exposes ``protocol() -> core.Protocol`` (its wire format) and
``account_config(base_url) -> dict`` (the channel ``config["api"]`` that
points a client at the simulator).
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: Channel kind -> its simulator module.
_MODULES = {"taobao": "taobao", "pinduoduo": "pinduoduo", "douyin": "douyin", "wechat_channels": "wechat",
            "amazon": "amazon", "shopify": "shopify"}
KINDS = tuple(_MODULES)


def module(kind: str) -> ModuleType:
    """The simulator module of channel kind ``kind`` (``ValueError`` for a kind with none)."""
    if kind not in _MODULES:
        raise ValueError(f"no simulator for {kind!r} (known: {', '.join(KINDS)})")
    return importlib.import_module(f"adapters.channels.sim.{_MODULES[kind]}")
