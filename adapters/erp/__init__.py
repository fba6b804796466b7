"""ERPs as the port ``domain.federation.ports.ErpPort``: one module per wire format, a simulator for all of them.

    from adapters.erp import erp_port, check_erp
    check_erp("kingdee", config)                       # ValueError naming the bad key, when a merchant saves it
    erp = erp_port("kingdee", config, key="t7:erp")    # save / read sales orders, read inventory

``kingdee`` (Kingdee K3 Cloud WebAPI, :mod:`adapters.erp.kingdee`) and
``rest_erp`` (any JSON REST ERP described as data, :mod:`adapters.erp.rest`).
HTTP goes through :mod:`adapters.system_http` (timeouts, retries, a breaker per
connection key, redacted evidence). :mod:`adapters.erp.simulator` serves
Kingdee's endpoints and a REST mode locally (``ordergraph sim erp``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from adapters.erp import kingdee, rest
from domain.federation.ports import ErpPort

#: Adapter name (``SystemConnection.adapter``) -> (port factory, config check).
ERP_ADAPTERS: dict[str, tuple[Callable[..., ErpPort], Callable[[Mapping[str, Any]], None]]] = {
    kingdee.ADAPTER: (kingdee.KingdeeErp, kingdee.check),
    rest.ADAPTER: (rest.RestErp, rest.check),
}


def _adapter(adapter: str) -> tuple[Callable[..., ErpPort], Callable[[Mapping[str, Any]], None]]:
    try:
        return ERP_ADAPTERS[adapter]
    except KeyError:
        raise ValueError(f"adapter: an ERP adapter is one of {', '.join(sorted(ERP_ADAPTERS))}") from None


def erp_port(adapter: str, config: Mapping[str, Any], *, key: str) -> ErpPort:
    """The port for a stored ERP connection (``key`` names its breaker and session)."""
    factory, _check = _adapter(adapter)
    return factory(config, key=key)


def check_erp(adapter: str, config: Mapping[str, Any]) -> None:
    """Refuse (``ValueError`` naming the key) a config the adapter cannot use."""
    _adapter(adapter)[1](config)
