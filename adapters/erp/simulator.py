"""A local ERP: Kingdee K3 Cloud's WebAPI (and a small REST ERP) as one real HTTP server, with faults.

    ordergraph sim erp --port 9200 [--profile faults.json]    # prints both connection configs

Kingdee (``kingdee_config(base)`` points the adapter here): ``POST
/k3cloud/Kingdee.BOS.WebApi.ServicesStub.<service>.common.kdsvc`` with
``AuthService.ValidateUser`` (``acctID, username, password, lcid``),
``AuthService.LoginByAppSecret`` (``acctID, username, appId, appSecret,
lcid``), ``DynamicFormService.Save`` (``SAL_SaleOrder``) and
``DynamicFormService.ExecuteBillQuery`` (``SAL_SaleOrder``, ``STK_Inventory``,
``AR_receivable``: one receivable per sales order with invoiced units, a row
per invoiced line; filters ``F = 'v'`` and ``F IN ('v', …)`` joined by
``AND``, answered from an index when they name the bill number, a custom
order-number field or ``FORDERNUMBER``). Parameters come
named or as the SDKs' positional ``parameters``; service names are
case-insensitive as on IIS. Login answers ``KDSVCSessionId`` and sets the
``kdservice-sessionid`` cookie; a missing, unknown or expired session answers
``MsgCode`` 1 (会话信息已丢失). Business errors are HTTP 200 with
``IsSuccess: false`` in Kingdee's shapes. Save refuses a duplicate bill number,
a missing customer, no lines, or a material not in the master (when
``PUT /_sim/materials`` set one).

REST (``rest_config(base)``), ``Authorization: Bearer <token>``:
``POST /rest/v1/sales-orders``, ``GET /rest/v1/sales-orders?orderNos=a,b``,
``GET /rest/v1/warehouses/{warehouse}/stock?skus=a,b``, ``GET /rest/v1/invoices?orderNos=a,b``; answers
``{"code": 0, "data": …}`` or ``{"code": 4xxxx, "message": …}``.

Faults: see :mod:`adapters.erp.sim_faults` (``--profile FILE``, ``GET/PUT /_sim/profile``).

Control API, for tests and demos to set the ERP's truth (JSON; ``{no}`` is the
bill number or our order number):

- ``GET /_sim/orders``, ``GET /_sim/orders/{no}``, ``DELETE /_sim/orders/{no}``;
- ``POST /_sim/orders`` ``{"order_no", "customer", "status", "ref_field", "lines": [{"sku", "qty", "price", "warehouse"}]}``
  (``ref_field``: keep ``order_no`` in that custom field and number the bill ``XSDD…``);
- ``POST /_sim/orders/bulk`` ``{"orders": [{…as above…, "invoiced": true | {"SKU": n}, "invoice_amount": "…",
  "shipped": true | {"SKU": n}}]}``: many at once (``true``: every unit), for benchmarks;
- ``POST /_sim/orders/{no}/ship`` and ``/invoice`` ``{"quantities": {"SKU": n}}``: set (not add) the
  out-stock / invoiced quantity per SKU (``/invoice`` also takes ``"amount"``: the receivable's total, when it
  is not the invoiced units at their prices); ``POST /_sim/orders/{no}/status`` ``{"status": "C"}``;
- ``GET /_sim/stock?warehouse=W``, ``PUT /_sim/stock`` ``{"warehouse": "CK001", "on_hand": {"SKU": n}}`` (true on-hand);
- ``PUT /_sim/materials`` ``{"materials": ["SKU", …]}`` (``null``: any code is known);
- ``POST /_sim/sessions/expire``: every session is lost;
- ``GET /_sim/calls`` (API calls per operation, and ``http`` in all), ``POST /_sim/reset`` (zero them).
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from adapters import wire
from adapters.erp.kingdee import INVENTORY_FORM, RECEIVABLE_FORM, SALES_ORDER_FORM, SESSION_COOKIE
from adapters.erp.sim_books import Books, Line, Order, Snapshot
from adapters.erp.sim_faults import Profile
from domain.inbound.normalized import PayloadError

_SERVICE = re.compile(r"^kingdee\.bos\.webapi\.servicesstub\.(\w+)\.(\w+)\.common\.kdsvc$", re.IGNORECASE)
_REST_STATUS = {"A": "CREATED", "B": "AUDITING", "C": "AUDITED", "D": "REAUDIT", "Z": "DRAFT"}
#: The query keys the simulated forms know (custom ``F_…`` fields aside); any other is refused as Kingdee does.
_ORDER_KEYS = frozenset({"FID", "FBillNo", "FDocumentStatus", "FCloseStatus", "FCancelStatus", "FDate",
                         "FCustId.FNumber", "FMaterialId.FNumber", "FQty", "FStockOutQty", "FInvoiceQty",
                         "FRemainOutQty", "FTaxPrice", "FBillAllAmount", "FSOStockId.FNumber", "FModifyDate"})
_STOCK_KEYS = frozenset({"FMaterialId.FNumber", "FStockId.FNumber", "FStockOrgId.FNumber", "FBaseQty", "FBaseAVBQty",
                         "FQty", "FAVBQty"})
_RECEIVABLE_KEYS = frozenset({"FID", "FBillNo", "FDocumentStatus", "FDATE", "FCUSTOMERID.FNumber", "FORDERNUMBER",
                              "FMATERIALID.FNumber", "FPriceQty", "FTaxPrice", "FALLAMOUNTFOR_D", "FALLAMOUNTFOR"})
#: Filter fields answered from an index (a sales order's bill number, and the order a receivable line names).
_INDEXED = frozenset({"FBillNo", "FORDERNUMBER"})


@dataclass(frozen=True, slots=True)
class Account:
    """The one K3 account (data centre, integration user, third-party app) and REST token the simulator knows."""

    acct_id: str = "5f1e0c2a8b3d4e"
    username: str = "ordergraph-api"
    password: str = "sim-k3-password"
    app_id: str = "sim-k3-app-id"
    app_secret: str = "sim-k3-app-secret"
    rest_token: str = "sim-rest-erp-token"


DEFAULT_ACCOUNT = Account()


def kingdee_config(base_url: str, account: Account = DEFAULT_ACCOUNT, *, auth: str = "password",
                   **extra: Any) -> dict[str, Any]:
    """The ``kingdee`` connection config that points at a simulator on ``base_url``."""
    config: dict[str, Any] = {"base_url": f"{base_url.rstrip('/')}/k3cloud/", "acct_id": account.acct_id,
                              "username": account.username}
    if auth == "app_secret":
        config.update(auth="app_secret", app_id=account.app_id, app_secret=account.app_secret)
    else:
        config["password"] = account.password
    return {**config, **extra}


def rest_config(base_url: str, account: Account = DEFAULT_ACCOUNT, **extra: Any) -> dict[str, Any]:
    """The ``rest_erp`` connection config (URLs and JMESPath maps) for the simulator's REST mode."""
    return {
        "base_url": f"{base_url.rstrip('/')}/rest/", "token": account.rest_token,
        "refused_when": "code != `0`", "error_code": "to_string(code)", "error_message": "message",
        "operations": {
            "save_sales_order": {
                "method": "POST", "path": "/v1/sales-orders", "document_no": "data.number",
                "body": "{orderNo: order_no, customer: customer_code, warehouse: warehouse_code, placedAt: placed_at, "
                        "currency: currency, lines: lines[].{sku: sku, qty: quantity, price: unit_price}}"},
            "sales_orders": {
                "path": "/v1/sales-orders", "params": {"orderNos": "join(',', order_nos)"}, "items": "data",
                "order_no": "orderNo", "document_no": "number", "status": "status", "amount": "total",
                "updated_at": "updatedAt", "lines": "lines", "sku": "sku", "ordered": "qty",
                "shipped": "shippedQty", "invoiced": "invoicedQty"},
            "stock": {
                "path": "/v1/warehouses/{warehouse_code}/stock", "params": {"skus": "join(',', skus)"},
                "items": "data.items", "sku": "sku", "on_hand": "onHand", "available": "available", "as_of": "asOf"},
            "invoices": {
                "path": "/v1/invoices", "params": {"orderNos": "join(',', order_nos)"}, "items": "data",
                "order_no": "orderNo", "invoice_no": "invoiceNo", "quantity": "qty", "amount": "amount"},
        },
        **extra,
    }


