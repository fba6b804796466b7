"""Stricter ``graphql-transport-ws`` handling on top of Strawberry's.

Strawberry already closes with the protocol's codes for non-JSON or non-text
frames, unknown message types and missing keys (4400), subscribe before ack
(4401), a bad key (4403 via ``on_ws_connect``), init timeout (4408),
duplicate ids (4409) and repeated init (4429). Messages of the wrong *shape*
(a JSON array, a payload that is a string, a numeric id) would instead crash
its handler with a ``TypeError``, and a query with a syntax error escapes as
an exception instead of the intended 4400; here all of them close with 4400
like any other malformed message.

A subscriber too slow for the live stream gets its error (code
``SLOW_SUBSCRIBER``) and then a close with 1013 "Try Again Later" — a code
graphql-ws clients treat as retryable — whose reason says to resume with the
last event id.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from graphql import GraphQLSyntaxError
from graphql import parse as parse_document

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler

from schema.subscription import SLOW_SUBSCRIBER

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
            self.closing = True
            await self.websocket.close(code=SLOW_CLOSE_CODE, reason=SLOW_CLOSE_REASON)


def _is_slow(payload: dict[str, Any]) -> bool:
    return any((error.get("extensions") or {}).get("code") == SLOW_SUBSCRIBER for error in payload.get("errors") or ())
