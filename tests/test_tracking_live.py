"""Live updates: committed events reach an open page as re-rendered cards, only the visitor's own."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from domain.actor import Role
from domain.orders import fulfilment
from domain.statuses import ShipmentStatus
from domain.tracking.customer_view import Scope
from models import Customer, Shipment
from public_tracking.live import card_stream
from tests.helpers import paid_order
from tests.tracking_support import (  # noqa: F401 - fixtures
    PHONE,
    client,
    showcase,
    signed_in,
    site_app,
)


async def _next_card(stream, timeout: float = 5.0) -> dict:  # noqa: ANN001
    while True:
        chunk = await asyncio.wait_for(anext(stream), timeout)
        if "event: card" in chunk:
            data = chunk.split("data: ", 1)[1].strip()
            return {"id": int(chunk.split("id: ", 1)[1].split("\n", 1)[0]), **json.loads(data)}


def _scope(world, customer_ids) -> Scope:  # noqa: ANN001
    return Scope(world.tenant.id, frozenset(customer_ids))


async def test_a_carrier_scan_arrives_as_a_fresh_card(site_app, showcase, world):
    customer = await Customer.get(tenant_id=world.tenant.id, phone=PHONE)
    stream = card_stream(site_app.state.bus, _scope(world, [customer.id]), 0, lambda o: f"<article>{o.steps[0].key}</article>", lambda o: o.number)
    assert (await anext(stream)).startswith("retry:")
    shipment = await Shipment.get(order_id=showcase.ids["in_transit"])
    carrier = world.actor(Role.SERVICE, source="carrier")
    pending = asyncio.ensure_future(_next_card(stream))
    await asyncio.sleep(0.05)
    await fulfilment.record_tracking(carrier, shipment.id, ShipmentStatus.OUT_FOR_DELIVERY, datetime.now(UTC), description="派送中")
    card = await pending
    assert card["number"] == showcase.number("in_transit")
    assert card["html"] == "<article>carrier.OUT_FOR_DELIVERY</article>"
    await stream.aclose()


async def test_other_customers_and_tenants_stay_out_of_the_stream(site_app, showcase, world, other_world):
    customer = await Customer.get(tenant_id=world.tenant.id, phone=PHONE)
    stream = card_stream(site_app.state.bus, _scope(world, [customer.id]), 0, lambda o: o.number, lambda o: o.number)
    await anext(stream)
    pending = asyncio.ensure_future(_next_card(stream))
    await asyncio.sleep(0.05)
    await paid_order(world.actor(), world.channel.id, "SOMEONE-ELSE", phone="13900002222")
    await paid_order(other_world.actor(), other_world.channel.id, "RIVAL-1", phone=PHONE)
    await asyncio.sleep(0.5)
    assert not pending.done()
    shipment = await Shipment.get(order_id=showcase.ids["delivered"])
    await fulfilment.record_tracking(world.actor(Role.SERVICE, source="carrier"), shipment.id, ShipmentStatus.DELIVERED, datetime.now(UTC))
    assert (await pending)["number"] == showcase.number("delivered")
    await stream.aclose()


async def test_a_reconnect_catches_up_from_the_last_id_seen(site_app, showcase, world):
    customer = await Customer.get(tenant_id=world.tenant.id, phone=PHONE)
    shipment = await Shipment.get(order_id=showcase.ids["in_transit"])
    event = await fulfilment.record_tracking(
        world.actor(Role.SERVICE, source="carrier"), shipment.id, ShipmentStatus.OUT_FOR_DELIVERY, datetime.now(UTC)
    )
    assert event
    from models import OrderEvent

    last = await OrderEvent.filter(order_id=showcase.ids["in_transit"]).order_by("-id").first()
    stream = card_stream(site_app.state.bus, _scope(world, [customer.id]), last.id - 1, lambda o: o.number, lambda o: o.number)
    await anext(stream)
    card = await _next_card(stream)
    assert card["number"] == showcase.number("in_transit") and card["id"] == last.id
    await stream.aclose()


async def test_the_page_asks_for_updates_after_what_it_shows(client, showcase):
    page = await signed_in(client, showcase.number("in_transit"))
    assert 'data-live="/track/-/live?after=' in page.text
    client.cookies.clear()
    assert (await client.get("/track/-/live")).status_code == 401
