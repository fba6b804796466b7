"""Identical live subscriptions share one execution per process.

A thousand partners subscribed to ``orderEvents`` with the same document and
variables, in the same tenant and role, would otherwise make the server run
GraphQL a thousand times per event (~0.1 ms each). Here they share ONE
Strawberry stream: each result is executed and JSON-encoded once, and every
subscriber gets the same payload text.

Only streams whose answer cannot depend on when one joined are shared:
``orderEvents`` and ``alerts`` without ``after`` (a resume replays its own
history; ``orderStatus`` and ``stockLevels`` start with a snapshot), and only
between identical (tenant, role, document, variables).

The ``next`` frame is built once per event and operation id (almost every
client uses the same few ids), text and WebSocket bytes alike, and written
straight to the socket from the stream's own loop: on uvicorn a ready socket
takes the bytes in one ``transport.write`` (``api.ws_direct``), elsewhere a
send finishes without suspending, so an event costs no queue, no task switch,
no JSON and no framing work per subscriber. Only a socket whose writes are paused (its
peer reads slowly) gets a task of its own that drains its backlog; past
``max_pending`` frames the subscriber is dropped as slow, and nobody else
waits for it.

    listener = Listener(websocket.send_text, '{"id":"1","type":"next","payload":', max_pending=1000,
                        direct=direct_writer(websocket.scope))
    stream = streams.join(key, source, encode, listener)
    kind, value = await listener.finished  # "end", "error", "slow" or "gone"
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any

from graphql import FieldNode, OperationDefinitionNode, OperationType, VariableNode
from strawberry.types.execution import ExecutionResult, PreExecutionError

from api.ws_direct import text_frame

log = logging.getLogger("ordergraph.shared_streams")

SHAREABLE_FIELDS = frozenset({"orderEvents", "alerts"})
SLOW_CODE = "SLOW_SUBSCRIBER"


@dataclass(frozen=True, slots=True)
class StreamKey:
    tenant_id: int
    role: str
    query: str
    variables: str
    operation_name: str | None


def shareable(document: Any, variables: dict[str, Any] | None) -> bool:
    """One subscription operation, one root field we know is join-time independent, no ``after``."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation != OperationType.SUBSCRIPTION:
        return False
    selections = operations[0].selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode) or selections[0].name.value not in SHAREABLE_FIELDS:
        return False
    for argument in selections[0].arguments or ():
        if argument.name.value != "after":
            continue
        value = argument.value
        if isinstance(value, VariableNode):
            if (variables or {}).get(value.name.value) is not None:
                return False
        elif value.kind != "null_value":
            return False
    return True


class _Resume:
    """Finish, inside a task, a send coroutine that suspended on its first step (see ``Listener.write``)."""

    def __init__(self, coro: Any, awaiting: Any) -> None:
        self.coro = coro
        self.awaiting = awaiting

    def __await__(self) -> Generator[Any, None, None]:
        awaiting = self.awaiting
        while True:
            try:
                yield awaiting
            except BaseException as error:  # cancelled: let the send coroutine see it where it waits
                try:
                    awaiting = self.coro.throw(error)
                except StopIteration:
                    return
                continue
            try:
                awaiting = self.coro.send(None)
            except StopIteration:
                return


