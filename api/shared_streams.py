"""Identical live subscriptions share one execution per process.

A thousand partners subscribed to ``orderEvents`` with the same document and
variables, in the same tenant and role, would otherwise make the server run
GraphQL a thousand times per event (~0.1 ms each). Here they share ONE
Strawberry stream: each result is executed and JSON-encoded once, and every
subscriber gets the same payload text through its own bounded queue.

Only streams whose answer cannot depend on when one joined are shared:
``orderEvents`` and ``alerts`` without ``after`` (a resume replays its own
history; ``orderStatus`` and ``stockLevels`` start with a snapshot), and only
between identical (tenant, role, document, variables).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from graphql import FieldNode, OperationDefinitionNode, OperationType, VariableNode
from strawberry.types.execution import ExecutionResult, PreExecutionError

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


class Listener:
    """One subscriber of a shared stream: a bounded queue of ready-to-send payload texts."""

    def __init__(self, max_pending: int) -> None:
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(maxsize=max_pending)
        self.overflowed = False

    def offer(self, item: tuple[str, Any]) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.overflowed = True  # drop all unsent: what the subscriber saw last is a clean resume point
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(("slow", None))

    async def items(self) -> AsyncIterator[tuple[str, Any]]:
        while True:
            kind, value = await self.queue.get()
            yield kind, value
            if kind in ("slow", "error", "end"):
                return


class SharedStream:
    def __init__(self, key: StreamKey, source: Callable[[], Awaitable[Any]], encode: Callable[[Any], str]) -> None:
        self.key = key
        self.source = source
        self.encode = encode
        self.listeners: set[Listener] = set()
        self.task: asyncio.Task[None] | None = None

    def broadcast(self, item: tuple[str, Any]) -> None:
        for listener in list(self.listeners):
            listener.offer(item)

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

    def join(self, key: StreamKey, source: Callable[[], Awaitable[Any]], encode: Callable[[Any], str]) -> tuple[SharedStream, Listener]:
        stream = self.streams.get(key)
        if stream is None or (stream.task is not None and stream.task.done()):
            stream = SharedStream(key, source, encode)
            self.streams[key] = stream
            stream.task = asyncio.create_task(stream.run(), name="shared-stream")
        listener = Listener(self.max_pending)
        stream.listeners.add(listener)
        return stream, listener

    def leave(self, stream: SharedStream, listener: Listener) -> None:
        stream.listeners.discard(listener)
        if not stream.listeners:
            if self.streams.get(stream.key) is stream:
                del self.streams[stream.key]
            if stream.task is not None:
                stream.task.cancel()


def key_for(tenant_id: int, role: str, query: str, variables: dict[str, Any] | None, operation_name: str | None) -> StreamKey:
    return StreamKey(tenant_id, role, query, json.dumps(variables or {}, sort_keys=True, default=str), operation_name)
