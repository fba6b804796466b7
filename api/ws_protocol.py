"""Stricter ``graphql-transport-ws`` handling on top of Strawberry's.

Strawberry already closes with the protocol's codes for non-JSON or non-text
frames, unknown message types and missing keys (4400), subscribe before ack
(4401), a bad key (4403 via ``on_ws_connect``), init timeout (4408),
duplicate ids (4409) and repeated init (4429). Messages of the wrong *shape*
(a JSON array, a payload that is a string, a numeric id) would instead crash
its handler with a ``TypeError``, and a query with a syntax error escapes as
an exception instead of the intended 4400; here all of them close with 4400
like any other malformed message.

Identical live subscriptions share one execution (``api.shared_streams``).

A key revoked while its socket is open closes the socket with 4403 "API key
revoked" within two periods of the key cache's ttl
(``ORDERGRAPH_KEY_CACHE_SECONDS``, 10 s).

A subscriber too slow for the live stream gets its error (code
``SLOW_SUBSCRIBER``) and then a close with 1013 "Try Again Later" — a code
graphql-ws clients treat as retryable — whose reason says to resume with the
last event id.
"""

from __future__ import annotations

import asyncio
import json
import logging
from functools import lru_cache
from typing import Any

from graphql import GraphQLSyntaxError
from graphql import parse as parse_document
from starlette.websockets import WebSocketDisconnect
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)

from api.auth import key_from_connection_params
from api.shared_streams import Listener, SharedStreams, key_for, shareable
from api.ws_direct import direct_writer
from resolvers.context import Context
from schema.subscription import SLOW_SUBSCRIBER

log = logging.getLogger("ordergraph.ws")

REVOKED_CLOSE_CODE = 4403
REVOKED_CLOSE_REASON = "API key revoked"
SLOW_CLOSE_CODE = 1013
SLOW_CLOSE_REASON = "slow subscriber: fell too far behind; reconnect and resume with after=<last eventId>"


@lru_cache(maxsize=256)
def parse(query: str) -> Any:
    """Parse once per distinct query (subscribers mostly send the same few)."""
    return parse_document(query)


def _shape_error(message: Any) -> str | None:
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return "Message must be a JSON object with a string type"
    kind = message["type"]
    if kind in ("subscribe", "complete") and not isinstance(message.get("id"), str):
        return f"{kind} needs a string id"
    if kind == "subscribe":
        payload = message.get("payload")
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return "subscribe needs a payload with a string query"
        if not isinstance(payload.get("variables") or {}, dict):
            return "variables must be an object"
        if not isinstance(payload.get("operationName") or "", str):
            return "operationName must be a string"
        try:
            parse(payload["query"])
        except GraphQLSyntaxError as error:
            return error.message[:100]
    return None


class LiveTransportWSHandler(BaseGraphQLTransportWSHandler):
    closing = False
    key_watch: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self.key_watch is None:
            secret = key_from_connection_params(self.context.connection_params)
            self.key_watch = asyncio.create_task(self._watch_key(secret))

    async def _watch_key(self, secret: str | None) -> None:
        """Look the key up again every ttl (the cache's own pace); close the socket once it is revoked."""
        keys = self.view.keys
        while not self.closing:
            await asyncio.sleep(keys.ttl)
            try:
                actor = await keys.actor_for(secret, source="graphql-ws")
            except Exception as exc:  # the key store is away: keep serving, look again next time
                log.warning("API key re-check failed: %s", type(exc).__name__)
                continue
            if actor is None:
                log.info("closing a subscription socket: its API key was revoked")
                self.closing = True
                await self.websocket.close(code=REVOKED_CLOSE_CODE, reason=REVOKED_CLOSE_REASON)
                return

    async def shutdown(self) -> None:
        if self.key_watch is not None:
            self.key_watch.cancel()
        await super().shutdown()

    async def run_operation(self, operation: Operation) -> None:
        actor = getattr(self.context, "actor", None)
        if actor is None or not shareable(parse(operation.query), operation.variables):
            await super().run_operation(operation)
            return
        await self._run_shared(operation, actor)

    async def _run_shared(self, operation: Operation, actor: Any) -> None:
        registry = _registry(self.view, self.context)
        bus, page = self.context.bus, self.context.max_page_size

        def source() -> Any:
            return self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=Context(actor=actor, bus=bus, max_page_size=page),
                root_value=self.root_value,
                operation_name=operation.operation_name,
            )

        key = key_for(actor.tenant_id, str(actor.role), operation.query, operation.variables, operation.operation_name)
        prefix = '{"id":' + json.dumps(operation.id) + ',"type":"next","payload":'
        listener = Listener(self._send_live, prefix, registry.max_pending, self._direct())
        stream = registry.join(key, source, self.view.encode_json, listener)
        try:
            kind, value = await listener.finished
            if kind in ("end", "error"):
                await listener.flushed()
            if self.closing or kind == "gone":
                return
            if kind == "slow":
                await self._close_slow()
            elif kind == "error":
                await operation.send_operation_message({"id": operation.id, "type": "error", "payload": value})
            else:
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except (WebSocketDisconnect, RuntimeError, OSError):
            return  # the connection went away under us
        finally:
            registry.leave(stream, listener)

    def _direct(self) -> Any:
        """Write ready frames straight to the transport (``api.ws_direct``) unless this socket is closing."""
        write = direct_writer(self.websocket.ws.scope)
        if write is None:
            return None

        def direct(frame: bytes) -> bool:
            return not self.closing and write(frame)

        return direct

    async def _send_live(self, frame: str) -> None:
        """One ready ``next`` frame of a shared stream; refused once this socket is closing."""
        if self.closing:
            raise RuntimeError("the socket is closing")
        await self.websocket.ws.send_text(frame)

    async def _close_slow(self) -> None:
        self.closing = True
        await self.websocket.close(code=SLOW_CLOSE_CODE, reason=SLOW_CLOSE_REASON)

    async def handle_message(self, message: Any) -> None:
        problem = _shape_error(message)
        if problem:
            await self.handle_invalid_message(problem)
            return
        await super().handle_message(message)

    async def send_message(self, message: Any) -> None:
        if self.closing:
            return
        await super().send_message(message)
        if message.get("type") == "next" and _is_slow(message.get("payload") or {}):
            await self._close_slow()


def _is_slow(payload: dict[str, Any]) -> bool:
    return any((error.get("extensions") or {}).get("code") == SLOW_SUBSCRIBER for error in payload.get("errors") or ())


def _registry(view: Any, context: Any) -> SharedStreams:
    """One registry per GraphQL app (so per process), sized like the bus queues."""
    registry = getattr(view, "_shared_streams", None)
    if registry is None:
        registry = SharedStreams(getattr(context.bus, "max_pending", 1000))
        view._shared_streams = registry
    return registry
