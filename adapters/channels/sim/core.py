"""What every simulated sales platform shares: the shop's orders (the ground truth), faults, throttling, pushes.

    platform = Platform(TaobaoProtocol(), faults=Faults(drop_push=0.05, page_size_max=50))
    order = platform.place(paid_at=now)            # a new paid order, pushed to the hook if one is set
    platform.touch(order.external_id, status="WAIT_BUYER_CONFIRM_GOODS")   # it changes, pushed again
    app = platform.app()                           # the platform's API (the protocol's routes) + /_sim control

A *protocol* (one module per platform under ``adapters.channels.sim``)
renders the orders in the platform's own JSON, serves its list/detail API
with its signing and paging, and builds its push (an announcement or the
whole order) — see :class:`Protocol`. The core keeps the truth: every order
ever placed with its current state and modification time, which pushes were
sent and which were dropped, and how many API calls were made and refused.
``platform.index`` (:mod:`~adapters.channels.sim.order_index`) keeps the
orders sorted by modification time as ``place`` and ``touch`` change them:
every protocol's list call counts and pages over it in O(log n + page).

Faults (``PUT /_sim/faults``, JSON; all optional):

- ``drop_push``: share of pushes never sent (only polling or the daily check can find those orders);
- ``duplicate_push``: share of pushes sent twice;
- ``reorder_push``: share of pushes held back ``reorder_delay_s`` (default 2) so later ones overtake them;
- ``delay_push``: share of pushes sent late, by a random delay up to ``delay_max_s`` seconds;
- ``rate_per_s`` / ``burst``: a token bucket over API calls; past it the protocol answers its throttling error;
- ``error_rate``: share of API calls answered HTTP 500;
- ``latency_ms``: delay before every API answer;
- ``page_size_max``: the largest page the list API gives, whatever is asked;
- ``touch_while_paging``: share of list pages after which one order of the window is modified
  (it moves out of the window mid-paging: the classic cause of a gap at a page boundary).

Control API (JSON): ``POST /_sim/orders`` ``{"count": n, "paid_at": ISO?, "push": true}`` places orders;
``POST /_sim/orders/{id}/touch`` ``{"status": "…"}`` modifies one; ``GET /_sim/orders`` lists the truth
(ids, status, times); ``PUT /_sim/push`` ``{"url": "…", "secret": "…"}`` sets where pushes go;
``GET /_sim/stats``; ``PUT /_sim/faults``; ``POST /_sim/reset`` (zero the counters).

After-sales (protocols that have them, Taobao): ``POST /_sim/orders/{id}/refund``
``{"line": 1, "return_goods": false, "reason": "…"}`` makes the buyer ask for a
refund of one line (pushed as the platform's refund message);
``GET /_sim/after_sale_calls`` lists the seller's refund decisions the
platform received (``after_sale_calls``: method, refund id, amount, time).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol as TypingProtocol

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.channels.sim.order_index import OrderIndex, key, seconds
from adapters.sim_gate import PUSHES_IN_FLIGHT, Gate, TokenBucket


@dataclass
class SimOrder:
    """One order as the platform knows it."""

    external_id: str
    seq: int
    created_at: datetime
    paid_at: datetime
    updated_at: datetime
    status: str
    #: The protocol's own detail fields (lines, receiver, …), fixed at placement.
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Faults:
    drop_push: float = 0.0
    duplicate_push: float = 0.0
    reorder_push: float = 0.0
    reorder_delay_s: float = 2.0
    delay_push: float = 0.0
    delay_max_s: float = 0.0
    rate_per_s: float = 0.0
    burst: int = 10
    error_rate: float = 0.0
    latency_ms: int = 0
    page_size_max: int = 100
    touch_while_paging: float = 0.0

    @classmethod
    def read(cls, data: Any) -> Faults:
        """Faults from JSON; an unknown key or a bad value is a ``ValueError`` naming it."""
        if not isinstance(data, dict):
            raise ValueError("faults: a JSON object")
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                raise ValueError(f"{key}: unknown fault (known: {', '.join(sorted(known))})")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{key}: a number ≥ 0")
            if key in ("drop_push", "duplicate_push", "reorder_push", "delay_push", "error_rate", "touch_while_paging") and value > 1:
                raise ValueError(f"{key}: a share between 0 and 1")
            values[key] = int(value) if known[key].type in ("int", int) else float(value)
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Push:
    """One HTTP push as the platform sends it."""

    body: bytes
    headers: dict[str, str]


class Protocol(TypingProtocol):
    """One platform's wire format, served over the core's orders."""

    kind: str

    def new_detail(self, seq: int, external_id: str, rng: random.Random) -> dict[str, Any]:
        """The fixed parts of a new order (lines, receiver, amounts) in whatever shape ``render`` wants."""
        ...

    def new_id(self, seq: int) -> str:
        """The platform's id for the ``seq``-th order of the shop."""
        ...

    def initial_status(self) -> str:
        """The platform's status code of a paid order awaiting shipment."""
        ...

    def routes(self, platform: Platform) -> list[Route]:
        """The platform's API (list, detail, auth) over ``platform.orders``; call ``platform.gate`` first."""
        ...

    def push(self, order: SimOrder, secret: str) -> Push | None:
        """The push the platform sends when ``order`` changes (``None``: this platform pushes nothing)."""
        ...


