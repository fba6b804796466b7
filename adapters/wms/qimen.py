"""A WMS that speaks the Qimen (奇门) standard interface, as the port ``domain.federation.ports.WmsPort``.

Connection config (``SystemConnection.config``, adapter ``qimen``)::

    router_url   the Qimen router (or the WMS's own Qimen endpoint), http(s)     required
    app_key      the app key the WMS account knows us by                          required
    app_secret   the shared secret requests and callbacks are signed with         required
    customer_id  ``customerId``: routes each call to the merchant's WMS account   required
    sign_method  md5 (default) | hmac | hmac-sha256
    owner_code   ``ownerCode`` (货主编码) for cancels, queries and stock           optional
    order_type   delivery order type, JYCK (一般交易出库, default)
    timeout      seconds per HTTP attempt (5); retries (2) for idempotent calls
    inventory_batch      criteria per ``inventory.query`` (100)
    query_concurrency    ``deliveryorder.query`` calls in flight (8); the interface asks one order per call
    duplicate_codes / not_found_codes   the WMS's codes for "already exists" / "no such order"

Calls: ``deliveryorder.create`` (idempotent by ``deliveryOrderCode``: a WMS
that already has the code answers a duplicate, which counts as success),
``order.cancel`` (a refusal, e.g. already shipped, is ``SystemRefused`` with
the WMS's message; an order the WMS never received counts as cancelled),
``deliveryorder.query`` and ``inventory.query`` (only ``ZP``, sellable stock).
Callbacks: ``deliveryorder.confirm`` and ``stockchange.report``, signed the
same way as requests; ``stockchange.report`` items of non-sellable inventory
types (``CC`` defective, ``JS``/``XS`` damaged, ``ZT`` in transit) are not
stock the ledger counts and are left out (the evidence keeps the whole body).
Every exchange is redacted: receiver names, phones and addresses masked,
``sign`` starred.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from adapters.system_http import SystemClient, redact_xml
from adapters.wms import qimen_wire as qw
from domain.federation.ports import (
    Callback,
    CallbackRefused,
    DeliveryConfirmation,
    DeliveryRequest,
    DeliveryState,
    Exchange,
    Parcel,
    PushResult,
    StockChange,
    StockFigure,
    SystemRefused,
    SystemUnavailable,
    WmsStatus,
)

ADAPTER = "qimen"
REQUIRED = ("router_url", "app_key", "app_secret", "customer_id")
OPTIONAL = ("sign_method", "owner_code", "order_type", "timeout", "retries", "inventory_batch", "query_concurrency",
            "duplicate_codes", "not_found_codes", "name")
#: Qimen delivery order statuses (出库单状态) onto ours; PARTDELIVERED keeps its raw code and shipped quantities.
STATUSES: dict[str, WmsStatus] = {
    "NEW": WmsStatus.NEW, "ACCEPT": WmsStatus.ACCEPTED, "PRINT": WmsStatus.PICKING, "PICK": WmsStatus.PICKING,
    "CHECK": WmsStatus.PACKED, "PACKAGE": WmsStatus.PACKED, "WEIGH": WmsStatus.PACKED, "READY": WmsStatus.PACKED,
    "DELIVERED": WmsStatus.SHIPPED, "PARTDELIVERED": WmsStatus.SHIPPED, "EXCEPTION": WmsStatus.EXCEPTION,
    "REJECT": WmsStatus.EXCEPTION, "CANCELEDFAIL": WmsStatus.EXCEPTION, "CANCELED": WmsStatus.CANCELLED,
    "CLOSED": WmsStatus.CANCELLED,
}
SELLABLE = "ZP"
_DUPLICATE_HINTS = re.compile(r"已存在|重复|already exists?|duplicate", re.I)
_NOT_FOUND_HINTS = re.compile(r"不存在|未找到|not exists?|not found|no such", re.I)
_CODE = re.compile(r"^[\w.\-:/]{1,64}$")


@dataclass(frozen=True, slots=True)
class QimenConfig:
    router_url: str
    app_key: str
    app_secret: str
    customer_id: str
    sign_method: str = "md5"
    owner_code: str = ""
    order_type: str = "JYCK"
    timeout: float = 5.0
    retries: int = 2
    inventory_batch: int = 100
    query_concurrency: int = 8
    duplicate_codes: tuple[str, ...] = ("ORDER_EXIST", "DUPLICATE_ORDER")
    not_found_codes: tuple[str, ...] = ("ORDER_NOT_EXIST", "ORDER_NOT_FOUND")

    @classmethod
    def read(cls, config: Mapping[str, Any]) -> QimenConfig:
        """The config, or ``ValueError`` naming the first bad key."""
        for key in REQUIRED:
            value = config.get(key)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{key}: required text")
        unknown = sorted(set(config) - set(REQUIRED) - set(OPTIONAL))
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown key for a qimen connection")
        url = urlsplit(config["router_url"].strip())
        if url.scheme not in ("http", "https") or not url.netloc or url.query or url.fragment:
            raise ValueError("router_url: an http(s) URL without a query string, "
                             "e.g. https://qimen.api.taobao.com/router/qimen/service")
        sign_method = str(config.get("sign_method") or "md5")
        if sign_method not in qw.SIGN_METHODS:
            raise ValueError(f"sign_method: one of {', '.join(qw.SIGN_METHODS)}")
        values: dict[str, Any] = {key: config[key].strip() for key in REQUIRED}
        values["sign_method"] = sign_method
        for key in ("owner_code", "order_type"):
            if key in config:
                if not isinstance(config[key], str) or len(config[key]) > 64:
                    raise ValueError(f"{key}: text of at most 64 characters")
                values[key] = config[key].strip() or getattr(cls, key)
        for key, low, high in (("timeout", 0.1, 120.0), ("retries", 0, 5), ("inventory_batch", 1, 500),
                               ("query_concurrency", 1, 64)):
            if key in config:
                value = config[key]
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                    raise ValueError(f"{key}: a number from {low} to {high}")
                values[key] = value if key == "timeout" else int(value)
        for key in ("duplicate_codes", "not_found_codes"):
            if key in config:
                codes = config[key]
                if not isinstance(codes, list) or not all(isinstance(c, str) and c for c in codes):
                    raise ValueError(f"{key}: a list of the WMS's error codes")
                values[key] = tuple(codes)
        return cls(**values)


class QimenWms:
    """One Qimen WMS connection (see the module docstring)."""

    def __init__(self, config: Mapping[str, Any], *, key: str) -> None:
        self.config = QimenConfig.read(config)
        url = urlsplit(self.config.router_url)
        # The router's own path goes with each call: a client rooted at it would add a trailing slash.
        self.path = url.path or "/"
        self.client = SystemClient("wms", f"{url.scheme}://{url.netloc}", key=key, timeout=self.config.timeout,
                                   retries=self.config.retries)

    # -------------------------------------------------------------- calls

    async def _call(self, operation: str, body: bytes, *, idempotent: bool, trace: list[Exchange]) -> qw.Answer:
        """One signed call; the envelope read, or ``SystemUnavailable`` / ``SystemRefused`` when there is none."""
        config = self.config
        params = qw.system_params(qw.PREFIX + operation, app_key=config.app_key, customer_id=config.customer_id,
                                  secret=config.app_secret, body=body, sign_method=config.sign_method)
        shown = f"{config.router_url}?{urlencode({**params, 'sign': '***'})}"
        response = await self.client.send(operation, "POST", self.path, body=body,
                                          headers={"content-type": qw.CONTENT_TYPE}, params=params,
                                          idempotent=idempotent, trace=trace, redact=redact_xml, shown_url=shown)
        try:
            return qw.read_answer(response.content)
        except qw.XmlError as error:
            if 400 <= response.status_code < 500:
                raise SystemRefused(f"WMS {operation}: HTTP {response.status_code}", code=f"HTTP_{response.status_code}") from None
            raise SystemUnavailable(f"WMS {operation}: unreadable answer ({error.message})", code="UNREADABLE") from None

    def _is(self, answer: qw.Answer, codes: tuple[str, ...], hints: re.Pattern[str]) -> bool:
        return answer.code in codes or bool(hints.search(answer.message))

    async def push_delivery(self, request: DeliveryRequest, *, trace: list[Exchange]) -> PushResult:
        config = self.config
        receiver = request.receiver
        body = qw.to_xml("request", {
            "deliveryOrder": {
                "deliveryOrderCode": request.code,
                "orderType": config.order_type,
                "warehouseCode": request.warehouse_code,
                "sourcePlatformCode": "OTHER",
                "createTime": qw.timestamp(request.placed_at),
                "placeOrderTime": qw.timestamp(request.placed_at),
                "operateTime": qw.timestamp(),
                "shopNick": request.shop,
                "buyerMessage": "",
                "remark": request.remark,
                "receiverInfo": {
                    "name": receiver.name, "mobile": receiver.phone, "province": receiver.province,
                    "city": receiver.city, "area": receiver.district, "detailAddress": receiver.address,
                    "zipCode": receiver.postal_code, "countryCode": receiver.country_code,
                },
                "extendProps": {"orderNo": request.order_no},
            },
            "orderLines": {"orderLine": [
                {"orderLineNo": line.line_ref, "ownerCode": request.owner_code or config.owner_code,
                 "itemCode": line.sku, "itemName": line.title, "planQty": line.quantity}
                for line in request.lines
            ]},
        })
        answer = await self._call(qw.DELIVERY_CREATE, body, idempotent=True, trace=trace)
        wms_id = qw.text(answer.root, "deliveryOrderId")
        duplicate = self._is(answer, config.duplicate_codes, _DUPLICATE_HINTS)
        if answer.success:
            return PushResult(wms_order_id=wms_id, duplicate=duplicate)
        if duplicate:
            return PushResult(wms_order_id=wms_id, duplicate=True)
        raise SystemRefused(answer.message or f"deliveryorder.create refused ({answer.code})", code=answer.code)

    async def cancel_delivery(self, code: str, warehouse_code: str, *, reason: str, trace: list[Exchange]) -> None:
        body = qw.to_xml("request", {
            "warehouseCode": warehouse_code, "ownerCode": self.config.owner_code, "orderCode": code,
            "orderType": self.config.order_type, "cancelReason": reason[:200],
        })
        answer = await self._call(qw.ORDER_CANCEL, body, idempotent=True, trace=trace)
        if answer.success or self._is(answer, self.config.not_found_codes, _NOT_FOUND_HINTS):
            return None  # cancelled, or the WMS never had it: nothing will leave
        raise SystemRefused(answer.message or f"order.cancel refused ({answer.code})", code=answer.code)

    async def delivery_states(self, codes: Sequence[str], warehouse_code: str, *,
                              trace: list[Exchange]) -> dict[str, DeliveryState]:
        """One ``deliveryorder.query`` per code (the interface takes one), ``query_concurrency`` at a time."""
        gate = asyncio.Semaphore(self.config.query_concurrency)
        traces: dict[str, list[Exchange]] = {code: [] for code in codes}

        async def one(code: str) -> DeliveryState:
            async with gate:
                return await self._state(code, warehouse_code, traces[code])

        try:
            states = await asyncio.gather(*(one(code) for code in dict.fromkeys(codes)))
        finally:
            for code in dict.fromkeys(codes):
                trace.extend(traces[code])
        return {state.code: state for state in states}

    async def _state(self, code: str, warehouse_code: str, trace: list[Exchange]) -> DeliveryState:
        body = qw.to_xml("request", {"deliveryOrderCode": code, "warehouseCode": warehouse_code,
                                     "ownerCode": self.config.owner_code})
        answer = await self._call(qw.DELIVERY_QUERY, body, idempotent=True, trace=trace)
        if not answer.success:
            if self._is(answer, self.config.not_found_codes, _NOT_FOUND_HINTS):
                return DeliveryState(code=code, status=WmsStatus.UNKNOWN, raw_status="")
            raise SystemRefused(answer.message or f"deliveryorder.query refused ({answer.code})", code=answer.code)
        order = answer.root.find("deliveryOrder")
        raw = qw.text(order, "status").upper()
        try:
            parcels = tuple(_parcels(answer.root))
            shipped = _shipped(answer.root)
            updated = _optional_time(order, "operateTime") or _optional_time(order, "orderConfirmTime")
        except qw.XmlError as error:
            raise SystemUnavailable(f"WMS deliveryorder.query: unreadable answer ({error.field}: {error.message})",
                                    code="UNREADABLE") from None
        return DeliveryState(code=code, status=STATUSES.get(raw, WmsStatus.EXCEPTION), raw_status=raw,
                             shipped=shipped, parcels=parcels, updated_at=updated)

    async def stock(self, warehouse_code: str, skus: Sequence[str], *, trace: list[Exchange]) -> dict[str, StockFigure]:
        """Sellable (``ZP``) on-hand and available per SKU the WMS reports, ``inventory_batch`` SKUs per call."""
        wanted = list(dict.fromkeys(skus))
        figures: dict[str, StockFigure] = {}
        now = datetime.now(UTC)
        for start in range(0, len(wanted), self.config.inventory_batch):
            batch = wanted[start:start + self.config.inventory_batch]
            body = qw.to_xml("request", {"criteriaList": {"criteria": [
                {"warehouseCode": warehouse_code, "ownerCode": self.config.owner_code, "itemCode": sku,
                 "inventoryType": SELLABLE} for sku in batch]}})
            answer = await self._call(qw.INVENTORY_QUERY, body, idempotent=True, trace=trace)
            if not answer.success:
                raise SystemRefused(answer.message or f"inventory.query refused ({answer.code})", code=answer.code)
            on_hand: dict[str, int] = defaultdict(int)
            locked: dict[str, int] = defaultdict(int)
            try:
                for index, item in qw.items(answer.root, "items/item"):
                    if (qw.text(item, "inventoryType") or SELLABLE) != SELLABLE:
                        continue
                    sku = qw.text(item, "itemCode")
                    if sku not in batch:
                        continue
                    where = f"items/item[{index}]/"
                    on_hand[sku] += qw.quantity(item, "quantity", where)
                    locked[sku] += qw.quantity(item, "lockQuantity", where, default=0)
            except qw.XmlError as error:
                raise SystemUnavailable(f"WMS inventory.query: unreadable answer ({error.field}: {error.message})",
                                        code="UNREADABLE") from None
            for sku, quantity in on_hand.items():
                figures[sku] = StockFigure(sku=sku, on_hand=quantity, available=quantity - locked[sku], as_of=now)
        return figures

    # -------------------------------------------------------------- callbacks

    def read_callback(self, body: bytes, headers: Mapping[str, str], query: Mapping[str, str]) -> Callback:
        params = {key: str(value) for key, value in query.items()}
        if not params.get("sign"):
            raise CallbackRefused("unsigned: the sign parameter is missing", status=401, field="sign")
        if params.get("app_key") != self.config.app_key:
            raise CallbackRefused("app_key is not this connection's", status=401, field="app_key")
        if params.get("customerId") and params["customerId"] != self.config.customer_id:
            raise CallbackRefused("customerId is not this connection's", status=401, field="customerId")
        if (params.get("sign_method") or "md5") not in qw.SIGN_METHODS:
            raise CallbackRefused(f"sign_method is one of {', '.join(qw.SIGN_METHODS)}", status=401, field="sign_method")
        if not qw.signature_matches(params, body, self.config.app_secret):
            raise CallbackRefused("signature does not match", status=401, field="sign")
        operation = qw.short_method(params.get("method", ""))
        evidence = redact_xml(body.decode("utf-8", "replace"))
        try:
            request = qw.parse(body, "request")
            if operation == qw.DELIVERY_CONFIRM:
                return Callback(confirmations=(_confirmation(request),), operation=operation, evidence=evidence)
            if operation == qw.STOCK_CHANGE:
                return Callback(stock_changes=tuple(_stock_changes(request)), operation=operation, evidence=evidence)
        except qw.XmlError as error:
            status = 400 if error.field == "$" else 422
            raise CallbackRefused(error.message, status=status, field=error.field) from None
        raise CallbackRefused(f"method {params.get('method', '')[:60]!r} is not handled here "
                              f"(deliveryorder.confirm and stockchange.report are)", status=400, field="method")

    def reply(self, success: bool, message: str) -> tuple[str, bytes]:
        return qw.CONTENT_TYPE, qw.response_xml(success, "0" if success else "1", message[:200])


# ------------------------------------------------------------------ reading documents


def _optional_time(element: Any, path: str) -> datetime | None:
    return qw.china_time(element, path) if element is not None and qw.text(element, path) else None


def _parcels(root: Any, where: str = "") -> list[Parcel]:
    parcels = []
    for index, package in qw.items(root, "packages/package"):
        at = f"{where}packages/package[{index}]/"
        carrier = qw.text(package, "logisticsCode") or qw.text(package, "logisticsName")
        if not carrier:
            raise qw.XmlError("a package without logisticsCode", f"{at}logisticsCode")
        number = qw.required(package, "expressCode", at)
        if not _CODE.match(number):
            raise qw.XmlError("expressCode has characters a waybill number cannot have", f"{at}expressCode")
        parcels.append(Parcel(carrier=carrier[:32], tracking_no=number))
    return parcels


def _shipped(root: Any, where: str = "") -> dict[str, int]:
    """Units shipped per SKU: the order lines' ``actualQty``, else what the packages hold."""
    shipped: dict[str, int] = defaultdict(int)
    lines = list(qw.items(root, "orderLines/orderLine"))
    for index, line in lines:
        at = f"{where}orderLines/orderLine[{index}]/"
        shipped[qw.required(line, "itemCode", at)] += qw.quantity(line, "actualQty", at)
    if not lines:
        for p_index, package in qw.items(root, "packages/package"):
            for i_index, item in qw.items(package, "items/item"):
                at = f"{where}packages/package[{p_index}]/items/item[{i_index}]/"
                shipped[qw.required(item, "itemCode", at)] += qw.quantity(item, "quantity", at)
    return dict(shipped)


