"""``Idempotency-Key`` for GraphQL mutations, as pure ASGI middleware in front of ``/graphql``.

    POST /graphql  Idempotency-Key: 7f1c…   {"query": "mutation { … }", …}

- same key, same body (JSON compared canonically) → the first response,
  replayed with ``Idempotent-Replayed: true``;
- same key, different body → 422 ``IDEMPOTENCY_KEY_REUSED``;
- same key while the first request still runs → 409 ``IDEMPOTENCY_IN_FLIGHT``;
- keys are scoped to the tenant and the API key, and kept at least 24 h.

Queries pass through untouched (repeating a read is harmless), as do
requests without a valid API key (the GraphQL app answers 401). A first
request that fails with a 5xx or an exception releases its key.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from graphql import GraphQLSyntaxError, OperationType, parse
from graphql.language import OperationDefinitionNode
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import persisted
from api.auth import KeyCache, key_from_headers
from api.graphql_body import read_body, replaying
from domain import idempotency
from domain.idempotency import ClaimKind
from domain.tenants.accounts import hash_key

HEADER = "idempotency-key"
#: ``api.graphql_body`` in front of this middleware bounds the body already; this is the backstop.
MAX_BODY = 16 * 1024 * 1024
_STORED_HEADERS = frozenset({"content-type"})


def clean_key(raw: str) -> str | None:
    """The key as sent (a structured-field string may be quoted); ``None`` if unusable."""
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not 1 <= len(key) <= 255 or not all(33 <= ord(ch) <= 126 for ch in key):
        return None
    return key


def fingerprint(body: bytes) -> str:
    """Hash of the request body; JSON is compared canonically (key order and spacing do not matter)."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except (ValueError, RecursionError):
        canonical = body
    return hashlib.sha256(canonical).hexdigest()


def is_mutation(body: bytes) -> bool:
    try:
        request = json.loads(body)
        document = parse(request["query"])
    except (ValueError, KeyError, TypeError, RecursionError, GraphQLSyntaxError):
        return False
    name = request.get("operationName") if isinstance(request, dict) else None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        operations = [op for op in operations if op.name and op.name.value == name]
    return len(operations) == 1 and operations[0].operation == OperationType.MUTATION


def _error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status, headers=headers)


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, *, keys: KeyCache, ttl_hours: float = 24.0, lock_seconds: float = 60.0) -> None:
        self.app = app
        self.keys = keys
        self.ttl = timedelta(hours=max(24.0, ttl_hours))
        self.lock = timedelta(seconds=lock_seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        raw_key = headers.get(HEADER)
        if raw_key is None:
            await self.app(scope, receive, send)
            return
        key = clean_key(raw_key)
        if key is None:
            await _error(400, "IDEMPOTENCY_KEY_INVALID", "Idempotency-Key must be 1-255 visible ASCII characters")(scope, receive, send)
            return
        body = await read_body(receive, MAX_BODY)
        if body is None:
            await _error(413, "PAYLOAD_TOO_LARGE", "request body too large")(scope, receive, send)
            return
        replay_receive = replaying(body, receive)
        secret = key_from_headers(headers)
        actor = await self.keys.actor_for(secret)
        if actor is None or secret is None or not is_mutation(await persisted.with_document(body, actor)):
            await self.app(scope, replay_receive, send)
            return
        claim = await idempotency.claim(actor.tenant_id, hash_key(secret), key, fingerprint(body), ttl=self.ttl, lock=self.lock)
        if claim.kind == ClaimKind.MISMATCH:
            await _error(422, "IDEMPOTENCY_KEY_REUSED",
                         "this Idempotency-Key was used with a different request body")(scope, receive, send)
        elif claim.kind == ClaimKind.IN_FLIGHT:
            await _error(409, "IDEMPOTENCY_IN_FLIGHT", "a request with this Idempotency-Key is still running; retry later",
                         **{"retry-after": "1"})(scope, receive, send)
        elif claim.kind == ClaimKind.REPLAY:
            await _replay(claim.record, send)
        else:
            await self._run(claim.record_id, scope, replay_receive, send)  # type: ignore[arg-type]

    async def _run(self, record_id: int, scope: Scope, receive: Receive, send: Send) -> None:
        status = 500
        stored: list[list[str]] = []
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                stored.extend([k.decode("latin-1"), v.decode("latin-1")] for k, v in message.get("headers", [])
                              if k.decode("latin-1").lower() in _STORED_HEADERS)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, capture)
        except BaseException:
            await idempotency.release(record_id)
            raise
        if status >= 500:
            await idempotency.release(record_id)
        else:
            await idempotency.complete(record_id, status, stored, b"".join(chunks))


async def _replay(record: Any, send: Send) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in record.response_headers or []]
    headers.append((b"idempotent-replayed", b"true"))
    body = bytes(record.response_body or b"")
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": record.status_code or 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
