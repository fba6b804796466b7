"""Real webhook payloads for the partner guide: run an order's life on an in-memory SQLite and print what partners get.

    .venv/bin/python tools/event_catalogue.py            # one JSON object per event type: {"type", "body"}
    .venv/bin/python tools/event_catalogue.py --markdown # the same as the fenced examples in docs/partners.md

The scenario goes through the ordinary domain use cases (create, allocate,
hold, release, pick, pack, ship, a carrier's delivery scan, a cancellation),
then turns the committed lineage rows into webhook bodies with the very
functions the fan-out uses (``events.messages.to_messages`` and
``events.webhooks.payload.body``). ``tests/test_partner_docs.py`` runs it and
checks the examples in docs/partners.md have the same shape.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tortoise import Tortoise  # noqa: E402

from api.database import tortoise_config  # noqa: E402
from domain import orders  # noqa: E402
from domain.actor import Actor, Role  # noqa: E402
from domain.catalog import setup as catalog  # noqa: E402
from domain.orders.fulfilment import allocate_order, record_tracking, ship_order  # noqa: E402
from domain.statuses import OrderStatus, ShipmentStatus  # noqa: E402
from domain.stock import levels as stock  # noqa: E402
from domain.tenants.accounts import create_tenant  # noqa: E402
from events.messages import to_messages  # noqa: E402
from events.webhooks import payload  # noqa: E402
from models import OrderEvent  # noqa: E402


def _new_order(channel_id: int, external_id: str) -> orders.NewOrder:
    return orders.NewOrder(
        channel_id=channel_id,
        external_id=external_id,
        lines=[orders.NewLine(sku="TEA-001", quantity=2, unit_price=Decimal("99.50"))],
        customer=orders.NewCustomer(name="李四", phone="13812341234"),
        address=orders.NewAddress(name="李四", phone="13812341234", province="上海", city="上海", district="浦东新区",
                                  address="世纪大道 1 号"),
        payment=orders.NewPayment(gateway="alipay", amount=Decimal("199.00")),
    )


class Outbox:
    """Hands committed rows on after each step, as the dispatcher does, so ``data.order.status`` is as partners see it."""

    def __init__(self, tenant_id: int) -> None:
        self.tenant_id, self.last, self.bodies = tenant_id, 0, []

    async def drain(self) -> None:
        rows = await OrderEvent.filter(tenant_id=self.tenant_id, id__gt=self.last).order_by("id")
        self.bodies += [payload.body(message) for message in await to_messages(rows)]
        self.last = rows[-1].id if rows else self.last


async def scenario() -> list[dict[str, Any]]:
    """One order from creation to delivery and one cancelled; returns the webhook body of every event, in order."""
    tenant = await create_tenant("acme", "Acme Tea")
    out = Outbox(tenant.id)
    ops = Actor(tenant_id=tenant.id, role=Role.OPS, name="Li Wei <li.wei@acme.cn> via Hangzhou desk (ops key)")
    carrier = Actor(tenant_id=tenant.id, role=Role.SERVICE, name="kdniao", source="carrier")
    channel = await catalog.create_channel(tenant.id, "tmall", "taobao", "Tmall flagship")
    warehouse = await catalog.create_warehouse(tenant.id, "SH", "Shanghai DC", province="上海", city="上海")
    await catalog.upsert_sku(tenant.id, "TEA-001", "Longjing tea")
    await stock.receive_stock(ops, warehouse.id, "TEA-001", 50)
    order = await orders.create_order(ops, _new_order(channel.id, "T1001"))
    await out.drain()
    await allocate_order(ops, order.id, warehouse.id)
    await out.drain()
    await orders.hold_order(ops, order.id, ["address check"])
    await out.drain()
    await orders.release_hold(ops, order.id, reason="address confirmed by phone")
    await out.drain()
    for status in (OrderStatus.PICKING, OrderStatus.PACKED):
        await orders.transition_order(ops, order.id, status)
        await out.drain()
    shipment = await ship_order(ops, order.id, "SF", "SF1234567890")
    await out.drain()
    await record_tracking(carrier, shipment.id, ShipmentStatus.DELIVERED, datetime.now(UTC), description="已签收")
    await out.drain()
    other = await orders.create_order(ops, _new_order(channel.id, "T1002"))
    await allocate_order(ops, other.id, warehouse.id)
    await out.drain()
    await orders.cancel_order(ops, other.id, "buyer cancelled")
    await out.drain()
    return out.bodies


def first_of_each_type(bodies: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    examples: dict[str, dict[str, Any]] = {}
    for body in bodies:
        examples.setdefault(body["type"], body)
    return examples


async def collect() -> dict[str, dict[str, Any]]:
    await Tortoise.init(config=tortoise_config("sqlite://:memory:"), _enable_global_fallback=True)
    try:
        await Tortoise.generate_schemas()
        return first_of_each_type(await scenario())
    finally:
        await Tortoise.close_connections()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="fenced JSON blocks, one per event type")
    args = parser.parse_args(argv)
    examples = asyncio.run(collect())
    for kind, body in examples.items():
        if args.markdown:
            print(f"#### `{kind}`\n\n```json\n{json.dumps(body, indent=2, ensure_ascii=False)}\n```\n")
        else:
            print(json.dumps({"type": kind, "body": body}, ensure_ascii=False))


if __name__ == "__main__":
    main()
