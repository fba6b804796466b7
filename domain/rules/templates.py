"""Ready-made rules for the cases merchants ask for first; a business user saves one and adjusts it.

Each is the input ``store.save_rule`` takes. They start disabled: dry-run, then enable.
"""

from __future__ import annotations

from typing import Any

LOW_STOCK = "stock[l.sku].available <= stock[l.sku].safety * 1.2"

TEMPLATES: dict[str, dict[str, Any]] = {
    "red_alert_freeze": {
        "description": "Pickup within 2 h and stock at or below 1.2 × safety: red alert and freeze intake of that SKU",
        "triggers": ["order.created", "order.allocated", "order.priority_changed"],
        "condition": f"hours_until(order.ship_by) <= 2 && lines.exists(l, {LOW_STOCK})",
        "actions": [
            {"type": "alert", "severity": "critical",
             "message": "{order.number}: pickup within 2 h and stock of "
                        f"{{lines.filter(l, {LOW_STOCK}).map(l, l.sku)}} at or below 1.2 × safety"},
            {"type": "freeze_sku", "scope": "intake", "skus": f"lines.filter(l, {LOW_STOCK}).map(l, l.sku)"},
        ],
    },
    "urgent_tier": {
        "description": "Orders tagged urgent go to the top of the pick queue and the warehouse group hears of it",
        "triggers": ["order.created"],
        "condition": 'order.tags.exists(t, t == "urgent")',
        "actions": [
            {"type": "priority", "tier": "URGENT_4H"},
            {"type": "notify", "route": "warehouse", "message": "Urgent order {order.number}: ship within 4 hours"},
        ],
    },
    "merge_suggestion": {
        "description": "Same shop, buyer and address within 15 minutes: suggest shipping them as one parcel (合单)",
        "triggers": ["order.created"],
        "condition": 'order.status == "PAID" && !order.merged',
        "actions": [{"type": "merge", "mode": "suggest", "window_minutes": 15}],
    },
    "sku_prefix_special": {
        "description": "SKUs starting with FRAGILE- need special packing: tag the order and tell the warehouse",
        "triggers": ["order.created"],
        "condition": 'lines.exists(l, l.sku.startsWith("FRAGILE-"))',
        "actions": [
            {"type": "tag", "tag": "special-handling"},
            {"type": "alert", "severity": "info", "message": "{order.number} holds fragile goods: pack by hand"},
        ],
    },
    "parcel_stalled": {
        "description": "A parcel in transit without a scan for 48 hours",
        "schedule_minutes": 15,
        "condition": 'shipment != null && shipment.status in ["PICKED_UP", "IN_TRANSIT", "CUSTOMS"] '
                     "&& hours_since(shipment.last_scan_at) >= 48",
        "actions": [{"type": "alert", "severity": "warning",
                     "message": "{order.number}: no scan for {int(hours_since(shipment.last_scan_at))} h "
                                "({shipment.carrier} {shipment.tracking_no})"}],
    },
    "held_too_long": {
        "description": "An order on hold for more than 30 minutes",
        "schedule_minutes": 5,
        "condition": 'order.status == "ON_HOLD" && minutes_since(order.updated_at) >= 30',
        "actions": [{"type": "alert", "severity": "warning",
                     "message": "{order.number} on hold for over 30 minutes: {order.hold_reasons}"}],
    },
}
