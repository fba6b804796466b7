"""The order page's cross-system diagnosis and its repair buttons, against the simulated WMS and ERP over HTTP.

The issue's dropped confirmation (the WMS shipped, OrderGraph never heard): a person opens the order,
asks for the diagnosis, sees it RED with the WMS ahead, presses the suggested repair and the order ships.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from api.app import create_app
from domain.actor import Role
from models import Order, Shipment
from tests.conftest import World, settings_for
from tests.federation_support import code_of, federated, pushed_orders
from tests.test_console import person, signed_in

REPAIR = re.compile(r'name="mutation" value="([^"]+)">\s*<input type="hidden" name="input" value="([^"]+)"')


@asynccontextmanager
async def shipped_by_the_wms_only(world: World, db: str, tracking_no: str) -> AsyncIterator[tuple[httpx.AsyncClient, Order]]:
    """The app, a client for it, and an order the WMS shipped while its confirmation never reached OrderGraph."""
    app = create_app(settings_for(db, federation_cache_seconds=0, federation_budget_seconds=5.0,
                                  drift_check_seconds=0), manage_database=False)
    async with app.router.lifespan_context(app), federated(world) as fed, httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        [order] = await pushed_orders(world, fed, 1)
        await fed.wms.ship(await code_of(order.id), carrier="SF", tracking_no=tracking_no)
        yield client, order


async def test_a_person_diagnoses_an_order_and_its_repair_button_ships_it(world: World, db: str) -> None:
    async with shipped_by_the_wms_only(world, db, "SF7788990011") as (client, order):
        csrf = await signed_in(client, await person(world, Role.OPS))
        number = f"OG{order.id:09d}"

        plain = await client.get(f"/console/orders/{number}")
        assert plain.status_code == 200 and 'name="diagnose"' in plain.text and "WMS_AHEAD" not in plain.text

        page = await client.get(f"/console/orders/{number}?diagnose=1")
        assert page.status_code == 200, page.text[:500]
        assert "RED" in page.text and "WMS_AHEAD" in page.text and "SF7788990011" in page.text
        found = REPAIR.search(page.text)
        assert found, page.text
        mutation, given = found.group(1), html.unescape(found.group(2))
        assert mutation == "applyWmsConfirmation"

        done = await client.post(f"/console/orders/{number}/repair",
                                 data={"csrf": csrf, "mutation": mutation, "input": given})
        assert done.status_code == 303 and done.headers["location"].endswith("?diagnose=1&done=repair")
        assert (await Order.get(id=order.id)).status == "SHIPPED"
        assert await Shipment.filter(order_id=order.id, tracking_no="SF7788990011").count() == 1

        again = await client.post(f"/console/orders/{number}/repair",
                                  data={"csrf": csrf, "mutation": mutation, "input": given})
        assert again.status_code == 422 and "SF7788990011" in again.text  # the API's refusal, the order shown
        assert await Shipment.filter(order_id=order.id).count() == 1

        not_a_repair = await client.post(f"/console/orders/{number}/repair",
                                         data={"csrf": csrf, "mutation": "cancelOrder", "input": given})
        assert not_a_repair.status_code == 422 and "not a repair" in not_a_repair.text
        forged = await client.post(f"/console/orders/{number}/repair", data={"mutation": mutation, "input": given})
        assert forged.status_code == 403


async def test_a_viewer_sees_the_apis_refusal_of_a_repair(world: World, db: str) -> None:
    async with shipped_by_the_wms_only(world, db, "SF1100220033") as (client, order):
        csrf = await signed_in(client, await person(world, Role.AUDITOR))
        number = f"OG{order.id:09d}"
        page = await client.get(f"/console/orders/{number}?diagnose=1")
        found = REPAIR.search(page.text)
        assert found, page.text[:800]
        refused = await client.post(f"/console/orders/{number}/repair",
                                    data={"csrf": csrf, "mutation": found.group(1), "input": html.unescape(found.group(2))})
        assert refused.status_code == 403
        assert (await Order.get(id=order.id)).status != "SHIPPED"
