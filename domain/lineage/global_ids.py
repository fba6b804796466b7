"""Global ids inside lineage exports, the same opaque ids the GraphQL API uses.

    >>> encode("Order", 42)
    'T3JkZXI6NDI='
    >>> with_global_ids({"order_id": 42, "sku": "A"})
    {'order_id': 42, 'sku': 'A', 'order_gid': 'T3JkZXI6NDI='}

For the GraphQL API, ``in_global_ids`` replaces the raw ids instead (same key,
global id for value; ``<name>_ids`` lists too), so a client never sees a
database id and can pass any of them to ``node(id:)``::

    >>> in_global_ids({"warehouse_id": 3, "line_ids": [7], "sku": "A"})
    {'warehouse_id': 'V2FyZWhvdXNlOjM=', 'line_ids': ['T3JkZXJMaW5lOjc='], 'sku': 'A'}

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


#: More keys the API turns into global ids: other names for the same rows, and lists of ids.
API_ID_TYPES = {
    **ID_TYPES, "replacement_order_id": "Order", "merged_into_id": "Order",
    "order_ids": "Order", "line_ids": "OrderLine", "warehouse_ids": "Warehouse", "shipment_ids": "Shipment",
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


def _is_pk(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def in_global_ids(side: Any) -> Any:
    """A copy of a before/after value where every known ``<name>_id`` (or ``<name>_ids`` list) holds global ids."""
    if isinstance(side, list):
        return [in_global_ids(item) for item in side]
    if not isinstance(side, dict):
        return side
    out: dict[str, Any] = {}
    for key, value in side.items():
        type_name = API_ID_TYPES.get(key)
        if type_name and _is_pk(value):
            out[key] = encode(type_name, value)
        elif type_name and isinstance(value, list) and value and all(_is_pk(item) for item in value):
            out[key] = [encode(type_name, item) for item in value]
        else:
            out[key] = in_global_ids(value)
    return out
