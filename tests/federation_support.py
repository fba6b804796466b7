"""A merchant wired to a simulated Qimen WMS and a simulated Kingdee ERP, both real HTTP servers, for the read-side tests.

    async with federated(world) as fed:                # SH runs on the WMS (code SH01), the ERP knows it as CK001
        orders = await pushed_orders(world, fed, 3)    # paid, allocated to SH, pushed to the WMS, booked in the ERP
        await fed.wms.ship(code)                       # the WMS ships (its callback goes nowhere: dropped)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tortoise.exceptions import IntegrityError

from adapters import system_http
from adapters.erp.kingdee import forget_sessions
from adapters.erp.sim_books import Line
from adapters.erp.simulator import ErpSimulator, kingdee_config
from adapters.systems import SYSTEMS
from adapters.wms.simulator import WmsSimulator, account_config
from domain.actor import Role
from domain.federation import delivery_orders
from domain.federation.connections import link_warehouse, save_connection
from domain.federation.delivery_push import DeliveryPusher, PushPolicy
from domain.orders import fulfilment
from domain.statuses import OrderStatus
from domain.unit_of_work import unit_of_work
from models import DeliveryOrder, Order, SystemConnection
from models.order import order_no
from tests.conftest import World
from tests.helpers import paid_order, stock_up
from tests.live_fixtures import serve_asgi

WMS_CODE = "SH01"
ERP_CODE = "CK001"
SKU = "TEA-001"


@dataclass
class Federated:
    wms: WmsSimulator
    wms_url: str
    erp: ErpSimulator
    erp_url: str
    wms_connection: SystemConnection
    erp_connection: SystemConnection
    warehouse_id: int


@contextlib.asynccontextmanager
async def federated(world: World, *, erp_extra: Mapping[str, Any] | None = None) -> AsyncIterator[Federated]:
    """Both simulators on free ports, registered as the tenant's ``wms-sh`` and ``erp`` connections; SH linked."""
    wms = WmsSimulator(seed=7)
    erp = ErpSimulator(seed=7)
    admin = world.actor(Role.ADMIN)
    try:
        async with serve_asgi(wms.app) as wms_url, serve_asgi(erp.app) as erp_url:
            wms_row = await save_connection(admin, "wms-sh", "wms", "qimen", config=account_config(wms_url, retries=0),
                                            systems=SYSTEMS)
            erp_row = await save_connection(admin, "erp", "erp", "kingdee",
                                            config=kingdee_config(erp_url, retries=0, **dict(erp_extra or {})),
                                            systems=SYSTEMS)
            sh = world.warehouses[0]
            await link_warehouse(admin, sh.id, wms="wms-sh", wms_warehouse_code=WMS_CODE, erp_warehouse_code=ERP_CODE)
            yield Federated(wms, wms_url, erp, erp_url, wms_row, erp_row, sh.id)
    finally:
        await system_http.aclose()
        forget_sessions()


async def stock_everywhere(world: World, fed: Federated, quantity: int, sku: str = SKU) -> None:
    """The same on-hand in OrderGraph, the WMS and the ERP."""
    await stock_up(world.actor(), [fed.warehouse_id], sku, quantity)
    fed.wms.set_stock(WMS_CODE, sku, quantity)
    fed.erp.set_stock(ERP_CODE, {sku: quantity})


async def pushed_orders(world: World, fed: Federated, count: int, *, first: int = 1, book_in_erp: bool = True) -> list[Order]:
    """``count`` paid orders of one TEA-001, allocated to SH, pushed to the WMS (one delivery order each) and,
    unless told otherwise, booked in the ERP as sales orders with our order numbers."""
    actor = world.actor()
    await stock_everywhere(world, fed, count + 20)
    found = []
    for n in range(first, first + count):
        order = await paid_order(actor, world.channel.id, f"FED{n:05d}", phone=f"1380000{n:04d}")
        if order.status == OrderStatus.PAID:
            await fulfilment.allocate_order(actor, order.id, fed.warehouse_id, "to SH")
        with contextlib.suppress(IntegrityError):  # a running app's leader may have queued it already
            async with unit_of_work():
                await delivery_orders.queue_for_order(order.id, world.tenant.id, None)
        found.append(order)
    await all_pushed([o.id for o in found])
    if book_in_erp:
        for order in found:
            fed.erp.books.add_order("CUST-0001", [Line(SKU, 1, Decimal("100.00"), ERP_CODE)], bill_no=order_no(order.id))
    return [await Order.get(id=o.id) for o in found]


async def all_pushed(order_ids: list[int], timeout: float = 20.0) -> None:
    """Push what is due (a running app's leader may be pushing the same rows: leases keep one sender per row)."""
    pusher = DeliveryPusher(SYSTEMS, PushPolicy(concurrency=16))
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        await pusher.drain()
        statuses = list(await DeliveryOrder.filter(order_id__in=order_ids).values_list("status", flat=True))
        if len(statuses) == len(order_ids) and set(statuses) == {"pushed"}:
            return
        assert asyncio.get_running_loop().time() < deadline, statuses
        await asyncio.sleep(0.05)


async def code_of(order_id: int) -> str:
    return (await DeliveryOrder.get(order_id=order_id)).code


def gids(type_name: str, pks: Sequence[int]) -> list[str]:
    from resolvers import ids

    return [ids.encode(type_name, pk) for pk in pks]


class CountingSystems:
    """The real adapters, with a count of port calls per (connection key, method): what "one call per system" means.

    Nothing is faked: every call goes on to the adapter, and over HTTP to the simulator.
    """

    def __init__(self, inner: Any = SYSTEMS) -> None:
        self.inner = inner
        self.calls: dict[tuple[str, str], int] = {}

    def _wrap(self, port: Any, key: str) -> Any:
        counts = self.calls

        class Counted:
            def __getattr__(self, name: str) -> Any:
                attribute = getattr(port, name)
                if not callable(attribute) or name.startswith("_"):
                    return attribute

                def call(*args: Any, **kwargs: Any) -> Any:
                    counts[(key, name)] = counts.get((key, name), 0) + 1
                    return attribute(*args, **kwargs)

                return call

        return Counted()

    def wms(self, adapter: str, config: Mapping[str, Any], *, key: str) -> Any:
        return self._wrap(self.inner.wms(adapter, config, key=key), key)

    def erp(self, adapter: str, config: Mapping[str, Any], *, key: str) -> Any:
        return self._wrap(self.inner.erp(adapter, config, key=key), key)

    def check(self, kind: str, adapter: str, config: Mapping[str, Any]) -> None:
        self.inner.check(kind, adapter, config)

    def count(self, method: str) -> int:
        return sum(n for (_, name), n in self.calls.items() if name == method)
