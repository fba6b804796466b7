"""The wire shape of a published event: the lineage row plus what filters need."""

from __future__ import annotations

from typing import Any

from models import Order, OrderEvent


async def to_messages(rows: list[OrderEvent]) -> list[dict[str, Any]]:
    order_ids = {row.order_id for row in rows if row.order_id}  # type: ignore[attr-defined]
    orders = {
        o["id"]: o
        for o in await Order.filter(id__in=order_ids).values("id", "channel_id", "warehouse_id", "status")
    } if order_ids else {}
    messages = []
    for row in rows:
        order = orders.get(row.order_id, {})  # type: ignore[attr-defined]
        messages.append(
            {
                "id": row.id,
                "tenant_id": row.tenant_id,  # type: ignore[attr-defined]
                "order_id": row.order_id,  # type: ignore[attr-defined]
                "type": row.type,
                "actor": row.actor,
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
