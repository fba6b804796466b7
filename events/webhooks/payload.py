"""The body partners receive: Standard Webhooks' ``{type, timestamp, data}`` around one lineage event.

Ids are the same opaque global ids the GraphQL API uses (``base64("Order:42")``,
as ``resolvers.ids.encode``; a test pins the two together), so a partner can
fetch more with ``node(id:)``.
"""

from __future__ import annotations

import base64
from typing import Any

from models.order import order_no


def global_id(type_name: str, pk: int | None) -> str | None:
    return None if pk is None else base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def message_id(event_id: int) -> str:
    """Stable per event: the same across retries, replays and endpoints, for receivers to dedupe on."""
    return f"msg_og{event_id}"


def body(message: dict[str, Any]) -> dict[str, Any]:
    order_id = message["order_id"]
    return {
        "type": message["type"],
        "timestamp": message["created_at"],
        "data": {
            "eventId": message["id"],
            "id": global_id("OrderEvent", message["id"]),
            "order": None
            if order_id is None
            else {"id": global_id("Order", order_id), "number": order_no(order_id), "status": message["order_status"]},
            "channelId": global_id("Channel", message["channel_id"]),
            "warehouseId": global_id("Warehouse", message["warehouse_id"]),
            "actor": message["actor"],
            "source": message["source"],
            "reason": message["reason"],
            "before": message["before"],
            "after": message["after"],
        },
    }


def matches(endpoint_types: list[str], endpoint_channels: list[int], message: dict[str, Any]) -> bool:
    """Whether an endpoint wants this event: exact types or ``prefix.*`` patterns, and its channels."""
    if endpoint_channels and message["channel_id"] not in endpoint_channels:
        return False
    if not endpoint_types:
        return True
    kind = message["type"]
    return any(kind == t or (t.endswith("*") and kind.startswith(t[:-1])) for t in endpoint_types)