def _confirmation(request: Any) -> DeliveryConfirmation:
    order = request.find("deliveryOrder")
    if order is None:
        raise qw.XmlError("required element is missing", "deliveryOrder")
    code = qw.required(order, "deliveryOrderCode", "deliveryOrder/")
    confirm_type = qw.text(order, "confirmType") or "0"
    if confirm_type not in ("0", "1"):
        raise qw.XmlError("confirmType is 0 (final) or 1 (partial)", "deliveryOrder/confirmType")
    parcels = tuple(_parcels(request))
    if not parcels:
        raise qw.XmlError("a confirmation names at least one package with its waybill", "packages")
    return DeliveryConfirmation(
        code=code,
        wms_order_id=qw.text(order, "deliveryOrderId")[:64],
        warehouse_code=qw.required(order, "warehouseCode", "deliveryOrder/"),
        parcels=parcels,
        shipped=_shipped(request),
        confirmed_at=qw.china_time(order, "orderConfirmTime", "deliveryOrder/", default=datetime.now(UTC)),
        final=confirm_type == "0",
    )


def _stock_changes(request: Any) -> list[StockChange]:
    found = list(qw.items(request, "items/item"))
    if not found:
        raise qw.XmlError("a stock change report lists at least one item", "items/item")
    changes: dict[tuple[str, str, str], StockChange] = {}
    for index, item in found:
        at = f"items/item[{index}]/"
        warehouse = qw.required(item, "warehouseCode", at)
        sku = qw.required(item, "itemCode", at)
        reference = qw.required(item, "outBizCode", at)
        quantity = qw.quantity(item, "quantity", at, signed=True)
        if quantity == 0:
            raise qw.XmlError("a stock change of 0 units", f"{at}quantity")
        if (qw.text(item, "inventoryType") or SELLABLE).upper() != SELLABLE:
            continue
        reason = " ".join(part for part in (qw.text(item, "orderType"), qw.text(item, "changeType"),
                                            qw.text(item, "orderCode")) if part)[:200]
        occurred = qw.china_time(item, "changeTime", at, default=datetime.now(UTC))
        key = (warehouse, sku, reference)
        if key in changes:  # batches of one SKU in one message: one change
            previous = changes[key]
            quantity += previous.quantity
        changes[key] = StockChange(warehouse_code=warehouse, sku=sku, quantity=quantity, reason=reason,
                                   reference=reference, occurred_at=occurred)
    return list(changes.values())
