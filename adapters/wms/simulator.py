"""A local Qimen WMS: one real HTTP server that keeps delivery orders and stock, ships, and calls back.

    ordergraph sim wms --port 9200 --profile faults.json     # prints the connection config to register

``POST /router/qimen/service`` speaks the Qimen standard interface as a WMS
does behind the Qimen router: system parameters in the query string, XML
bodies, the ``<response><flag/>…`` envelope. It checks ``app_key``, the
method, the signature (refused as the gateway does, ``sign-check-failure``)
and ``customerId``, then serves ``deliveryorder.create`` (de-duplicated by
``deliveryOrderCode``: a repeat answers ``ORDER_EXIST`` with the first
``deliveryOrderId`` and creates nothing), ``deliveryorder.query``,
``order.cancel`` (refused once shipped) and ``inventory.query``.

It calls back too, signed with the same secret, to the URL set with
``PUT /_sim/callback`` (``{"url": "http://…/hooks/acme/wms/SH"}``):

- ``POST /_sim/ship`` ``{"code", "carrier": "SF", "tracking_no"?}`` ships a
  delivery order (stock leaves) and posts ``deliveryorder.confirm``; shipping
  a shipped order sends the same confirmation again (a WMS retry);
- ``POST /_sim/stock-change`` ``{"warehouse", "sku", "quantity", "reference"?,
  "order_type"?}`` moves stock and posts ``stockchange.report``.

The same delivery orders and stock are served as a JSON REST WMS under
``/rest`` (the ``rest_wms`` adapter's default shapes, ``rest_config(base)``;
``Authorization: Bearer sim-rest-wms-token``): ``POST /rest/delivery-orders``,
``POST /rest/delivery-orders/{code}/cancel``, ``GET
/rest/delivery-orders?codes=a,b&warehouse=W`` (many codes per call, with the
units shipped per line) and ``GET /rest/inventory?skus=a,b&warehouse=W``.
Callbacks are Qimen's either way.

``POST /_sim/orders`` ``{"orders": [{"code", "warehouse", "lines": [{"sku",
"quantity"}], "status": "ACCEPT" | "DELIVERED", "shipped": {"SKU": n}}]}``
puts many delivery orders in place at once, as they stand (no stock moves,
no callbacks): benchmarks seed their books this way.

Faults (``GET/PUT /_sim/profile``, or ``--profile FILE``): ``latency_ms``,
``error_rate`` (HTTP 500 before doing anything), ``lost_answer_rate`` (the
work is done, then HTTP 500: the caller must retry with the same code),
``stale_seconds`` (queries answer as things stood that long ago),
``drop_callback_rate`` (callbacks the WMS believes sent that never arrive),
``outages`` (``[{"start": ISO, "end": ISO}]`` or ``[{"after_s": 0, "for_s": 30}]``:
HTTP 503 meanwhile) and ``stock_drift`` (``{"SKU": units}`` added to what
``inventory.query`` reports). ``GET /_sim/orders`` shows every delivery order
with how many create requests it received and how many times it was created
(never more than once); ``PUT /_sim/inventory`` sets stock levels.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import ssl
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters import wire
from adapters.wms import qimen_wire as qw
from domain.inbound.normalized import PayloadError

ROUTER_PATH = "/router/qimen/service"
#: One TLS context for every callback client: building one per callback costs milliseconds of CPU each.
_TLS = ssl.create_default_context()
APP_KEY = "sim-qimen-app-key"
APP_SECRET = "sim-qimen-app-secret-0001"
CUSTOMER_ID = "sim-customer"
OWNER_CODE = "OG-OWNER"
REST_PREFIX = "/rest"
REST_TOKEN = "Bearer sim-rest-wms-token"
#: Qimen's delivery statuses as the REST mode names them (the ``rest_wms`` adapter's default vocabulary).
REST_STATUSES = {"NEW": "NEW", "ACCEPT": "ACCEPTED", "DELIVERED": "SHIPPED", "CANCELED": "CANCELLED",
                 "EXCEPTION": "EXCEPTION"}


@dataclass(frozen=True, slots=True)
class Outage:
    start: datetime
    end: datetime

    def covers(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True, slots=True)
class Profile:
    """The faults the simulator injects (see the module docstring)."""

    latency_ms: int = 0
    error_rate: float = 0.0
    lost_answer_rate: float = 0.0
    stale_seconds: float = 0.0
    drop_callback_rate: float = 0.0
    outages: tuple[Outage, ...] = ()
    stock_drift: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def read(cls, data: Mapping[str, Any], base: Profile | None = None, now: datetime | None = None) -> Profile:
        """A profile from JSON over ``base``; ``ValueError`` naming the bad key."""
        now = now or datetime.now(UTC)
        unknown = sorted(set(data) - {f.name for f in cls.__dataclass_fields__.values()})  # type: ignore[attr-defined]
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown fault")
        changes: dict[str, Any] = {}
        if data.get("latency_ms") is not None:
            latency = data["latency_ms"]
            if isinstance(latency, bool) or not isinstance(latency, int) or not 0 <= latency <= 60_000:
                raise ValueError("latency_ms: whole milliseconds from 0 to 60000")
            changes["latency_ms"] = latency
        for name in ("error_rate", "lost_answer_rate", "drop_callback_rate"):
            if data.get(name) is not None:
                rate = data[name]
                if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
                    raise ValueError(f"{name}: a share from 0 to 1")
                changes[name] = float(rate)
        if data.get("stale_seconds") is not None:
            stale = data["stale_seconds"]
            if isinstance(stale, bool) or not isinstance(stale, (int, float)) or not 0 <= stale <= 86_400:
                raise ValueError("stale_seconds: seconds from 0 to 86400")
            changes["stale_seconds"] = float(stale)
        if data.get("outages") is not None:
            changes["outages"] = tuple(_outage(item, index, now) for index, item in enumerate(_list(data["outages"])))
        if data.get("stock_drift") is not None:
            drift = data["stock_drift"]
            if not isinstance(drift, Mapping) or not all(
                    isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) for k, v in drift.items()):
                raise ValueError('stock_drift: {"SKU": whole units added to what inventory.query reports}')
            changes["stock_drift"] = dict(drift)
        return replace(base or cls(), **changes)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["outages"] = [{"start": o.start.isoformat(), "end": o.end.isoformat()} for o in self.outages]
        return data

    def down(self, moment: datetime) -> bool:
        return any(outage.covers(moment) for outage in self.outages)


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError("outages: a list of {start, end} or {after_s, for_s}")
    return value


def _outage(item: Any, index: int, now: datetime) -> Outage:
    where = f"outages[{index}]"
    if not isinstance(item, Mapping):
        raise ValueError(f"{where}: an object")
    try:
        if "after_s" in item or "for_s" in item:
            start = now + timedelta(seconds=float(item.get("after_s", 0)))
            return Outage(start, start + timedelta(seconds=float(item["for_s"])))
        return Outage(wire.iso_time(item.get("start"), f"{where}.start"), wire.iso_time(item.get("end"), f"{where}.end"))
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{where}: {getattr(error, 'reason', error)}") from None


@dataclass
class SimOrder:
    code: str
    wms_id: str
    warehouse_code: str
    owner_code: str
    lines: list[tuple[str, str, int]]            # (orderLineNo, itemCode, planQty)
    history: list[tuple[datetime, str]]          # (when, status)
    packages: list[dict[str, str]] = field(default_factory=list)
    confirm: bytes | None = None                 # the confirmation as first sent (re-sent verbatim)
    actual: dict[str, int] | None = None         # units shipped per orderLineNo, when not every planned unit left

    def shipped_qty(self, line_no: str, planned: int) -> int:
        return planned if self.actual is None else self.actual.get(line_no, 0)

    @property
    def status(self) -> str:
        return self.history[-1][1]

    def status_at(self, moment: datetime) -> str | None:
        seen = [status for when, status in self.history if when <= moment]
        return seen[-1] if seen else None


def account_config(base_url: str, **extra: Any) -> dict[str, Any]:
    """The ``qimen`` connection config that points at a simulator on ``base_url``."""
    return {"router_url": base_url.rstrip("/") + ROUTER_PATH, "app_key": APP_KEY, "app_secret": APP_SECRET,
            "customer_id": CUSTOMER_ID, "owner_code": OWNER_CODE, **extra}


def rest_config(base_url: str, **extra: Any) -> dict[str, Any]:
    """The ``rest_wms`` connection config that points at the simulator's REST mode on ``base_url``."""
    return {"base_url": base_url.rstrip("/") + REST_PREFIX, "token": REST_TOKEN, "secret": APP_SECRET, **extra}


