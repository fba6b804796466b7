"""One simulated tracking provider server speaking Kuaidi100, Kdniao and AfterShip, with pushes.

    sim = TrackingSimulator()
    async with serve_asgi(sim.app()) as base:
        config = account_config("kuaidi100", base)        # a CarrierAccount.config pointing at the simulator
        sim.push_urls["kdniao"] = f"{app}/hooks/acme/carrier/kdniao"   # Kdniao/AfterShip: the console's push URL
        sim.add_scan("SF1234567890", "IN_TRANSIT")         # every subscription of the waybill is pushed

The scans of a waybill are the truth; each provider writes them its way
(:mod:`adapters.carriers.sim_wire`):
the APIs (``adapters.carriers.api``: Kuaidi100 ``/poll`` and ``/poll/query.do``,
Kdniao ``/api/dist`` 8008/8001, AfterShip ``/tracking/2024-04/trackings``)
check keys and signatures as the providers do and answer their errors; the
pushes (Kuaidi100 to the subscription's ``callbackurl`` signed with its
``salt``; Kdniao and AfterShip to ``push_urls``, signed with the AppKey and
the webhook secret) are what ``adapters.carriers.*.verify``/``parse_push`` read.
A subscription with scans already known is pushed at once.

Faults (``PUT /_sim/faults``): ``error_rate`` (HTTP 500), ``rate_per_s``/
``burst`` (each provider's throttling answer), ``latency_ms``, ``push``
(false: never push, only queries find scans), ``drop_push`` (share lost).
Control: ``POST /_sim/scan`` ``{"number", "status", "at"?, "text"?, "location"?}``
(status in OrderGraph's shipment vocabulary); ``GET /_sim/subscriptions``;
``PUT /_sim/push`` ``{"provider", "url"}``; ``GET /_sim/stats``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters import signing, wire
from adapters.carriers import kdniao, sim_wire
from adapters.carriers.api.codes import COMPANIES
from adapters.carriers.sim_wire import Scan
from adapters.sim_gate import PUSHES_IN_FLIGHT, Gate
from domain.inbound.normalized import PayloadError

KUAIDI100 = {"key": "sim-kuaidi100-key-0001", "customer": "SIMCUSTOMER0001", "secret": "sim-kuaidi100-salt-0001"}
KDNIAO = {"ebusiness_id": "1237100", "app_key": "sim-kdniao-appkey-0001", "secret": "sim-kdniao-appkey-0001"}
AFTERSHIP = {"api_key": "asat_sim_0001", "secret": "sim-aftership-webhook-secret-0001"}
_ACCOUNTS = {"kuaidi100": KUAIDI100, "kdniao": KDNIAO, "aftership": AFTERSHIP}


def account_config(provider: str, base_url: str) -> dict[str, Any]:
    """The carrier account ``config`` that points a client at the simulator (its secret: :func:`account_secret`)."""
    return {key: value for key, value in _ACCOUNTS[provider].items() if key != "secret"} | {"base_url": base_url}


def account_secret(provider: str) -> str:
    """The carrier account's secret the simulator signs pushes with (Kuaidi100: the salt the client subscribes with)."""
    return _ACCOUNTS[provider]["secret"]


@dataclass
class Subscription:
    provider: str
    number: str
    company: str
    callback_url: str = ""
    salt: str = ""
    phone: str = ""
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    pushes: int = 0


@dataclass(frozen=True, slots=True)
class Faults:
    error_rate: float = 0.0
    rate_per_s: float = 0.0
    burst: int = 10
    latency_ms: int = 0
    push: bool = True
    drop_push: float = 0.0

    @classmethod
    def read(cls, data: Any) -> Faults:
        known = {f.name for f in fields(cls)}
        if not isinstance(data, dict) or set(data) - known:
            raise ValueError(f"faults: a JSON object with keys among {', '.join(sorted(known))}")
        def read(key: str, value: Any) -> Any:
            return bool(value) if key == "push" else int(value) if key in ("burst", "latency_ms") else float(value)
        return cls(**{key: read(key, value) for key, value in data.items()})


