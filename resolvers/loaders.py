"""Per-request DataLoaders, so a page of N orders costs the same number of queries as one.

Every loader is bound to one tenant: rows of another tenant are never returned,
whatever ids are asked for.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Hashable, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader
from tortoise.connection import connections
from tortoise.models import Model

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
M = TypeVar("M", bound=Model)

#: ``ready()`` returns this when a loader does not hold the value yet.
NOT_LOADED: Any = object()

#: Order relations that ``Loaders.prefetch_orders`` understands (GraphQL field names).
ORDER_ONE = {"channel": "channel_id", "customer": "customer_id", "warehouse": "warehouse_id"}
ORDER_MANY = ("lines", "shipments", "payments", "tags", "alerts", "events")


def ready(loader: DataLoader[Any, T], key: Any) -> T:
    """The value ``loader`` already holds for ``key``, or ``NOT_LOADED`` (not fetched, pending or failed)."""
    future = loader.cache_map.get(key)
    if future is None or not future.done() or future.cancelled() or future.exception() is not None:
        return NOT_LOADED
    return future.result()


async def _fill(loader: DataLoader[Any, Any], keys: Sequence[Hashable]) -> None:
    """Run ``loader``'s batch function for the keys it does not hold yet and keep the values, as ``load_many`` would.

    Unlike ``load_many`` no future, batch task or callback is made per key (250 of each on a
    50-order page). A failed batch stores nothing: the field that needs a value loads it
    through the loader and reports the error, as without prefetching.
    """
    cached = loader.cache_map
    missing = [key for key in dict.fromkeys(keys) if cached.get(key) is None]
    if missing:
        loader.prime_many(dict(zip(missing, await loader.load_fn(missing), strict=True)))


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
        self.order = self._one(lambda ids: rows_where_in(Order, "id", ids, "id", tenant_id=t))
        self.channel = self._one(lambda ids: rows_where_in(Channel, "id", ids, "id", tenant_id=t))
        self.warehouse = self._one(lambda ids: rows_where_in(Warehouse, "id", ids, "id", tenant_id=t))
        self.customer = self._one(lambda ids: rows_where_in(Customer, "id", ids, "id", tenant_id=t))
        self.lines = self._many(lambda ids: rows_where_in(OrderLine, "order_id", ids, "id"), "order_id")
        self.shipments = self._many(lambda ids: rows_where_in(Shipment, "order_id", ids, "id"), "order_id")
        self.payments = self._many(lambda ids: rows_where_in(Payment, "order_id", ids, "id"), "order_id")
        self.tags = self._many(lambda ids: rows_where_in(OrderTag, "order_id", ids, "tag"), "order_id")
        self.events = self._many(lambda ids: rows_where_in(OrderEvent, "order_id", ids, "id"), "order_id")
        self.alerts = self._many(lambda ids: rows_where_in(Alert, "order_id", ids, "id"), "order_id")
        self.tracking = self._many(
            lambda ids: rows_where_in(TrackingEvent, "shipment_id", ids, "occurred_at, id"), "shipment_id"
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

    async def prefetch_orders(self, orders: Sequence[Order], wanted: Collection[str], last_events: Collection[int] = ()) -> None:
        """Load the wanted relations of a page of orders up front, one statement per relation.

        ``wanted`` holds order field names (``lines``, ``customer`` …) and the nested
        ``shipments.trackingEvents``, ``shipments.warehouse`` and ``lines.warehouse``;
        ``last_events`` the ``events(last: n)`` sizes. Fields then find their rows with
        ``ready()`` and resolve without awaiting. A failed load is left in the loader:
        the field that needs it awaits it and reports the error, as without prefetching.
        """
        ids = [order.id for order in orders]
        jobs = [_fill(getattr(self, name), ids) for name in ORDER_MANY if name in wanted]
        jobs += [_fill(self.last_events(count), ids) for count in last_events]
        for name, column in ORDER_ONE.items():
            if name in wanted:
                jobs.append(_fill(getattr(self, name), [key for o in orders if (key := getattr(o, column)) is not None]))
        await asyncio.gather(*jobs, return_exceptions=True)
        jobs = []
        if "shipments.trackingEvents" in wanted or "shipments.warehouse" in wanted:
            shipments = [s for pk in ids if (rows := ready(self.shipments, pk)) is not NOT_LOADED for s in rows]
            if "shipments.trackingEvents" in wanted:
                jobs.append(_fill(self.tracking, [s.id for s in shipments]))
            if "shipments.warehouse" in wanted:
                jobs.append(_fill(self.warehouse, [s.warehouse_id for s in shipments if s.warehouse_id is not None]))
        if "lines.warehouse" in wanted:
            lines = [line for pk in ids if (rows := ready(self.lines, pk)) is not NOT_LOADED for line in rows]
            jobs.append(_fill(self.warehouse, [line.warehouse_id for line in lines if line.warehouse_id is not None]))
        await asyncio.gather(*jobs, return_exceptions=True)

    def last_events(self, count: int) -> DataLoader[int, list[OrderEvent]]:
        """The newest ``count`` events of each order (oldest first), in one windowed query."""
        if count not in self._last_events:

            async def load(order_ids: list[int]) -> list[list[OrderEvent]]:
                return _grouped(await _latest_events(order_ids, count), order_ids, "order_id")

            self._last_events[count] = DataLoader(load_fn=load)
        return self._last_events[count]


def _marks(connection: Any, count: int, start: int = 1) -> list[str]:
    """Positional parameter markers of the connection's dialect."""
    if connection.capabilities.dialect == "postgres":
        return [f"${i}" for i in range(start, start + count)]
    return ["?"] * count