class Platform:
    """A simulated shop on one platform: the truth, the faults and the API (see the module docstring)."""

    def __init__(self, protocol: Protocol, *, faults: Faults | None = None, seed: int = 7,
                 push_url: str = "", push_secret: str = "", push_retries: int = 0) -> None:
        self.protocol = protocol
        #: Times a push answered 5xx or not at all is sent again (1, 2, 4 … s apart), as platforms re-deliver.
        self.push_retries = push_retries
        self.orders: dict[str, SimOrder] = {}
        #: The orders by modification time (kept by ``place`` and ``touch``): every list API pages over it.
        self.index: OrderIndex[SimOrder] = OrderIndex(self.orders)
        self.rng = random.Random(seed)
        self.push_url, self.push_secret = push_url, push_secret
        self.calls: Counter[str] = Counter()
        #: The seller's after-sale decisions the platform received (refund agreed, refused), oldest first.
        self.after_sale_calls: list[dict[str, Any]] = []
        self.pushed: list[str] = []
        self.dropped: list[str] = []
        self._pending: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        self._gate = Gate(self.rng, self.calls)
        self.faults = faults or Faults()

    # ------------------------------------------------------------------ faults and gate

    @property
    def faults(self) -> Faults:
        return self._faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._faults = faults
        self._gate.configure(faults)

    async def gate(self, operation: str) -> str | None:
        """Count an API call and apply the faults: ``None`` to answer, ``"throttled"`` or ``"error"`` to refuse.

        The protocol turns a refusal into the platform's own answer (its throttling code, an HTTP 500).
        """
        self.calls["http"] += 1
        return await self._gate.admit(operation)

    def retry_after(self) -> float:
        """Seconds until the next call may go ahead (at least one token's time); it takes no token."""
        return self._gate.retry_after()

    @property
    def bucket(self) -> TokenBucket:
        """The call budget (a protocol may show it, as Shopify's call-limit header does)."""
        return self._gate.bucket

    # ------------------------------------------------------------------ the truth

    def place(self, *, paid_at: datetime | None = None, push: bool = True) -> SimOrder:
        """A new paid order awaiting shipment (pushed when a push target is set and ``push``)."""
        seq = len(self.orders) + 1
        external_id = self.protocol.new_id(seq)
        when = (paid_at or datetime.now(UTC)).replace(microsecond=0)
        order = SimOrder(external_id, seq, when, when, when, self.protocol.initial_status(),
                         self.protocol.new_detail(seq, external_id, self.rng))
        self.orders[external_id] = order
        self.index.added(order)
        if push:
            self.announce(order)
        return order

    def touch(self, external_id: str, *, status: str | None = None, at: datetime | None = None,
              push: bool = True) -> SimOrder:
        """The order changes (its status, or only its modification time)."""
        order = self.orders[external_id]
        before = key(order)
        order.updated_at = max((at or datetime.now(UTC)).replace(microsecond=0), order.updated_at + timedelta(seconds=1))
        self.index.moved(order, before)
        if status:
            order.status = status
        if push:
            self.announce(order)
        return order

    def window(self, start: datetime, end: datetime) -> list[SimOrder]:
        """Orders modified within ``[start, end]``, oldest first (ties by placement)."""
        return self.index.slice(*seconds(start, end), offset=0, size=len(self.orders))

    def page_size(self, asked: int) -> int:
        return max(1, min(asked, self.faults.page_size_max))

    def after_page(self, start: datetime, end: datetime) -> None:
        """The ``touch_while_paging`` fault: one order of the window changes between two pages."""
        if self.faults.touch_while_paging and self.rng.random() < self.faults.touch_while_paging:
            first, last = seconds(start, end)
            inside = self.index.count(first, last)
            chosen = self.index.slice(first, last, offset=self.rng.randrange(inside), size=1) if inside else []
            if chosen:
                self.touch(chosen[0].external_id, at=max(end, datetime.now(UTC)) + timedelta(seconds=1), push=False)
                self.calls["touched_while_paging"] += 1

    # ------------------------------------------------------------------ pushes

    def announce(self, order: SimOrder) -> None:
        """Send the protocol's push for ``order`` to the push target, through the push faults."""
        if not self.push_url:
            return
        push = self.protocol.push(order, self.push_secret)
        if push is None:
            return
        self.send(order.external_id, push)

    def send(self, external_id: str, push: Push) -> None:
        """Send one built push to the push target, through the push faults."""
        if not self.push_url:
            return
        faults = self.faults
        if faults.drop_push and self.rng.random() < faults.drop_push:
            self.dropped.append(external_id)
            return
        self.pushed.append(external_id)
        delay = faults.reorder_delay_s if faults.reorder_push and self.rng.random() < faults.reorder_push else 0.0
        if not delay and faults.delay_push and self.rng.random() < faults.delay_push:
            delay = self.rng.uniform(0.0, faults.delay_max_s)
            self.calls["push_delayed"] += 1
        copies = 2 if faults.duplicate_push and self.rng.random() < faults.duplicate_push else 1
        self.calls["push_reordered"] += 1 if delay == faults.reorder_delay_s and delay else 0
        self.calls["push_duplicated"] += copies - 1
        for _ in range(copies):
            task = asyncio.get_running_loop().create_task(self._send(push, delay))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _send(self, push: Push, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(timeout=10.0)
        for attempt in range(self.push_retries + 1):
            if attempt:
                self.calls["push_retried"] += 1
                await asyncio.sleep(min(2.0 ** (attempt - 1), 30.0))
            try:
                async with PUSHES_IN_FLIGHT.get():
                    response = await self._client.post(self.push_url, content=push.body, headers=push.headers)
                self.calls[f"push_{response.status_code}"] += 1
                if response.status_code < 500:
                    return
            except httpx.HTTPError:
                self.calls["push_failed"] += 1

    def abandon(self) -> None:
        """Cancel every push still in flight or waiting to be retried (a stopped run: nobody will receive them)."""
        for task in list(self._pending):
            task.cancel()

    async def drain(self) -> None:
        """Wait for every push in flight (tests, benches)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def aclose(self) -> None:
        await self.drain()
        if self._client is not None:
            await self._client.aclose()

    # ------------------------------------------------------------------ after-sales

    def request_refund(self, external_id: str, *, line: int = 1, return_goods: bool = False, reason: str = "",
                       push: bool = True) -> dict[str, Any]:
        """The buyer asks for a refund of one line (1-based); pushed as the platform's refund message.

        ``ValueError`` when the protocol has no after-sales or the line does not exist.
        """
        opener = getattr(self.protocol, "open_refund", None)
        if opener is None:
            raise ValueError(f"the {self.protocol.kind} simulator has no after-sales")
        order = self.orders[external_id]
        refund = opener(order, line=line, return_goods=return_goods, reason=reason)
        self.touch(external_id, push=False)
        if push:
            self.announce_refund(order, refund, "created")
        return refund

    def announce_refund(self, order: SimOrder, refund: dict[str, Any], event: str) -> None:
        """Push the protocol's refund message (``created``, ``agreed``, ``refused``) if it has one."""
        builder = getattr(self.protocol, "push_refund", None)
        if builder is not None and self.push_url:
            self.send(order.external_id, builder(order, refund, event, self.push_secret))

    def record_after_sale_call(self, method: str, refund_id: str, **details: Any) -> None:
        self.after_sale_calls.append({"method": method, "refund_id": refund_id, "at": time.time(), **details})
        self.calls[f"after_sale:{method}"] += 1

    # ------------------------------------------------------------------ HTTP

    def app(self) -> Starlette:
        control = [
            Route("/_sim/orders", self._place, methods=["POST"]),
            Route("/_sim/orders", self._truth, methods=["GET"]),
            Route("/_sim/orders/{external_id}/touch", self._touch, methods=["POST"]),
            Route("/_sim/push", self._set_push, methods=["PUT"]),
            Route("/_sim/faults", self._set_faults, methods=["PUT"]),
            Route("/_sim/faults", lambda _r: JSONResponse(_faults_json(self.faults)), methods=["GET"]),
            Route("/_sim/stats", lambda _r: JSONResponse(self.stats()), methods=["GET"]),
            Route("/_sim/reset", self._reset, methods=["POST"]),
            Route("/_sim/orders/{external_id}/refund", self._refund, methods=["POST"]),
            Route("/_sim/after_sale_calls", lambda _r: JSONResponse({"calls": self.after_sale_calls}), methods=["GET"]),
        ]
        @contextlib.asynccontextmanager
        async def lifespan(_app: Starlette) -> AsyncIterator[None]:
            yield
            await self.aclose()

        return Starlette(routes=control + self.protocol.routes(self), lifespan=lifespan)

    def stats(self) -> dict[str, Any]:
        return {"orders": len(self.orders), "pushed": len(self.pushed), "dropped": len(self.dropped),
                "dropped_ids": self.dropped[-1000:], "calls": dict(self.calls)}

    async def _place(self, request: Request) -> Response:
        data = await _json(request)
        if isinstance(data, Response):
            return data
        count = data.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 100_000:
            return _bad("count: an integer from 1 to 100000")
        try:
            paid_at = datetime.fromisoformat(data["paid_at"]) if data.get("paid_at") else None
        except (TypeError, ValueError):
            return _bad("paid_at: an ISO-8601 time with offset")
        if paid_at is not None and paid_at.tzinfo is None:
            return _bad("paid_at: an ISO-8601 time with offset")
        placed = [self.place(paid_at=paid_at, push=bool(data.get("push", True))) for _ in range(count)]
        return JSONResponse({"placed": [o.external_id for o in placed]})

    async def _truth(self, _request: Request) -> Response:
        return JSONResponse({"orders": [
            {"id": o.external_id, "status": o.status, "paid_at": o.paid_at.isoformat(),
             "updated_at": o.updated_at.isoformat()} for o in self.orders.values()]})

    async def _touch(self, request: Request) -> Response:
        external_id = request.path_params["external_id"]
        if external_id not in self.orders:
            return JSONResponse({"error": f"no order {external_id}"}, status_code=404)
        data = await _json(request)
        if isinstance(data, Response):
            return data
        order = self.touch(external_id, status=data.get("status") or None)
        return JSONResponse({"id": order.external_id, "status": order.status, "updated_at": order.updated_at.isoformat()})

    async def _refund(self, request: Request) -> Response:
        external_id = request.path_params["external_id"]
        if external_id not in self.orders:
            return JSONResponse({"error": f"no order {external_id}"}, status_code=404)
        data = await _json(request)
        if isinstance(data, Response):
            return data
        line = data.get("line", 1)
        if isinstance(line, bool) or not isinstance(line, int):
            return _bad("line: a 1-based line number")
        try:
            refund = self.request_refund(external_id, line=line, return_goods=bool(data.get("return_goods")),
                                         reason=str(data.get("reason", ""))[:200])
        except ValueError as error:
            return _bad(str(error))
        return JSONResponse(refund)

    async def _set_push(self, request: Request) -> Response:
        data = await _json(request)
        if isinstance(data, Response):
            return data
        url = data.get("url", "")
        if not isinstance(url, str) or (url and not url.startswith(("http://", "https://"))):
            return _bad("url: an http(s) URL, or empty to stop pushing")
        self.push_url, self.push_secret = url, str(data.get("secret", self.push_secret))
        return JSONResponse({"url": self.push_url})

    async def _set_faults(self, request: Request) -> Response:
        data = await _json(request)
        if isinstance(data, Response):
            return data
        try:
            self.faults = Faults.read(data)
        except ValueError as error:
            return _bad(str(error))
        return JSONResponse(_faults_json(self.faults))

    async def _reset(self, _request: Request) -> Response:
        self.calls.clear()
        self.pushed.clear()
        self.dropped.clear()
        return JSONResponse({"reset": True})


def _faults_json(faults: Faults) -> dict[str, Any]:
    return {f.name: getattr(faults, f.name) for f in fields(faults)}


async def _json(request: Request) -> dict[str, Any] | Response:
    body = await request.body()
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return _bad("the body is not JSON")
    return data if isinstance(data, dict) else _bad("the body must be a JSON object")


def _bad(reason: str) -> Response:
    return JSONResponse({"error": reason}, status_code=400)


def run(host: str, port: int, platform: Platform) -> None:
    """Serve the platform with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(platform.app(), host=host, port=port, log_level="warning")


Handler = Callable[[Request], Awaitable[Response]]
