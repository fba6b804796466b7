"""A REST WMS described as data, against a small WMS of another shape served over HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters import system_http
from adapters.systems import SYSTEMS
from adapters.wms.rest import RestWms
from domain.federation.ports import (
    CallbackRefused,
    DeliveryLine,
    DeliveryRequest,
    Exchange,
    Receiver,
    SystemRefused,
    WmsStatus,
)
from tests.live_fixtures import serve_asgi
from tests.wms_support import fresh_breakers  # noqa: F401

SECRET = "rest-callback-secret"


class OtherWms:
    """A WMS with its own paths, field names, status codes and unix times."""

    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.seen_auth: list[str] = []

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/v2/outbound", self.create, methods=["POST"]),
            Route("/v2/outbound", self.listing, methods=["GET"]),
            Route("/v2/outbound/{code}/cancel", self.cancel, methods=["POST"]),
            Route("/v2/stock", self.stock, methods=["GET"]),
        ])

    async def create(self, request: Request) -> Response:
        self.seen_auth.append(request.headers.get("authorization", ""))
        body = await request.json()
        code = body["outboundNo"]
        if code in self.orders:
            return JSONResponse({"err": {"code": "DUP", "msg": "outbound exists"}, "result": {"outboundId": self.orders[code]["id"]}},
                                status_code=409)
        if not body.get("items"):
            return JSONResponse({"err": {"code": "EMPTY", "msg": "no items"}}, status_code=422)
        self.orders[code] = {"id": f"R-{len(self.orders) + 1}", "body": body, "state": "CREATED"}
        return JSONResponse({"result": {"outboundId": self.orders[code]["id"]}}, status_code=201)

    async def listing(self, request: Request) -> Response:
        found = []
        for code in request.query_params["nos"].split(","):
            order = self.orders.get(code)
            if order is None:
                continue
            done = order["state"] == "DONE"
            found.append({"outboundNo": code, "state": order["state"], "updated": 1764468000,
                          "waybills": [{"company": "ZTO", "no": "ZT100200300"}] if done else [],
                          "details": [{"sku": i["sku"], "sent": i["qty"] if done else 0} for i in order["body"]["items"]]})
        return JSONResponse({"result": {"list": found}})

    async def cancel(self, request: Request) -> Response:
        order = self.orders.get(request.path_params["code"])
        if order is None:
            return JSONResponse({"err": {"code": "NONE", "msg": "no such outbound"}}, status_code=404)
        if order["state"] == "DONE":
            return JSONResponse({"err": {"code": "SHIPPED", "msg": "outbound already left the warehouse"}}, status_code=422)
        order["state"] = "VOID"
        return JSONResponse({"result": {}})

    async def stock(self, request: Request) -> Response:
        levels = {"TEA-001": (12, 9), "CUP-01": (3, 3)}
        return JSONResponse({"result": [{"skuCode": sku, "qty": levels[sku][0], "usable": levels[sku][1]}
                                        for sku in request.query_params["skus"].split(",") if sku in levels]})


def config(base_url: str) -> dict[str, Any]:
    return {
        "base_url": f"{base_url}/v2", "token": "Bearer t0ken-abc", "secret": SECRET, "time_format": "unix",
        "retries": 0,
        "operations": {"push": {"path": "/outbound"}, "cancel": {"path": "/outbound/{code}/cancel"},
                       "states": {"path": "/outbound", "codes_param": "nos", "warehouse_param": "wh"},
                       "stock": {"path": "/stock", "skus_param": "skus", "warehouse_param": "wh"}},
        "request": {"push": {"outboundNo": "code", "store": "warehouse_code", "consignee.name": "receiver.name",
                             "consignee.mobile": "receiver.phone", "consignee.address": "receiver.address",
                             "items": "lines", "items.sku": "line.sku", "items.qty": "line.quantity"}},
        "response": {"push.wms_order_id": "result.outboundId", "error.code": "err.code", "error.message": "err.msg",
                     "states.list": "result.list", "state.code": "outboundNo", "state.status": "state",
                     "state.updated_at": "updated", "state.parcels": "waybills", "parcel.carrier": "company",
                     "parcel.tracking_no": "no", "state.lines": "details", "line.sku": "sku", "line.shipped": "sent",
                     "stock.list": "result", "stock.sku": "skuCode", "stock.on_hand": "qty", "stock.available": "usable",
                     "confirm.parcels": "waybills", "confirm.lines": "details", "confirm.confirmed_at": "updated"},
        "statuses": {"CREATED": "ACCEPTED", "DONE": "SHIPPED", "VOID": "CANCELLED"},
    }


def request(code: str) -> DeliveryRequest:
    return DeliveryRequest(code=code, order_no="OG000000001", warehouse_code="SH01", owner_code="",
                           receiver=Receiver(name="王芳", phone="13900139002", address="南京西路 1266 号"),
                           lines=(DeliveryLine(line_ref="1", sku="TEA-001", quantity=2),),
                           placed_at=datetime(2026, 11, 30, tzinfo=UTC))


def port(base_url: str) -> RestWms:
    return RestWms(config(base_url), key=f"test:{uuid.uuid4().hex[:10]}")


async def test_push_sends_the_wms_its_own_shape_and_a_409_is_a_duplicate() -> None:
    wms = OtherWms()
    async with serve_asgi(wms.app) as base:
        try:
            trace: list[Exchange] = []
            first = await port(base).push_delivery(request("OG000000001-SH"), trace=trace)
            retried: list[Exchange] = []
            again = await port(base).push_delivery(request("OG000000001-SH"), trace=retried)
        finally:
            await system_http.aclose()
    body = wms.orders["OG000000001-SH"]["body"]
    assert body == {"outboundNo": "OG000000001-SH", "store": "SH01",
                    "consignee": {"name": "王芳", "mobile": "13900139002", "address": "南京西路 1266 号"},
                    "items": [{"sku": "TEA-001", "qty": 2}]}
    assert (first.wms_order_id, first.duplicate) == ("R-1", False)
    assert (again.wms_order_id, again.duplicate) == ("R-1", True)
    assert [(e.status_code, e.outcome) for e in retried] == [(409, "ok")]  # the retry's expected answer
    assert wms.seen_auth == ["Bearer t0ken-abc", "Bearer t0ken-abc"]
    kept = trace[0].request_body
    assert "13900139002" not in kept and "王芳" not in kept and "t0ken" not in kept and "139****9002" in kept


async def test_states_and_stock_are_read_through_the_maps() -> None:
    wms = OtherWms()
    async with serve_asgi(wms.app) as base:
        try:
            wms_port = port(base)
            await wms_port.push_delivery(request("OG000000001-SH"), trace=[])
            await wms_port.push_delivery(request("OG000000002-SH"), trace=[])
            wms.orders["OG000000002-SH"]["state"] = "DONE"
            states = await wms_port.delivery_states(["OG000000001-SH", "OG000000002-SH", "OG000000003-SH"], "SH01",
                                                    trace=[])
            stock = await wms_port.stock("SH01", ["TEA-001", "CUP-01", "NOPE"], trace=[])
        finally:
            await system_http.aclose()
    assert states["OG000000001-SH"].status == WmsStatus.ACCEPTED
    shipped = states["OG000000002-SH"]
    assert (shipped.status, shipped.raw_status, shipped.shipped) == (WmsStatus.SHIPPED, "DONE", {"TEA-001": 2})
    assert [(p.carrier, p.tracking_no) for p in shipped.parcels] == [("ZTO", "ZT100200300")]
    assert shipped.updated_at == datetime.fromtimestamp(1764468000, UTC)
    assert states["OG000000003-SH"].status == WmsStatus.UNKNOWN
    assert {sku: (f.on_hand, f.available) for sku, f in stock.items()} == {"TEA-001": (12, 9), "CUP-01": (3, 3)}


async def test_cancel_refusals_carry_the_wms_message_and_an_unknown_order_is_nothing_to_cancel() -> None:
    wms = OtherWms()
    async with serve_asgi(wms.app) as base:
        try:
            wms_port = port(base)
            await wms_port.push_delivery(request("OG000000001-SH"), trace=[])
            await wms_port.push_delivery(request("OG000000002-SH"), trace=[])
            wms.orders["OG000000002-SH"]["state"] = "DONE"
            await wms_port.cancel_delivery("OG000000001-SH", "SH01", reason="buyer asked", trace=[])
            with pytest.raises(SystemRefused) as refused:
                await wms_port.cancel_delivery("OG000000002-SH", "SH01", reason="buyer asked", trace=[])
            await wms_port.cancel_delivery("OG000000009-SH", "SH01", reason="never sent", trace=[])
        finally:
            await system_http.aclose()
    assert wms.orders["OG000000001-SH"]["state"] == "VOID"
    assert (refused.value.code, refused.value.message) == ("SHIPPED", "outbound already left the warehouse")


def signed(document: dict[str, Any], secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(document).encode()
    return body, {"X-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


def test_callbacks_are_verified_and_read_through_the_maps() -> None:
    wms_port = port("http://127.0.0.1:1")
    body, headers = signed({"event": "delivery.shipped", "code": "OG000000001-SH", "warehouseCode": "SH01",
                            "waybills": [{"company": "ZTO", "no": "ZT100200300"}],
                            "details": [{"sku": "TEA-001", "sent": 2}], "updated": 1764468000})
    [confirmation] = wms_port.read_callback(body, headers, {}).confirmations
    assert (confirmation.code, confirmation.warehouse_code, confirmation.shipped) == ("OG000000001-SH", "SH01", {"TEA-001": 2})
    assert confirmation.confirmed_at == datetime.fromtimestamp(1764468000, UTC) and confirmation.final

    body, headers = signed({"event": "stock.changed", "changes": [
        {"warehouseCode": "SH01", "sku": "TEA-001", "quantity": -1, "reference": "ADJ-7", "reason": "damaged"}]})
    [change] = wms_port.read_callback(body, headers, {}).stock_changes
    assert (change.sku, change.quantity, change.reference) == ("TEA-001", -1, "ADJ-7")

    with pytest.raises(CallbackRefused) as refused:
        wms_port.read_callback(body, {"X-Signature": "0" * 64}, {})
    assert refused.value.status == 401
    with pytest.raises(CallbackRefused) as refused:
        wms_port.read_callback(body, {}, {})
    assert (refused.value.status, refused.value.field) == (401, "X-Signature")
    body, headers = signed({"event": "stock.changed", "changes": [{"warehouseCode": "SH01", "sku": "TEA-001",
                                                                   "quantity": "many", "reference": "ADJ-8"}]})
    with pytest.raises(CallbackRefused) as refused:
        wms_port.read_callback(body, headers, {})
    assert refused.value.status == 422 and refused.value.field.startswith("change.list[0].change.quantity")


@pytest.mark.parametrize("change, named", [
    ({"base_url": "wms.example.com"}, "base_url"),
    ({"secret": ""}, "secret"),
    ({"response": {"state.code": "a[?"}}, "response.state.code"),
    ({"response": {"state.colour": "x"}}, "response.state.colour"),
    ({"request": {"push": {"orderNo": "order_number"}}}, "request.push.orderNo"),
    ({"request": {"push": {"sku": "line.sku"}}}, "request.push.sku"),
    ({"operations": {"push": {"method": "FETCH"}}}, "operations.push.method"),
    ({"operations": {"ship": {"path": "/x"}}}, "operations.ship"),
    ({"statuses": {"DONE": "FINISHED"}}, "statuses.DONE"),
    ({"time_format": "excel"}, "time_format"),
])
def test_systems_check_refuses_a_bad_config_naming_the_key(change: dict, named: str) -> None:
    with pytest.raises(ValueError) as refused:
        SYSTEMS.check("wms", "rest_wms", {**config("http://127.0.0.1:1"), **change})
    assert str(refused.value).startswith(named)


def test_systems_check_names_an_unknown_adapter() -> None:
    with pytest.raises(ValueError) as refused:
        SYSTEMS.check("wms", "flexport", {})
    assert str(refused.value).startswith("adapter") and "qimen" in str(refused.value)