def _columns(model: type[Model]) -> str:
    return ", ".join(f'"{column}"' for column in model._meta.db_fields)


async def rows_where_in(model: type[M], column: str, keys: Sequence[Any], order_by: str, *, tenant_id: int | None = None) -> list[M]:
    """``model`` rows whose ``column`` is one of ``keys`` (and of the tenant), ordered: one statement.

    The hot loaders' query is fixed, so it is written here rather than built by a
    QuerySet per batch; rows become models through Tortoise's own ``_init_from_db``
    (what every QuerySet uses), so types match the ORM on SQLite and PostgreSQL.
    """
    connection = connections.get("default")
    params: list[Any] = list(keys)
    where = f'"{column}" IN ({", ".join(_marks(connection, len(params)))})'
    if tenant_id is not None:
        where += f' AND "tenant_id" = {_marks(connection, 1, len(params) + 1)[0]}'
        params.append(tenant_id)
    sql = f'SELECT {_columns(model)} FROM "{model._meta.db_table}" WHERE {where} ORDER BY {order_by}'
    _, rows = await connection.execute_query(sql, params)
    return hydrated(model, rows)


def hydrated(model: type[M], rows: Sequence[Any]) -> list[M]:
    """Whole rows as ``model`` instances, set exactly as ``Model._init_from_db`` sets them.

    ``_init_from_db`` sets its four bookkeeping attributes through the model's
    ``__setattr__`` (a relation check per call), 2,400 calls on a 50-order page.
    Here every attribute goes through ``object.__setattr__``, as its field loop does.
    """
    meta = model._meta
    native, default, complex_ = meta.db_native_fields, meta.db_default_fields, meta.db_complex_fields
    custom_pk = meta.db_pk_column not in meta.generated_db_fields
    new, set_ = model.__new__, object.__setattr__
    found = []
    for row in rows:
        item = new(model)
        set_(item, "_partial", False)
        set_(item, "_saved_in_db", True)
        set_(item, "_custom_generated_pk", custom_pk)
        set_(item, "_await_when_save", {})
        for key, attribute, _ in native:
            set_(item, attribute, row[key])
        for key, attribute, field in default:
            value = row[key]
            set_(item, attribute, value if value is None else field.field_type(value))
        for key, attribute, field in complex_:
            set_(item, attribute, field.to_python_value(row[key]))
        found.append(item)
    return found


async def _latest_events(order_ids: list[int], count: int) -> list[OrderEvent]:
    """The newest ``count`` events of each order, oldest first: one windowed statement."""
    connection = connections.get("default")
    *marks, limit = _marks(connection, len(order_ids) + 1)
    columns = _columns(OrderEvent)
    sql = (
        f"SELECT {columns} FROM (SELECT {columns}, ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY id DESC) AS rank "
        f"FROM order_event WHERE order_id IN ({', '.join(marks)})) ranked WHERE rank <= {limit} ORDER BY id"
    )
    _, rows = await connection.execute_query(sql, [*order_ids, count])
    return hydrated(OrderEvent, rows)
