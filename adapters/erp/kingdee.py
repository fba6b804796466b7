"""Kingdee K3 Cloud (金蝶云星空) WebAPI as the ERP port: sales orders saved and read, inventory read.

    erp = KingdeeErp({"base_url": "https://k3.example.com/k3cloud/", "acct_id": "5f0c…", "username": "api",
                      "password": "…"}, key="t7:erp")
    states = await erp.sales_orders(["OG000000042", …], trace=trace)    # one ExecuteBillQuery per page

Wire format (the ``*.common.kdsvc`` service stubs, JSON over POST):

- login: ``AuthService.ValidateUser`` with ``{acctID, username, password, lcid}`` (``auth: "password"``,
  the default), or ``AuthService.LoginByAppSecret`` with ``{acctID, username, appId, appSecret, lcid}``
  (``auth: "app_secret"``, a third-party app registered in 第三方系统登录授权). Both answer
  ``LoginResultType`` 1 and a ``KDSVCSessionId``; the session goes back as the
  ``kdservice-sessionid`` cookie (and header), kept per connection and renewed
  once when an answer says the session is lost (``MsgCode`` 1, 会话信息已丢失).
  The newer signed-header mode (``X-Api-*``/``X-Kd-*`` headers) is not used: it
  needs the app id in the vendor SDK's obfuscated "clientId_secret" form.
- ``DynamicFormService.Save`` with ``{formid: "SAL_SaleOrder", data: {Model: …}}``. Idempotent by our
  order number: it is written into ``order_no_field`` (``FBillNo`` by default,
  so the ERP's bill number *is* ours and Kingdee itself refuses a second one;
  or a custom field such as ``F_OG_OrderNo``), and an ``ExecuteBillQuery`` on
  that field runs first, and again after a refusal (a concurrent save won).
- ``DynamicFormService.ExecuteBillQuery`` with ``{data: {FormId, FieldKeys, FilterString, StartRow, Limit}}``
  answers rows (arrays in ``FieldKeys`` order), one per order line. Sales
  orders: ``FBillNo, FDocumentStatus`` (A created, B in audit, C audited, D
  re-audit, Z draft — kept verbatim), per line ``FMaterialId.FNumber, FQty``,
  ``FStockOutQty`` (累计出库数量: shipped) and ``FInvoiceQty`` (累计开票数量:
  invoiced), ``FBillAllAmount`` and ``FModifyDate``; one query per page of
  ``page_size`` order numbers (``<field> IN ('…','…')``). Inventory:
  ``STK_Inventory`` rows ``FMaterialId.FNumber, FStockId.FNumber, FBaseQty,
  FBaseAVBQty`` summed per SKU (lots and owners give several rows).
  Invoices (reconciliation): ``AR_receivable`` (应收单) rows ``FBillNo,
  FDocumentStatus, FORDERNUMBER`` (the sales order's bill number, on each
  detail line), ``FMATERIALID.FNumber, FPriceQty`` (计价数量) and
  ``FALLAMOUNTFOR_D`` (the line's 价税合计), filtered ``FORDERNUMBER IN (…)``,
  summed per order; a red receivable (a credit note) has negative figures. With
  a custom ``order_no_field`` the sales orders are looked up first to learn
  their bill numbers.

A business error is HTTP 200 with ``ResponseStatus.IsSuccess`` false and
``Errors[]`` (bare for Save, wrapped as ``[[{"Result": …}]]`` for queries):
it becomes :class:`SystemRefused` with the messages and ``MsgCode``.
Times on the wire are the server's China time without offset.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from adapters import wire
from adapters.erp.common import (
    decimal_text,
    filter_literal,
    http_url,
    number_in,
    optional_text,
    quantity,
    redact,
    refuse_unknown,
    require_text,
)
from adapters.system_http import SystemClient
from domain.federation.ports import Exchange, Invoice, SalesOrderRequest, SalesOrderState, StockFigure, \
    SystemRefused, SystemUnavailable
from domain.inbound.normalized import PayloadError

_STUB = "Kingdee.BOS.WebApi.ServicesStub."
LOGIN_PASSWORD = _STUB + "AuthService.ValidateUser.common.kdsvc"
LOGIN_APP_SECRET = _STUB + "AuthService.LoginByAppSecret.common.kdsvc"
SAVE = _STUB + "DynamicFormService.Save.common.kdsvc"
QUERY = _STUB + "DynamicFormService.ExecuteBillQuery.common.kdsvc"
SALES_ORDER_FORM = "SAL_SaleOrder"
INVENTORY_FORM = "STK_Inventory"
RECEIVABLE_FORM = "AR_receivable"
SESSION_COOKIE = "kdservice-sessionid"
#: ``MsgCode`` of "the session is lost, log in again".
MSG_SESSION_LOST = 1
SESSION_LOST_TEXT = "会话信息已丢失"
ORDER_FIELDS = ("FBillNo", "FDocumentStatus", "FMaterialId.FNumber", "FQty", "FStockOutQty", "FInvoiceQty",
                "FBillAllAmount", "FModifyDate")
INVENTORY_FIELDS = ("FMaterialId.FNumber", "FStockId.FNumber", "FBaseQty", "FBaseAVBQty")
RECEIVABLE_FIELDS = ("FBillNo", "FDocumentStatus", "FORDERNUMBER", "FMATERIALID.FNumber", "FPriceQty", "FALLAMOUNTFOR_D")
#: Rows asked for per ExecuteBillQuery; a full page means there may be more (``StartRow`` moves on).
ROW_LIMIT = 2000
#: Kingdee's preset currency numbers (币别编码) for ISO codes; a merchant's own go in ``currency_numbers``.
CURRENCIES = {"CNY": "PRE001", "HKD": "PRE002", "EUR": "PRE003", "JPY": "PRE004", "TWD": "PRE005",
              "GBP": "PRE006", "USD": "PRE007"}
_KEYS = frozenset({"base_url", "acct_id", "username", "auth", "password", "app_id", "app_secret", "lcid",
                   "sale_org", "bill_type", "order_no_field", "page_size", "timeout", "retries", "currency_numbers"})

#: Session ids per connection and credentials, shared by every adapter instance made for that connection.
_sessions: dict[str, str] = {}


@dataclass(frozen=True, slots=True)
class KingdeeConfig:
    base_url: str
    acct_id: str
    username: str
    auth: str = "password"
    password: str = field(default="", repr=False)
    app_id: str = ""
    app_secret: str = field(default="", repr=False)
    lcid: int = 2052
    sale_org: str = "100"
    bill_type: str = "XSDD01_SYS"
    order_no_field: str = "FBillNo"
    page_size: int = 100
    timeout: float = 5.0
    retries: int = 2
    currency_numbers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, config: Mapping[str, Any]) -> KingdeeConfig:
        """The connection's config, or a ``ValueError`` naming the bad key."""
        refuse_unknown(config, _KEYS)
        auth = optional_text(config, "auth", "password")
        if auth not in ("password", "app_secret"):
            raise ValueError("auth: one of password, app_secret")
        secrets = {"password": require_text(config, "password")} if auth == "password" else \
            {"app_id": require_text(config, "app_id"), "app_secret": require_text(config, "app_secret")}
        order_field = optional_text(config, "order_no_field", "FBillNo")
        if not order_field or not order_field[0] == "F" or not order_field.replace("_", "").isalnum():
            raise ValueError("order_no_field: a Kingdee field key such as FBillNo or F_OG_OrderNo")
        currencies = config.get("currency_numbers", {})
        if not isinstance(currencies, Mapping) or not all(isinstance(k, str) and isinstance(v, str) and v
                                                          for k, v in currencies.items()):
            raise ValueError("currency_numbers: an object of ISO code -> Kingdee currency number, e.g. {\"CNY\": \"PRE001\"}")
        return cls(base_url=http_url(config, "base_url"), acct_id=require_text(config, "acct_id"),
                   username=require_text(config, "username"), auth=auth,
                   lcid=int(number_in(config, "lcid", 2052, 1, 99999, whole=True)),
                   sale_org=optional_text(config, "sale_org", "100") or "100",
                   bill_type=optional_text(config, "bill_type", "XSDD01_SYS") or "XSDD01_SYS",
                   order_no_field=order_field, page_size=int(number_in(config, "page_size", 100, 1, 500, whole=True)),
                   timeout=number_in(config, "timeout", 5.0, 0.1, 120),
                   retries=int(number_in(config, "retries", 2, 0, 5, whole=True)),
                   currency_numbers=dict(currencies), **secrets)

    def session_key(self, key: str) -> str:
        """Where this connection's session is kept: a changed password or account gets a fresh one."""
        secret = hashlib.sha256(f"{self.password}\0{self.app_id}\0{self.app_secret}".encode()).hexdigest()[:16]
        return f"{key}|{self.base_url}|{self.acct_id}|{self.username}|{secret}"


