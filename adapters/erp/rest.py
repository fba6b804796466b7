"""Any ERP with a JSON REST API, described as data: URLs, and JMESPath both ways, to its shapes and back to ours.

    {"base_url": "https://erp.example.com/api/", "token": "…", "auth_header": "Authorization", "auth_scheme": "Bearer",
     "refused_when": "code != `0`", "error_code": "to_string(code)", "error_message": "message",
     "operations": {
       "save_sales_order": {"method": "POST", "path": "/v1/sales-orders", "document_no": "data.number",
                            "body": "{orderNo: order_no, customer: customer_code, lines: lines[].{sku: sku, qty: quantity}}"},
       "sales_orders": {"path": "/v1/sales-orders", "params": {"orderNos": "join(',', order_nos)"}, "items": "data",
                        "order_no": "orderNo", "status": "status", "lines": "lines", "sku": "sku", "ordered": "qty",
                        "shipped": "shippedQty", "invoiced": "invoicedQty", "amount": "total", "updated_at": "updatedAt"},
       "stock": {"path": "/v1/warehouses/{warehouse_code}/stock", "params": {"skus": "join(',', skus)"},
                 "items": "data.items", "sku": "sku", "on_hand": "onHand", "available": "available"},
       "invoices": {"path": "/v1/invoices", "params": {"orderNos": "join(',', order_nos)"}, "items": "data",
                    "order_no": "orderNo", "invoice_no": "invoiceNo", "quantity": "qty", "amount": "amount"}}}

Requests are built by evaluating the operation's ``body`` (POST/PUT) or each
``params`` value (GET) over our document: for ``save_sales_order``
``{order_no, customer_code, warehouse_code, placed_at (ISO UTC), currency,
lines: [{line_ref, sku, quantity, title, unit_price}]}``; for ``sales_orders``
``{order_nos}`` (one call per ``page_size`` numbers); for ``stock``
``{warehouse_code, skus}``; for ``invoices`` (optional: reconciliation
reads it) ``{order_nos}``, one item per invoice (several for one order are
summed; a credit note is negative). ``path`` may name ``{order_no}`` or
``{warehouse_code}``. Answers are read with the operation's expressions:
``items`` finds the list, the others read one item (``lines`` a list, then
``sku``/``ordered``/``shipped``/``invoiced`` one line). ``refused_when``
(over any 2xx answer) says the ERP refused, ``error_code``/``error_message``
say why. Times are ``time_format`` ``iso`` (with offset), ``unix`` or ``china``.
The save looks the order up first (and again after a refusal), so it is
idempotent by our order number; ``idempotent: true`` also lets it retry when
the ERP itself de-duplicates by order number.
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult

from adapters import wire
from adapters.erp.common import decimal_text, http_url, number_in, optional_text, quantity, redact, refuse_unknown
from adapters.system_http import SystemClient
from domain.federation.ports import Exchange, Invoice, SalesOrderRequest, SalesOrderState, StockFigure, \
    SystemRefused, SystemUnavailable
from domain.inbound.normalized import PayloadError

_TOP = frozenset({"base_url", "token", "auth_header", "auth_scheme", "timeout", "retries", "time_format",
                  "refused_when", "error_code", "error_message", "operations"})
_COMMON = frozenset({"method", "path", "params", "body"})
#: Per operation: (required expressions, optional expressions, other keys, path placeholders).
_OPERATIONS: dict[str, tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]] = {
    "save_sales_order": (frozenset({"document_no"}), frozenset(), frozenset({"idempotent"}), frozenset({"order_no"})),
    "sales_orders": (frozenset({"items", "order_no", "status", "lines", "sku", "ordered"}),
                     frozenset({"shipped", "invoiced", "amount", "updated_at", "document_no"}), frozenset({"page_size"}),
                     frozenset()),
    "stock": (frozenset({"items", "sku", "on_hand"}), frozenset({"available", "as_of"}), frozenset({"page_size"}),
              frozenset({"warehouse_code"})),
    "invoices": (frozenset({"items", "order_no", "amount"}), frozenset({"quantity", "invoice_no"}),
                 frozenset({"page_size", "idempotent"}), frozenset()),
}
_REQUIRED_OPERATIONS = ("sales_orders", "stock")


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    method: str
    path: str
    params: Mapping[str, ParsedResult]
    body: ParsedResult | None
    reads: Mapping[str, ParsedResult]
    page_size: int
    idempotent: bool


@dataclass(frozen=True, slots=True)
class RestErpConfig:
    base_url: str
    token: str = field(repr=False)
    auth_header: str
    auth_scheme: str
    timeout: float
    retries: int
    time_format: str
    refused_when: ParsedResult | None
    error_code: ParsedResult | None
    error_message: ParsedResult | None
    operations: Mapping[str, Operation]

    @classmethod
    def read(cls, config: Mapping[str, Any]) -> RestErpConfig:
        """The connection's config, or a ``ValueError`` naming the bad key (dotted: ``operations.stock.items``)."""
        refuse_unknown(config, _TOP)
        time_format = optional_text(config, "time_format", "iso")
        if time_format not in ("iso", "unix", "china"):
            raise ValueError("time_format: one of iso, unix, china")
        operations = config.get("operations")
        if not isinstance(operations, Mapping):
            raise ValueError("operations: an object with sales_orders, stock and optionally save_sales_order")
        refuse_unknown(operations, set(_OPERATIONS), "operations.")
        for name in _REQUIRED_OPERATIONS:
            if name not in operations:
                raise ValueError(f"operations.{name}: required")
        return cls(base_url=http_url(config, "base_url"), token=optional_text(config, "token", ""),
                   auth_header=optional_text(config, "auth_header", "Authorization") or "Authorization",
                   auth_scheme=optional_text(config, "auth_scheme", "Bearer"),
                   timeout=number_in(config, "timeout", 5.0, 0.1, 120),
                   retries=int(number_in(config, "retries", 2, 0, 5, whole=True)), time_format=time_format,
                   refused_when=_expression(config, "refused_when", ""),
                   error_code=_expression(config, "error_code", ""),
                   error_message=_expression(config, "error_message", ""),
                   operations={name: _operation(name, spec) for name, spec in operations.items()})


