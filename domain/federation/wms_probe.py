"""While a WMS fails, asking it something harmless every few seconds, so its outage alert appears and clears on time.

    await probe_failing(SYSTEMS, every=5.0)     # the pusher's loop does this on every tick

Delivery pushes back off (5 s, 30 s, 2 min, 10 min …), so after an outage
the next push could come many minutes later, and a quiet WMS would stay
"unreachable" on the board that long. Instead, a WMS that this process saw
fail is asked, ``every`` seconds after its latest failed call, about the
oldest delivery order waiting on it (``deliveryorder.query``: a read, nothing
changes in the WMS). The answer goes through ``ask`` like any other call, so
``reachability`` counts it: a second failure raises ``system.unreachable``,
an answer clears it and makes the waiting delivery orders due at once — their
attempts are not spent on probing. A WMS nothing waits on is not probed: its
alert clears with its next call.
"""

from __future__ import annotations

import time

from domain.federation import reachability
from domain.federation.asking import ask
from domain.federation.connections import connection_key
from domain.federation.ports import Systems
from models import DeliveryOrder, SystemConnection, WarehouseSystems

#: Longest a probe may take (seconds): it is abandoned, and counted as failed, after that.
BUDGET = 10.0


async def probe_failing(systems: Systems, *, every: float) -> int:
    """Probe each failing WMS whose latest failed call is ``every`` seconds old; how many were asked."""
    asked = 0
    for streak in reachability.failing():
        if time.monotonic() - streak.last_call < every:
            continue
        connection = await SystemConnection.filter(id=streak.connection_id, kind="wms", active=True).first()
        if connection is None or connection.created_at != streak.created_at:
            continue
        row = await DeliveryOrder.filter(connection_id=connection.id, status__in=reachability.WAITING) \
            .order_by("id").select_related("warehouse").first()
        if row is None:
            continue
        link = await WarehouseSystems.filter(warehouse_id=row.warehouse_id).first()  # type: ignore[attr-defined]
        warehouse_code = (link.wms_warehouse_code if link else "") or row.warehouse.code  # type: ignore[attr-defined]
        try:
            port = systems.wms(connection.adapter, connection.config, key=connection_key(connection))
        except ValueError:  # the stored config no longer reads: the pushes say so, a probe cannot help
            continue
        await ask(streak.tenant_id, connection,
                  lambda trace: port.delivery_states([row.code], warehouse_code, trace=trace),
                  budget=BUDGET, order_id=row.order_id, operation="deliveryorder.query")  # type: ignore[attr-defined]
        asked += 1
    return asked
