"""The registry of ERP and WMS adapters the domain is handed (``domain.federation.ports.Systems``).

    from adapters.systems import SYSTEMS
    wms = SYSTEMS.wms(connection.adapter, connection.config, key=connection_key(connection))

Each kind maps an adapter name (``SystemConnection.adapter``) to the class that
speaks it; a class takes ``(config, key=...)`` and refuses a bad config with a
``ValueError`` naming the key, which is also what ``check`` runs when a
merchant saves a connection. Add an adapter by adding one line to its table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from adapters.erp import ERP_ADAPTERS
from adapters.wms.qimen import QimenConfig, QimenWms
from adapters.wms.rest import RestConfig, RestWms
from domain.federation.ports import ErpPort, WmsPort

#: adapter name -> (the port's class, the config check).
WMS: dict[str, tuple[Callable[..., WmsPort], Callable[[Mapping[str, Any]], object]]] = {
    "qimen": (QimenWms, QimenConfig.read),
    "rest_wms": (RestWms, RestConfig.read),
}
ERP: dict[str, tuple[Callable[..., ErpPort], Callable[[Mapping[str, Any]], object]]] = dict(ERP_ADAPTERS)


class Registry:
    """``Systems``: ports for stored connections, and the check run when one is saved."""

    def __init__(self, wms: Mapping[str, tuple[Callable[..., WmsPort], Callable[[Mapping[str, Any]], object]]],
                 erp: Mapping[str, tuple[Callable[..., ErpPort], Callable[[Mapping[str, Any]], object]]]) -> None:
        self.tables = {"wms": wms, "erp": erp}

    def _entry(self, kind: str, adapter: str) -> tuple[Callable[..., Any], Callable[[Mapping[str, Any]], object]]:
        table = self.tables.get(kind)
        if table is None:
            raise ValueError(f"kind: one of {', '.join(self.tables)}")
        entry = table.get(adapter)
        if entry is None:
            known = ", ".join(sorted(table)) or "none yet"
            raise ValueError(f"adapter: {adapter!r} is not a {kind} adapter (known: {known})")
        return entry

    def wms(self, adapter: str, config: Mapping[str, Any], *, key: str) -> WmsPort:
        return self._entry("wms", adapter)[0](config, key=key)

    def erp(self, adapter: str, config: Mapping[str, Any], *, key: str) -> ErpPort:
        return self._entry("erp", adapter)[0](config, key=key)

    def check(self, kind: str, adapter: str, config: Mapping[str, Any]) -> None:
        self._entry(kind, adapter)[1](config)


SYSTEMS = Registry(WMS, ERP)
