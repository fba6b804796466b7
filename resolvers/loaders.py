"""Per-request DataLoaders, so a page of N orders costs the same number of queries as one.

Every loader is bound to one tenant: rows of another tenant are never returned,
whatever ids are asked for.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader
from tortoise.connection import connections

from models import (
    Alert,
    Channel,
    Customer,
    Order,
    OrderEvent,
    OrderLine,
    OrderTag,
    Payment,
    Shipment,
    Stock,
    TrackingEvent,
    Warehouse,
)

T = TypeVar("T")


def _by_key(rows: Sequence[T], keys: Sequence[Hashable], attr: str) -> list[T | None]:
    found = {getattr(row, attr): row for row in rows}
    return [found.get(key) for key in keys]


def _grouped(rows: Sequence[T], keys: Sequence[Hashable], attr: str) -> list[list[T]]:
    groups: dict[Hashable, list[T]] = defaultdict(list)
    for row in rows:
        groups[getattr(row, attr)].append(row)
    return [groups.get(key, []) for key in keys]


class Loaders:
    """One instance per request; attributes are DataLoaders keyed by primary or parent id."""

    def __init__(self, tenant_id: int) -> None:
        self.tenant_id = tenant_id
        t = tenant_id
        self.order = self._one(lambda ids: Order.filter(tenant_id=t, id__in=ids))
        self.channel = self._one(lambda ids: Channel.filter(tenant_id=t, id__in=ids))
        self.warehouse = self._one(lambda ids: Warehouse.filter(tenant_id=t, id__in=ids))
        self.customer = self._one(lambda ids: Customer.filter(tenant_id=t, id__in=ids))
        self.lines = self._many(lambda ids: OrderLine.filter(order_id__in=ids).order_by("id"), "order_id")
        self.shipments = self._many(lambda ids: Shipment.filter(order_id__in=ids).order_by("id"), "order_id")
        self.payments = self._many(lambda ids: Payment.filter(order_id__in=ids).order_by("id"), "order_id")
        self.tags = self._many(lambda ids: OrderTag.filter(order_id__in=ids).order_by("tag"), "order_id")
        self.events = self._many(lambda ids: OrderEvent.filter(order_id__in=ids).order_by("id"), "order_id")
        self.alerts = self._many(lambda ids: Alert.filter(order_id__in=ids).order_by("id"), "order_id")
        self.tracking = self._many(
            lambda ids: TrackingEvent.filter(shipment_id__in=ids).order_by("occurred_at", "id"), "shipment_id"
        )
        self.stock_by_sku = self._many(
            lambda skus: Stock.filter(tenant_id=t, sku__in=skus).order_by("warehouse_id"), "sku"
        )
        self._last_events: dict[int, DataLoader[int, list[OrderEvent]]] = {}

    @staticmethod
    def _one(query: Callable[[list[Any]], Awaitable[list[Any]]]) -> DataLoader[Any, Any]:
        async def load(ids: list[Any]) -> list[Any]:
            return _by_key(await query(ids), ids, "id")

        return DataLoader(load_fn=load)

    @staticmethod
    def _many(query: Callable[[list[Any]], Awaitable[list[Any]]], parent: str) -> DataLoader[Any, list[Any]]:
        async def load(keys: list[Any]) -> list[list[Any]]:
            return _grouped(await query(keys), keys, parent)

        return DataLoader(load_fn=load)

    def last_events(self, count: int) -> DataLoader[int, list[OrderEvent]]:
        """The newest ``count`` events of each order (oldest first), in one windowed query."""
        if count not in self._last_events:

            async def load(order_ids: list[int]) -> list[list[OrderEvent]]:
                return _grouped(await _latest_events(order_ids, count), order_ids, "order_id")

            self._last_events[count] = DataLoader(load_fn=load)
        return self._last_events[count]


async def _latest_events(order_ids: list[int], count: int) -> list[OrderEvent]:
    connection = connections.get("default")
    postgres = connection.capabilities.dialect == "postgres"
    marks = ", ".join(f"${i + 1}" if postgres else "?" for i in range(len(order_ids)))
    limit = f"${len(order_ids) + 1}" if postgres else "?"
    sql = (
        "SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY id DESC) AS rank "
        f"FROM order_event WHERE order_id IN ({marks})) ranked WHERE rank <= {limit}"
    )
    _, rows = await connection.execute_query(sql, [*order_ids, count])
    ids = [row["id"] for row in rows]
    return await OrderEvent.filter(id__in=ids).order_by("id") if ids else []
