"""Per-request DataLoaders for the federated fields, a short TTL cache in front of them, and the request's time budget.

    views = federation(ctx)                       # kept on ctx.loaders: renewed per request / subscription event
    await views.erp.load(order_pk)                # ErpOrderView | None, or raises the SYSTEM_UNAVAILABLE GraphQLError
    await views.wms.load(order_pk)                # [DeliveryView], or raises
    await views.stock.load((warehouse_pk, ("TEA-001",)))

A page of 50 orders asks the ERP once and each WMS once per warehouse code
(``domain.federation.views``); answers younger than ``cache_seconds`` come
from the cache (Redis when ``REDIS_URL`` is set, shared by every worker, else
this process) without asking at all. Every outside call in one request shares
one budget (``budget_seconds`` from the first call): a system that does not
answer in time fails only the fields that need it, with
``extensions.code = SYSTEM_UNAVAILABLE``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from graphql import GraphQLError
from redis import asyncio as aioredis
from redis.exceptions import RedisError
from strawberry.dataloader import DataLoader

from domain.federation.asking import Answer
from domain.federation.connections import erp_of
from domain.federation.diagnose import diagnose
from domain.federation.diagnosis import Diagnosis
from domain.federation.ports import (
    DeliveryState,
    Parcel,
    SalesOrderState,
    StockFigure,
    SystemError_,
    Systems,
    WmsStatus,
)
from domain.federation.views import ask_deliveries, ask_sales_orders, ask_stock, delivery_groups, stock_targets
from models import DeliveryOrder, Stock, SystemConnection, SystemExchange, WarehouseSystems
from models.order import order_no
from resolvers.context import Context

log = logging.getLogger("ordergraph.federation")

UNAVAILABLE = "SYSTEM_UNAVAILABLE"
PREFIX = "og:fed:"


# ------------------------------------------------------------------ cache


class Cache(Protocol):
    async def get_many(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]: ...

    async def set_many(self, items: Mapping[str, dict[str, Any]], ttl: float) -> None: ...

    async def aclose(self) -> None: ...


class MemoryCache:
    """This process's answers, each until its TTL runs out; bounded."""

    def __init__(self, max_keys: int = 50_000) -> None:
        self._items: dict[str, tuple[float, str]] = {}
        self.max_keys = max_keys

    async def get_many(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        now = time.monotonic()
        found = {}
        for key in keys:
            entry = self._items.get(key)
            if entry is None:
                continue
            if entry[0] <= now:
                self._items.pop(key, None)
                continue
            found[key] = json.loads(entry[1])
        return found

    async def set_many(self, items: Mapping[str, dict[str, Any]], ttl: float) -> None:
        if ttl <= 0:
            return
        now = time.monotonic()
        if len(self._items) + len(items) > self.max_keys:
            self._items = {k: v for k, v in self._items.items() if v[0] > now}
            while len(self._items) + len(items) > self.max_keys and self._items:
                self._items.pop(next(iter(self._items)))
        for key, value in items.items():
            self._items[key] = (now + ttl, json.dumps(value))

    async def aclose(self) -> None:
        self._items.clear()


class RedisCache:
    """Answers shared by every worker; if Redis stops answering, nothing is cached (the systems are asked)."""

    def __init__(self, url: str, namespace: str = "") -> None:
        self.url = url
        self.namespace = namespace
        self._client: aioredis.Redis | None = None

    def _stored(self, key: str) -> str:
        """Keys carry the deployment's namespace: two deployments sharing one Redis never read each other's answers."""
        return f"{PREFIX}{self.namespace}:{key.removeprefix(PREFIX)}" if self.namespace else key

    @property
    def client(self) -> aioredis.Redis:
        if self._client is None:
            self._client = aioredis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
        return self._client

    async def get_many(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not keys:
            return {}
        try:
            values = await self.client.mget([self._stored(key) for key in keys])
        except (RedisError, OSError) as exc:
            log.warning("federation cache unavailable (redis): %s", type(exc).__name__)
            return {}
        return {key: json.loads(value) for key, value in zip(keys, values, strict=True) if value is not None}

    async def set_many(self, items: Mapping[str, dict[str, Any]], ttl: float) -> None:
        if not items or ttl <= 0:
            return
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for key, value in items.items():
                    pipe.set(self._stored(key), json.dumps(value), px=max(1, int(ttl * 1000)))
                await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("federation cache not written (redis): %s", type(exc).__name__)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def cache_for(redis_url: str | None, database_url: str = "") -> Cache:
    """Redis when configured (shared by every worker, namespaced by the database), else this process's memory."""
    if not redis_url:
        return MemoryCache()
    return RedisCache(redis_url, hashlib.sha256(database_url.encode()).hexdigest()[:12] if database_url else "")


# ------------------------------------------------------------------ runtime


@dataclass
class Runtime:
    """What the federated fields need from the app: the adapters, the cache and its TTL, the per-request budget."""

    systems: Systems
    cache: Cache
    cache_seconds: float = 5.0
    budget_seconds: float = 3.0


_default: Runtime | None = None


def default_runtime() -> Runtime:
    """For contexts without an app (tests calling resolvers directly): the shipped adapters, an in-process cache."""
    global _default
    if _default is None:
        from adapters.systems import SYSTEMS

        _default = Runtime(systems=SYSTEMS, cache=MemoryCache())
    return _default


def runtime_of(ctx: Context) -> Runtime:
    request = ctx.request
    app = getattr(request, "app", None) if request is not None else None
    found = getattr(getattr(app, "state", None), "federation", None)
    return found if isinstance(found, Runtime) else default_runtime()


# ------------------------------------------------------------------ views


@dataclass(frozen=True, slots=True)
class ErpOrderView:
    order_id: int
    connection: str
    state: SalesOrderState
    evidence_id: int | None
    asked_at: datetime
    cached: bool


@dataclass(frozen=True, slots=True)
class DeliveryView:
    order_id: int
    delivery_order_id: int
    code: str
    warehouse_id: int
    connection: str
    our_status: str
    pushed_at: datetime | None
    confirmed_at: datetime | None
    state: DeliveryState
    evidence_id: int | None
    asked_at: datetime
    cached: bool


@dataclass(frozen=True, slots=True)
class SystemStock:
    """One system's on-hand for the asked SKUs of one warehouse."""

    system: str
    connection: str
    warehouse_code: str
    figures: dict[str, StockFigure]
    evidence_id: int | None
    asked_at: datetime
    cached: bool


@dataclass(slots=True)
class LiveStockView:
    warehouse_id: int
    skus: list[str]
    ours: dict[str, Stock]
    wms: SystemStock | GraphQLError | None
    erp: SystemStock | GraphQLError | None


def unavailable(system: str, connection: str, error: SystemError_) -> GraphQLError:
    """The typed error a federated field carries when its system could not answer; the other fields still do."""
    return GraphQLError(f"{system.upper()} {connection} is unavailable: {error.message}"[:300],
                        extensions={"code": UNAVAILABLE, "system": system.upper(), "connection": connection,
                                    "reason": error.code or type(error).__name__})


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def sales_order_json(state: SalesOrderState) -> dict[str, Any]:
    return {"order_no": state.order_no, "status": state.status, "known": state.known, "ordered": dict(state.ordered),
            "shipped": dict(state.shipped), "invoiced": dict(state.invoiced), "amount": state.amount,
            "updated_at": _when(state.updated_at)}


def sales_order_of(data: Mapping[str, Any]) -> SalesOrderState:
    return SalesOrderState(order_no=data["order_no"], status=data["status"], known=data["known"], ordered=data["ordered"],
                           shipped=data["shipped"], invoiced=data["invoiced"], amount=data["amount"],
                           updated_at=_time(data["updated_at"]))


def delivery_json(state: DeliveryState) -> dict[str, Any]:
    return {"code": state.code, "status": state.status.value, "raw_status": state.raw_status, "shipped": dict(state.shipped),
            "parcels": [{"carrier": p.carrier, "tracking_no": p.tracking_no, "lines": dict(p.lines)} for p in state.parcels],
            "updated_at": _when(state.updated_at)}


def delivery_of(data: Mapping[str, Any]) -> DeliveryState:
    return DeliveryState(code=data["code"], status=WmsStatus(data["status"]), raw_status=data["raw_status"],
                         shipped=data["shipped"], parcels=tuple(Parcel(p["carrier"], p["tracking_no"], p["lines"])
                                                                for p in data["parcels"]),
                         updated_at=_time(data["updated_at"]))


def figure_json(figure: StockFigure) -> dict[str, Any]:
    return {"sku": figure.sku, "on_hand": figure.on_hand, "available": figure.available, "as_of": _when(figure.as_of)}


def figure_of(data: Mapping[str, Any]) -> StockFigure:
    return StockFigure(sku=data["sku"], on_hand=data["on_hand"], available=data["available"], as_of=_time(data["as_of"]))


def _key(connection: SystemConnection, kind: str, *parts: str) -> str:
    return PREFIX + ":".join([str(connection.tenant_id), str(connection.id), kind, *parts])  # type: ignore[attr-defined]


# ------------------------------------------------------------------ loaders


class FederationLoaders:
    """One per request: batches the federated fields and keeps the request's budget and call counts."""

    def __init__(self, ctx: Context) -> None:
        assert ctx.actor is not None
        self.actor = ctx.actor
        self.tenant_id = ctx.actor.tenant_id
        self.runtime = runtime_of(ctx)
        self.deadline: float | None = None
        #: Adapter calls this request made, per (system, connection): what "one call per system" is measured by.
        self.calls: Counter[tuple[str, str]] = Counter()
        self._erp: SystemConnection | None | bool = False
        self.erp: DataLoader[int, ErpOrderView | None] = DataLoader(load_fn=self._load_erp)
        self.wms: DataLoader[int, list[DeliveryView]] = DataLoader(load_fn=self._load_wms)
        self.stock: DataLoader[tuple[int, tuple[str, ...]], LiveStockView] = DataLoader(load_fn=self._load_stock)
        self.diagnosis: DataLoader[int, Diagnosis] = DataLoader(load_fn=self._load_diagnoses)
        self.exchange: DataLoader[int, SystemExchange | None] = DataLoader(load_fn=self._load_exchanges)
        self.breaker: DataLoader[int, WarehouseSystems | None] = DataLoader(load_fn=self._load_links)

    def remaining(self) -> float:
        """Seconds left of the request's budget, which starts with its first outside call."""
        now = time.monotonic()
        if self.deadline is None:
            self.deadline = now + self.runtime.budget_seconds
        return max(self.deadline - now, 0.001)

    async def erp_connection(self) -> SystemConnection | None:
        if self._erp is False:
            self._erp = await erp_of(self.tenant_id)
        return self._erp  # type: ignore[return-value]

    # --- ERP ---------------------------------------------------------------------------------

    async def _load_erp(self, order_ids: list[int]) -> list[ErpOrderView | None | BaseException]:
        erp = await self.erp_connection()
        if erp is None:
            return [None] * len(order_ids)
        keys = {order_id: _key(erp, "erp", order_no(order_id)) for order_id in order_ids}
        cached = await self.runtime.cache.get_many(list(keys.values()))
        found: dict[int, ErpOrderView | BaseException] = {}
        for order_id, key in keys.items():
            if key in cached:
                hit = cached[key]
                found[order_id] = ErpOrderView(order_id, erp.code, sales_order_of(hit["state"]), hit["evidence"],
                                               _time(hit["asked_at"]) or datetime.now(UTC), True)
        misses = [order_id for order_id in order_ids if order_id not in found]
        if misses:
            self.calls[("erp", erp.code)] += 1
            answer = await ask_sales_orders(self.tenant_id, erp, misses, self.runtime.systems, budget=self.remaining())
            now = datetime.now(UTC)
            if answer.error is not None:
                error = unavailable("erp", erp.code, answer.error)
                found.update({order_id: error for order_id in misses})
            else:
                fresh = {}
                for order_id in misses:
                    state = (answer.value or {}).get(order_id) or SalesOrderState(order_no(order_id), "", False)
                    evidence_id = (answer.evidence_about(order_no(order_id)) or [None])[-1]
                    found[order_id] = ErpOrderView(order_id, erp.code, state, evidence_id, now, False)
                    fresh[keys[order_id]] = {"state": sales_order_json(state), "evidence": evidence_id,
                                             "asked_at": now.isoformat()}
                await self.runtime.cache.set_many(fresh, self.runtime.cache_seconds)
        return [found[order_id] for order_id in order_ids]

    # --- WMS ---------------------------------------------------------------------------------

    async def _load_wms(self, order_ids: list[int]) -> list[list[DeliveryView] | BaseException]:
        groups = await delivery_groups(self.tenant_id, order_ids)
        views: dict[int, list[DeliveryView]] = {order_id: [] for order_id in order_ids}
        failed: dict[int, GraphQLError] = {}
        results = await asyncio.gather(*(self._ask_group(group) for group in groups))
        for group, (states, error) in zip(groups, results, strict=True):
            for row in group.rows:
                order_id = row.order_id  # type: ignore[attr-defined]
                if row.code in states:
                    state, evidence_id, asked_at, cached = states[row.code]
                    views[order_id].append(_delivery_view(row, group.connection.code, state, evidence_id, asked_at, cached))
                elif error is not None:
                    failed[order_id] = error
        return [failed.get(order_id) or views[order_id] for order_id in order_ids]

    async def _ask_group(self, group: Any) -> tuple[dict[str, tuple[DeliveryState, int | None, datetime, bool]], GraphQLError | None]:
        connection: SystemConnection = group.connection
        keys = {code: _key(connection, "wms", group.warehouse_code, code) for code in group.codes}
        cached = await self.runtime.cache.get_many(list(keys.values()))
        states: dict[str, tuple[DeliveryState, int | None, datetime, bool]] = {}
        for code, key in keys.items():
            if key in cached:
                hit = cached[key]
                states[code] = (delivery_of(hit["state"]), hit["evidence"], _time(hit["asked_at"]) or datetime.now(UTC), True)
        misses = [code for code in group.codes if code not in states]
        if not misses:
            return states, None
        self.calls[("wms", connection.code)] += 1
        answer = await ask_deliveries(self.tenant_id, group, self.runtime.systems, codes=misses, budget=self.remaining())
        if answer.error is not None:
            return states, unavailable("wms", connection.code, answer.error)
        now = datetime.now(UTC)
        fresh = {}
        for code in misses:
            state = (answer.value or {}).get(code) or DeliveryState(code=code, status=WmsStatus.UNKNOWN, raw_status="")
            evidence_id = (answer.evidence_about(code) or [None])[-1]
            states[code] = (state, evidence_id, now, False)
            fresh[keys[code]] = {"state": delivery_json(state), "evidence": evidence_id, "asked_at": now.isoformat()}
        await self.runtime.cache.set_many(fresh, self.runtime.cache_seconds)
        return states, None

    # --- stock -------------------------------------------------------------------------------

    async def _load_stock(self, keys: list[tuple[int, tuple[str, ...]]]) -> list[LiveStockView]:
        return list(await asyncio.gather(*(self._live_stock(warehouse_id, list(skus)) for warehouse_id, skus in keys)))

    async def _live_stock(self, warehouse_id: int, skus: list[str]) -> LiveStockView:
        _, wms, wms_code, erp, erp_code = await stock_targets(self.tenant_id, warehouse_id)
        ours = {row.sku: row for row in await Stock.filter(warehouse_id=warehouse_id, tenant_id=self.tenant_id, sku__in=skus)}
        wms_view, erp_view = await asyncio.gather(
            self._system_stock(wms, wms_code, skus) if wms else _none(),
            self._system_stock(erp, erp_code, skus) if erp else _none())
        return LiveStockView(warehouse_id, skus, ours, wms_view, erp_view)

    async def _system_stock(self, connection: SystemConnection, warehouse_code: str, skus: list[str]) -> SystemStock | GraphQLError:
        kind = connection.kind
        keys = {sku: _key(connection, "stock", warehouse_code, sku) for sku in skus}
        cached = await self.runtime.cache.get_many(list(keys.values()))
        figures: dict[str, StockFigure] = {}
        evidence_id: int | None = None
        asked_at: datetime | None = None
        for sku, key in keys.items():
            if key in cached:
                figures[sku] = figure_of(cached[key]["figure"])
                evidence_id = evidence_id or cached[key]["evidence"]
                asked_at = asked_at or _time(cached[key]["asked_at"])
        misses = [sku for sku in skus if sku not in figures and keys[sku] not in cached]
        if not misses:
            return SystemStock(kind, connection.code, warehouse_code, figures, evidence_id,
                               asked_at or datetime.now(UTC), True)
        self.calls[(kind, connection.code)] += 1
        answer: Answer[dict[str, StockFigure]] = await ask_stock(self.tenant_id, connection, warehouse_code, misses,
                                                                 self.runtime.systems, budget=self.remaining())
        if answer.error is not None:
            return unavailable(kind, connection.code, answer.error)
        now = datetime.now(UTC)
        fresh = {}
        for sku in misses:
            figure = (answer.value or {}).get(sku) or StockFigure(sku=sku, on_hand=0, available=0)
            figures[sku] = figure
            fresh[keys[sku]] = {"figure": figure_json(figure), "evidence": answer.evidence_id, "asked_at": now.isoformat()}
        await self.runtime.cache.set_many(fresh, self.runtime.cache_seconds)
        return SystemStock(kind, connection.code, warehouse_code, figures, answer.evidence_id, now, False)

    # --- evidence and links --------------------------------------------------------------------

    async def _load_exchanges(self, ids: list[int]) -> list[SystemExchange | None]:
        rows = {row.id: row for row in await SystemExchange.filter(tenant_id=self.tenant_id, id__in=ids)}
        return [rows.get(exchange_id) for exchange_id in ids]

    async def _load_links(self, warehouse_ids: list[int]) -> list[WarehouseSystems | None]:
        rows = {row.warehouse_id: row for row in await WarehouseSystems.filter(  # type: ignore[attr-defined]
            tenant_id=self.tenant_id, warehouse_id__in=warehouse_ids).prefetch_related("wms")}
        return [rows.get(warehouse_id) for warehouse_id in warehouse_ids]

    # --- diagnosis ---------------------------------------------------------------------------

    async def _load_diagnoses(self, order_ids: list[int]) -> list[Diagnosis | None]:
        found = {d.order_id: d for d in await diagnose(self.actor, order_ids, self.runtime.systems,
                                                       budget=max(self.runtime.budget_seconds, 1.0))}
        return [found.get(order_id) for order_id in order_ids]


async def _none() -> None:
    return None


def _delivery_view(row: DeliveryOrder, connection: str, state: DeliveryState, evidence_id: int | None,
                   asked_at: datetime, cached: bool) -> DeliveryView:
    return DeliveryView(order_id=row.order_id, delivery_order_id=row.id, code=row.code,  # type: ignore[attr-defined]
                        warehouse_id=row.warehouse_id, connection=connection, our_status=row.status,  # type: ignore[attr-defined]
                        pushed_at=row.pushed_at, confirmed_at=row.confirmed_at, state=state, evidence_id=evidence_id,
                        asked_at=asked_at, cached=cached)


def federation(ctx: Context) -> FederationLoaders:
    """The request's federation loaders (kept on ``ctx.loaders`` so they are renewed with them)."""
    loaders = ctx.loaders
    found = getattr(loaders, "federation_area", None)
    if found is None:
        found = FederationLoaders(ctx)
        loaders.federation_area = found  # type: ignore[attr-defined]
    return found


def stock_key(warehouse_id: int, skus: Sequence[str]) -> tuple[int, tuple[str, ...]]:
    return warehouse_id, tuple(skus)

