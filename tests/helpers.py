"""Small builders shared by the API tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain import orders
from domain.actor import Actor
from domain.catalog import setup as catalog
from domain.orders.create import NewAddress, NewCustomer, NewLine, NewOrder, NewPayment
from domain.stock import levels as stock
from models import Order

CREATE_ORDER = """
mutation Create($input: CreateOrderInput!) {
  createOrder(input: $input) {
    order { id number status totalAmount externalId tags customer { name phone } }
    errors { code field message fromStatus toStatus }
  }
}
"""


def order_input(external_id: str = "T1001", **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "channel": "tmall",
        "externalId": external_id,
        "lines": [
            {"sku": "TEA-001", "quantity": 2, "unitPrice": "99.50", "title": "龙井"},
            {"sku": "CUP-01", "quantity": 1, "unitPrice": "45.00"},
        ],
        "customer": {"name": "张三丰", "phone": "13812341234"},
        "address": {"name": "张三丰", "phone": "13812341234", "province": "浙江", "city": "杭州", "district": "西湖区", "address": "文三路 100 号"},
        "payment": {"gateway": "alipay", "amount": "244.00", "reference": "2026112200001"},
        "tags": ["vip"],
    }
    data.update(overrides)
    return data


async def paid_order(actor: Actor, channel_id: int, external_id: str = "T1", *, phone: str = "13812341234", **extra: Any) -> Order:
    """A paid order written through the domain use case."""
    return await orders.create_order(
        actor,
        NewOrder(
            channel_id=channel_id,
            external_id=external_id,
            lines=[NewLine(sku="TEA-001", quantity=1, unit_price=Decimal("100.00"))],
            customer=NewCustomer(name="李四", phone=phone),
            address=NewAddress(name="李四", phone=phone, province="上海", city="上海", district="浦东新区", address="世纪大道 1 号"),
            payment=NewPayment(gateway="wechatpay", amount=Decimal("100.00")),
            **extra,
        ),
    )


async def stock_up(actor: Actor, warehouse_ids: list[int], sku: str = "TEA-001", quantity: int = 50) -> None:
    """Put ``quantity`` of ``sku`` in every given warehouse (registering the SKU first)."""
    await catalog.upsert_sku(actor.tenant_id, sku, sku)
    for warehouse_id in warehouse_ids:
        await stock.receive_stock(actor, warehouse_id, sku, quantity)


async def key_actor(secret: str) -> str:
    """The name lineage gives whoever uses this API key (owner, label and role, never part of the secret)."""
    from domain.tenants.accounts import hash_key, key_label
    from models import ApiKey

    row = await ApiKey.get(key_hash=hash_key(secret))
    return key_label(row.id, row.role, row.name, row.owner)
