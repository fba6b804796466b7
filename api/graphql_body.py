"""The guard in front of ``POST /graphql``: a bounded, well-formed JSON object, or a typed 4xx before anything parses it.

    {"query": "…", "variables": {…} | null, "operationName": "…" | null}

- more than ``max_bytes`` (declared or streamed) → 413 ``PAYLOAD_TOO_LARGE``;
- not UTF-8, not JSON, nested deeper than ``MAX_DEPTH``, not an object, a
  ``query`` that is not a string, ``variables`` that are not an object, or a
  NUL character in any string → 400 ``BAD_REQUEST`` / ``BAD_USER_INPUT``.

Everything behind it (the idempotency keys, Strawberry) gets the body it
checked, so none of them can meet a ``RecursionError`` or a body that is a bare
string or ``null``.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Deepest nesting of arrays/objects a request body may have (a GraphQL input is rarely deeper than 5).
MAX_DEPTH = 32


def error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status,
                        headers=headers)


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or ``None`` as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replaying(body: bytes, original: Receive) -> Receive:
    """Hand the already-read body downstream once, then pass on the server's messages (a disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()

    return receive


def problem(value: Any) -> str | None:
    """What is wrong with a decoded body, walked without recursion; ``None`` if nothing."""
    if not isinstance(value, dict):
        kind = "null" if value is None else type(value).__name__
        return f"the body must be a JSON object with a `query`, not {kind}"
    if not isinstance(value.get("query", ""), str):
        return "`query` must be a string"
    if value.get("variables") is not None and not isinstance(value["variables"], dict):
        return "`variables` must be an object or null"
    if value.get("operationName") is not None and not isinstance(value["operationName"], str):
        return "`operationName` must be a string or null"
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"the body is nested deeper than {MAX_DEPTH} levels"
        if isinstance(item, dict):
            stack.extend((key, depth) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str) and "\x00" in item:
            return "strings must not contain NUL characters"
    return None


class GraphQLBodyGuard:
    """ASGI middleware; only ``POST`` requests are checked (WebSocket frames have limits of their own)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        too_large = error(413, "PAYLOAD_TOO_LARGE", f"the request body is larger than {self.max_bytes} bytes")
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await too_large(scope, receive, send)
            return
        body = await read_body(receive, self.max_bytes)
        if body is None:
            await too_large(scope, receive, send)
            return
        try:
            decoded = json.loads(body.decode("utf-8"))
        except UnicodeDecodeError:
            await error(400, "BAD_REQUEST", "the body is not UTF-8")(scope, receive, send)
            return
        except RecursionError:
            await error(400, "BAD_REQUEST", f"the body is nested deeper than {MAX_DEPTH} levels")(scope, receive, send)
            return
        except ValueError:
            await error(400, "BAD_REQUEST", "the body is not JSON")(scope, receive, send)
            return
        wrong = problem(decoded)
        if wrong:
            code = "BAD_USER_INPUT" if "NUL" in wrong or "nested" in wrong else "BAD_REQUEST"
            await error(400, code, wrong)(scope, receive, send)
            return
        await self.app(scope, replaying(body, receive), send)
