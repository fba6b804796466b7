"""Running persisted queries: a ``POST /graphql`` that names a registered document by its hash instead of sending it.

    {"documentId": "sha256:<hex>", "variables": {…}, "operationName": …}                      GraphQL-over-HTTP
    {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}, "variables": {…}}  Apollo

``PersistedRequests.prepare`` runs inside ``api.graphql_app`` once the API key is
known: it finds the document (the tenant's own, then a global one,
``domain.persisted_queries``), keeps it parsed and validated per hash in a
bounded LRU, and hands Strawberry an ordinary body with the text filled in.
The prepared ``DocumentNode`` is also left in ``scope["ordergraph.persisted"]``
so execution can skip parsing and validation (issue 20).

Answers (GraphQL errors, ``extensions.code``):
- unknown or disabled hash → HTTP 200 ``PERSISTED_QUERY_NOT_FOUND`` (what Apollo's
  client expects; it does not retry with the text here: nothing auto-registers);
- a ``query`` whose SHA-256 is not the hash sent, or two different hashes →
  400 ``PERSISTED_QUERY_HASH_MISMATCH``; a bad id or version → 400 ``BAD_REQUEST``;
- with ``ORDERGRAPH_PERSISTED_ONLY=1``, an ad-hoc document from a *partner* key →
  400 ``PERSISTED_QUERY_REQUIRED`` (other roles are first-party tools: GraphiQL,
  scripts, the console).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, GraphQLSchema, parse, validate
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope

from api.graphql_body import read_body, replaying
from domain import persisted_queries as store
from domain.actor import Actor, Role

#: Parsed and validated documents kept per process (by hash; a hash names one text, so entries never go stale).
PREPARED_SIZE = 512
SCOPE_KEY = "ordergraph.persisted"
_MARKERS = (b"documentId", b"persistedQuery")
_BACKSTOP = 16 * 1024 * 1024  # api.graphql_body bounds the body before this runs


class Refusal(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> Response:
        return JSONResponse({"errors": [{"message": self.message, "extensions": {"code": self.code}}]},
                            status_code=self.status)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A registered document ready to execute: its text, operation and parsed, validated tree."""

    sha256: str
    text: str
    operation_name: str
    document: DocumentNode


def requested_hash(body: dict[str, Any]) -> str | None:
    """The hash the body names (``documentId`` or Apollo's extension), ``None`` if none; ``Refusal`` if malformed."""
    found: set[str] = set()
    document_id = body.get("documentId")
    if document_id is not None:
        if not isinstance(document_id, str) or not store.is_hash(document_id.lower().removeprefix("sha256:")):
            raise Refusal(400, "BAD_REQUEST", "`documentId` must be `sha256:` followed by 64 hexadecimal characters")
        found.add(document_id.lower().removeprefix("sha256:"))
    extensions = body.get("extensions")
    apollo = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    if apollo is not None:
        sha = apollo.get("sha256Hash") if isinstance(apollo, dict) else None
        if not isinstance(apollo, dict) or apollo.get("version") != 1:
            raise Refusal(400, "BAD_REQUEST", "`extensions.persistedQuery` must be {version: 1, sha256Hash: …}")
        if not isinstance(sha, str) or not store.is_hash(sha.lower()):
            raise Refusal(400, "BAD_REQUEST", "`sha256Hash` must be 64 hexadecimal characters")
        found.add(sha.lower())
    if len(found) > 1:
        raise Refusal(400, "PERSISTED_QUERY_HASH_MISMATCH", "`documentId` and `extensions.persistedQuery` name "
                                                           "different documents")
    sha = next(iter(found), None)
    query = body.get("query")
    if sha is not None and isinstance(query, str) and query and store.sha256_of(query) != sha:
        raise Refusal(400, "PERSISTED_QUERY_HASH_MISMATCH", "the `query` sent is not the document with that hash")
    return sha