def _expression(config: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> ParsedResult | None:
    value = config.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}{key}: {'required ' if required else ''}JMESPath expression text")
    try:
        return jmespath.compile(value)
    except JMESPathError as error:
        raise ValueError(f"{where}{key}: not a valid JMESPath expression ({str(error).splitlines()[0][:120]})") from None


def _operation(name: str, spec: Any) -> Operation:
    where = f"operations.{name}."
    if not isinstance(spec, Mapping):
        raise ValueError(f"operations.{name}: an object")
    required, optional, other, placeholders = _OPERATIONS[name]
    refuse_unknown(spec, _COMMON | required | optional | other, where)
    method = optional_text(spec, "method", "POST" if name == "save_sales_order" else "GET").upper()
    if method not in ("GET", "POST", "PUT"):
        raise ValueError(f"{where}method: one of GET, POST, PUT")
    path = optional_text(spec, "path", "")
    if not path.startswith("/"):
        raise ValueError(f"{where}path: required, starting with / (e.g. /v1/sales-orders)")
    try:
        named = {part[1] for part in string.Formatter().parse(path) if part[1] is not None}
    except ValueError:
        raise ValueError(f"{where}path: unbalanced braces") from None
    if not named <= placeholders:
        raise ValueError(f"{where}path: may only name {', '.join('{' + p + '}' for p in sorted(placeholders)) or 'no placeholders'}")
    params = spec.get("params", {})
    if not isinstance(params, Mapping):
        raise ValueError(f"{where}params: an object of query parameter -> JMESPath expression")
    if params and method != "GET":
        raise ValueError(f"{where}params: only for GET (POST/PUT send a body)")
    compiled_params = {str(key): _expression(params, key, f"{where}params.", required=True) for key in params}
    body = None
    if method != "GET":
        body = _expression(spec, "body", where) or jmespath.compile("@")
    elif "body" in spec:
        raise ValueError(f"{where}body: GET sends no body (use params)")
    reads = {key: _expression(spec, key, where, required=True) for key in required}
    reads.update({key: _expression(spec, key, where) for key in optional if key in spec})
    idempotent = spec.get("idempotent", False)
    if not isinstance(idempotent, bool):
        raise ValueError(f"{where}idempotent: true or false")
    page_size = int(number_in(spec, "page_size", 50, 1, 500, where, whole=True))
    return Operation(name=name, method=method, path=path, params=compiled_params, body=body,
                     reads=reads, page_size=page_size, idempotent=idempotent)  # type: ignore[arg-type]


