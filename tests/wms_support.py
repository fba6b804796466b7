"""The Qimen WMS simulator behind real uvicorn, a tenant wired to it, and the outbox feed driven by hand."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from purgatory import AsyncCircuitBreakerFactory

from adapters import system_http
from adapters.systems import SYSTEMS
from adapters.wms import qimen_wire as qw
from adapters.wms.simulator import WmsSimulator, account_config
from domain.actor import Role
from domain.allocation import policy as allocation_policy
from domain.federation.connections import link_warehouse, save_connection
from domain.federation.delivery_orders import DeliveryOrderFeed
from domain.federation.delivery_push import DeliveryPusher, PushPolicy
from events.dispatcher import Dispatcher
from events.gaps import policy_for
from events.outbox import OutboxReader, newest_id
from tests.live_fixtures import serve_asgi
from tests.stock_fixtures import stock_up

WMS_CODE = "wms-sh"
WMS_WAREHOUSE = "SH01"
#: Fast retries for tests: the schedule's shape, not its hours.
FAST = PushPolicy(concurrency=8, lease=30.0, poll_interval=0.05, delays=(0.05, 0.1, 0.2), max_attempts=6)


@pytest.fixture(autouse=True)
def fresh_breakers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with closed breakers (connection keys repeat across tests: tenant ids restart at 1)."""
    monkeypatch.setattr(system_http, "_breakers", AsyncCircuitBreakerFactory(
        default_threshold=system_http.BREAKER_THRESHOLD, default_ttl=system_http.BREAKER_TTL))


@dataclass
class RunningWms:
    sim: WmsSimulator
    base_url: str

    @property
    def config(self) -> dict[str, Any]:
        return account_config(self.base_url)


@contextlib.asynccontextmanager
async def running_wms(**options: Any) -> AsyncIterator[RunningWms]:
    """A fresh simulator on a free port; the shared HTTP clients of this loop are closed afterwards."""
    sim = WmsSimulator(**options)
    try:
        async with serve_asgi(sim.app) as base_url:
            yield RunningWms(sim, base_url)
    finally:
        await system_http.aclose()


async def wire_tenant(world: Any, wms: RunningWms, *, stock: int = 20, sku: str = "TEA-001",
                      config: dict[str, Any] | None = None) -> None:
    """SH runs on the simulated WMS (its code there: SH01); ``stock`` units of ``sku`` in SH, here and there.

    Paid orders are allocated at once (the tenant's policy says so).
    """
    admin = world.actor(Role.ADMIN)
    await allocation_policy.save_policy(admin, {"strategy": "priority", "allow_split": True, "auto_allocate": True})
    await save_connection(admin, WMS_CODE, "wms", "qimen", name="Shanghai WMS", config=config or wms.config,
                          systems=SYSTEMS)
    sh = next(w for w in world.warehouses if w.code == "SH")
    await link_warehouse(admin, sh.id, wms=WMS_CODE, wms_warehouse_code=WMS_WAREHOUSE, owner_code="OG-OWNER")
    await stock_up(world, {sku: {"SH": stock}})
    wms.sim.set_stock(WMS_WAREHOUSE, sku, stock)


class Outbox:
    """The leader's two WMS jobs, driven step by step: the feed (events -> rows) and the pusher (rows -> WMS)."""

    def __init__(self, database_url: str, policy: PushPolicy = FAST) -> None:
        self.dispatcher = Dispatcher(DeliveryOrderFeed(), reader=OutboxReader(policy_for(database_url)))
        self.dispatcher.cursor = 0
        self.pusher = DeliveryPusher(SYSTEMS, policy)

    async def feed(self, timeout: float = 10.0) -> None:
        """Hand every committed event to the feed."""
        target = await newest_id()
        deadline = time.monotonic() + timeout
        while self.dispatcher.cursor < target:
            if not await self.dispatcher.dispatch_once():
                assert time.monotonic() < deadline, "the outbox did not reach the newest event"
                await asyncio.sleep(0.05)

    async def step(self) -> int:
        await self.feed()
        return await self.pusher.drain()

    async def settle(self, done: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
        """Feed and push (waiting out backoff) until ``done()``."""
        deadline = time.monotonic() + timeout
        while not await done():
            assert time.monotonic() < deadline, "did not settle in time"
            await self.step()
            await asyncio.sleep(0.05)


def signed_callback(operation: str, body: bytes, *, secret: str | None = None, app_key: str | None = None,
                    customer_id: str | None = None) -> dict[str, str]:
    """The query string a WMS sends with a callback (signed with the simulator's secret unless told otherwise)."""
    from adapters.wms import simulator

    return qw.system_params(qw.PREFIX + operation, app_key=app_key or simulator.APP_KEY,
                            customer_id=customer_id or simulator.CUSTOMER_ID,
                            secret=secret or simulator.APP_SECRET, body=body)


def confirm_body(code: str, *, warehouse: str = WMS_WAREHOUSE, carrier: str = "SF", tracking_no: str = "SF1234567890",
                 lines: tuple[tuple[str, int], ...] = (("TEA-001", 2),), confirm_type: int = 0) -> bytes:
    """A ``deliveryorder.confirm`` body as a Qimen WMS writes it."""
    return qw.to_xml("request", {
        "deliveryOrder": {"deliveryOrderCode": code, "deliveryOrderId": "WMS-X1", "warehouseCode": warehouse,
                          "orderType": "JYCK", "status": "DELIVERED", "outBizCode": f"MSG-{code}",
                          "confirmType": confirm_type, "orderConfirmTime": "2026-11-30 10:15:00"},
        "packages": {"package": [{"logisticsCode": carrier, "expressCode": tracking_no,
                                  "items": {"item": [{"itemCode": sku, "quantity": qty} for sku, qty in lines]}}]},
        "orderLines": {"orderLine": [{"orderLineNo": str(n), "itemCode": sku, "planQty": qty, "actualQty": qty}
                                     for n, (sku, qty) in enumerate(lines, 1)]},
    })


@contextlib.asynccontextmanager
async def hooks_server(database_url: str) -> AsyncIterator[str]:
    """Only the inbound endpoints, behind real uvicorn (no leader, so tests drive the outbox themselves)."""
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from api.hooks import Hooks
    from tests.conftest import settings_for

    app = Starlette(routes=[Mount("/hooks", routes=Hooks(settings_for(database_url)).routes())])
    async with serve_asgi(app) as base_url:
        yield base_url


async def post_callback(base_url: str, warehouse: str, operation: str, body: bytes,
                        query: dict[str, str] | None = None) -> Any:
    """POST a callback the way a Qimen WMS does (signed unless ``query`` says otherwise)."""
    import httpx

    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(f"{base_url}/hooks/acme/wms/{warehouse}", content=body,
                                 params=signed_callback(operation, body) if query is None else query,
                                 headers={"content-type": qw.CONTENT_TYPE})


def stock_change_body(reference: str, quantity: int, *, sku: str = "TEA-001", order_code: str = "",
                      order_type: str = "PDCY", warehouse: str = WMS_WAREHOUSE) -> bytes:
    """A ``stockchange.report`` body with one item."""
    return qw.to_xml("request", {"items": {"item": [{
        "ownerCode": "OG-OWNER", "warehouseCode": warehouse, "orderCode": order_code or reference,
        "orderType": order_type, "outBizCode": reference, "itemCode": sku, "inventoryType": "ZP",
        "quantity": quantity, "changeTime": "2026-11-30 08:00:00"}]}})