class TrackingSimulator:
    def __init__(self, *, faults: Faults | None = None, seed: int = 7, push_urls: dict[str, str] | None = None) -> None:
        self.scans: dict[str, list[Scan]] = {}
        self.subscriptions: dict[tuple[str, str], Subscription] = {}
        self.push_urls: dict[str, str] = dict(push_urls or {})
        self.calls: Counter[str] = Counter()
        self.push_answers: list[tuple[str, str, int]] = []
        self.rng = random.Random(seed)
        self._pending: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        self._gate = Gate(self.rng, self.calls)
        self.faults = faults or Faults()

    @property
    def faults(self) -> Faults:
        return self._faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._faults = faults
        self._gate.configure(faults)

    async def gate(self, operation: str) -> str | None:
        """Count a call and apply the faults: ``None``, ``"throttled"`` or ``"error"``."""
        return await self._gate.admit(operation)

    # ------------------------------------------------------------------ the truth and the pushes

    def add_scan(self, number: str, status: str, *, at: datetime | None = None, text: str = "",
                 location: str = "") -> Scan:
        """A new scan of the waybill; every subscription of it is pushed (faults permitting)."""
        if status not in sim_wire.CODES:
            raise ValueError(f"status is one of {', '.join(sim_wire.CODES)}")
        scan = Scan(status, (at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0),
                    text or f"[{location or '上海'}] {sim_wire.CODES[status][0][1]}", location or "上海市")
        self.scans.setdefault(number, []).append(scan)
        self.scans[number].sort(key=lambda s: s.at)
        for subscription in [s for s in self.subscriptions.values() if s.number == number]:
            self.push(subscription)
        return scan

    def push(self, sub: Subscription) -> None:
        if not self.faults.push or not self.scans.get(sub.number):
            return
        if self.faults.drop_push and self.rng.random() < self.faults.drop_push:
            self.calls["push_dropped"] += 1
            return
        url, body, headers = self._render_push(sub)
        if not url:
            self.calls["push_no_url"] += 1
            return
        sub.pushes += 1
        task = asyncio.get_running_loop().create_task(self._send(sub, url, body, headers))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def _render_push(self, sub: Subscription) -> tuple[str, bytes, dict[str, str]]:
        if sub.provider == "kuaidi100":
            url, secret = sub.callback_url, sub.salt
        else:
            url, secret = self.push_urls.get(sub.provider, ""), _ACCOUNTS[sub.provider]["secret"]
        body, headers = sim_wire.push(sub.provider, sub.number, sub.company, self.scans[sub.number], secret=secret,
                                      ebusiness_id=KDNIAO["ebusiness_id"])
        return url, body, headers

    async def _send(self, sub: Subscription, url: str, body: bytes, headers: dict[str, str]) -> None:
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(timeout=10.0)
        try:
            async with PUSHES_IN_FLIGHT.get():
                response = await self._client.post(url, content=body, headers=headers)
            self.calls[f"push_{response.status_code}"] += 1
            self.push_answers.append((sub.provider, sub.number, response.status_code))
        except httpx.HTTPError:
            self.calls["push_failed"] += 1

    def abandon(self) -> None:
        """Cancel every push still in flight or waiting to be retried (a stopped run: nobody will receive them)."""
        for task in list(self._pending):
            task.cancel()

    async def drain(self) -> None:
        """Wait for every push in flight."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def aclose(self) -> None:
        await self.drain()
        if self._client is not None:
            await self._client.aclose()

    # ------------------------------------------------------------------ the providers' APIs

    def subscribe(self, provider: str, number: str, company: str, **extra: str) -> bool:
        """Record a subscription (``False``: it existed); push at once what is already known."""
        key = (provider, number)
        if key in self.subscriptions:
            return False
        self.subscriptions[key] = Subscription(provider, number, company, **extra)
        self.push(self.subscriptions[key])
        return True

    async def _k100_subscribe(self, request: Request) -> Response:
        def answer(code: str, message: str) -> Response:
            return JSONResponse({"result": code == "200", "returnCode": code, "message": message})
        refusal = await self.gate("kuaidi100.subscribe")
        if refusal:
            return answer("502", "服务器繁忙") if refusal == "throttled" else Response("error", status_code=500)
        try:
            param = wire.load_json((await _form(request)).get("param", ""))
        except PayloadError:
            return answer("700", "订阅方的订阅数据存在错误")
        if not isinstance(param, dict) or param.get("key") != KUAIDI100["key"]:
            return answer("600", "您不是合法的订阅者（即授权Key出错）")
        parameters = param.get("parameters") if isinstance(param.get("parameters"), dict) else {}
        company, number = str(param.get("company", "")), str(param.get("number", ""))
        if company not in COMPANIES["kuaidi100"].values():
            return answer("701", "拒绝订阅的快递公司")
        if not number or not str(parameters.get("callbackurl", "")).startswith("http"):
            return answer("700", "订阅方的订阅数据存在错误（如不支持的快递公司、单号为空、单号超长等）或错误的回调地址")
        fresh = self.subscribe("kuaidi100", number, company, callback_url=parameters["callbackurl"],
                               salt=str(parameters.get("salt", "")), phone=str(parameters.get("phone", "")))
        return answer("200", "提交成功") if fresh else answer("501", "重复订阅")

    async def _k100_query(self, request: Request) -> Response:
        def fail(code: str, message: str) -> Response:
            return JSONResponse({"result": False, "returnCode": code, "message": message})
        refusal = await self.gate("kuaidi100.query")
        if refusal:
            return fail("502", "服务器繁忙") if refusal == "throttled" else Response("error", status_code=500)
        form = await _form(request)
        param_text = form.get("param", "")
        expected = signing.md5_hex(param_text + KUAIDI100["key"] + KUAIDI100["customer"]).upper()
        if form.get("customer") != KUAIDI100["customer"] or not signing.same(expected, form.get("sign", "")):
            return fail("503", "验证签名失败")
        try:
            param = wire.load_json(param_text)
        except PayloadError:
            param = None
        if not isinstance(param, dict):
            return fail("400", "提交的数据不完整，或者贵公司没授权")
        com, num = str(param.get("com", "")), str(param.get("num", ""))
        if com not in COMPANIES["kuaidi100"].values() or not num:
            return fail("400", "找不到对应公司")
        if com == "shunfeng" and len(str(param.get("phone", ""))) < 4:
            return fail("408", "快递公司参数异常：验证码错误")
        if not self.scans.get(num):
            return fail("500", "查询无结果，请隔段时间再查")
        return JSONResponse(sim_wire.kuaidi100_result(num, com, self.scans[num]))

    async def _kdniao_api(self, request: Request) -> Response:
        now = sim_wire.china(datetime.now(UTC))

        def fail(reason: str, code: str = "105") -> Response:
            return JSONResponse({"EBusinessID": KDNIAO["ebusiness_id"], "UpdateTime": now, "Success": False,
                                 "ResultCode": code, "Reason": reason})
        form = await _form(request)
        request_type = form.get("RequestType", "")
        refusal = await self.gate(f"kdniao.{request_type}")
        if refusal:
            return fail("请求过于频繁，超过并发限制", "106") if refusal == "throttled" else Response("error", status_code=500)
        if form.get("EBusinessID") != KDNIAO["ebusiness_id"] or not kdniao.verify(form, KDNIAO["app_key"]):
            return fail("数据签名DataSign校验失败或EBusinessID不存在", "101")
        try:
            data = wire.load_json(form.get("RequestData", ""))
        except PayloadError:
            data = None
        if not isinstance(data, dict):
            return fail("RequestData格式错误", "102")
        shipper, number = str(data.get("ShipperCode", "")), str(data.get("LogisticCode", ""))
        if shipper not in COMPANIES["kdniao"].values() or not number:
            return fail("不支持的快递公司编码ShipperCode", "103")
        if shipper in ("SF", "ZTO") and len(str(data.get("CustomerName", ""))) != 4:
            return fail("顺丰、中通单号需传CustomerName(手机号后四位)", "104")
        if request_type == "8008":
            fresh = self.subscribe("kdniao", number, shipper, phone=str(data.get("CustomerName", "")))
            if not fresh:
                return fail("该单号已订阅，请勿重复订阅", "107")
            return JSONResponse({"EBusinessID": KDNIAO["ebusiness_id"], "UpdateTime": now, "Success": True,
                                 "Reason": "", "ResultCode": "100", "EstimatedDeliveryTime": ""})
        if request_type == "8001":
            if not self.scans.get(number):
                return JSONResponse({"EBusinessID": KDNIAO["ebusiness_id"], "ShipperCode": shipper,
                                     "LogisticCode": number, "Success": False, "State": "0", "Reason": "暂无轨迹信息",
                                     "Traces": []})
            return JSONResponse(sim_wire.kdniao_item(number, shipper, self.scans[number], KDNIAO["ebusiness_id"]))
        return fail(f"RequestType {request_type} 指令错误", "102")

    async def _as_create(self, request: Request) -> Response:
        if (refused := await self._as_gate(request, "aftership.create")) is not None:
            return refused
        try:
            body = wire.load_json(await request.body())
        except PayloadError:
            return _meta(400, 4001, "BadRequest", "Invalid JSON data.")
        tracking = body.get("tracking", body) if isinstance(body, dict) else {}
        number, slug = str(tracking.get("tracking_number", "")), str(tracking.get("slug", ""))
        if not number:
            return _meta(400, 4007, "BadRequest", "`tracking_number` is required.")
        if slug not in COMPANIES["aftership"].values():
            return _meta(400, 4005, "BadRequest", "The value of `slug` is invalid.")
        if not self.subscribe("aftership", number, slug):
            return _meta(400, 4003, "BadRequest", "Tracking already exists.", self._tracking(number, slug))
        return _meta(201, 201, "Created", "", self._tracking(number, slug))

    async def _as_list(self, request: Request) -> Response:
        if (refused := await self._as_gate(request, "aftership.list")) is not None:
            return refused
        numbers = set(request.query_params.get("tracking_numbers", "").split(","))
        slugs = set(filter(None, request.query_params.get("slug", "").split(",")))
        found = [self._tracking(s.number, s.company) for s in self.subscriptions.values()
                 if s.provider == "aftership" and s.number in numbers and (not slugs or s.company in slugs)]
        return _meta(200, 200, "OK", "", {"pagination": {"total": len(found), "has_next_page": False},
                                          "trackings": found})

    def _tracking(self, number: str, slug: str) -> dict[str, Any]:
        return sim_wire.aftership_tracking(number, slug, self.scans.get(number, []))

    async def _as_gate(self, request: Request, operation: str) -> Response | None:
        if request.headers.get("as-api-key") != AFTERSHIP["api_key"]:
            self.calls[operation] += 1
            return _meta(401, 401, "Unauthorized", "Invalid API key.")
        refusal = await self.gate(operation)
        if refusal == "throttled":
            reset = str(int(datetime.now(UTC).timestamp()) + 1)
            return _meta(429, 429, "TooManyRequests", "You have exceeded the API call rate limit.",
                         headers={"retry-after": "1", "x-ratelimit-reset": reset, "x-ratelimit-remaining": "0"})
        return Response("error", status_code=500) if refusal == "error" else None

    # ------------------------------------------------------------------ control and app

    async def _scan(self, request: Request) -> Response:
        try:
            data = json.loads(await request.body() or b"{}")
            at = datetime.fromisoformat(data["at"]) if data.get("at") else None
            scan = self.add_scan(str(data["number"]), str(data["status"]), at=at, text=str(data.get("text", "")),
                                 location=str(data.get("location", "")))
        except (ValueError, KeyError, TypeError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse({"number": data["number"], "status": scan.status, "at": scan.at.isoformat()})

    async def _set_faults(self, request: Request) -> Response:
        try:
            self.faults = Faults.read(json.loads(await request.body() or b"{}"))
        except (ValueError, TypeError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse({f.name: getattr(self.faults, f.name) for f in fields(self.faults)})

    async def _set_push(self, request: Request) -> Response:
        data = json.loads(await request.body() or b"{}")
        if data.get("provider") not in ("kdniao", "aftership") or not str(data.get("url", "")).startswith("http"):
            return JSONResponse({"error": "provider: kdniao or aftership; url: http(s)"}, status_code=400)
        self.push_urls[data["provider"]] = data["url"]
        return JSONResponse(self.push_urls)

    def listing(self) -> list[dict[str, Any]]:
        return [{"provider": s.provider, "number": s.number, "company": s.company, "callback_url": s.callback_url,
                 "phone": s.phone, "subscribed_at": s.at.isoformat(), "pushes": s.pushes}
                for s in self.subscriptions.values()]

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/poll", self._k100_subscribe, methods=["POST"]),
            Route("/poll/query.do", self._k100_query, methods=["POST"]),
            Route("/api/dist", self._kdniao_api, methods=["POST"]),
            Route("/tracking/2024-04/trackings", self._as_create, methods=["POST"]),
            Route("/tracking/2024-04/trackings", self._as_list, methods=["GET"]),
            Route("/_sim/scan", self._scan, methods=["POST"]),
            Route("/_sim/faults", self._set_faults, methods=["PUT"]),
            Route("/_sim/push", self._set_push, methods=["PUT"]),
            Route("/_sim/subscriptions", lambda _r: JSONResponse(self.listing()), methods=["GET"]),
            Route("/_sim/stats", lambda _r: JSONResponse(dict(self.calls)), methods=["GET"]),
        ], lifespan=self._lifespan)

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        yield
        await self.aclose()


async def _form(request: Request) -> dict[str, str]:
    try:
        return wire.parse_form(await request.body())
    except PayloadError:
        return {}


def _meta(status: int, code: int, kind: str, message: str, data: Any = None,
          headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"meta": {"code": code, "type": kind, "message": message}, "data": data or {}},
                        status_code=status, headers=headers)


def run(host: str, port: int, simulator: TrackingSimulator | None = None) -> None:
    """Serve the simulator with uvicorn until interrupted (``ordergraph sim carrier``)."""
    import uvicorn

    uvicorn.run((simulator or TrackingSimulator()).app(), host=host, port=port, log_level="warning")
