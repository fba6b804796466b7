"""An example context, shaped exactly like ``context.contexts`` builds one, for save-time checks and the docs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

_NOW = datetime(2026, 11, 11, 10, 0, tzinfo=UTC)

SAMPLE: dict[str, Any] = {
    "order": {
        "id": 42.0, "number": "OG000000042", "external_id": "4012345678", "status": "PAID", "hold_reasons": [],
        "tags": ["urgent"], "priority": "STANDARD", "currency": "CNY", "total_amount": 259.0, "goods_total": 279.0,
        "discount_total": 20.0, "shipping_fee": 0.0, "placed_at": _NOW, "paid_at": _NOW,
        "ship_by": _NOW + timedelta(hours=2), "updated_at": _NOW, "province": "浙江省", "city": "杭州市",
        "district": "西湖区", "country_code": "CN", "merged": False, "line_count": 1.0, "item_count": 2.0,
    },
    "lines": [{"sku": "TEA-001", "title": "Longjing 250 g", "quantity": 2.0, "unit_price": 139.5,
               "channel_sku": "TB-TEA-1", "warehouse": None}],
    "customer": {"id": 7.0, "since": _NOW - timedelta(days=400)},
    "channel": {"code": "tmall", "kind": "taobao", "name": "Tmall flagship"},
    "stock": {"TEA-001": {"on_hand": 12.0, "reserved": 2.0, "available": 10.0, "safety": 8.0,
                          "by_warehouse": {"HZ": {"on_hand": 12.0, "reserved": 2.0, "available": 10.0, "safety": 8.0}}}},
    "shipment": None,
    "warehouse": None,
    "event": {"type": "order.created", "actor": "channel:tmall", "source": "taobao", "reason": "", "after": {},
              "at": _NOW},
    "now": _NOW,
}