class Listener:
    """One subscriber of a shared stream: its ``next`` frames go straight to its socket, in order.

    ``finished`` resolves once with why the subscription ends: ``("end", None)``,
    ``("error", errors)``, ``("slow", None)`` (more than ``max_pending`` frames
    waiting on a paused socket: dropped, what it saw last is a clean resume
    point) or ``("gone", None)`` (the socket refused a write).
    """

    def __init__(self, send: Callable[[str], Awaitable[None]], prefix: str, max_pending: int,
                 direct: Callable[[bytes], bool] | None = None) -> None:
        self.send = send
        self.prefix = prefix
        self.max_pending = max_pending
        self.direct = direct
        self.backlog: deque[str] = deque()
        self.draining: asyncio.Task[None] | None = None
        self.finished: asyncio.Future[tuple[str, Any]] = asyncio.get_running_loop().create_future()

    def next(self, payload: str) -> None:
        self.next_frame(self.prefix + payload + "}", None)

    def next_frame(self, frame: str, wire: bytes | None) -> None:
        """``frame`` is this subscriber's text; ``wire`` the same as WebSocket bytes, if already built."""
        if self.finished.done():
            return
        if self.draining is None:
            if self.direct is not None and self.direct(wire if wire is not None else text_frame(frame)):
                return
            self.write(frame)
        elif len(self.backlog) < self.max_pending:
            self.backlog.append(frame)
        else:
            self.backlog.clear()
            self.finish(("slow", None))

    def write(self, frame: str) -> None:
        """Step the send once: done at once unless the socket's writes are paused, then a task finishes it."""
        coro = self.send(frame)
        try:
            awaiting = coro.send(None)
        except StopIteration:
            return
        except Exception:  # the connection went away under us
            self.finish(("gone", None))
            return
        self.draining = asyncio.create_task(self._drain(_Resume(coro, awaiting)), name="live-backlog")

    async def _drain(self, first: _Resume) -> None:
        try:
            await first
            while self.backlog:  # emptied when the subscriber is dropped as slow
                await self.send(self.backlog.popleft())
        except Exception:
            self.finish(("gone", None))
        self.draining = None

    def finish(self, outcome: tuple[str, Any]) -> None:
        if not self.finished.done():
            self.finished.set_result(outcome)

    async def flushed(self) -> None:
        """Wait until every frame handed over so far has been written."""
        while self.draining is not None:
            await asyncio.wait([self.draining])

    def close(self) -> None:
        self.finish(("gone", None))
        if self.draining is not None:
            self.draining.cancel()


class SharedStream:
    def __init__(self, key: StreamKey, source: Callable[[], Awaitable[Any]], encode: Callable[[Any], str]) -> None:
        self.key = key
        self.source = source
        self.encode = encode
        self.listeners: set[Listener] = set()
        self.task: asyncio.Task[None] | None = None

    def broadcast(self, item: tuple[str, Any]) -> None:
        kind, value = item
        if kind == "next":
            frames: dict[str, tuple[str, bytes]] = {}  # one text and one wire frame per operation id
            for listener in list(self.listeners):
                built = frames.get(listener.prefix)
                if built is None:
                    text = listener.prefix + value + "}"
                    built = frames[listener.prefix] = (text, text_frame(text))
                listener.next_frame(*built)
        else:
            for listener in list(self.listeners):
                listener.finish(item)

    async def run(self) -> None:
        try:
            results = await self.source()
            async with contextlib.aclosing(results):
                async for result in results:
                    if isinstance(result, PreExecutionError):
                        self.broadcast(("error", [e.formatted for e in result.errors or ()]))
                        return
                    if not isinstance(result, ExecutionResult):
                        self.broadcast(("error", [{"message": "incremental delivery is not supported here"}]))
                        return
                    payload: dict[str, Any] = {"data": result.data}
                    if result.errors:
                        payload["errors"] = [e.formatted for e in result.errors]
                        if any((e.extensions or {}).get("code") == SLOW_CODE for e in result.errors):
                            self.broadcast(("slow", None))
                            return
                    if result.extensions:
                        payload["extensions"] = result.extensions
                    self.broadcast(("next", self.encode(payload)))
            self.broadcast(("end", None))
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug in a resolver: every subscriber gets an error rather than silence
            log.exception("shared stream failed")
            self.broadcast(("error", [{"message": "internal error in the live stream"}]))


class SharedStreams:
    """The per-process registry: one running stream per key, ended when its last subscriber leaves."""

    def __init__(self, max_pending: int = 1000) -> None:
        self.max_pending = max_pending
        self.streams: dict[StreamKey, SharedStream] = {}

    def join(self, key: StreamKey, source: Callable[[], Awaitable[Any]], encode: Callable[[Any], str],
             listener: Listener) -> SharedStream:
        stream = self.streams.get(key)
        if stream is None or (stream.task is not None and stream.task.done()):
            stream = SharedStream(key, source, encode)
            self.streams[key] = stream
            stream.task = asyncio.create_task(stream.run(), name="shared-stream")
        stream.listeners.add(listener)
        return stream

    def leave(self, stream: SharedStream, listener: Listener) -> None:
        listener.close()
        stream.listeners.discard(listener)
        if not stream.listeners:
            if self.streams.get(stream.key) is stream:
                del self.streams[stream.key]
            if stream.task is not None:
                stream.task.cancel()


def key_for(tenant_id: int, role: str, query: str, variables: dict[str, Any] | None, operation_name: str | None) -> StreamKey:
    return StreamKey(tenant_id, role, query, json.dumps(variables or {}, sort_keys=True, default=str), operation_name)
