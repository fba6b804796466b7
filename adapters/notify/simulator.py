"""One local HTTP server speaking both group robots' formats, at the real services' paths, for tests and demos.

    sim = RobotSimulator(wecom_keys={"k-1"}, dingtalk={"tok": DingTalkBot(secret="SEC1", keyword="")})
    async with serve_asgi(sim.app()) as base:          # config: {"key": "k-1", "base_url": base}
        ...
        await sim.wait_for(1)                          # the accepted messages arrived
    sim.messages                                       # every accepted message, in order
    sim.fail_next(2, errcode=45009)                    # fault injection (or status=503, or delay_ms=3000)

- ``POST /cgi-bin/webhook/send?key=K`` (WeCom): an unknown key answers
  ``{"errcode": 93000, "errmsg": "invalid webhook url"}``; the body must be a
  ``markdown`` message with ``content`` of at most 4096 bytes (40008 / 40058 otherwise).
- ``POST /robot/send?access_token=T&timestamp=MS&sign=S`` (DingTalk): an unknown
  token answers 300001; for a robot with a secret the timestamp must be within
  an hour and ``S`` must be base64(HMAC-SHA256(secret, "{timestamp}\\n{secret}"))
  (310000 otherwise); a robot with a keyword needs it in the text (310000).
- Both answer ``{"errcode": 0, "errmsg": "ok"}`` when they accept a message.

Faults are a queue, consumed in order by matching requests: ``{"count": n,
"robot": "wecom"|"dingtalk"|null, "errcode": 45009}`` (answered as the robot's
error), ``"status": 503`` (an HTTP error), ``"delay_ms": 3000`` (a slow answer,
then the normal outcome).

Control API (JSON): ``GET /_sim/messages``; ``PUT /_sim/robots``
``{"wecom_keys": ["k"], "dingtalk": {"tok": {"secret": "SEC…", "keyword": ""}}}``;
``POST /_sim/faults`` (append one fault), ``GET /_sim/faults``;
``GET /_sim/stats``; ``POST /_sim/reset`` (forget messages, faults and counters).

Run it alone: ``ordergraph sim notify --port 9600``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

WECOM_MAX_BYTES = 4096
HOUR_MS = 3600 * 1000


@dataclass(frozen=True, slots=True)
class DingTalkBot:
    secret: str = ""
    keyword: str = ""


@dataclass
class Fault:
    count: int
    robot: str | None = None
    errcode: int | None = None
    status: int | None = None
    delay_ms: int = 0

    @classmethod
    def read(cls, data: Any) -> Fault:
        """A fault from JSON; a bad one is a ``ValueError`` naming what is wrong."""
        if not isinstance(data, dict):
            raise ValueError("a fault is a JSON object")
        unknown = set(data) - {"count", "robot", "errcode", "status", "delay_ms"}
        if unknown:
            raise ValueError(f"unknown fault keys: {', '.join(sorted(unknown))}")
        count = data.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError("count: an integer >= 1")
        if data.get("robot") not in (None, "wecom", "dingtalk"):
            raise ValueError("robot: wecom, dingtalk or null")
        for key in ("errcode", "status", "delay_ms"):
            if data.get(key) is not None and (isinstance(data[key], bool) or not isinstance(data[key], int)):
                raise ValueError(f"{key}: an integer")
        if data.get("status") is not None and not 400 <= data["status"] <= 599:
            raise ValueError("status: an HTTP error status (400-599)")
        return cls(count=count, robot=data.get("robot"), errcode=data.get("errcode"), status=data.get("status"),
                   delay_ms=max(0, data.get("delay_ms") or 0))

    def as_json(self) -> dict[str, Any]:
        return {"count": self.count, "robot": self.robot, "errcode": self.errcode, "status": self.status,
                "delay_ms": self.delay_ms}


def _answer(errcode: int, errmsg: str) -> JSONResponse:
    return JSONResponse({"errcode": errcode, "errmsg": errmsg})


def dingtalk_sign(timestamp: str, secret: str) -> str:
    """What DingTalk expects in ``sign`` (before URL encoding)."""
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass
class RobotSimulator:
    wecom_keys: set[str] = field(default_factory=set)
    dingtalk: dict[str, DingTalkBot] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self.calls: Counter[str] = Counter()
        self._arrived = asyncio.Condition()

    # ------------------------------------------------------------------ for tests in-process

    def fail_next(self, count: int = 1, *, robot: str | None = None, errcode: int | None = None,
                  status: int | None = None, delay_ms: int = 0) -> None:
        self.faults.append(Fault(count=count, robot=robot, errcode=errcode, status=status, delay_ms=delay_ms))

    def received(self, robot: str | None = None) -> list[dict[str, Any]]:
        return [m for m in self.messages if robot is None or m["robot"] == robot]

    async def wait_for(self, count: int, *, robot: str | None = None, timeout: float = 20.0) -> list[dict[str, Any]]:
        """Wait until ``count`` messages (of ``robot``) were accepted; ``TimeoutError`` otherwise."""
        async with asyncio.timeout(timeout):
            async with self._arrived:
                await self._arrived.wait_for(lambda: len(self.received(robot)) >= count)
        return self.received(robot)

    def reset(self) -> None:
        self.messages.clear()
        self.faults.clear()
        self.calls.clear()

    # ------------------------------------------------------------------ the server

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/cgi-bin/webhook/send", self._wecom, methods=["POST"]),
            Route("/robot/send", self._dingtalk, methods=["POST"]),
            Route("/_sim/messages", lambda _r: JSONResponse(self.messages), methods=["GET"]),
            Route("/_sim/robots", self._set_robots, methods=["PUT"]),
            Route("/_sim/faults", self._add_fault, methods=["POST"]),
            Route("/_sim/faults", lambda _r: JSONResponse([f.as_json() for f in self.faults]), methods=["GET"]),
            Route("/_sim/stats", lambda _r: JSONResponse({"accepted": len(self.messages), **self.calls}),
                  methods=["GET"]),
            Route("/_sim/reset", self._reset, methods=["POST"]),
            Route("/healthz", lambda _r: JSONResponse({"ok": True}), methods=["GET"]),
        ])

    async def _fault(self, robot: str) -> Response | None:
        """Apply the first queued fault for ``robot``: a response to give instead, or None (after any delay)."""
        for fault in self.faults:
            if fault.robot in (None, robot):
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
                self.calls[f"{robot}_faulted"] += 1
                if fault.delay_ms:
                    await asyncio.sleep(fault.delay_ms / 1000)
                if fault.status is not None:
                    return JSONResponse({"error": "injected"}, status_code=fault.status)
                if fault.errcode is not None:
                    return _answer(fault.errcode, "injected fault")
                return None
        return None

    async def _body(self, request: Request) -> dict[str, Any] | None:
        try:
            body = json.loads(await request.body())
        except (ValueError, RecursionError):
            return None
        return body if isinstance(body, dict) else None

    async def _accept(self, robot: str, target: str, body: dict[str, Any], text: str, title: str) -> Response:
        async with self._arrived:
            self.messages.append({"robot": robot, "target": target, "title": title, "text": text, "body": body,
                                  "received_at": time.time(), "received_monotonic": time.monotonic()})
            self._arrived.notify_all()
        return _answer(0, "ok")

    async def _wecom(self, request: Request) -> Response:
        self.calls["wecom"] += 1
        refused = await self._fault("wecom")
        if refused is not None:
            return refused
        key = request.query_params.get("key", "")
        if key not in self.wecom_keys:
            return _answer(93000, "invalid webhook url")
        body = await self._body(request)
        if body is None or body.get("msgtype") != "markdown":
            return _answer(40008, "invalid message type")
        content = (body.get("markdown") or {}).get("content") if isinstance(body.get("markdown"), dict) else None
        if not isinstance(content, str) or not content.strip():
            return _answer(40058, "markdown.content exceed max length or empty")
        if len(content.encode()) > WECOM_MAX_BYTES:
            return _answer(40058, "markdown.content exceed max length 4096")
        title = content.splitlines()[0].lstrip("# ").strip()
        return await self._accept("wecom", key, body, content, title)

    async def _dingtalk(self, request: Request) -> Response:
        self.calls["dingtalk"] += 1
        refused = await self._fault("dingtalk")
        if refused is not None:
            return refused
        token = request.query_params.get("access_token", "")
        bot = self.dingtalk.get(token)
        if bot is None:
            return _answer(300001, "token is not exist")
        if bot.secret:
            timestamp, sign = request.query_params.get("timestamp", ""), request.query_params.get("sign", "")
            if not timestamp.isdigit() or abs(int(time.time() * 1000) - int(timestamp)) > HOUR_MS:
                return _answer(310000, "invalid timestamp")
            if not hmac.compare_digest(sign, dingtalk_sign(timestamp, bot.secret)):
                return _answer(310000, "sign not match")
        body = await self._body(request)
        if body is None or body.get("msgtype") != "markdown" or not isinstance(body.get("markdown"), dict):
            return _answer(40035, "invalid msgtype")
        title, text = body["markdown"].get("title"), body["markdown"].get("text")
        if not isinstance(title, str) or not isinstance(text, str) or not title or not text:
            return _answer(40035, "markdown needs title and text")
        if bot.keyword and bot.keyword not in text and bot.keyword not in title:
            return _answer(310000, "keywords not in content")
        return await self._accept("dingtalk", token, body, text, title)

    # ------------------------------------------------------------------ control

    async def _set_robots(self, request: Request) -> Response:
        data = await self._body(request)
        if data is None:
            return JSONResponse({"error": "a JSON object"}, status_code=400)
        keys, bots = data.get("wecom_keys", []), data.get("dingtalk", {})
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys) or not isinstance(bots, dict) \
                or not all(isinstance(b, dict) for b in bots.values()):
            return JSONResponse({"error": "wecom_keys: [str], dingtalk: {token: {secret, keyword}}"}, status_code=400)
        self.wecom_keys = set(keys)
        self.dingtalk = {token: DingTalkBot(secret=str(b.get("secret") or ""), keyword=str(b.get("keyword") or ""))
                         for token, b in bots.items()}
        return JSONResponse({"wecom_keys": len(self.wecom_keys), "dingtalk": len(self.dingtalk)})

    async def _add_fault(self, request: Request) -> Response:
        try:
            fault = Fault.read(await self._body(request))
        except ValueError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        self.faults.append(fault)
        return JSONResponse(fault.as_json())

    async def _reset(self, request: Request) -> Response:
        self.reset()
        return JSONResponse({"ok": True})


def run(host: str, port: int, simulator: RobotSimulator | None = None) -> None:
    """Serve the simulator with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run((simulator or RobotSimulator()).app(), host=host, port=port, log_level="warning")
