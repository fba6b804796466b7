"""Fixtures for the live tests: real Redis, a real uvicorn server in-process, a real webhook receiver.

Redis comes from ``TEST_REDIS_URL`` (the Makefile and ``.ci/run`` set it);
with ``CI=true`` an unreachable Redis fails the test instead of skipping it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport
from redis import asyncio as aioredis
from standardwebhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.app import create_app
from api.settings import Settings

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def redis_url_or_skip() -> str:
    """The real Redis for tests, flushed; fail (CI) or skip when it does not answer."""
    url = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"
    client = aioredis.from_url(url, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as exc:  # any failure to reach Redis
        message = f"Redis at {url} is unreachable: {exc}"
        if IN_CI:
            pytest.fail(f"{message} (CI=true: Redis tests must run)")
        pytest.skip(message)
    finally:
        await client.aclose()
    return url


@pytest.fixture
async def redis_url() -> str:
    return await redis_url_or_skip()


def live_settings(database_url: str, **overrides: Any) -> Settings:
    base: dict[str, Any] = {"database_url": database_url, "poll_interval": 0.05, "key_cache_seconds": 0,
                            "partner_poll_interval": 0.2, "poll_seconds": 0, "tracking_round_seconds": 0,
                            "wms_sweep_seconds": 0, "alert_wake_seconds": 0, "rules_enabled": False, "reconcile_hour": 0,
                            "audit_enabled": False}
    base.update(overrides)
    return Settings(**base)


@contextlib.asynccontextmanager
async def serve_asgi(app: Any, port: int | None = None) -> AsyncIterator[str]:
    """Run ``app`` under a real uvicorn server (in this event loop); yield its base URL."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 20
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server exited during start-up")
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=15)


@contextlib.asynccontextmanager
async def live_server(database_url: str, **overrides: Any) -> AsyncIterator[tuple[str, Any]]:
    """The OrderGraph app (on the already-connected test database) behind real uvicorn."""
    port = free_port()
    app = create_app(live_settings(database_url, port=port, **overrides), manage_database=False)
    async with serve_asgi(app, port) as base:
        yield base, app


def ws_transport(base: str, key: str | None, **init: Any) -> WebsocketsTransport:
    payload = ({"apiKey": key} if key else {}) | init
    return WebsocketsTransport(
        url=base.replace("http", "ws", 1) + "/graphql",
        init_payload=payload,
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        close_timeout=2,
    )


async def collect(base: str, key: str, query: Any, count: int, variables: dict[str, Any] | None = None,
                  started: asyncio.Event | None = None) -> list[dict[str, Any]]:
    """Subscribe through a real graphql-transport-ws client and return the first ``count`` results."""
    received: list[dict[str, Any]] = []
    async with Client(transport=ws_transport(base, key)) as session:
        iterator = session.subscribe(GraphQLRequest(query, variable_values=variables or {}))
        try:
            if started is not None:
                started.set()
            async for result in iterator:
                received.append(result)
                if len(received) >= count:
                    break
        finally:
            await iterator.aclose()
    return received


@dataclass
class Received:
    webhook_id: str
    timestamp: str
    body: dict[str, Any]
    at: float


@dataclass
class Receiver:
    """A partner's endpoint: verifies every request with the independent ``standardwebhooks`` package."""

    secrets: list[str] = field(default_factory=list)
    responses: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    delay: float = 0.0
    fail_every: int = 0
    received: list[Received] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    signature_headers: list[str] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    requests: int = 0
    respond: Callable[[Received], tuple[int, dict[str, str]]] | None = None

    async def endpoint(self, request: Request) -> Response:
        self.requests += 1
        body = await request.body()
        headers = dict(request.headers)
        verified = None
        for secret in self.secrets:
            try:
                verified = Webhook(secret).verify(body, headers)
                break
            except Exception:  # noqa: BLE001 - try the next secret
                continue
        if verified is None:
            self.rejected.append(headers.get("webhook-id", "?"))
            return JSONResponse({"error": "bad signature"}, status_code=400)
        if self.delay:
            await asyncio.sleep(self.delay)
        item = Received(headers["webhook-id"], headers["webhook-timestamp"], json.loads(body), time.monotonic())
        self.signature_headers.append(headers["webhook-signature"])
        if self.responses:
            status, extra = self.responses.pop(0)
        elif self.respond is not None:
            status, extra = self.respond(item)
        elif self.fail_every and self.requests % self.fail_every == 0:
            status, extra = 503, {}
        else:
            status, extra = 204, {}
        if 200 <= status < 300:
            self.received.append(item)
            self.arrived.set()
        return Response(status_code=status, headers=extra)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/hook", self.endpoint, methods=["POST"])])

    def unique(self) -> dict[str, Received]:
        """Accepted deliveries after de-duplicating on webhook-id (what a receiver is told to do)."""
        return {item.webhook_id: item for item in self.received}

    async def wait_for(self, predicate: Callable[[Receiver], bool], timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"receiver: condition not met in {timeout}s; got {len(self.received)} deliveries")
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def receiver_server(receiver: Receiver) -> AsyncIterator[str]:
    async with serve_asgi(receiver.app()) as base:
        yield base + "/hook"


async def wait_until(predicate: Callable[[], Any], timeout: float = 10, interval: float = 0.05) -> Any:
    """Poll an (async or sync) predicate until it is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)