class RestErp:
    """One REST ERP described by its config (see the module docstring)."""

    def __init__(self, config: Mapping[str, Any], *, key: str) -> None:
        self.config = RestErpConfig.read(config)
        self.client = SystemClient("erp", self.config.base_url, key=key, timeout=self.config.timeout,
                                   retries=self.config.retries)

    # -------------------------------------------------------------- the port

    async def save_sales_order(self, request: SalesOrderRequest, *, trace: list[Exchange]) -> str:
        operation = self.config.operations.get("save_sales_order")
        if operation is None:
            raise SystemRefused("this ERP connection has no save_sales_order operation configured",
                                code="NOT_CONFIGURED")
        if not request.order_no.strip() or not request.lines:
            raise SystemRefused("order_no and at least one line are required", code="INVALID")
        existing = await self._document_no(request.order_no, trace)
        if existing:
            return existing
        document = {
            "order_no": request.order_no, "customer_code": request.customer_code,
            "warehouse_code": request.warehouse_code, "currency": request.currency,
            "placed_at": request.placed_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "lines": [{"line_ref": line.line_ref, "sku": line.sku, "quantity": line.quantity, "title": line.title,
                       "unit_price": request.amounts.get(line.sku)} for line in request.lines],
        }
        try:
            answer = await self._ask(operation, document, {"order_no": request.order_no}, trace)
        except SystemRefused:
            existing = await self._document_no(request.order_no, trace)
            if existing:
                return existing
            raise
        number = self._read(operation, "document_no", answer, trace)
        if number in (None, "") or isinstance(number, (dict, list)):
            raise self._malformed(trace, "operations.save_sales_order.document_no found no document number")
        return str(number)

    async def sales_orders(self, order_nos: Sequence[str], *, trace: list[Exchange]) -> dict[str, SalesOrderState]:
        wanted = list(dict.fromkeys(no for no in order_nos if no))
        found = await self._states(wanted, trace)
        return {no: found[no][0] if no in found else SalesOrderState(order_no=no, status="", known=False)
                for no in wanted}

    async def _states(self, order_nos: list[str],
                      trace: list[Exchange]) -> dict[str, tuple[SalesOrderState, str | None]]:
        """What the ERP knows of each order number it knows: the state and its own document number."""
        operation = self.config.operations["sales_orders"]
        found: dict[str, tuple[SalesOrderState, str | None]] = {}
        for start in range(0, len(order_nos), operation.page_size):
            page = order_nos[start:start + operation.page_size]
            answer = await self._ask(operation, {"order_nos": page}, {}, trace)
            for index, item in enumerate(self._items(operation, answer, trace)):
                state, number = self._order(operation, item, index, trace)
                if state.order_no in page:
                    found[state.order_no] = (state, number)
        return found

    async def _document_no(self, order_no: str, trace: list[Exchange]) -> str | None:
        """The ERP's number for our order (our own number when it names none), or ``None`` when it does not know it."""
        found = (await self._states([order_no], trace)).get(order_no)
        return None if found is None else found[1] or order_no

    async def stock(self, warehouse_code: str, skus: Sequence[str], *, trace: list[Exchange]) -> dict[str, StockFigure]:
        operation = self.config.operations["stock"]
        wanted = list(dict.fromkeys(sku for sku in skus if sku))
        pages = [wanted[i:i + operation.page_size] for i in range(0, len(wanted), operation.page_size)] or [[]]
        figures: dict[str, StockFigure] = {}
        for page in pages:
            answer = await self._ask(operation, {"warehouse_code": warehouse_code, "skus": page},
                                     {"warehouse_code": warehouse_code}, trace)
            for index, item in enumerate(self._items(operation, answer, trace)):
                where = f"operations.stock item {index}"
                try:
                    sku = self._text(operation, "sku", item, where)
                    on_hand = quantity(self._value(operation, "on_hand", item), f"{where} on_hand")
                    available = self._value(operation, "available", item)
                    as_of = self._value(operation, "as_of", item)
                    figure = StockFigure(
                        sku=sku, on_hand=on_hand,
                        available=None if available is None else quantity(available, f"{where} available"),
                        as_of=None if as_of is None else wire.timestamp(as_of, self.config.time_format, f"{where} as_of"))  # type: ignore[arg-type]
                except (ValueError, JMESPathError) as error:
                    raise self._malformed(trace, str(error)) from None
                figures[sku] = figure
        for sku in wanted:
            figures.setdefault(sku, StockFigure(sku=sku, on_hand=0, available=0))
        return figures

    async def invoices(self, order_nos: Sequence[str], *, trace: list[Exchange]) -> dict[str, Invoice]:
        operation = self.config.operations.get("invoices")
        if operation is None:
            raise SystemRefused("this ERP connection has no invoices operation configured", code="NOT_CONFIGURED")
        wanted = list(dict.fromkeys(no for no in order_nos if no))
        found: dict[str, tuple[int, Decimal, list[str]]] = {}
        for start in range(0, len(wanted), operation.page_size):
            page = wanted[start:start + operation.page_size]
            answer = await self._ask(operation, {"order_nos": page}, {}, trace)
            for index, item in enumerate(self._items(operation, answer, trace)):
                where = f"operations.invoices item {index}"
                try:
                    order_no = self._text(operation, "order_no", item, where)
                    amount = Decimal(decimal_text(self._value(operation, "amount", item), f"{where} amount"))
                    units = self._value(operation, "quantity", item)
                    units = 0 if units is None else quantity(units, f"{where} quantity")
                    number = self._value(operation, "invoice_no", item)
                except (ValueError, JMESPathError) as error:
                    raise self._malformed(trace, str(error)) from None
                if order_no not in page:
                    continue
                total_units, total_amount, numbers = found.get(order_no, (0, Decimal(0), []))
                if number not in (None, "") and str(number) not in numbers:
                    numbers.append(str(number))
                found[order_no] = (total_units + units, total_amount + amount, numbers)
        return {no: Invoice(order_no=no, known=True, quantity=found[no][0], amount=format(found[no][1], "f"),
                            numbers=tuple(found[no][2])) if no in found else Invoice(order_no=no, known=False)
                for no in wanted}

    # -------------------------------------------------------------- reading answers

    def _items(self, operation: Operation, answer: Any, trace: list[Exchange]) -> list[Any]:
        items = self._read(operation, "items", answer, trace)
        if items is None:
            return []
        if not isinstance(items, list):
            raise self._malformed(trace, f"operations.{operation.name}.items found {type(items).__name__}, not a list")
        return items

    def _order(self, operation: Operation, item: Any, index: int,
               trace: list[Exchange]) -> tuple[SalesOrderState, str | None]:
        where = f"operations.sales_orders item {index}"
        try:
            order_no = self._text(operation, "order_no", item, where)
            status = self._value(operation, "status", item)
            lines = self._value(operation, "lines", item) or []
            if not isinstance(lines, list):
                raise ValueError(f"{where} lines: not a list")
            totals: dict[str, dict[str, int]] = {"ordered": {}, "shipped": {}, "invoiced": {}}
            for number, line in enumerate(lines):
                sku = self._text(operation, "sku", line, f"{where} line {number}")
                for name, sums in totals.items():
                    if name not in operation.reads:
                        continue
                    value = self._value(operation, name, line)
                    sums[sku] = sums.get(sku, 0) + (0 if value is None else quantity(value, f"{where} line {number} {name}"))
            amount = self._value(operation, "amount", item)
            updated = self._value(operation, "updated_at", item)
            document = self._value(operation, "document_no", item)
            state = SalesOrderState(
                order_no=order_no, status="" if status is None else str(status), known=True,
                ordered=totals["ordered"], shipped=totals["shipped"], invoiced=totals["invoiced"],
                amount="" if amount is None else decimal_text(amount, f"{where} amount"),
                updated_at=None if updated is None else wire.timestamp(updated, self.config.time_format,  # type: ignore[arg-type]
                                                                       f"{where} updated_at"))
        except (ValueError, JMESPathError) as error:
            raise self._malformed(trace, str(error)) from None
        return state, None if document in (None, "") else str(document)

    @staticmethod
    def _value(operation: Operation, key: str, node: Any) -> Any:
        expression = operation.reads.get(key)
        return None if expression is None else expression.search(node)

    def _text(self, operation: Operation, key: str, node: Any, where: str) -> str:
        value = self._value(operation, key, node)
        if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
            raise ValueError(f"{where} {key}: expected a code, got {type(value).__name__}")
        return str(value)

    def _read(self, operation: Operation, key: str, answer: Any, trace: list[Exchange]) -> Any:
        try:
            return self._value(operation, key, answer)
        except JMESPathError as error:
            raise self._malformed(trace, f"operations.{operation.name}.{key}: {error}") from None

    # -------------------------------------------------------------- transport

    async def _ask(self, operation: Operation, document: Mapping[str, Any], path_values: Mapping[str, str],
                   trace: list[Exchange]) -> Any:
        path = operation.path.format(**{key: quote(str(value), safe="") for key, value in path_values.items()})
        headers = {"Accept": "application/json"}
        if self.config.token:
            scheme = f"{self.config.auth_scheme} " if self.config.auth_scheme else ""
            headers[self.config.auth_header] = f"{scheme}{self.config.token}"
        params: dict[str, Any] = {}
        body = None
        try:
            for name, expression in operation.params.items():
                value = expression.search(document)
                if value is not None:
                    params[name] = [str(v) for v in value] if isinstance(value, list) else str(value)
            if operation.body is not None:
                body = json.dumps(operation.body.search(document), ensure_ascii=False).encode("utf-8")
                headers["Content-Type"] = "application/json; charset=utf-8"
        except JMESPathError as error:
            raise SystemRefused(f"operations.{operation.name}: the request could not be built ({error})",
                                code="CONFIG") from None
        shown = f"{self.config.base_url.rstrip('/')}/{path.lstrip('/')}"
        if params:
            shown += "?" + urlencode(params, doseq=True)
        response = await self.client.send(operation.name, operation.method, path, body=body, headers=headers,
                                          params=params or None, idempotent=operation.method == "GET" or
                                          operation.idempotent, trace=trace, redact=redact, shown_url=shown)
        try:
            answer = wire.load_json(response.content) if response.content else None
        except PayloadError:
            if response.status_code >= 400:
                raise self._refused(trace, f"the ERP answered HTTP {response.status_code}",
                                    f"HTTP_{response.status_code}") from None
            raise self._malformed(trace, "the ERP answered something that is not JSON") from None
        refused = response.status_code >= 400
        if not refused and self.config.refused_when is not None:
            try:
                refused = bool(self.config.refused_when.search(answer))
            except JMESPathError as error:
                raise self._malformed(trace, f"refused_when: {error}") from None
        if refused:
            code = self._search(self.config.error_code, answer) or f"HTTP_{response.status_code}"
            message = self._search(self.config.error_message, answer) or f"the ERP refused (HTTP {response.status_code})"
            raise self._refused(trace, str(message)[:480], str(code)[:64])
        return answer

    @staticmethod
    def _search(expression: ParsedResult | None, answer: Any) -> Any:
        if expression is None:
            return None
        try:
            value = expression.search(answer)
        except JMESPathError:
            return None
        return value if isinstance(value, (str, int)) and not isinstance(value, bool) else None

    # -------------------------------------------------------------- failures

    @staticmethod
    def _mark(trace: list[Exchange], error: str) -> None:
        if trace and trace[-1].outcome == "ok":
            trace[-1] = replace(trace[-1], outcome="error", error=error[:500])

    def _refused(self, trace: list[Exchange], message: str, code: str) -> SystemRefused:
        message = redact(message)     # an ERP's message may quote a phone number
        self._mark(trace, message)
        return SystemRefused(message, code=code)

    def _malformed(self, trace: list[Exchange], message: str) -> SystemUnavailable:
        self._mark(trace, message)
        return SystemUnavailable(f"erp: {message}", code="MALFORMED")
