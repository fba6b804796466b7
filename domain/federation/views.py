"""What the ERP and the WMS say now about orders and stock, asked in batches: one call per system, not per order.

    erp = await erp_of(tenant_id)
    answer = await ask_sales_orders(tenant_id, erp, [42, 43], systems, budget=2.0)   # {order id: SalesOrderState}
    groups = await delivery_groups(tenant_id, [42, 43])                           # per (WMS, warehouse code)
    answer = await ask_deliveries(tenant_id, group, systems, budget=2.0)          # {code: DeliveryState}
    stock = await live_stock(tenant_id, warehouse_id, ["TEA-001"], systems)

Nothing here writes order state: the answers are kept as evidence (``asking``)
and shown next to ours; deciding who is wrong is ``diagnosis``.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from domain.federation.asking import Answer, ask
from domain.federation.breaker_config import adapter_config
from domain.federation.connections import connection_key, erp_of
from domain.federation.ports import DeliveryState, SalesOrderState, StockFigure, Systems
from models import DeliveryOrder, Stock, SystemConnection, Warehouse, WarehouseSystems
from models.order import order_no, parse_order_no

#: The most SKUs one ``liveStock`` question may name.
MAX_SKUS = 200


@dataclass(slots=True)
class DeliveryGroup:
    """The delivery orders one WMS knows under one warehouse code: asked about in one call."""

    connection: SystemConnection
    warehouse_code: str
    rows: list[DeliveryOrder] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        return [row.code for row in self.rows]


async def ask_sales_orders(tenant_id: int, erp: SystemConnection, order_ids: Sequence[int], systems: Systems, *,
                           budget: float | None = None) -> Answer[dict[int, SalesOrderState]]:
    """The ERP's sales orders for our orders (by order number), in one call; keyed by our order id."""
    port = systems.erp(erp.adapter, adapter_config(erp.config), key=connection_key(erp))
    numbers = [order_no(order_id) for order_id in order_ids]

    async def call(trace):  # noqa: ANN001, ANN202 - list[Exchange] -> dict
        states = await port.sales_orders(numbers, trace=trace)
        found: dict[int, SalesOrderState] = {}
        for number in numbers:
            state = states.get(number) or SalesOrderState(order_no=number, status="", known=False)
            order_id = parse_order_no(number)
            if order_id is not None:
                found[order_id] = state
        return found

    only = order_ids[0] if len(order_ids) == 1 else None
    return await ask(tenant_id, erp, call, budget=budget, order_id=only, operation="sales_orders")


async def delivery_groups(tenant_id: int, order_ids: Sequence[int]) -> list[DeliveryGroup]:
    """The orders' delivery orders, grouped by the WMS connection and the warehouse code it knows them under."""
    rows = await DeliveryOrder.filter(tenant_id=tenant_id, order_id__in=list(order_ids)).order_by("id").prefetch_related("connection")
    if not rows:
        return []
    codes = dict(await WarehouseSystems.filter(warehouse_id__in={r.warehouse_id for r in rows}).values_list(  # type: ignore[attr-defined]
        "warehouse_id", "wms_warehouse_code"))
    fallback = dict(await Warehouse.filter(id__in={r.warehouse_id for r in rows}).values_list("id", "code"))  # type: ignore[attr-defined]
    groups: dict[tuple[int, str], DeliveryGroup] = {}
    for row in rows:
        warehouse_code = codes.get(row.warehouse_id) or fallback.get(row.warehouse_id, "")  # type: ignore[attr-defined]
        key = (row.connection_id, warehouse_code)  # type: ignore[attr-defined]
        if key not in groups:
            groups[key] = DeliveryGroup(row.connection, warehouse_code)  # type: ignore[arg-type]
        groups[key].rows.append(row)
    return list(groups.values())


async def ask_deliveries(tenant_id: int, group: DeliveryGroup, systems: Systems, *, codes: Sequence[str] | None = None,
                         budget: float | None = None) -> Answer[dict[str, DeliveryState]]:
    """What the WMS says about the group's delivery orders (or only ``codes`` of them), in one adapter call."""
    connection = group.connection
    port = systems.wms(connection.adapter, connection.config, key=connection_key(connection))
    wanted = list(codes if codes is not None else group.codes)
    orders = {row.order_id for row in group.rows if row.code in wanted}  # type: ignore[attr-defined]
    return await ask(tenant_id, connection,
                     lambda trace: port.delivery_states(wanted, group.warehouse_code, trace=trace),
                     budget=budget, order_id=orders.pop() if len(orders) == 1 else None, operation="delivery_states")


