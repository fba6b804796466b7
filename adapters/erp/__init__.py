"""ERPs as the port ``domain.federation.ports.ErpPort``: one module per wire format, a simulator for all of them.

    from adapters.systems import SYSTEMS                 # the registry carries ERP_ADAPTERS as its ERP half
    SYSTEMS.check("erp", "kingdee", config)              # ValueError naming the bad key, when a merchant saves it
    erp = SYSTEMS.erp("kingdee", config, key="t7:erp")   # save / read sales orders, read inventory and invoices

``kingdee`` (Kingdee K3 Cloud WebAPI, :mod:`adapters.erp.kingdee`) and
``rest_erp`` (any JSON REST ERP described as data, :mod:`adapters.erp.rest`).
HTTP goes through :mod:`adapters.system_http` (timeouts, retries, a breaker per
connection key, redacted evidence); :mod:`adapters.erp.common` redacts ERP
bodies. :mod:`adapters.erp.simulator` serves Kingdee's endpoints and a REST
mode locally (``ordergraph sim erp``), faults from :mod:`adapters.erp.sim_faults`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from adapters.erp.kingdee import KingdeeConfig, KingdeeErp
from adapters.erp.rest import RestErp, RestErpConfig
from domain.federation.ports import ErpPort

#: Adapter name (``SystemConnection.adapter``) -> (the port's class, the config check).
ERP_ADAPTERS: dict[str, tuple[Callable[..., ErpPort], Callable[[Mapping[str, Any]], object]]] = {
    "kingdee": (KingdeeErp, KingdeeConfig.read),
    "rest_erp": (RestErp, RestErpConfig.read),
}