def forget_sessions() -> None:
    """Drop every kept session (tests; a rotated credential also gets a new key by itself)."""
    _sessions.clear()


class KingdeeErp:
    """One K3 Cloud account (see the module docstring)."""

    def __init__(self, config: Mapping[str, Any], *, key: str) -> None:
        self.config = KingdeeConfig.read(config)
        self.key = key
        self.client = SystemClient("erp", self.config.base_url, key=key, timeout=self.config.timeout,
                                   retries=self.config.retries)
        self._session_key = self.config.session_key(key)

    # -------------------------------------------------------------- the port

    async def save_sales_order(self, request: SalesOrderRequest, *, trace: list[Exchange]) -> str:
        model = self._model(request)
        existing = await self._find(request.order_no, trace)
        if existing:
            return existing
        payload = {"formid": SALES_ORDER_FORM, "data": {
            "NeedUpDateFields": [], "NeedReturnFields": ["FBillNo"], "IsDeleteEntry": "true",
            "IsVerifyBaseDataField": "true", "ValidateFlag": "true", "NumberSearch": "true", "Model": model}}
        try:
            answer = await self._call("Save", SAVE, payload, trace=trace,
                                      idempotent=self.config.order_no_field == "FBillNo")
        except SystemRefused:
            existing = await self._find(request.order_no, trace)
            if existing:
                return existing
            raise
        result = answer.get("Result") if isinstance(answer, dict) else None
        number = result.get("Number") if isinstance(result, dict) else None
        if not number and isinstance(result, dict):
            entities = (result.get("ResponseStatus") or {}).get("SuccessEntitys") or []
            number = entities[0].get("Number") if entities and isinstance(entities[0], dict) else None
        if not isinstance(number, str) or not number:
            raise self._malformed(trace, "Save answered success without a bill number")
        return number

    async def sales_orders(self, order_nos: Sequence[str], *, trace: list[Exchange]) -> dict[str, SalesOrderState]:
        wanted = list(dict.fromkeys(no for no in order_nos if no))
        field_key = self.config.order_no_field
        fields = ORDER_FIELDS if field_key == "FBillNo" else (field_key, *ORDER_FIELDS)
        at = {name: index for index, name in enumerate(fields)}
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), self.config.page_size):
            page = wanted[start:start + self.config.page_size]
            filter_string = f"{field_key} IN ({','.join(filter_literal(no) for no in page)})"
            rows = await self._query(SALES_ORDER_FORM, fields, filter_string, trace)
            try:
                for row in rows:
                    self._read_order_row(row, at, found)
            except ValueError as error:
                raise self._malformed(trace, str(error)) from None
        states = {}
        for no in wanted:
            seen = found.get(no)
            if seen is None:
                states[no] = SalesOrderState(order_no=no, status="", known=False)
                continue
            states[no] = SalesOrderState(order_no=no, status=seen["status"], known=True, ordered=seen["ordered"],
                                         shipped=seen["shipped"], invoiced=seen["invoiced"], amount=seen["amount"],
                                         updated_at=seen["updated_at"])
        return states

    async def stock(self, warehouse_code: str, skus: Sequence[str], *, trace: list[Exchange]) -> dict[str, StockFigure]:
        wanted = list(dict.fromkeys(sku for sku in skus if sku))
        where = f"FStockId.FNumber={filter_literal(warehouse_code)}"
        pages = [wanted[i:i + self.config.page_size] for i in range(0, len(wanted), self.config.page_size)] or [[]]
        on_hand: dict[str, int] = {}
        available: dict[str, int] = {}
        for page in pages:
            filter_string = where if not page else \
                f"{where} AND FMaterialId.FNumber IN ({','.join(filter_literal(sku) for sku in page)})"
            rows = await self._query(INVENTORY_FORM, INVENTORY_FIELDS, filter_string, trace)
            try:
                for index, row in enumerate(rows):
                    sku = str(row[0])
                    on_hand[sku] = on_hand.get(sku, 0) + quantity(row[2], f"{INVENTORY_FORM}[{index}].FBaseQty")
                    available[sku] = available.get(sku, 0) + quantity(row[3], f"{INVENTORY_FORM}[{index}].FBaseAVBQty")
            except ValueError as error:
                raise self._malformed(trace, str(error)) from None
        # A SKU Kingdee has no inventory row for has none on hand there.
        for sku in wanted:
            on_hand.setdefault(sku, 0)
            available.setdefault(sku, 0)
        return {sku: StockFigure(sku=sku, on_hand=on_hand[sku], available=available[sku]) for sku in on_hand}

    async def invoices(self, order_nos: Sequence[str], *, trace: list[Exchange]) -> dict[str, Invoice]:
        """Receivables (``AR_receivable``) per order, one ExecuteBillQuery per page of ``page_size`` orders."""
        wanted = list(dict.fromkeys(no for no in order_nos if no))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), self.config.page_size):
            page = wanted[start:start + self.config.page_size]
            bills = {no: no for no in page} if self.config.order_no_field == "FBillNo" else \
                await self._bill_numbers(page, trace)
            if not bills:
                continue
            ours = {bill: no for no, bill in bills.items()}
            filter_string = f"FORDERNUMBER IN ({','.join(filter_literal(bill) for bill in ours)})"
            rows = await self._query(RECEIVABLE_FORM, RECEIVABLE_FIELDS, filter_string, trace)
            try:
                for index, row in enumerate(rows):
                    no = ours.get(str(row[2] or ""))
                    if no is None:
                        continue
                    where = f"{RECEIVABLE_FORM}[{index}] {row[0]}"
                    seen = found.setdefault(no, {"quantity": 0, "amount": Decimal(0), "numbers": []})
                    seen["quantity"] += quantity(row[4], f"{where}.FPriceQty")
                    seen["amount"] += Decimal(decimal_text(row[5], f"{where}.FALLAMOUNTFOR_D"))
                    if str(row[0]) not in seen["numbers"]:
                        seen["numbers"].append(str(row[0]))
            except ValueError as error:
                raise self._malformed(trace, str(error)) from None
        return {no: Invoice(order_no=no, known=True, quantity=found[no]["quantity"],
                            amount=format(found[no]["amount"], "f"), numbers=tuple(found[no]["numbers"]))
                if no in found else Invoice(order_no=no, known=False) for no in wanted}

    async def _bill_numbers(self, order_nos: Sequence[str], trace: list[Exchange]) -> dict[str, str]:
        """Our order number -> the ERP's sales order bill number, for a custom ``order_no_field``."""
        field_key = self.config.order_no_field
        filter_string = f"{field_key} IN ({','.join(filter_literal(no) for no in order_nos)})"
        rows = await self._query(SALES_ORDER_FORM, ("FBillNo", field_key), filter_string, trace)
        return {str(row[1]): str(row[0]) for row in rows if row[0] and row[1]}

    # -------------------------------------------------------------- sales orders

    def _model(self, request: SalesOrderRequest) -> dict[str, Any]:
        """The SAL_SaleOrder model to save, or ``SystemRefused`` naming the field we cannot send."""
        def invalid(message: str) -> SystemRefused:
            return SystemRefused(message, code="INVALID")

        if not request.order_no.strip():
            raise invalid("order_no: required")
        if not request.customer_code.strip():
            raise invalid("customer_code: the ERP customer number is required (FCustId)")
        if not request.lines:
            raise invalid("lines: a sales order needs at least one line")
        currency = self.config.currency_numbers.get(request.currency) or CURRENCIES.get(request.currency)
        if currency is None:
            raise invalid(f"currency: no Kingdee currency number for {request.currency!r} (set currency_numbers)")
        placed = request.placed_at.astimezone(wire.CHINA_TZ)
        entries = []
        for index, line in enumerate(request.lines):
            if not line.sku or line.quantity <= 0:
                raise invalid(f"lines[{index}]: a SKU and a quantity above 0 are required")
            entry: dict[str, Any] = {"FMaterialId": {"FNumber": line.sku}, "FQty": line.quantity,
                                     "FDeliveryDate": placed.strftime("%Y-%m-%d %H:%M:%S")}
            price = request.amounts.get(line.sku)
            if price is not None:
                try:
                    entry["FTaxPrice"] = decimal_text(price, f"amounts.{line.sku}")
                except ValueError as error:
                    raise invalid(str(error)) from None
            if request.warehouse_code:
                entry["FSOStockId"] = {"FNumber": request.warehouse_code}
            entries.append(entry)
        return {
            "FBillTypeID": {"FNUMBER": self.config.bill_type},
            self.config.order_no_field: request.order_no,
            "FDate": placed.strftime("%Y-%m-%d %H:%M:%S"),
            "FSaleOrgId": {"FNumber": self.config.sale_org},
            "FCustId": {"FNumber": request.customer_code},
            "FSaleOrderFinance": {"FSettleCurrId": {"FNumber": currency}, "FIsIncludedTax": True},
            "FSaleOrderEntry": entries,
        }

    async def _find(self, order_no: str, trace: list[Exchange]) -> str | None:
        """The bill number of the sales order carrying our order number, or ``None``."""
        rows = await self._query(SALES_ORDER_FORM, ("FBillNo",),
                                 f"{self.config.order_no_field}={filter_literal(order_no)}", trace)
        return str(rows[0][0]) if rows else None

    def _read_order_row(self, row: list[Any], at: Mapping[str, int], found: dict[str, dict[str, Any]]) -> None:
        no = str(row[at[self.config.order_no_field]])
        where = f"{SALES_ORDER_FORM} {no}"
        seen = found.setdefault(no, {"status": str(row[at["FDocumentStatus"]] or ""), "ordered": {}, "shipped": {},
                                     "invoiced": {}, "amount": "", "updated_at": None})
        sku = str(row[at["FMaterialId.FNumber"]] or "")
        for name, key in (("ordered", "FQty"), ("shipped", "FStockOutQty"), ("invoiced", "FInvoiceQty")):
            seen[name][sku] = seen[name].get(sku, 0) + quantity(row[at[key]], f"{where}.{key}")
        if row[at["FBillAllAmount"]] is not None and not seen["amount"]:
            seen["amount"] = decimal_text(row[at["FBillAllAmount"]], f"{where}.FBillAllAmount")
        modified = _china_time(row[at["FModifyDate"]], f"{where}.FModifyDate")
        if modified and (seen["updated_at"] is None or modified > seen["updated_at"]):
            seen["updated_at"] = modified

    # -------------------------------------------------------------- transport

    async def _query(self, form: str, fields: Sequence[str], filter_string: str,
                     trace: list[Exchange]) -> list[list[Any]]:
        """Every row ExecuteBillQuery has for the filter, a page of ``ROW_LIMIT`` rows per call."""
        rows: list[list[Any]] = []
        start = 0
        while True:
            payload = {"data": {"FormId": form, "FieldKeys": ",".join(fields), "FilterString": filter_string,
                                "OrderString": "", "TopRowCount": 0, "StartRow": start, "Limit": ROW_LIMIT,
                                "SubSystemId": ""}}
            answer = await self._call(f"ExecuteBillQuery:{form}", QUERY, payload, trace=trace, idempotent=True)
            if not isinstance(answer, list) or not all(isinstance(row, list) and len(row) == len(fields)
                                                       for row in answer):
                raise self._malformed(trace, f"ExecuteBillQuery {form} answered something other than rows of "
                                             f"{len(fields)} values")
            rows.extend(answer)
            if len(answer) < ROW_LIMIT:
                return rows
            start += ROW_LIMIT

    async def _call(self, operation: str, service: str, payload: Mapping[str, Any], *, trace: list[Exchange],
                    idempotent: bool) -> Any:
        """The decoded answer of a data service, logged in; a lost session is renewed once."""
        session = _sessions.get(self._session_key) or await self._login(trace)
        answer = await self._post(operation, service, payload, session, trace, idempotent)
        status = _response_status(answer)
        if status is not None and _session_lost(status):
            _sessions.pop(self._session_key, None)
            session = await self._login(trace)
            answer = await self._post(operation, service, payload, session, trace, idempotent)
            status = _response_status(answer)
            if status is not None and _session_lost(status):
                raise self._refused(trace, "Kingdee refused a fresh session (会话信息已丢失 after re-login)", "SESSION")
        if status is not None and not status.get("IsSuccess", False):
            raise self._refused(trace, _messages(status), str(status.get("MsgCode", status.get("ErrorCode", ""))))
        return answer

    async def _login(self, trace: list[Exchange]) -> str:
        if self.config.auth == "app_secret":
            service, payload = LOGIN_APP_SECRET, {"acctID": self.config.acct_id, "username": self.config.username,
                                                  "appId": self.config.app_id, "appSecret": self.config.app_secret,
                                                  "lcid": self.config.lcid}
        else:
            service, payload = LOGIN_PASSWORD, {"acctID": self.config.acct_id, "username": self.config.username,
                                                "password": self.config.password, "lcid": self.config.lcid}
        response = await self._send("Login", service, payload, None, trace, idempotent=True)
        answer = self._decode(response, trace)
        if not isinstance(answer, dict):
            raise self._malformed(trace, "login answered something other than an object")
        if answer.get("LoginResultType") != 1:
            message = answer.get("Message") or "login refused"
            raise self._refused(trace, f"Kingdee login refused: {message}", f"LOGIN_{answer.get('LoginResultType')}")
        session = answer.get("KDSVCSessionId") or response.cookies.get(SESSION_COOKIE)
        if not isinstance(session, str) or not session:
            raise self._malformed(trace, "login succeeded without a session id")
        _sessions[self._session_key] = session
        return session

    async def _post(self, operation: str, service: str, payload: Mapping[str, Any], session: str,
                    trace: list[Exchange], idempotent: bool) -> Any:
        return self._decode(await self._send(operation, service, payload, session, trace, idempotent=idempotent), trace)

    async def _send(self, operation: str, service: str, payload: Mapping[str, Any], session: str | None,
                    trace: list[Exchange], *, idempotent: bool) -> Any:
        headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}
        # An explicit Cookie header: the shared HTTP client's jar must never carry one connection's session to another.
        headers["Cookie"] = f"{SESSION_COOKIE}={session}" if session else ""
        if session:
            headers[SESSION_COOKIE] = session
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        response = await self.client.send(operation, "POST", service, body=body, headers=headers,
                                          idempotent=idempotent, trace=trace, redact=redact)
        if response.status_code >= 400:
            raise self._refused(trace, f"Kingdee answered HTTP {response.status_code}", f"HTTP_{response.status_code}")
        return response

    def _decode(self, response: Any, trace: list[Exchange]) -> Any:
        try:
            return wire.load_json(response.content)
        except PayloadError:
            raise self._malformed(trace, "Kingdee answered something that is not JSON") from None

    # -------------------------------------------------------------- failures

    @staticmethod
    def _mark(trace: list[Exchange], error: str) -> None:
        """The last exchange answered, but not with what we asked for: it counts as failed evidence."""
        if trace and trace[-1].outcome == "ok":
            trace[-1] = replace(trace[-1], outcome="error", error=error[:500])

    def _refused(self, trace: list[Exchange], message: str, code: str) -> SystemRefused:
        message = redact(message)     # an ERP's message may quote a phone number
        self._mark(trace, message)
        return SystemRefused(message, code=code)

    def _malformed(self, trace: list[Exchange], message: str) -> SystemUnavailable:
        self._mark(trace, message)
        return SystemUnavailable(f"erp: {message}", code="MALFORMED")