@dataclass
class WmsSimulator:
    """State: delivery orders, stock per (warehouse, SKU), faults, counters, where to call back."""

    app_key: str = APP_KEY
    app_secret: str = APP_SECRET
    customer_id: str = CUSTOMER_ID
    profile: Profile = field(default_factory=Profile)
    seed: int | None = None
    callback_url: str | None = None
    orders: dict[str, SimOrder] = field(default_factory=dict)
    requests: Counter = field(default_factory=Counter)   # create requests per code
    created: Counter = field(default_factory=Counter)    # times a code was created (never above 1)
    calls: Counter = field(default_factory=Counter)
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    inventory: dict[tuple[str, str], int] = field(default_factory=dict)
    _inventory_log: list[tuple[datetime, tuple[str, str], int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)
        self._sequence = 0

    def _next(self, prefix: str) -> str:
        self._sequence += 1
        return f"{prefix}{self._sequence:08d}"

    # -------------------------------------------------------------- state

    def set_stock(self, warehouse: str, sku: str, quantity: int) -> None:
        self.inventory[(warehouse, sku)] = quantity
        self._inventory_log.append((datetime.now(UTC), (warehouse, sku), quantity))

    def stock_at(self, key: tuple[str, str], moment: datetime) -> int:
        seen = [quantity for when, item, quantity in self._inventory_log if item == key and when <= moment]
        return seen[-1] if seen else 0

    def reset(self) -> None:
        self.orders.clear()
        self.requests.clear()
        self.created.clear()
        self.calls.clear()
        self.callbacks.clear()
        self.inventory.clear()
        self._inventory_log.clear()

    # -------------------------------------------------------------- serving

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[
            Route(ROUTER_PATH, self._router, methods=["POST"]),
            Route("/_sim/profile", self._profile, methods=["GET", "PUT"]),
            Route("/_sim/orders", self._orders, methods=["GET", "POST"]),
            Route(REST_PREFIX + "/delivery-orders", self._rest(self._rest_orders), methods=["GET", "POST"]),
            Route(REST_PREFIX + "/delivery-orders/{code}/cancel", self._rest(self._rest_cancel), methods=["POST"]),
            Route(REST_PREFIX + "/inventory", self._rest(self._rest_inventory), methods=["GET"]),
            Route("/_sim/inventory", self._inventory, methods=["GET", "PUT"]),
            Route("/_sim/callback", self._callback_url, methods=["GET", "PUT"]),
            Route("/_sim/ship", self._ship, methods=["POST"]),
            Route("/_sim/stock-change", self._stock_change, methods=["POST"]),
            Route("/_sim/calls", lambda _r: JSONResponse(dict(self.calls)), methods=["GET"]),
            Route("/_sim/reset", self._reset, methods=["POST"]),
            Route("/healthz", lambda _r: JSONResponse({"ok": True}), methods=["GET"]),
        ])

    def _chance(self, rate: float) -> bool:
        return rate > 0 and self.random.random() < rate

    async def _router(self, request: Request) -> Response:
        profile = self.profile
        now = datetime.now(UTC)
        if profile.down(now):
            self.calls["outage"] += 1
            return Response("Service Unavailable (simulated outage)", status_code=503, media_type="text/plain")
        if profile.latency_ms:
            await asyncio.sleep(profile.latency_ms / 1000)
        params = dict(request.query_params)
        try:
            body = await request.body()
        except ClientDisconnect:  # OrderGraph gave up (its timeout) mid-body, as a real WMS sees now and then
            self.calls["client_gone"] += 1
            return Response(status_code=400)
        operation = qw.short_method(params.get("method", ""))
        if params.get("app_key") != self.app_key:
            return _xml(qw.response_xml(False, "isv.appkey-not-exists", "Invalid app key"))
        handler = self._handlers.get(operation)
        if handler is None:
            return _xml(qw.response_xml(False, "isv.invalid-method", f"Invalid method {operation[:60]}"))
        if not qw.signature_matches(params, body, self.app_secret):
            return _xml(qw.response_xml(False, qw.SIGN_FAILURE, "Illegal request"))
        if params.get("customerId") != self.customer_id:
            return _xml(qw.response_xml(False, "isv.customer-not-exists", "customerId 不存在"))
        self.calls[operation] += 1
        if self._chance(profile.error_rate):
            self.calls["injected_errors"] += 1
            return Response(qw.response_xml(False, "isp.service-unavailable", "simulated fault"), status_code=500,
                            media_type=qw.CONTENT_TYPE)
        try:
            document = qw.parse(body, "request")
            answer = handler(document, now)
        except qw.XmlError as error:
            answer = qw.response_xml(False, "isv.invalid-parameter", f"{error.field}: {error.message}")
        if self._chance(profile.lost_answer_rate):
            self.calls["lost_answers"] += 1
            return Response("upstream connection reset (simulated lost answer)", status_code=502, media_type="text/plain")
        return _xml(answer)

    @property
    def _handlers(self) -> dict[str, Any]:
        return {qw.DELIVERY_CREATE: self._create, qw.DELIVERY_QUERY: self._query, qw.ORDER_CANCEL: self._cancel,
                qw.INVENTORY_QUERY: self._inventory_query}

    # -------------------------------------------------------------- Qimen operations

    def _create(self, document: Any, now: datetime) -> bytes:
        order = document.find("deliveryOrder")
        if order is None:
            raise qw.XmlError("required element is missing", "deliveryOrder")
        code = qw.required(order, "deliveryOrderCode", "deliveryOrder/")
        warehouse = qw.required(order, "warehouseCode", "deliveryOrder/")
        lines = []
        for index, line in qw.items(document, "orderLines/orderLine"):
            where = f"orderLines/orderLine[{index}]/"
            planned = qw.quantity(line, "planQty", where)
            if planned <= 0:
                raise qw.XmlError("planQty must be positive", f"{where}planQty")
            lines.append((qw.text(line, "orderLineNo") or str(index + 1), qw.required(line, "itemCode", where), planned))
        if not lines:
            raise qw.XmlError("a delivery order needs at least one orderLine", "orderLines/orderLine")
        self.requests[code] += 1
        existing = self.orders.get(code)
        if existing is not None:
            return qw.response_xml(False, "ORDER_EXIST", "单据已存在 (delivery order already exists)",
                                   {"deliveryOrderId": existing.wms_id, "warehouseCode": existing.warehouse_code})
        owner = qw.text(document, "orderLines/orderLine/ownerCode")
        sim_order = SimOrder(code=code, wms_id=self._next("WMS"), warehouse_code=warehouse, owner_code=owner,
                             lines=lines, history=[(now, "ACCEPT")])
        self.orders[code] = sim_order
        self.created[code] += 1
        return qw.response_xml(True, "0", "", {"createTime": qw.timestamp(now), "deliveryOrderId": sim_order.wms_id,
                                               "warehouseCode": warehouse})

    def _query(self, document: Any, now: datetime) -> bytes:
        code = qw.required(document, "deliveryOrderCode")
        order = self.orders.get(code)
        status = order.status_at(now - timedelta(seconds=self.profile.stale_seconds)) if order else None
        if order is None or status is None:
            return qw.response_xml(False, "ORDER_NOT_EXIST", "单据不存在 (no such delivery order)")
        shipped = status == "DELIVERED"
        return qw.response_xml(True, "0", "", {
            "deliveryOrder": {"deliveryOrderCode": code, "deliveryOrderId": order.wms_id,
                              "warehouseCode": order.warehouse_code, "orderType": "JYCK", "status": status,
                              "operateTime": qw.timestamp(max(when for when, s in order.history if s == status))},
            "orderLines": {"orderLine": [{"orderLineNo": no, "itemCode": sku, "planQty": qty,
                                          "actualQty": order.shipped_qty(no, qty) if shipped else 0}
                                         for no, sku, qty in order.lines]},
            "packages": {"package": order.packages if shipped else []},
        })

    def _cancel(self, document: Any, now: datetime) -> bytes:
        code = qw.required(document, "orderCode")
        order = self.orders.get(code)
        if order is None:
            return qw.response_xml(False, "ORDER_NOT_EXIST", "单据不存在 (no such delivery order)")
        if order.status == "DELIVERED":
            return qw.response_xml(False, "ORDER_DELIVERED", "单据已发货，不能取消 (already shipped, cannot cancel)")
        if order.status != "CANCELED":
            order.history.append((now, "CANCELED"))
        return qw.response_xml(True, "0", "")

    def _inventory_query(self, document: Any, now: datetime) -> bytes:
        as_of = now - timedelta(seconds=self.profile.stale_seconds)
        found = []
        for index, criteria in qw.items(document, "criteriaList/criteria"):
            where = f"criteriaList/criteria[{index}]/"
            key = (qw.required(criteria, "warehouseCode", where), qw.required(criteria, "itemCode", where))
            if key not in self.inventory:
                continue
            quantity = self.stock_at(key, as_of) if self.profile.stale_seconds else self.inventory[key]
            quantity = max(0, quantity + self.profile.stock_drift.get(key[1], 0))
            locked = sum(qty for order in self.orders.values() if order.warehouse_code == key[0]
                         and order.status in ("NEW", "ACCEPT") for _, sku, qty in order.lines if sku == key[1])
            found.append({"warehouseCode": key[0], "itemCode": key[1], "inventoryType": "ZP", "quantity": quantity,
                          "lockQuantity": min(locked, quantity)})
        return qw.response_xml(True, "0", "", {"items": {"item": found}})

    # -------------------------------------------------------------- what the WMS does, and tells

    async def ship(self, code: str, carrier: str = "SF", tracking_no: str = "",
                   quantities: Mapping[str, int] | None = None) -> dict[str, Any]:
        """Ship a delivery order (or re-send its confirmation) and post ``deliveryorder.confirm``.

        ``quantities`` (SKU -> units) ships fewer than planned: a short shipment, confirmed as final all the same.
        """
        order = self.orders.get(code)
        if order is None:
            raise LookupError(f"no delivery order {code}")
        if order.confirm is None:
            if order.status == "CANCELED":
                raise ValueError(f"{code} was cancelled")
            leaving = _leaving(order, quantities)
            for no, sku, _ in order.lines:
                if self.inventory.get((order.warehouse_code, sku), 0) < leaving[no]:
                    raise ValueError(f"not enough {sku} in {order.warehouse_code} to ship {code}")
            for no, sku, _ in order.lines:
                key = (order.warehouse_code, sku)
                self.set_stock(*key, self.inventory[key] - leaving[no])
            if quantities is not None:
                order.actual = leaving
            now = datetime.now(UTC)
            number = tracking_no or f"{carrier}{self.random.randrange(10**11, 10**12)}"
            order.packages = [{"logisticsCode": carrier, "expressCode": number,
                               "items": {"item": [{"itemCode": sku, "quantity": leaving[no]}
                                                  for no, sku, _ in order.lines if leaving[no]]}}]
            order.history.append((now, "DELIVERED"))
            order.confirm = qw.to_xml("request", {
                "deliveryOrder": {"deliveryOrderCode": code, "deliveryOrderId": order.wms_id,
                                  "warehouseCode": order.warehouse_code, "orderType": "JYCK", "status": "DELIVERED",
                                  "outBizCode": self._next("MSG"), "confirmType": 0,
                                  "orderConfirmTime": qw.timestamp(now), "logisticsCode": carrier,
                                  "expressCode": number},
                "packages": {"package": order.packages},
                "orderLines": {"orderLine": [{"orderLineNo": no, "itemCode": sku, "planQty": qty,
                                              "actualQty": leaving[no]} for no, sku, qty in order.lines]},
            })
        result = await self.call_back(qw.DELIVERY_CONFIRM, order.confirm)
        return {"code": code, "tracking_no": order.packages[0]["expressCode"], "callback": result}

    async def change_stock(self, warehouse: str, sku: str, quantity: int, reference: str = "",
                           order_type: str = "PDCY") -> dict[str, Any]:
        """Move stock (an inventory gain or loss) and post ``stockchange.report``."""
        key = (warehouse, sku)
        if self.inventory.get(key, 0) + quantity < 0:
            raise ValueError(f"only {self.inventory.get(key, 0)} of {sku} in {warehouse}")
        self.set_stock(warehouse, sku, self.inventory.get(key, 0) + quantity)
        reference = reference or self._next("SC")
        body = qw.to_xml("request", {"items": {"item": [{
            "ownerCode": OWNER_CODE, "warehouseCode": warehouse, "orderCode": reference, "orderType": order_type,
            "outBizCode": reference, "itemCode": sku, "inventoryType": "ZP", "quantity": quantity,
            "changeTime": qw.timestamp()}]}})
        return {"reference": reference, "callback": await self.call_back(qw.STOCK_CHANGE, body)}

    async def call_back(self, operation: str, body: bytes) -> dict[str, Any]:
        """Post a signed callback to ``callback_url`` (unless the profile drops it); what happened."""
        if not self.callback_url:
            result: dict[str, Any] = {"sent": False, "reason": "no callback URL (PUT /_sim/callback)"}
        elif self._chance(self.profile.drop_callback_rate):
            result = {"sent": False, "dropped": True}
        else:
            params = qw.system_params(qw.PREFIX + operation, app_key=self.app_key, customer_id=self.customer_id,
                                      secret=self.app_secret, body=body)
            try:
                async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0), verify=_TLS) as client:
                    answer = await client.post(self.callback_url, params=params, content=body,
                                               headers={"content-type": qw.CONTENT_TYPE})
                result = {"sent": True, "status": answer.status_code, "answer": answer.text[:2000]}
            except httpx.HTTPError as error:
                result = {"sent": False, "error": type(error).__name__}
        self.callbacks.append({"operation": operation, **result})
        return result

    # -------------------------------------------------------------- control endpoints

    async def _json(self, request: Request) -> dict[str, Any]:
        try:
            data = wire.load_json(await request.body())
        except PayloadError as error:
            raise ValueError(error.reason) from None
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        return data

    async def _profile(self, request: Request) -> Response:
        if request.method == "PUT":
            try:
                self.profile = Profile.read(_plain(await self._json(request)))
            except ValueError as error:
                return JSONResponse({"error": str(error)}, status_code=422)
        return JSONResponse(self.profile.as_json())

    async def _orders(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                created = self.seed_orders(await self._json(request))
            except ValueError as error:
                return JSONResponse({"error": str(error)}, status_code=422)
            return JSONResponse({"created": created}, status_code=201)
        return JSONResponse({code: {"wms_id": order.wms_id, "status": order.status, "warehouse": order.warehouse_code,
                                    "lines": [{"line": no, "sku": sku, "quantity": qty} for no, sku, qty in order.lines],
                                    "packages": [{k: v for k, v in p.items() if k != "items"} for p in order.packages],
                                    "requests": self.requests[code], "created": self.created[code]}
                             for code, order in self.orders.items()})

    async def _inventory(self, request: Request) -> Response:
        if request.method == "PUT":
            try:
                data = _plain(await self._json(request))
                warehouse, levels = data.get("warehouse"), data.get("levels")
                if not isinstance(warehouse, str) or not warehouse or not isinstance(levels, dict):
                    raise ValueError('expected {"warehouse": "SH01", "levels": {"SKU": units}}')
                for sku, quantity in levels.items():
                    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                        raise ValueError(f"levels.{sku}: whole units, 0 or more")
                    self.set_stock(warehouse, sku, quantity)
            except ValueError as error:
                return JSONResponse({"error": str(error)}, status_code=422)
        return JSONResponse([{"warehouse": w, "sku": s, "quantity": q} for (w, s), q in sorted(self.inventory.items())])

    async def _callback_url(self, request: Request) -> Response:
        if request.method == "PUT":
            try:
                url = (await self._json(request)).get("url")
                if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                    raise ValueError("url: an http(s) URL")
                self.callback_url = url
            except ValueError as error:
                return JSONResponse({"error": str(error)}, status_code=422)
        return JSONResponse({"url": self.callback_url})

    async def _ship(self, request: Request) -> Response:
        try:
            data = await self._json(request)
            code = data.get("code")
            if not isinstance(code, str) or not code:
                raise ValueError("code: the delivery order code")
            quantities = data.get("quantities")
            if quantities is not None and not isinstance(quantities, dict):
                raise ValueError('quantities: {"SKU": units shipped} (a short shipment)')
            result = await self.ship(code, str(data.get("carrier") or "SF"), str(data.get("tracking_no") or ""),
                                     quantities)
        except LookupError as error:
            return JSONResponse({"error": str(error)}, status_code=404)
        except ValueError as error:
            return JSONResponse({"error": str(error)}, status_code=409)
        return JSONResponse(result)

    async def _stock_change(self, request: Request) -> Response:
        try:
            data = _plain(await self._json(request))
            warehouse, sku, quantity = data.get("warehouse"), data.get("sku"), data.get("quantity")
            if not isinstance(warehouse, str) or not isinstance(sku, str) or not isinstance(quantity, int) \
                    or isinstance(quantity, bool) or quantity == 0:
                raise ValueError('expected {"warehouse", "sku", "quantity": non-zero units}')
            result = await self.change_stock(warehouse, sku, quantity, str(data.get("reference") or ""),
                                             str(data.get("order_type") or "PDCY"))
        except ValueError as error:
            return JSONResponse({"error": str(error)}, status_code=409)
        return JSONResponse(result)

    def seed_orders(self, data: Mapping[str, Any]) -> int:
        """Put delivery orders in place as they stand (see the module docstring); how many were new."""
        orders = data.get("orders")
        if not isinstance(orders, list) or not orders:
            raise ValueError("orders: a list of delivery orders")
        now = datetime.now(UTC)
        created = 0
        for index, item in enumerate(orders):
            where = f"orders[{index}]."
            if not isinstance(item, dict):
                raise ValueError(f"orders[{index}]: an object")
            code, warehouse = item.get("code"), item.get("warehouse")
            if not isinstance(code, str) or not code or not isinstance(warehouse, str) or not warehouse:
                raise ValueError(f"{where}code and warehouse: required text")
            lines = item.get("lines")
            if not isinstance(lines, list) or not lines:
                raise ValueError(f"{where}lines: at least one {{sku, quantity}}")
            parsed = []
            for number, line in enumerate(lines, 1):
                sku, quantity = (line.get("sku"), line.get("quantity")) if isinstance(line, dict) else (None, None)
                if not isinstance(sku, str) or not sku or isinstance(quantity, bool) or not isinstance(quantity, int) \
                        or quantity <= 0:
                    raise ValueError(f"{where}lines[{number - 1}]: a sku and a quantity above 0")
                parsed.append((str(line.get("line") or number), sku, quantity))
            status = str(item.get("status") or "ACCEPT")
            if status not in ("NEW", "ACCEPT", "DELIVERED", "CANCELED"):
                raise ValueError(f"{where}status: NEW, ACCEPT, DELIVERED or CANCELED")
            order = SimOrder(code=code, wms_id=self._next("WMS"), warehouse_code=warehouse, owner_code=OWNER_CODE,
                             lines=parsed, history=[(now, "ACCEPT")] + ([(now, status)] if status != "ACCEPT" else []))
            if status == "DELIVERED":
                shipped = item.get("shipped")
                if shipped is not None and not isinstance(shipped, dict):
                    raise ValueError(f"{where}shipped: {{\"SKU\": units}}")
                leaving = _leaving(order, shipped)
                order.actual = leaving if shipped is not None else None
                order.packages = [{"logisticsCode": str(item.get("carrier") or "SF"),
                                   "expressCode": str(item.get("tracking_no") or f"SF{self._next('')}"),
                                   "items": {"item": [{"itemCode": sku, "quantity": leaving[no]}
                                                      for no, sku, _ in parsed if leaving[no]]}}]
            created += code not in self.orders
            self.orders[code] = order
        return created

    # -------------------------------------------------------------- REST mode

    def _rest(self, handler: Any) -> Any:
        """The REST mode's faults (outage, latency, errors) and its bearer token, then the handler."""
        async def endpoint(request: Request) -> Response:
            now = datetime.now(UTC)
            if self.profile.down(now):
                self.calls["outage"] += 1
                return JSONResponse({"error": {"code": "UNAVAILABLE", "message": "simulated outage"}}, status_code=503)
            if self.profile.latency_ms:
                await asyncio.sleep(self.profile.latency_ms / 1000)
            given = request.headers.get("authorization", "").encode("utf-8", "replace")
            if not secrets.compare_digest(given, REST_TOKEN.encode()):
                return JSONResponse({"error": {"code": "UNAUTHORIZED", "message": "bad token"}}, status_code=401)
            if self._chance(self.profile.error_rate):
                self.calls["injected_errors"] += 1
                return JSONResponse({"error": {"code": "INTERNAL", "message": "simulated fault"}}, status_code=500)
            return await handler(request, now)

        return endpoint

    def _rest_state(self, order: SimOrder, now: datetime) -> dict[str, Any] | None:
        status = order.status_at(now - timedelta(seconds=self.profile.stale_seconds))
        if status is None:
            return None
        shipped = status == "DELIVERED"
        return {"code": order.code, "status": REST_STATUSES.get(status, "PICKING"),
                "updatedAt": max(when for when, s in order.history if s == status).isoformat().replace("+00:00", "Z"),
                "parcels": [{"carrier": p["logisticsCode"], "trackingNo": p["expressCode"]}
                            for p in order.packages] if shipped else [],
                "lines": [{"sku": sku, "shipped": order.shipped_qty(no, qty) if shipped else 0}
                          for no, sku, qty in order.lines]}

    async def _rest_orders(self, request: Request, now: datetime) -> Response:
        if request.method == "GET":
            self.calls["rest:states"] += 1
            codes = [code for code in request.query_params.get("codes", "").split(",") if code]
            states = (self._rest_state(self.orders[code], now) for code in dict.fromkeys(codes) if code in self.orders)
            return JSONResponse({"orders": [state for state in states if state is not None]})
        self.calls["rest:push"] += 1
        try:
            body = await self._json(request)
            code, warehouse, lines = body.get("code"), body.get("warehouseCode"), body.get("lines")
            if not isinstance(code, str) or not code or not isinstance(warehouse, str) or not warehouse \
                    or not isinstance(lines, list) or not lines:
                raise ValueError("code, warehouseCode and lines are required")
            parsed = [(str(line.get("lineRef") or n), str(line["sku"]), int(line["quantity"]))
                      for n, line in enumerate(lines, 1)]
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            return JSONResponse({"error": {"code": "INVALID", "message": str(error)[:200]}}, status_code=422)
        self.requests[code] += 1
        existing = self.orders.get(code)
        if existing is not None:
            return JSONResponse({"id": existing.wms_id, "error": {"code": "DUPLICATE", "message": "exists"}},
                                status_code=409)
        order = SimOrder(code=code, wms_id=self._next("WMS"), warehouse_code=warehouse,
                         owner_code=str(body.get("ownerCode") or ""), lines=parsed, history=[(now, "ACCEPT")])
        self.orders[code] = order
        self.created[code] += 1
        return JSONResponse({"id": order.wms_id}, status_code=201)

    async def _rest_cancel(self, request: Request, now: datetime) -> Response:
        self.calls["rest:cancel"] += 1
        order = self.orders.get(request.path_params["code"])
        if order is None:
            return JSONResponse({"error": {"code": "NOT_FOUND", "message": "no such delivery order"}}, status_code=404)
        if order.status == "DELIVERED":
            return JSONResponse({"error": {"code": "SHIPPED", "message": "already shipped, cannot cancel"}},
                                status_code=409)
        if order.status != "CANCELED":
            order.history.append((now, "CANCELED"))
        return JSONResponse({"cancelled": True})

    async def _rest_inventory(self, request: Request, now: datetime) -> Response:
        self.calls["rest:stock"] += 1
        warehouse = request.query_params.get("warehouse", "")
        skus = [sku for sku in request.query_params.get("skus", "").split(",") if sku]
        items = [{"sku": sku, "onHand": max(0, self.inventory[(warehouse, sku)] + self.profile.stock_drift.get(sku, 0))}
                 for sku in dict.fromkeys(skus) if (warehouse, sku) in self.inventory]
        return JSONResponse({"items": items})

    async def _reset(self, _request: Request) -> Response:
        self.reset()
        return JSONResponse({"reset": True})


def _leaving(order: SimOrder, quantities: Mapping[str, int] | None) -> dict[str, int]:
    """Units leaving per order line: every planned unit, or ``quantities`` per SKU spread over its lines."""
    if quantities is None:
        return {no: qty for no, _, qty in order.lines}
    left = dict(quantities)
    unknown = set(left) - {sku for _, sku, _ in order.lines}
    if unknown:
        raise ValueError(f"quantities.{sorted(unknown)[0]}: not on delivery order {order.code}")
    leaving = {}
    for no, sku, qty in order.lines:
        units = left.get(sku, 0)
        if isinstance(units, bool) or not isinstance(units, int) or units < 0:
            raise ValueError(f"quantities.{sku}: whole units, 0 or more")
        leaving[no] = min(units, qty)
        left[sku] = units - leaving[no]
    over = [sku for sku, units in left.items() if units > 0]
    if over:
        raise ValueError(f"quantities.{over[0]}: more than planned on {order.code}")
    return leaving


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    """Decimals from ``wire.load_json`` back to floats for the few fault rates that are fractions."""
    return json.loads(json.dumps(data, default=float))


def _xml(body: bytes) -> Response:
    return Response(body, media_type=qw.CONTENT_TYPE)


def load_profile(path: str) -> Profile:
    """A fault profile from a JSON file (``ValueError`` naming what is wrong)."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror}") from None
    except ValueError as error:
        raise ValueError(f"{path} is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object of faults")
    return Profile.read(data)


def run(host: str, port: int, simulator: WmsSimulator | None = None) -> None:
    """Serve the simulator with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run((simulator or WmsSimulator()).app, host=host, port=port, log_level="warning")
