"""The wire shape of a published event: the lineage row plus what filters need.

The order's channel, warehouse and status come from the order as it is when
the event is handed on. Rows read with ``select_related("order")`` carry it
already; others cost one batched query.
"""

from __future__ import annotations

from events.actors import public_actor
from typing import Any

from models import Order, OrderEvent


def _prefetched(row: OrderEvent) -> dict[str, Any] | None:
    order = row.__dict__.get("_order")
    if order is None:
        return None
    return {"channel_id": order.channel_id, "warehouse_id": order.warehouse_id, "status": order.status}


async def to_messages(rows: list[OrderEvent]) -> list[dict[str, Any]]:
    orders: dict[int, dict[str, Any]] = {}
    missing = set()
    for row in rows:
        if row.order_id is None:  # type: ignore[attr-defined]
            continue
        known = _prefetched(row)
        if known is not None:
            orders[row.order_id] = known  # type: ignore[attr-defined]
        else:
            missing.add(row.order_id)  # type: ignore[attr-defined]
    if missing:
        for o in await Order.filter(id__in=missing).values("id", "channel_id", "warehouse_id", "status"):
            orders[o["id"]] = o
    messages = []
    for row in rows:
        order = orders.get(row.order_id, {})  # type: ignore[attr-defined]
        messages.append(
            {
                "id": row.id,
                "tenant_id": row.tenant_id,  # type: ignore[attr-defined]
                "order_id": row.order_id,  # type: ignore[attr-defined]
                "type": row.type,
                "actor": public_actor(row.actor),
                "source": row.source,
                "reason": row.reason,
                "before": row.before,
                "after": row.after,
                "payload_ref": row.payload_ref,
                "created_at": row.created_at.isoformat(),
                "channel_id": order.get("channel_id"),
                "warehouse_id": order.get("warehouse_id"),
                "order_status": order.get("status"),
            }
        )
    return messages