def _not_found() -> Refusal:
    return Refusal(200, "PERSISTED_QUERY_NOT_FOUND",
                   "PersistedQueryNotFound: no enabled persisted query with that hash for this tenant "
                   "(an admin registers it with registerPersistedQuery)")


def _rewritten(body: dict[str, Any], prepared: Prepared) -> bytes:
    """The body Strawberry reads: the registered text as ``query``, the caller's variables."""
    out: dict[str, Any] = {"query": prepared.text, "variables": body.get("variables"),
                           "operationName": body.get("operationName") or prepared.operation_name or None}
    extensions = body.get("extensions")
    if isinstance(extensions, dict):
        rest = {key: value for key, value in extensions.items() if key != "persistedQuery"}
        if rest:
            out["extensions"] = rest
    return json.dumps(out, ensure_ascii=False).encode()


class PersistedRequests:
    """One per app: the prepared-document cache and the persisted-only policy."""

    def __init__(self, schema: GraphQLSchema, *, persisted_only: bool, size: int = PREPARED_SIZE) -> None:
        self.schema = schema
        self.persisted_only = persisted_only
        self.size = size
        self._prepared: OrderedDict[str, Prepared] = OrderedDict()
        self.parsed = 0  # documents parsed and validated here (the tests read it: a cache hit does not count)
        store.clear_cache()  # a new app trusts nothing an earlier one (another database, in tests) cached

    def prepared(self, found: store.PersistedDocument) -> Prepared:
        cached = self._prepared.get(found.sha256)
        if cached is not None:
            self._prepared.move_to_end(found.sha256)
            return cached
        document = parse(found.document)
        errors = validate(self.schema, document)
        self.parsed += 1
        if errors:  # the schema changed under a registered document
            raise Refusal(200, "PERSISTED_QUERY_INVALID",
                          f"the persisted query no longer validates against the schema: {errors[0].message[:200]}")
        prepared = Prepared(found.sha256, found.document, found.operation_name, document)
        self._prepared[found.sha256] = prepared
        while len(self._prepared) > self.size:
            self._prepared.popitem(last=False)
        return prepared

    async def prepare(self, scope: Scope, receive: Receive, actor: Actor) -> Receive | Response:
        """The ``receive`` Strawberry should read (the body rewritten if persisted), or the answer to send instead."""
        body = await read_body(receive, _BACKSTOP)
        if body is None:
            return Refusal(413, "PAYLOAD_TOO_LARGE", "request body too large").response()
        strict = self.persisted_only and actor.role == Role.PARTNER
        if not strict and not any(marker in body for marker in _MARKERS):
            return replaying(body, receive)  # the common case: no JSON decoded twice
        try:
            decoded = json.loads(body)
            sha = requested_hash(decoded) if isinstance(decoded, dict) else None
            if sha is None:
                if strict:
                    raise Refusal(400, "PERSISTED_QUERY_REQUIRED", "this key may only run persisted queries: send "
                                  "`documentId` (ORDERGRAPH_PERSISTED_ONLY is on)")
                return replaying(body, receive)
            found = await store.find(actor.tenant_id, sha)
            if found is None:
                if strict or not decoded.get("query"):
                    raise _not_found()
                return replaying(body, receive)  # Apollo's text + hash of an unregistered document: run it ad hoc
            prepared = self.prepared(found)
        except Refusal as refusal:
            return refusal.response()
        scope[SCOPE_KEY] = prepared
        return replaying(_rewritten(decoded, prepared), receive)


async def with_document(body: bytes, actor: Actor) -> bytes:
    """``body`` with the registered text as ``query`` when it names a persisted query (for ``api.idempotency``)."""
    if not any(marker in body for marker in _MARKERS):
        return body
    try:
        decoded = json.loads(body)
        sha = requested_hash(decoded) if isinstance(decoded, dict) else None
    except (ValueError, RecursionError, Refusal):
        return body
    found = await store.find(actor.tenant_id, sha) if sha else None
    if found is None:
        return body
    return json.dumps({**decoded, "query": found.document}).encode()