def _response_status(answer: Any) -> Mapping[str, Any] | None:
    """``Result.ResponseStatus`` of an answer (bare, or wrapped in lists as queries wrap it), or ``None`` for data."""
    node = answer
    while isinstance(node, list):
        if not node:
            return None
        node = node[0]
    if isinstance(node, dict):
        result = node.get("Result")
        if isinstance(result, dict) and isinstance(result.get("ResponseStatus"), dict):
            return result["ResponseStatus"]
    return None


def _session_lost(status: Mapping[str, Any]) -> bool:
    return not status.get("IsSuccess", False) and (
        status.get("MsgCode") == MSG_SESSION_LOST or SESSION_LOST_TEXT in _messages(status))


def _messages(status: Mapping[str, Any]) -> str:
    errors = status.get("Errors") or []
    parts = []
    for error in errors if isinstance(errors, list) else []:
        if isinstance(error, dict):
            name, message = error.get("FieldName"), str(error.get("Message") or "").strip()
            parts.append(f"{name}: {message}" if name else message)
    return "; ".join(part for part in parts if part)[:480] or "Kingdee refused the request"


def _china_time(value: Any, where: str) -> datetime | None:
    """Kingdee's server time (``2026-11-30T10:15:00.123``, China time without offset) in UTC; ``None`` when empty."""
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{where}: not a time: {str(value)[:40]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=wire.CHINA_TZ)
    return moment.astimezone(UTC)
