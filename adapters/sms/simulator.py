"""A local SMS gateway speaking the relay shape ``HttpSmsSender`` posts, for tests and demos.

    gateway = SmsGatewaySimulator(token="tok")
    async with serve_asgi(gateway.app()) as base:          # POST {base}/send
        ...
    gateway.messages                                       # every accepted body, in order
    gateway.status = 503                                   # answer every send with this (a provider outage)

``POST /send`` needs ``Authorization: Bearer <token>`` (401 otherwise) and a
JSON body with ``to`` (E.164), ``text``, ``template``, ``params`` and ``lang``
(400 naming what is missing); it answers ``{"ok": true, "id": n}``.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

REQUIRED = ("to", "text", "template", "params", "lang")


class SmsGatewaySimulator:
    def __init__(self, *, token: str | None = None) -> None:
        self.token = token
        self.status = 200
        self.messages: list[dict[str, Any]] = []

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/send", self._send, methods=["POST"])])

    async def _send(self, request: Request) -> Response:
        if self.token and request.headers.get("authorization") != f"Bearer {self.token}":
            return JSONResponse({"ok": False, "error": "bad token"}, status_code=401)
        if self.status != 200:
            return JSONResponse({"ok": False, "error": "unavailable"}, status_code=self.status)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"ok": False, "error": "not JSON"}, status_code=400)
        missing = [key for key in REQUIRED if not isinstance(body, dict) or key not in body]
        if missing:
            return JSONResponse({"ok": False, "error": f"missing {', '.join(missing)}"}, status_code=400)
        self.messages.append(body)
        return JSONResponse({"ok": True, "id": len(self.messages)})
