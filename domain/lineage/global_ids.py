"""Global ids inside lineage exports, the same opaque ids the GraphQL API uses.

    >>> encode("Order", 42)
    'T3JkZXI6NDI='
    >>> with_global_ids({"order_id": 42, "sku": "A"})
    {'order_id': 42, 'sku': 'A', 'order_gid': 'T3JkZXI6NDI='}

The domain may not import ``resolvers``; the encoding is three lines, so it is
repeated here (``resolvers/ids.py`` decodes both alike).
"""

from __future__ import annotations

import base64
from typing import Any

#: ``<name>_id`` keys in before/after that name a row of this GraphQL type.
ID_TYPES = {
    "order_id": "Order", "channel_id": "Channel", "customer_id": "Customer", "warehouse_id": "Warehouse",
    "stock_id": "Stock", "alert_id": "Alert", "reservation_id": "Reservation", "movement_id": "StockMovement",
    "line_id": "OrderLine", "order_line_id": "OrderLine", "shipment_id": "Shipment", "payment_id": "Payment",
    "event_id": "OrderEvent", "after_sale_id": "AfterSale",
}


def encode(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def with_global_ids(side: Any) -> Any:
    """A copy of a before/after value with ``<name>_gid`` next to every known ``<name>_id`` (nested too)."""
    if isinstance(side, list):
        return [with_global_ids(item) for item in side]
    if not isinstance(side, dict):
        return side
    out: dict[str, Any] = {}
    added: dict[str, str] = {}
    for key, value in side.items():
        out[key] = with_global_ids(value)
        type_name = ID_TYPES.get(key)
        if type_name and isinstance(value, int) and not isinstance(value, bool) and value > 0:
            added[key[:-3] + "_gid"] = encode(type_name, value)
    out.update(added)
    return out
