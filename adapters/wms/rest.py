"""Any JSON-over-HTTP WMS, described as data: URLs, request field names and JMESPath maps of its answers.

Connection config (adapter ``rest_wms``); every section has defaults, so a
WMS that speaks the default shape needs only ``base_url`` and its secrets::

    base_url          http(s) root of the WMS API                                   required
    token             sent as ``auth_header`` (default ``Authorization``), e.g. "Bearer …"
    secret            callbacks carry hex HMAC-SHA256(secret, raw body) in ``signature_header``
                      (default ``X-Signature``); required. ``token`` and ``secret`` never leave
                      the database (lineage and queries show ``***``)
    time_format       iso (default) | unix | china — how the WMS writes times
    timeout, retries, batch_size (codes or SKUs per query call, 50)
    operations        {push|cancel|states|stock: {"method": "POST", "path": "/delivery-orders/{code}/cancel"}};
                      ``states`` and ``stock`` pass codes / SKUs comma-joined in ``codes_param`` / ``skus_param``
                      (and the warehouse in ``warehouse_param``)
    request           {push|cancel: {"output.path": "source"}}: the body we send, field by field.
                      Sources: code, order_no, warehouse_code, owner_code, placed_at, shop, remark,
                      receiver.(name|phone|province|city|district|address|postal_code|country_code),
                      lines (a list) with line.(line_ref|sku|quantity|title) under it, reason (cancel)
    response          JMESPath per field of what the WMS answers and calls back (see ``RESPONSE``)
    statuses          the WMS's delivery status codes onto NEW, ACCEPTED, PICKING, PACKED, SHIPPED,
                      CANCELLED, EXCEPTION
    callback_kinds    {"confirm": "delivery.shipped", "stock": "stock.changed"}: values of ``callback.kind``

Answers: 2xx is success; ``409`` to a push is "already have it" (a retry after
a lost answer: success); ``404`` to a cancel is "never had it" (nothing to
cancel); other 4xx are refusals with the WMS's ``error.message``; 5xx and
timeouts are ``SystemUnavailable`` (retried by the transport for idempotent calls).
``Systems.check`` refuses a config naming the bad key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlsplit

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult

from adapters import wire
from adapters.reader import is_missing
from adapters.system_http import SystemClient, redact_json
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
from domain.inbound.normalized import PayloadError

ADAPTER = "rest_wms"
TOP_KEYS = frozenset({"base_url", "token", "auth_header", "secret", "signature_header", "time_format",
                      "timeout", "retries", "batch_size", "operations", "request", "response", "statuses",
                      "callback_kinds", "name"})
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
OPERATIONS: dict[str, dict[str, str]] = {
    "push": {"method": "POST", "path": "/delivery-orders"},
    "cancel": {"method": "POST", "path": "/delivery-orders/{code}/cancel"},
    "states": {"method": "GET", "path": "/delivery-orders", "codes_param": "codes", "warehouse_param": "warehouse"},
    "stock": {"method": "GET", "path": "/inventory", "skus_param": "skus", "warehouse_param": "warehouse"},
}
_OPERATION_KEYS = frozenset({"method", "path", "codes_param", "skus_param", "warehouse_param"})
SOURCES = frozenset({"code", "order_no", "warehouse_code", "owner_code", "placed_at", "shop", "remark", "lines",
                     "receiver.name", "receiver.phone", "receiver.province", "receiver.city", "receiver.district",
                     "receiver.address", "receiver.postal_code", "receiver.country_code", "reason"})
LINE_SOURCES = frozenset({"line.line_ref", "line.sku", "line.quantity", "line.title"})
REQUEST: dict[str, dict[str, str]] = {
    "push": {
        "code": "code", "orderNo": "order_no", "warehouseCode": "warehouse_code", "ownerCode": "owner_code",
        "placedAt": "placed_at", "shop": "shop", "remark": "remark",
        "receiver.name": "receiver.name", "receiver.phone": "receiver.phone",
        "receiver.province": "receiver.province", "receiver.city": "receiver.city",
        "receiver.district": "receiver.district", "receiver.address": "receiver.address",
        "receiver.postalCode": "receiver.postal_code", "receiver.countryCode": "receiver.country_code",
        "lines": "lines", "lines.lineRef": "line.line_ref", "lines.sku": "line.sku",
        "lines.quantity": "line.quantity", "lines.title": "line.title",
    },
    "cancel": {"code": "code", "warehouseCode": "warehouse_code", "reason": "reason"},
}
#: Response and callback fields (JMESPath over the decoded JSON); ``None``: not read unless configured.
RESPONSE: dict[str, str | None] = {
    "push.wms_order_id": "id", "push.duplicate": "duplicate",
    "error.code": "error.code", "error.message": "error.message",
    "states.list": "orders", "state.code": "code", "state.status": "status", "state.updated_at": "updatedAt",
    "state.parcels": "parcels", "parcel.carrier": "carrier", "parcel.tracking_no": "trackingNo",
    "state.lines": "lines", "line.sku": "sku", "line.shipped": "shipped",
    "stock.list": "items", "stock.sku": "sku", "stock.on_hand": "onHand", "stock.available": "available",
    "callback.kind": "event",
    "confirm.code": "code", "confirm.wms_order_id": "wmsOrderId", "confirm.warehouse_code": "warehouseCode",
    "confirm.parcels": "parcels", "confirm.lines": "lines", "confirm.confirmed_at": "shippedAt",
    "confirm.final": "final",
    "change.list": "changes", "change.warehouse_code": "warehouseCode", "change.sku": "sku",
    "change.quantity": "quantity", "change.reason": "reason", "change.reference": "reference",
    "change.occurred_at": "occurredAt",
}
STATUSES: dict[str, str] = {"NEW": "NEW", "ACCEPTED": "ACCEPTED", "PICKING": "PICKING", "PACKED": "PACKED",
                            "SHIPPED": "SHIPPED", "CANCELLED": "CANCELLED", "EXCEPTION": "EXCEPTION"}
CALLBACK_KINDS = {"confirm": "delivery.shipped", "stock": "stock.changed"}


@lru_cache(maxsize=2048)
def _compile(expression: str) -> ParsedResult:
    return jmespath.compile(expression)


def _section(config: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = config.get(name) or {}
    if not isinstance(value, Mapping):
        raise ValueError(f"{name}: an object")
    return value


@dataclass(frozen=True, slots=True)
class RestConfig:
    base_url: str
    secret: str
    token: str = ""
    auth_header: str = "Authorization"
    signature_header: str = "X-Signature"
    time_format: str = "iso"
    timeout: float = 5.0
    retries: int = 2
    batch_size: int = 50
    operations: dict[str, dict[str, str]] = field(default_factory=dict)
    request: dict[str, dict[str, str]] = field(default_factory=dict)
    response: dict[str, str | None] = field(default_factory=dict)
    statuses: dict[str, WmsStatus] = field(default_factory=dict)
    callback_kinds: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, config: Mapping[str, Any]) -> RestConfig:
        """The config with defaults filled in, or ``ValueError`` naming the first bad key."""
        unknown = sorted(set(config) - TOP_KEYS)
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown key for a rest_wms connection")
        base = config.get("base_url")
        if not isinstance(base, str) or urlsplit(base.strip()).scheme not in ("http", "https") \
                or not urlsplit(base.strip()).netloc:
            raise ValueError("base_url: an http(s) URL, e.g. https://wms.example.com/api")
        secret = config.get("secret")
        if not isinstance(secret, str) or len(secret) < 8:
            raise ValueError("secret: required, at least 8 characters (callbacks are signed with it)")
        values: dict[str, Any] = {"base_url": base.strip().rstrip("/"), "secret": secret}
        for key in ("token", "auth_header", "signature_header"):
            if key in config:
                if not isinstance(config[key], str) or len(config[key]) > 2000:
                    raise ValueError(f"{key}: text")
                values[key] = config[key]
        fmt = config.get("time_format", "iso")
        if fmt not in ("iso", "unix", "china"):
            raise ValueError("time_format: iso, unix or china")
        values["time_format"] = fmt
        for key, low, high in (("timeout", 0.1, 120.0), ("retries", 0, 5), ("batch_size", 1, 500)):
            if key in config:
                value = config[key]
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                    raise ValueError(f"{key}: a number from {low} to {high}")
                values[key] = value if key == "timeout" else int(value)
        values["operations"] = _operations(_section(config, "operations"))
        values["request"] = _requests(_section(config, "request"))
        values["response"] = _responses(_section(config, "response"))
        statuses = _section(config, "statuses") or STATUSES
        mapped: dict[str, WmsStatus] = {}
        for code, ours in statuses.items():
            if not isinstance(ours, str) or ours not in WmsStatus.__members__ or ours == "UNKNOWN":
                raise ValueError(f"statuses.{code}: one of NEW, ACCEPTED, PICKING, PACKED, SHIPPED, CANCELLED, EXCEPTION")
            mapped[str(code)] = WmsStatus[ours]
        values["statuses"] = mapped
        kinds = {**CALLBACK_KINDS, **_section(config, "callback_kinds")}
        if set(kinds) != set(CALLBACK_KINDS) or not all(isinstance(v, str) and v for v in kinds.values()):
            raise ValueError("callback_kinds: {\"confirm\": \"…\", \"stock\": \"…\"}")
        values["callback_kinds"] = kinds
        return cls(**values)


def _operations(given: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    result = {name: dict(spec) for name, spec in OPERATIONS.items()}
    for name, spec in given.items():
        if name not in OPERATIONS:
            raise ValueError(f"operations.{name}: unknown operation (push, cancel, states, stock)")
        if not isinstance(spec, Mapping):
            raise ValueError(f"operations.{name}: an object with method and path")
        for key, value in spec.items():
            if key not in _OPERATION_KEYS or not isinstance(value, str):
                raise ValueError(f"operations.{name}.{key}: unknown key or not text")
        merged = {**result[name], **spec}
        if merged["method"].upper() not in METHODS:
            raise ValueError(f"operations.{name}.method: one of {', '.join(METHODS)}")
        if not merged["path"].startswith("/"):
            raise ValueError(f"operations.{name}.path: starts with /")
        merged["method"] = merged["method"].upper()
        result[name] = merged
    return result


def _requests(given: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    result = {name: dict(fields) for name, fields in REQUEST.items()}
    for name, fields in given.items():
        if name not in REQUEST:
            raise ValueError(f"request.{name}: unknown body (push, cancel)")
        if not isinstance(fields, Mapping) or not fields:
            raise ValueError(f"request.{name}: an object of output field -> source")
        list_paths = [path for path, source in fields.items() if source == "lines"]
        for path, source in fields.items():
            where = f"request.{name}.{path}"
            if not isinstance(source, str) or not path or any(not part for part in str(path).split(".")):
                raise ValueError(f"{where}: a dotted output path and a source name")
            if source in LINE_SOURCES:
                if not any(str(path).startswith(f"{lines}.") for lines in list_paths):
                    raise ValueError(f"{where}: {source} belongs under the path mapped to lines")
            elif source not in SOURCES:
                raise ValueError(f"{where}: unknown source {source!r}")
        result[name] = dict(fields)
    return result


def _responses(given: Mapping[str, Any]) -> dict[str, str | None]:
    result = dict(RESPONSE)
    for key, expression in given.items():
        if key not in RESPONSE:
            raise ValueError(f"response.{key}: unknown field")
        if expression is not None and not isinstance(expression, str):
            raise ValueError(f"response.{key}: a JMESPath expression")
        if expression:
            try:
                _compile(expression)
            except JMESPathError as error:
                raise ValueError(f"response.{key}: bad JMESPath {expression!r} ({error})") from None
        result[key] = expression or None
    return result


# ------------------------------------------------------------------ the body we send


def _set(target: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value


def build_body(fields: Mapping[str, str], values: Mapping[str, Any], lines: Sequence[Mapping[str, Any]] = ()) -> dict:
    """The request body: each output path set from its source; line sources once per line under the list path."""
    body: dict[str, Any] = {}
    list_paths = [path for path, source in fields.items() if source == "lines"]
    for path, source in fields.items():
        if source == "lines" or source in LINE_SOURCES:
            continue
        if values.get(source) not in (None, ""):
            _set(body, path, values[source])
    for list_path in list_paths:
        items = []
        for line in lines:
            item: dict[str, Any] = {}
            for path, source in fields.items():
                if source in LINE_SOURCES and path.startswith(f"{list_path}."):
                    _set(item, path[len(list_path) + 1:], line[source])
            items.append(item)
        _set(body, list_path, items)
    return body


class RestWms:
    """One REST WMS connection (see the module docstring)."""

    def __init__(self, config: Mapping[str, Any], *, key: str) -> None:
        self.config = RestConfig.read(config)
        self.client = SystemClient("wms", self.config.base_url, key=key, timeout=self.config.timeout,
                                   retries=self.config.retries)

    # -------------------------------------------------------------- helpers

    def _headers(self) -> dict[str, str]:
        headers = {"content-type": "application/json", "accept": "application/json"}
        if self.config.token:
            headers[self.config.auth_header] = self.config.token
        return headers

    def _get(self, document: Any, key: str) -> Any:
        expression = self.config.response.get(key)
        return _compile(expression).search(document) if expression else None

    def _time(self, value: Any, where: str) -> datetime:
        return wire.timestamp(value, self.config.time_format, where)  # type: ignore[arg-type]

    async def _send(self, operation: str, path: str, *, body: Any = None, params: Mapping[str, str] | None = None,
                    idempotent: bool, trace: list[Exchange]) -> tuple[int, Any]:
        spec = self.config.operations[operation]
        content = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        response = await self.client.send(operation, spec["method"], path, body=content, headers=self._headers(),
                                          params=params, idempotent=idempotent, trace=trace, redact=redact_json)
        try:
            document = wire.load_json(response.content) if response.content.strip() else None
        except PayloadError:
            if response.status_code < 300:
                raise SystemUnavailable(f"WMS {operation}: the answer is not JSON", code="UNREADABLE") from None
            document = None
        return response.status_code, document

    def _refusal(self, operation: str, status: int, document: Any) -> SystemRefused:
        message = self._get(document, "error.message") if document is not None else None
        code = self._get(document, "error.code") if document is not None else None
        text = message if isinstance(message, str) and message else f"{operation} refused with HTTP {status}"
        return SystemRefused(text[:300], code=str(code) if code not in (None, "") else f"HTTP_{status}")

    # -------------------------------------------------------------- the port

    async def push_delivery(self, request: DeliveryRequest, *, trace: list[Exchange]) -> PushResult:
        receiver = request.receiver
        values = {
            "code": request.code, "order_no": request.order_no, "warehouse_code": request.warehouse_code,
            "owner_code": request.owner_code, "placed_at": _render_time(request.placed_at, self.config.time_format),
            "shop": request.shop, "remark": request.remark,
            **{f"receiver.{name}": getattr(receiver, name) for name in
               ("name", "phone", "province", "city", "district", "address", "postal_code", "country_code")},
        }
        lines = [{"line.line_ref": line.line_ref, "line.sku": line.sku, "line.quantity": line.quantity,
                  "line.title": line.title} for line in request.lines]
        body = build_body(self.config.request["push"], values, lines)
        path = self.config.operations["push"]["path"].replace("{code}", quote(request.code, safe=""))
        status, document = await self._send("push", path, body=body, idempotent=True, trace=trace)
        wms_id = self._get(document, "push.wms_order_id") if document is not None else None
        wms_id = str(wms_id)[:64] if wms_id not in (None, "") else ""
        if status == 409:
            _expected(trace)
            return PushResult(wms_order_id=wms_id, duplicate=True)
        if status >= 300:
            raise self._refusal("push", status, document)
        return PushResult(wms_order_id=wms_id, duplicate=self._get(document, "push.duplicate") is True)

    async def cancel_delivery(self, code: str, warehouse_code: str, *, reason: str, trace: list[Exchange]) -> None:
        body = build_body(self.config.request["cancel"],
                          {"code": code, "warehouse_code": warehouse_code, "reason": reason[:200]})
        path = self.config.operations["cancel"]["path"].replace("{code}", quote(code, safe=""))
        status, document = await self._send("cancel", path, body=body, idempotent=True, trace=trace)
        if status == 404:
            _expected(trace)
        if status < 300 or status == 404:
            return None
        raise self._refusal("cancel", status, document)

    async def delivery_states(self, codes: Sequence[str], warehouse_code: str, *,
                              trace: list[Exchange]) -> dict[str, DeliveryState]:
        spec = self.config.operations["states"]
        wanted = list(dict.fromkeys(codes))
        states: dict[str, DeliveryState] = {}
        for start in range(0, len(wanted), self.config.batch_size):
            batch = wanted[start:start + self.config.batch_size]
            params = {spec["codes_param"]: ",".join(batch)}
            if spec.get("warehouse_param"):
                params[spec["warehouse_param"]] = warehouse_code
            status, document = await self._send("states", spec["path"], params=params, idempotent=True, trace=trace)
            if status >= 300:
                raise self._refusal("states", status, document)
            try:
                for state in self._states(document):
                    if state.code in batch:
                        states[state.code] = state
            except PayloadError as error:
                raise SystemUnavailable(f"WMS states: unreadable answer ({error})", code="UNREADABLE") from None
        for code in wanted:
            states.setdefault(code, DeliveryState(code=code, status=WmsStatus.UNKNOWN, raw_status=""))
        return states

    def _states(self, document: Any) -> list[DeliveryState]:
        rows = self._get(document, "states.list")
        if not isinstance(rows, list):
            raise PayloadError("expected a list of delivery orders", field=f"states.list ({self.config.response['states.list']})")
        states = []
        for index, row in enumerate(rows):
            where = f"states.list[{index}]."
            code = wire.ident(self._get(row, "state.code"), f"{where}state.code")
            raw = wire.ident(self._get(row, "state.status"), f"{where}state.status")
            updated = self._get(row, "state.updated_at")
            states.append(DeliveryState(
                code=code, status=self.config.statuses.get(raw, WmsStatus.EXCEPTION), raw_status=raw[:32],
                shipped=self._quantities(row, "state.lines", "line.shipped", where),
                parcels=tuple(self._parcels(row, "state.parcels", where)),
                updated_at=None if is_missing(updated) else self._time(updated, f"{where}state.updated_at")))
        return states

    def _quantities(self, row: Any, list_key: str, quantity_key: str, where: str) -> dict[str, int]:
        lines = self._get(row, list_key)
        if is_missing(lines):
            return {}
        if not isinstance(lines, list):
            raise PayloadError("expected a list of lines", field=f"{where}{list_key}")
        shipped: dict[str, int] = {}
        for index, line in enumerate(lines):
            at = f"{where}{list_key}[{index}]."
            sku = wire.ident(self._get(line, "line.sku"), f"{at}line.sku")
            shipped[sku] = shipped.get(sku, 0) + wire.count(self._get(line, quantity_key), f"{at}{quantity_key}")
        return shipped

    def _parcels(self, row: Any, list_key: str, where: str) -> list[Parcel]:
        parcels = self._get(row, list_key)
        if is_missing(parcels):
            return []
        if not isinstance(parcels, list):
            raise PayloadError("expected a list of parcels", field=f"{where}{list_key}")
        return [Parcel(carrier=wire.ident(self._get(parcel, "parcel.carrier"), f"{where}{list_key}[{i}].parcel.carrier")[:32],
                       tracking_no=wire.ident(self._get(parcel, "parcel.tracking_no"),
                                              f"{where}{list_key}[{i}].parcel.tracking_no")[:64])
                for i, parcel in enumerate(parcels)]

    async def stock(self, warehouse_code: str, skus: Sequence[str], *, trace: list[Exchange]) -> dict[str, StockFigure]:
        spec = self.config.operations["stock"]
        wanted = list(dict.fromkeys(skus))
        figures: dict[str, StockFigure] = {}
        now = datetime.now(UTC)
        for start in range(0, len(wanted), self.config.batch_size):
            batch = wanted[start:start + self.config.batch_size]
            params = {spec["skus_param"]: ",".join(batch)}
            if spec.get("warehouse_param"):
                params[spec["warehouse_param"]] = warehouse_code
            status, document = await self._send("stock", spec["path"], params=params, idempotent=True, trace=trace)
            if status >= 300:
                raise self._refusal("stock", status, document)
            rows = self._get(document, "stock.list")
            if not isinstance(rows, list):
                raise SystemUnavailable("WMS stock: the answer has no list of items", code="UNREADABLE")
            try:
                for index, row in enumerate(rows):
                    where = f"stock.list[{index}]."
                    sku = wire.ident(self._get(row, "stock.sku"), f"{where}stock.sku")
                    if sku not in batch:
                        continue
                    on_hand = wire.count(self._get(row, "stock.on_hand"), f"{where}stock.on_hand")
                    available = self._get(row, "stock.available")
                    figures[sku] = StockFigure(sku=sku, on_hand=on_hand, as_of=now,
                                               available=None if is_missing(available)
                                               else wire.integer(available, f"{where}stock.available"))
            except PayloadError as error:
                raise SystemUnavailable(f"WMS stock: unreadable answer ({error})", code="UNREADABLE") from None
        return figures

    # -------------------------------------------------------------- callbacks

    def read_callback(self, body: bytes, headers: Mapping[str, str], query: Mapping[str, str]) -> Callback:
        lowered = {key.lower(): value for key, value in headers.items()}
        given = lowered.get(self.config.signature_header.lower(), "").strip().lower()
        if not given:
            raise CallbackRefused(f"unsigned: the {self.config.signature_header} header is missing", status=401,
                                  field=self.config.signature_header)
        expected = hmac.new(self.config.secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), given.removeprefix("sha256=").encode()):
            raise CallbackRefused("signature does not match", status=401, field=self.config.signature_header)
        try:
            document = wire.load_json(body)
        except PayloadError as error:
            raise CallbackRefused(error.reason, status=400, field="$") from None
        if not isinstance(document, dict):
            raise CallbackRefused("expected a JSON object", status=400, field="$")
        evidence = redact_json(body.decode("utf-8", "replace"))
        kind = self._get(document, "callback.kind")
        try:
            if kind == self.config.callback_kinds["confirm"]:
                return Callback(confirmations=(self._confirmation(document),), operation=str(kind), evidence=evidence)
            if kind == self.config.callback_kinds["stock"]:
                return Callback(stock_changes=tuple(self._changes(document)), operation=str(kind), evidence=evidence)
        except PayloadError as error:
            raise CallbackRefused(error.reason, status=422, field=error.field) from None
        raise CallbackRefused(f"callback kind {str(kind)[:40]!r} is not handled here", status=422,
                              field=f"callback.kind ({self.config.response['callback.kind']})")

    def _confirmation(self, document: Any) -> DeliveryConfirmation:
        parcels = tuple(self._parcels(document, "confirm.parcels", ""))
        if not parcels:
            raise PayloadError("a confirmation names at least one parcel with its waybill", field="confirm.parcels")
        when = self._get(document, "confirm.confirmed_at")
        final = self._get(document, "confirm.final")
        wms_id = self._get(document, "confirm.wms_order_id")
        return DeliveryConfirmation(
            code=wire.ident(self._get(document, "confirm.code"), "confirm.code")[:64],
            wms_order_id="" if is_missing(wms_id) else wire.ident(wms_id, "confirm.wms_order_id")[:64],
            warehouse_code=wire.ident(self._get(document, "confirm.warehouse_code"), "confirm.warehouse_code")[:64],
            parcels=parcels,
            shipped=self._quantities(document, "confirm.lines", "line.shipped", ""),
            confirmed_at=datetime.now(UTC) if is_missing(when) else self._time(when, "confirm.confirmed_at"),
            final=True if final is None else wire.boolean(final, "confirm.final"),
        )

    def _changes(self, document: Any) -> list[StockChange]:
        rows = self._get(document, "change.list")
        if not isinstance(rows, list) or not rows:
            raise PayloadError("expected a non-empty list of stock changes", field="change.list")
        changes = []
        for index, row in enumerate(rows):
            where = f"change.list[{index}]."
            quantity = wire.integer(self._get(row, "change.quantity"), f"{where}change.quantity")
            if quantity == 0:
                raise PayloadError("a stock change of 0 units", field=f"{where}change.quantity")
            when = self._get(row, "change.occurred_at")
            reason = self._get(row, "change.reason")
            changes.append(StockChange(
                warehouse_code=wire.ident(self._get(row, "change.warehouse_code"), f"{where}change.warehouse_code")[:64],
                sku=wire.ident(self._get(row, "change.sku"), f"{where}change.sku")[:64],
                quantity=quantity,
                reason="" if is_missing(reason) else wire.text(reason, f"{where}change.reason")[:200],
                reference=wire.ident(self._get(row, "change.reference"), f"{where}change.reference")[:64],
                occurred_at=datetime.now(UTC) if is_missing(when) else self._time(when, f"{where}change.occurred_at"),
            ))
        return changes

    def reply(self, success: bool, message: str) -> tuple[str, bytes]:
        return "application/json", json.dumps({"success": success, "message": message[:200]},
                                              ensure_ascii=False).encode()


def _expected(trace: list[Exchange]) -> None:
    """A 409 to a retried push (or 404 to a cancel of what never arrived) is the answer we hoped for, not a failure."""
    if trace and trace[-1].outcome == "error" and trace[-1].status_code in (404, 409):
        trace[-1] = replace(trace[-1], outcome="ok", error="")


def _render_time(moment: datetime, fmt: str) -> Any:
    if fmt == "unix":
        return int(moment.timestamp())
    if fmt == "china":
        return moment.astimezone(wire.CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")
    return moment.astimezone(UTC).isoformat()
