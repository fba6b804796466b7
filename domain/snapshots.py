"""The before/after pictures lineage rows carry: small, stable, JSON-safe."""

from __future__ import annotations

from typing import Any

from models import Order


def order_state(order: Order) -> dict[str, Any]:
    return {
        "status": order.status,
        "hold_reasons": list(order.hold_reasons or []),
        "warehouse_id": order.warehouse_id,  # type: ignore[attr-defined]
    }