# ------------------------------------------------------------------ stock


@dataclass(slots=True)
class LiveStock:
    """One warehouse's on-hand per SKU as we hold it, as its WMS says and as the ERP says (``None``: not linked)."""

    warehouse_id: int
    skus: list[str]
    ours: dict[str, Stock]
    wms: Answer[dict[str, StockFigure]] | None
    erp: Answer[dict[str, StockFigure]] | None
    wms_warehouse_code: str = ""
    erp_warehouse_code: str = ""
    asked_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def check_skus(skus: Sequence[str]) -> list[str]:
    """The SKUs of a stock question, de-duplicated in order; ``ValueError`` naming what is wrong."""
    cleaned = list(dict.fromkeys(sku.strip() for sku in skus))
    if not 1 <= len(cleaned) <= MAX_SKUS:
        raise ValueError(f"name 1 to {MAX_SKUS} SKUs")
    for sku in cleaned:
        if not sku or len(sku) > 64:
            raise ValueError("a SKU is 1-64 characters")
    return cleaned


async def stock_targets(tenant_id: int, warehouse_id: int) -> tuple[str, SystemConnection | None, str, SystemConnection | None, str]:
    """The warehouse's code; its active WMS and the code the WMS knows it by; the tenant's ERP and its code there.

    A warehouse not linked to a WMS has none; the ERP is the tenant's either
    way and knows the warehouse by its own code unless the link says otherwise.
    """
    warehouse = await Warehouse.filter(id=warehouse_id, tenant_id=tenant_id).first()
    if warehouse is None:
        return "", None, "", None, ""
    link = await WarehouseSystems.filter(warehouse_id=warehouse_id, tenant_id=tenant_id).prefetch_related("wms").first()
    wms = link.wms if link is not None and link.wms is not None and link.wms.active else None  # type: ignore[attr-defined]
    erp = await erp_of(tenant_id)
    wms_code = (link.wms_warehouse_code if link else "") or warehouse.code
    erp_code = (link.erp_warehouse_code if link else "") or warehouse.code
    return warehouse.code, wms, wms_code, erp, erp_code


async def ask_stock(tenant_id: int, connection: SystemConnection, warehouse_code: str, skus: Sequence[str],
                    systems: Systems, *, budget: float | None = None) -> Answer[dict[str, StockFigure]]:
    """On-hand per SKU as one system (WMS or ERP) says, in one adapter call."""
    key = connection_key(connection)
    port = systems.wms(connection.adapter, connection.config, key=key) if connection.kind == "wms" \
        else systems.erp(connection.adapter, adapter_config(connection.config), key=key)
    return await ask(tenant_id, connection, lambda trace: port.stock(warehouse_code, list(skus), trace=trace),
                     budget=budget, operation="stock")


async def live_stock(tenant_id: int, warehouse_id: int, skus: Sequence[str], systems: Systems, *,
                     budget: float | None = None) -> LiveStock:
    """Ours, the WMS's and the ERP's on-hand for ``skus`` in one warehouse; both systems asked at once."""
    wanted = check_skus(skus)
    _, wms, wms_code, erp, erp_code = await stock_targets(tenant_id, warehouse_id)
    ours = {row.sku: row for row in await Stock.filter(warehouse_id=warehouse_id, tenant_id=tenant_id, sku__in=wanted)}
    jobs = [ask_stock(tenant_id, wms, wms_code, wanted, systems, budget=budget) if wms else _none(),
            ask_stock(tenant_id, erp, erp_code, wanted, systems, budget=budget) if erp else _none()]
    wms_answer, erp_answer = await asyncio.gather(*jobs)
    return LiveStock(warehouse_id=warehouse_id, skus=wanted, ours=ours, wms=wms_answer, erp=erp_answer,
                     wms_warehouse_code=wms_code, erp_warehouse_code=erp_code)


async def _none() -> None:
    return None


def by_order(groups: Sequence[DeliveryGroup]) -> dict[int, list[DeliveryOrder]]:
    """Delivery order rows per order id."""
    found: dict[int, list[DeliveryOrder]] = defaultdict(list)
    for group in groups:
        for row in group.rows:
            found[row.order_id].append(row)  # type: ignore[attr-defined]
    return found
