"""Pure ASGI middleware counting HTTP requests and their latency per route."""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_REQUESTS = Counter("ordergraph_http_requests_total", "HTTP requests", ["route", "method", "status"])
HTTP_LATENCY = Histogram("ordergraph_http_request_seconds", "HTTP request latency", ["route"])
KNOWN_ROUTES = ("/graphql", "/healthz", "/metrics", "/track", "/hooks")


def route_label(path: str) -> str:
    for prefix in KNOWN_ROUTES:
        if path == prefix or path.startswith(prefix + "/"):
            return prefix
    return "other"


class HttpMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        route = route_label(scope["path"])
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            HTTP_REQUESTS.labels(route, scope["method"], str(status)).inc()
            HTTP_LATENCY.labels(route).observe(time.perf_counter() - started)