class ErpSimulator:
    """The simulator's state: the books, the account, live sessions, faults and call counts."""

    def __init__(self, *, account: Account = DEFAULT_ACCOUNT, profile: Profile | None = None,
                 seed: int | None = None) -> None:
        self.account = account
        self.books = Books()
        self._profile = Profile()
        self.profile = profile or Profile()
        self.sessions: dict[str, datetime] = {}
        self.calls: Counter[str] = Counter()
        self.random = random.Random(seed)

    @property
    def profile(self) -> Profile:
        return self._profile

    @profile.setter
    def profile(self, profile: Profile) -> None:
        self._profile = profile
        self.books.remember(profile.stale_s > 0)

    # -------------------------------------------------------------- in-process control

    def set_stock(self, warehouse: str, on_hand: Mapping[str, int]) -> None:
        self.books.set_stock(warehouse, on_hand)

    def expire_sessions(self) -> None:
        self.sessions.clear()

    def reset(self) -> None:
        self.calls.clear()

    def _view(self) -> Snapshot:
        return self.books.as_of(self.profile.stale_s)

    # -------------------------------------------------------------- serving

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/k3cloud/{service}", self._api(self._kingdee), methods=["POST"]),
            Route("/rest/v1/sales-orders", self._api(self._rest_orders), methods=["GET", "POST"]),
            Route("/rest/v1/warehouses/{warehouse}/stock", self._api(self._rest_stock), methods=["GET"]),
            Route("/rest/v1/invoices", self._api(self._rest_invoices), methods=["GET"]),
            Route("/_sim/orders", self._control_orders, methods=["GET", "POST"]),
            Route("/_sim/orders/bulk", self._control_bulk, methods=["POST"]),
            Route("/_sim/orders/{no}", self._control_order, methods=["GET", "DELETE"]),
            Route("/_sim/orders/{no}/{action}", self._control_order_action, methods=["POST"]),
            Route("/_sim/stock", self._control_stock, methods=["GET", "PUT"]),
            Route("/_sim/materials", self._control_materials, methods=["PUT"]),
            Route("/_sim/profile", self._control_profile, methods=["GET", "PUT"]),
            Route("/_sim/sessions/expire", self._control_expire, methods=["POST"]),
            Route("/_sim/calls", lambda _r: JSONResponse(dict(self.calls)), methods=["GET"]),
            Route("/_sim/reset", self._control_reset, methods=["POST"]),
            Route("/healthz", lambda _r: JSONResponse({"ok": True}), methods=["GET"]),
        ])

    def _api(self, handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        """Faults first (latency, outage, transient 500), then the system's own answer."""
        async def endpoint(request: Request) -> Response:
            self.calls["http"] += 1
            profile = self.profile
            if profile.latency_ms:
                await asyncio.sleep(profile.latency_ms / 1000)
            if profile.out(datetime.now(UTC)):
                self.calls["outage"] += 1
                return PlainTextResponse("Service Unavailable", status_code=503)
            if profile.error_rate and self.random.random() < profile.error_rate:
                self.calls["error"] += 1
                return HTMLResponse("<html><head><title>Runtime Error</title></head><body><h2>Server Error in "
                                    "'/k3cloud' Application.</h2></body></html>", status_code=500)
            return await handler(request)

        return endpoint

    # -------------------------------------------------------------- Kingdee

    async def _kingdee(self, request: Request) -> Response:
        match = _SERVICE.match(request.path_params["service"])
        if match is None:
            return PlainTextResponse("Not Found", status_code=404)
        service = f"{match.group(1)}.{match.group(2)}".lower()
        try:
            body = wire.load_json(await request.body())
        except PayloadError:
            body = None
        if not isinstance(body, dict):
            return JSONResponse(_status_result(False, "请求参数不是合法的JSON对象", msg_code=8))
        if service == "authservice.validateuser":
            return self._login(request, body, ("acctid", "username", "password", "lcid"))
        if service == "authservice.loginbyappsecret":
            return self._login(request, body, ("acctid", "username", "appid", "appsecret", "lcid"))
        if service not in ("dynamicformservice.save", "dynamicformservice.executebillquery"):
            return JSONResponse(_status_result(False, f"服务 {match.group(1)}.{match.group(2)} 未实现", msg_code=4))
        query = service.endswith("executebillquery")
        data = _argument(body, "data", 0 if query and "formid" not in body else 1)
        form_id = data.get("FormId") if query and isinstance(data, dict) else _argument(body, "formid", 0)
        self.calls[f"query:{form_id}" if query else "save"] += 1
        if not self._session_alive(request):
            lost = _status_result(False, "会话信息已丢失，请重新登录", msg_code=1)
            return JSONResponse([[lost]] if query else lost)
        if query:
            return JSONResponse(self._query(data))
        return JSONResponse(self._save(str(form_id or ""), data))

    def _login(self, request: Request, body: Mapping[str, Any], names: tuple[str, ...]) -> Response:
        self.calls["login"] += 1
        given = _named(body, names)
        account = self.account
        expected = [account.acct_id, account.username]
        expected += [account.password] if "password" in names else [account.app_id, account.app_secret]
        if given.get("acctid") != account.acct_id:
            return JSONResponse(_login_answer(0, "数据中心不存在或未启用"))
        if [str(given.get(name, "")) for name in names[:-1]] != expected:
            failure = "用户名或密码错误！" if "password" in names else "第三方系统登录授权验证失败：应用ID或密钥不正确"
            return JSONResponse(_login_answer(0, failure))
        session = secrets.token_hex(16)
        self.sessions[session] = datetime.now(UTC)
        response = JSONResponse(_login_answer(1, None, session=session, username=account.username,
                                              acct_id=account.acct_id, lcid=given.get("lcid") or 2052))
        response.set_cookie(SESSION_COOKIE, session, path="/")
        response.set_cookie("ASP.NET_SessionId", secrets.token_hex(12), path="/", httponly=True)
        return response

    def _session_alive(self, request: Request) -> bool:
        session = request.headers.get(SESSION_COOKIE) or request.cookies.get(SESSION_COOKIE) or ""
        started = self.sessions.get(session)
        if started is None:
            return False
        ttl = self.profile.session_ttl_s
        if ttl and (datetime.now(UTC) - started).total_seconds() > ttl:
            del self.sessions[session]
            return False
        return True

    def _save(self, form_id: str, data: Any) -> dict[str, Any]:
        if form_id != SALES_ORDER_FORM:
            return _status_result(False, f"业务对象“{form_id}”不存在", msg_code=4)
        model = data.get("Model") if isinstance(data, dict) else None
        if not isinstance(model, dict):
            return _status_result(False, "参数data中缺少Model", msg_code=8)
        customer = _number_of(model.get("FCustId"))
        if not customer:
            return _status_result(False, "字段“客户”是必填项", field="FCustId", msg_code=11)
        entries = model.get("FSaleOrderEntry")
        if not isinstance(entries, list) or not entries:
            return _status_result(False, "订单明细至少要有一行", field="FSaleOrderEntry", msg_code=11)
        lines = []
        for index, entry in enumerate(entries):
            sku = _number_of(entry.get("FMaterialId")) if isinstance(entry, dict) else ""
            if not sku:
                return _status_result(False, f"第{index + 1}行：字段“物料编码”是必填项", field="FMaterialId", msg_code=11,
                                      index=index)
            if self.books.materials is not None and sku not in self.books.materials:
                return _status_result(False, f"第{index + 1}行：物料编码为“{sku}”的物料不存在或未审核",
                                      field="FMaterialId", msg_code=11, index=index)
            try:
                qty = Decimal(str(entry.get("FQty")))
                price = Decimal(str(entry.get("FTaxPrice", "0")))
            except InvalidOperation:
                return _status_result(False, f"第{index + 1}行：数量或单价不是数字", field="FQty", msg_code=11, index=index)
            if qty <= 0 or qty != qty.to_integral_value():
                return _status_result(False, f"第{index + 1}行：销售数量必须大于0", field="FQty", msg_code=11, index=index)
            lines.append(Line(sku=sku, qty=int(qty), price=price, warehouse=_number_of(entry.get("FSOStockId"))))
        bill_no = str(model.get("FBillNo") or "")
        if bill_no and self.books.now.orders.get(bill_no):
            return _status_result(False, f"单据编号“{bill_no}”已经存在，不允许重复", field="FBillNo", msg_code=11)
        custom = {key: str(value) for key, value in model.items() if key.startswith("F_") and isinstance(value, str)}
        date = _china_time(model.get("FDate"))
        currency = _number_of((model.get("FSaleOrderFinance") or {}).get("FSettleCurrId")) or "PRE001"
        order = self.books.add_order(customer, lines, bill_no=bill_no, fields=custom, date=date, currency=currency)
        return {"Result": {"ResponseStatus": {"IsSuccess": True, "Errors": [], "SuccessEntitys": [
            {"Id": order.fid, "Number": order.bill_no, "DIndex": 0}], "SuccessMessages": [], "MsgCode": 0},
            "Id": order.fid, "Number": order.bill_no, "NeedReturnData": [{"FBillNo": order.bill_no}]}}

    def _query(self, data: Any) -> Any:
        if not isinstance(data, dict):
            return [[_status_result(False, "参数data不是合法的查询对象", msg_code=8)]]
        form_id = str(data.get("FormId") or "")
        view = self._view()
        if form_id not in (SALES_ORDER_FORM, INVENTORY_FORM, RECEIVABLE_FORM):
            return [[_status_result(False, f"业务对象“{form_id}”不存在", msg_code=4)]]
        keys = [key.strip() for key in str(data.get("FieldKeys") or "").split(",") if key.strip()]
        if not keys:
            return [[_status_result(False, "FieldKeys不能为空", msg_code=8)]]
        try:
            clauses = _clauses(str(data.get("FilterString") or ""))
        except ValueError as error:
            return [[_status_result(False, f"过滤条件错误：{error}", msg_code=8)]]
        known = {SALES_ORDER_FORM: _ORDER_KEYS, INVENTORY_FORM: _STOCK_KEYS, RECEIVABLE_FORM: _RECEIVABLE_KEYS}[form_id]
        for key in keys + [clause[0] for clause in clauses]:
            if key not in known and not key.startswith("F_"):
                return [[_status_result(False, f"元数据中标识为{key}的字段不存在", msg_code=9)]]
        if form_id == INVENTORY_FORM:
            rows = [self._stock_row(warehouse, sku, on_hand) for warehouse, shelf in view.stock.items()
                    for sku, on_hand in shelf.items()]
        else:
            orders = _candidates(view, clauses)
            rows = [_order_row(order, line) for order in orders for line in order.lines] \
                if form_id == SALES_ORDER_FORM else [row for order in orders for row in self._receivable_rows(order)]
        matched = [row for row in rows if all(str(row.get(name, "")) in values for name, values in clauses)]
        try:
            start, limit, top = (max(0, int(data.get(key) or 0)) for key in ("StartRow", "Limit", "TopRowCount"))
        except (TypeError, ValueError):
            return [[_status_result(False, "StartRow、Limit、TopRowCount 必须是整数", msg_code=8)]]
        matched = matched[start:start + limit] if limit > 0 else matched[start:]
        if top > 0:
            matched = matched[:top]
        return [[row.get(key) for key in keys] for row in matched]

    def _receivable_rows(self, order: Order) -> list[dict[str, Any]]:
        """The order's receivable (应收单) as ExecuteBillQuery rows: one per invoiced line; none when nothing is."""
        invoiced = [line for line in order.lines if line.invoiced]
        if not invoiced:
            return []
        amounts = [line.price * line.invoiced for line in invoiced]
        units = [line.invoiced for line in invoiced]
        amounts[0] += order.invoiced_amount - sum(amounts, Decimal(0))
        total, count = self.profile.invoiced((order.bill_no, *order.fields.values()), sum(amounts, Decimal(0)),
                                             sum(units))
        amounts[0] += total - sum(amounts, Decimal(0))
        units[0] += count - sum(units)
        date = order.date.astimezone(wire.CHINA_TZ).replace(tzinfo=None).isoformat()
        return [{"FID": order.fid, "FBillNo": f"AR{order.fid:08d}", "FDocumentStatus": "C", "FDATE": date,
                 "FCUSTOMERID.FNumber": order.customer, "FORDERNUMBER": order.bill_no, "FMATERIALID.FNumber": line.sku,
                 "FPriceQty": float(quantity), "FTaxPrice": float(line.price), "FALLAMOUNTFOR_D": float(amount),
                 "FALLAMOUNTFOR": float(total)}
                for line, quantity, amount in zip(invoiced, units, amounts, strict=True)]

    def _stock_row(self, warehouse: str, sku: str, on_hand: int) -> dict[str, Any]:
        shown = float(self.profile.drifted(warehouse, on_hand))
        return {"FMaterialId.FNumber": sku, "FStockId.FNumber": warehouse, "FStockOrgId.FNumber": "100",
                "FBaseQty": shown, "FBaseAVBQty": shown, "FQty": shown, "FAVBQty": shown}

    # -------------------------------------------------------------- REST

    def _rest_authorised(self, request: Request) -> bool:
        given = request.headers.get("authorization", "").encode("utf-8", "replace")
        return secrets.compare_digest(given, f"Bearer {self.account.rest_token}".encode())

    async def _rest_orders(self, request: Request) -> Response:
        if not self._rest_authorised(request):
            return JSONResponse({"code": 401, "message": "invalid or missing token"}, status_code=401)
        if request.method == "GET":
            self.calls["rest:orders"] += 1
            wanted = [no for no in request.query_params.get("orderNos", "").split(",") if no]
            view = self._view()
            found = [order for order in (view.find(no) for no in wanted) if order is not None]
            return JSONResponse({"code": 0, "message": "ok", "data": [_rest_order(order) for order in found]})
        self.calls["rest:save"] += 1
        try:
            body = wire.load_json(await request.body())
        except PayloadError:
            body = None
        if not isinstance(body, dict):
            return JSONResponse({"code": 40000, "message": "body: a JSON object"})
        order_no, customer, lines = body.get("orderNo"), body.get("customer"), body.get("lines")
        if not isinstance(order_no, str) or not order_no:
            return JSONResponse({"code": 40001, "message": "orderNo is required"})
        if not isinstance(customer, str) or not customer:
            return JSONResponse({"code": 40002, "message": "customer is required"})
        existing = self.books.now.find(order_no)
        if existing is not None:
            return JSONResponse({"code": 40901, "message": f"order {order_no} exists",
                                 "data": {"number": existing.bill_no}})
        if not isinstance(lines, list) or not lines:
            return JSONResponse({"code": 40003, "message": "lines: at least one"})
        parsed = []
        for index, line in enumerate(lines):
            try:
                sku, qty = str(line["sku"]), int(line["qty"])
                price = Decimal(str(line.get("price") or "0"))
            except (KeyError, TypeError, ValueError, InvalidOperation, AttributeError):
                return JSONResponse({"code": 40004, "message": f"lines[{index}]: sku, qty and price"})
            if self.books.materials is not None and sku not in self.books.materials:
                return JSONResponse({"code": 40401, "message": f"lines[{index}].sku: unknown material {sku}"})
            parsed.append(Line(sku=sku, qty=qty, price=price, warehouse=str(body.get("warehouse") or "")))
        order = self.books.add_order(customer, parsed, fields={"F_OrderNo": order_no})
        return JSONResponse({"code": 0, "message": "ok", "data": {"number": order.bill_no}})

    async def _rest_invoices(self, request: Request) -> Response:
        if not self._rest_authorised(request):
            return JSONResponse({"code": 401, "message": "invalid or missing token"}, status_code=401)
        self.calls["rest:invoices"] += 1
        view = self._view()
        found = []
        for number in dict.fromkeys(no for no in request.query_params.get("orderNos", "").split(",") if no):
            order = view.find(number)
            rows = self._receivable_rows(order) if order is not None else []
            if rows:
                found.append({"orderNo": number, "invoiceNo": rows[0]["FBillNo"],
                              "qty": sum(int(row["FPriceQty"]) for row in rows),
                              "amount": format(sum((Decimal(str(row["FALLAMOUNTFOR_D"])) for row in rows), Decimal(0)),
                                               "f")})
        return JSONResponse({"code": 0, "message": "ok", "data": found})

    async def _rest_stock(self, request: Request) -> Response:
        if not self._rest_authorised(request):
            return JSONResponse({"code": 401, "message": "invalid or missing token"}, status_code=401)
        self.calls["rest:stock"] += 1
        warehouse = request.path_params["warehouse"]
        wanted = [sku for sku in request.query_params.get("skus", "").split(",") if sku]
        shelf = self._view().stock.get(warehouse, {})
        as_of = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        items = [{"sku": sku, "onHand": self.profile.drifted(warehouse, shelf[sku]),
                  "available": self.profile.drifted(warehouse, shelf[sku]), "asOf": as_of}
                 for sku in (wanted or sorted(shelf)) if sku in shelf]
        return JSONResponse({"code": 0, "message": "ok", "data": {"warehouse": warehouse, "items": items}})

    # -------------------------------------------------------------- control

    async def _control_orders(self, request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse([order.shown() for order in self.books.now.orders.values()])
        try:
            order = self._add_order(await _json_object(request))
        except KeyError as error:
            return JSONResponse({"error": f"order_no: {error.args[0]} exists"}, status_code=409)
        except ValueError as error:
            return JSONResponse({"error": str(error)}, status_code=422)
        return JSONResponse(order.shown(), status_code=201)

    def _add_order(self, data: Mapping[str, Any], where: str = "") -> Order:
        """One sales order from the control API's JSON (``ValueError`` naming the bad key, ``KeyError`` if it exists)."""
        order_no = _text(data, "order_no", where)
        lines = data.get("lines")
        if not isinstance(lines, list) or not lines:
            raise ValueError(f"{where}lines: at least one {{sku, qty}}")
        parsed = []
        for index, line in enumerate(lines):
            at = f"{where}lines[{index}]."
            if not isinstance(line, dict):
                raise ValueError(f"{where}lines[{index}]: an object")
            parsed.append(Line(sku=_text(line, "sku", at), qty=_count(line, "qty", at, positive=True),
                               price=_price(line.get("price", "0"), f"{at}price"),
                               warehouse=str(line.get("warehouse") or "")))
        ref_field = str(data.get("ref_field") or "")
        if ref_field and not ref_field.startswith("F_"):
            raise ValueError(f"{where}ref_field: a custom field key starting with F_")
        return self.books.add_order(str(data.get("customer") or "CUST-SIM"), parsed,
                                    bill_no="" if ref_field else order_no, status=str(data.get("status") or "A"),
                                    fields={ref_field: order_no} if ref_field else None)

    async def _control_bulk(self, request: Request) -> Response:
        """Many sales orders at once, each with what was shipped and invoiced (benchmarks seed 100,000 this way)."""
        try:
            data = await _json_object(request)
            orders = data.get("orders")
            if not isinstance(orders, list) or not orders:
                raise ValueError("orders: a list of sales orders")
            for index, item in enumerate(orders):
                where = f"orders[{index}]."
                if not isinstance(item, dict):
                    raise ValueError(f"orders[{index}]: an object")
                order = self._add_order(item, where)
                for kind, key in (("shipped", "shipped"), ("invoiced", "invoiced")):
                    given = item.get(key)
                    if given is True:
                        given = {sku: sum(line.qty for line in order.lines if line.sku == sku)
                                 for sku in {line.sku for line in order.lines}}
                    if given:
                        if not isinstance(given, dict):
                            raise ValueError(f"{where}{key}: true or {{\"SKU\": n}}")
                        self.books.set_quantities(order.bill_no, kind,
                                                  {sku: _count(given, sku, f"{where}{key}.") for sku in given})
                if item.get("invoice_amount") is not None:
                    self.books.set_invoice_amount(order.bill_no, _price(item["invoice_amount"], f"{where}invoice_amount"))
        except KeyError as error:
            return JSONResponse({"error": f"order_no: {error.args[0]} exists"}, status_code=409)
        except ValueError as error:
            return JSONResponse({"error": str(error)}, status_code=422)
        return JSONResponse({"created": len(orders)}, status_code=201)

    async def _control_order(self, request: Request) -> Response:
        number = request.path_params["no"]
        order = self.books.now.find(number)
        if order is None:
            return JSONResponse({"error": f"no sales order {number}"}, status_code=404)
        if request.method == "DELETE":
            self.books.delete(number)
            return JSONResponse({"deleted": order.bill_no})
        return JSONResponse(order.shown())

    async def _control_order_action(self, request: Request) -> Response:
        number, action = request.path_params["no"], request.path_params["action"]
        if self.books.now.find(number) is None:
            return JSONResponse({"error": f"no sales order {number}"}, status_code=404)
        try:
            data = await _json_object(request)
            if action in ("ship", "invoice"):
                quantities = data.get("quantities")
                if not isinstance(quantities, dict) or not quantities:
                    raise ValueError('quantities: {"SKU": n}')
                order = self.books.set_quantities(number, "shipped" if action == "ship" else "invoiced",
                                                  {sku: _count(quantities, sku, "quantities.") for sku in quantities})
                if action == "invoice" and data.get("amount") is not None:
                    order = self.books.set_invoice_amount(number, _price(data["amount"], "amount"))
            elif action == "status":
                order = self.books.set_status(number, _text(data, "status"))
            else:
                return JSONResponse({"error": "action: ship, invoice or status"}, status_code=404)
        except ValueError as error:
            return JSONResponse({"error": str(error)}, status_code=422)
        return JSONResponse(order.shown())

    async def _control_stock(self, request: Request) -> Response:
        if request.method == "GET":
            warehouse = request.query_params.get("warehouse")
            stock = self.books.now.stock
            return JSONResponse(stock.get(warehouse, {}) if warehouse else stock)
        try:
            data = await _json_object(request)
            warehouse = _text(data, "warehouse")
            on_hand = data.get("on_hand")
            if not isinstance(on_hand, dict):
                raise ValueError('on_hand: {"SKU": n}')
            shelf = self.books.set_stock(warehouse, {sku: _count(on_hand, sku, "on_hand.") for sku in on_hand})
        except ValueError as error:
            return JSONResponse({"error": str(error)}, status_code=422)
        return JSONResponse({"warehouse": warehouse, "on_hand": shelf})

    async def _control_materials(self, request: Request) -> Response:
        try:
            data = await _json_object(request)
            materials = data.get("materials")
            if materials is not None and (not isinstance(materials, list) or
                                          not all(isinstance(m, str) and m for m in materials)):
                raise ValueError("materials: a list of material codes, or null for any")
        except ValueError as error:
            return JSONResponse({"error": str(error)}, status_code=422)
        self.books.materials = None if materials is None else set(materials)
        return JSONResponse({"materials": None if materials is None else sorted(materials)})

    async def _control_profile(self, request: Request) -> Response:
        if request.method == "PUT":
            try:
                self.profile = Profile.read(await _json_object(request))
            except ValueError as error:
                return JSONResponse({"error": str(error)}, status_code=422)
        return JSONResponse(self.profile.shown())

    async def _control_expire(self, _request: Request) -> Response:
        count = len(self.sessions)
        self.expire_sessions()
        return JSONResponse({"expired": count})

    async def _control_reset(self, _request: Request) -> Response:
        self.reset()
        return JSONResponse({})


# ------------------------------------------------------------------ Kingdee shapes


def _status_result(success: bool, message: str, *, field: str | None = None, msg_code: int = 0,
                   index: int = 0) -> dict[str, Any]:
    return {"Result": {"ResponseStatus": {
        "ErrorCode": 0 if success else 500, "IsSuccess": success,
        "Errors": [] if success else [{"FieldName": field, "Message": message, "DIndex": index}],
        "SuccessEntitys": [], "SuccessMessages": [], "MsgCode": msg_code}}}


def _login_answer(result: int, message: str | None, *, session: str = "", username: str = "", acct_id: str = "",
                  lcid: Any = 2052) -> dict[str, Any]:
    context = None
    if result == 1:
        context = {"UserLocale": "zh-CN", "LogLocale": "zh-CN", "DBid": acct_id, "DatabaseType": 3,
                   "SessionId": secrets.token_hex(12), "UseLanguages": [{"LocaleId": 2052, "LocaleName": "中文(简体)",
                                                                         "Alias": "CN"}],
                   "UserId": 100008, "UserName": username, "CustomName": "OrderGraph 模拟公司",
                   "DisplayVersion": "8.2.0 (simulated)", "DataCenterName": "模拟数据中心",
                   "UserToken": secrets.token_hex(16), "CurrentOrganizationInfo": {"ID": 1, "Name": "模拟组织"}}
    return {"Message": message, "MessageCode": "CheckPasswordPolicy", "LoginResultType": result, "Context": context,
            "KDSVCSessionId": session or None, "FormId": None, "RedirectFormParam": None, "FormInputObject": None,
            "ErrorStackTrace": None, "Lcid": lcid, "AccessToken": None, "KdAccessResult": None,
            "IsSuccessByAPI": result == 1}


def _named(body: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """Login parameters by (case-insensitive) name, or from the SDKs' positional ``parameters``."""
    positional = body.get("parameters")
    if isinstance(positional, str):
        try:
            positional = json.loads(positional)
        except ValueError:
            positional = None
    if isinstance(positional, list):
        return {name: str(value) if name != "lcid" else value for name, value in zip(names, positional)}
    lowered = {str(key).lower(): value for key, value in body.items()}
    return {name: str(lowered[name]) if name != "lcid" else lowered[name] for name in names if name in lowered}


def _argument(body: Mapping[str, Any], name: str, position: int) -> Any:
    """A data-service argument by name (``formid``, ``data``) or by position in ``parameters``."""
    lowered = {str(key).lower(): value for key, value in body.items()}
    if name in lowered:
        value = lowered[name]
    else:
        positional = lowered.get("parameters")
        if isinstance(positional, str):
            try:
                positional = json.loads(positional)
            except ValueError:
                positional = None
        value = positional[position] if isinstance(positional, list) and len(positional) > position else None
    if isinstance(value, str) and name == "data":
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _number_of(reference: Any) -> str:
    """The code in a base-data reference (``{"FNumber": "C001"}``, any case of the key)."""
    if isinstance(reference, dict):
        for key, value in reference.items():
            if str(key).lower() == "fnumber" and isinstance(value, str):
                return value
    return ""


def _order_row(order: Order, line: Line) -> dict[str, Any]:
    local = order.modified.astimezone(wire.CHINA_TZ).replace(tzinfo=None)
    row = {"FID": order.fid, "FBillNo": order.bill_no, "FDocumentStatus": order.status, "FCloseStatus": "A",
           "FCancelStatus": "A", "FDate": order.date.astimezone(wire.CHINA_TZ).replace(tzinfo=None).isoformat(),
           "FCustId.FNumber": order.customer, "FMaterialId.FNumber": line.sku, "FQty": float(line.qty),
           "FStockOutQty": float(line.shipped), "FInvoiceQty": float(line.invoiced),
           "FRemainOutQty": float(line.qty - line.shipped), "FTaxPrice": float(line.price),
           "FBillAllAmount": float(order.amount), "FSOStockId.FNumber": line.warehouse,
           "FModifyDate": local.isoformat(timespec="milliseconds")}
    row.update(order.fields)
    return row


_CLAUSE_EQ = re.compile(r"^([A-Za-z_][\w.]*)\s*=\s*'((?:[^']|'')*)'$")
_CLAUSE_IN = re.compile(r"^([A-Za-z_][\w.]*)\s+IN\s*\((.*)\)$", re.IGNORECASE | re.DOTALL)
_LITERAL = re.compile(r"\s*'((?:[^']|'')*)'\s*(?:,|$)")


def _clauses(filter_string: str) -> list[tuple[str, set[str]]]:
    """``F = 'v'`` and ``F IN ('a','b')`` clauses joined by AND: (field, allowed values) each."""
    if not filter_string.strip():
        return []
    parts = re.split(r"\s+AND\s+(?=(?:[^']*'[^']*')*[^']*$)", filter_string.strip(), flags=re.IGNORECASE)
    clauses = []
    for part in parts:
        part = part.strip()
        if match := _CLAUSE_EQ.match(part):
            clauses.append((match.group(1), {match.group(2).replace("''", "'")}))
            continue
        if match := _CLAUSE_IN.match(part):
            inner = match.group(2).strip()
            values = [value.replace("''", "'") for value in _LITERAL.findall(inner)]
            if not values or _LITERAL.sub("", inner).strip():
                raise ValueError(f"IN 列表无法解析：{part[:60]}")
            clauses.append((match.group(1), set(values)))
            continue
        raise ValueError(f"不支持的条件：{part[:60]}")
    return clauses


def _candidates(view: Snapshot, clauses: list[tuple[str, set[str]]]) -> list[Order]:
    """The orders a filter can match: looked up by number when a clause names one, else all of them."""
    for name, values in clauses:
        if name in _INDEXED or name.startswith("F_"):
            found = (view.find(value) for value in values)
            return list({id(order): order for order in found if order is not None}.values())
    return list(view.orders.values())


def _china_time(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=wire.CHINA_TZ)).astimezone(UTC)


# ------------------------------------------------------------------ REST shapes


def _rest_order(order: Order) -> dict[str, Any]:
    return {"orderNo": order.fields.get("F_OrderNo") or next(iter(order.fields.values()), order.bill_no),
            "number": order.bill_no, "status": _REST_STATUS.get(order.status, order.status),
            "total": format(order.amount, "f"), "updatedAt": order.modified.isoformat().replace("+00:00", "Z"),
            "lines": [{"sku": line.sku, "qty": line.qty, "shippedQty": line.shipped, "invoicedQty": line.invoiced}
                      for line in order.lines]}


# ------------------------------------------------------------------ control helpers


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        data = wire.load_json(await request.body())
    except PayloadError as error:
        raise ValueError(str(error)) from None
    if not isinstance(data, dict):
        raise ValueError("body: a JSON object")
    return data


def _text(data: Mapping[str, Any], key: str, where: str = "") -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}{key}: required text")
    return value.strip()


def _count(data: Mapping[str, Any], key: str, where: str = "", *, positive: bool = False) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < (1 if positive else 0):
        raise ValueError(f"{where}{key}: a whole number {'above 0' if positive else '>= 0'}")
    return value


def _price(value: Any, where: str) -> Decimal:
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{where}: a decimal amount") from None
    if not price.is_finite() or price < 0:
        raise ValueError(f"{where}: a decimal amount >= 0")
    return price


def run(host: str, port: int, simulator: ErpSimulator | None = None) -> None:
    """Serve the simulator with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run((simulator or ErpSimulator()).app, host=host, port=port, log_level="warning")
