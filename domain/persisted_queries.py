"""Persisted queries: GraphQL documents registered once and then run by their SHA-256 hash.

    doc = await register(actor, text, name="OrderByNumber")   # admins, for their tenant
    doc = await register(None, text, registered_by="cli:…")   # global: every tenant may run it
    found = await find(tenant_id, sha)                         # the tenant's own first, then a global one
    await disable(actor, sha)                                  # not found any more (in this process at once)

The document is checked against the schema by the caller (``schema.persisted``)
before it gets here: this module owns who may register, the hash and the store.
``find`` keeps a bounded in-process LRU of hits, so a persisted request costs no
database query after the first. Other processes notice a disable within
``CACHE_SECONDS``.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import OrderedDict
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from domain.actor import Actor, Role
from domain.errors import Forbidden, NotFound, ValidationFailed
from models import PersistedQuery

#: Entries the lookup cache holds (per process) and how long one is trusted before the database is asked again.
CACHE_SIZE = 1024
CACHE_SECONDS = 30.0
MAX_NAME = 200
#: Bytes of a document (the default ORDERGRAPH_MAX_QUERY_BYTES: a longer one could never run).
MAX_DOCUMENT = 64 * 1024
_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class PersistedDocument:
    """What a request needs of a registered document (no row, so it can be cached)."""

    sha256: str
    document: str
    operation_name: str
    tenant_id: int | None


@dataclass
class CacheStats:
    """Counters the tests read: a hit served a lookup without the database."""

    hits: int = 0
    misses: int = 0


stats = CacheStats()
_cache: OrderedDict[tuple[int, str], tuple[float, PersistedDocument]] = OrderedDict()


def sha256_of(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def is_hash(value: str) -> bool:
    return bool(_HEX.fullmatch(value))


def _document(row: PersistedQuery) -> PersistedDocument:
    return PersistedDocument(row.sha256, row.document, row.operation_name, row.tenant_id)  # type: ignore[attr-defined]


async def register(actor: Actor | None, document: str, *, name: str = "", registered_by: str = "") -> PersistedQuery:
    """Store ``document`` (already validated) for the actor's tenant, or globally when ``actor`` is None (the CLI).

    Registering the same text again returns the stored row, enabled again if it was disabled.
    """
    if actor is not None and actor.role != Role.ADMIN:
        raise Forbidden("only an admin key may register persisted queries")
    if not document.strip():
        raise ValidationFailed("the document is empty", field="document")
    if len(document.encode("utf-8")) > MAX_DOCUMENT:
        raise ValidationFailed(f"the document is longer than {MAX_DOCUMENT} bytes", field="document")
    if len(name) > MAX_NAME:
        raise ValidationFailed(f"the name is longer than {MAX_NAME} characters", field="name")
    tenant_id = actor.tenant_id if actor is not None else None
    sha = sha256_of(document)
    row = await PersistedQuery.filter(tenant_id=tenant_id, sha256=sha).first()
    if row is None:
        try:
            row = await PersistedQuery.create(
                tenant_id=tenant_id, sha256=sha, document=document, operation_name=name,
                registered_by=(actor.name if actor is not None else registered_by or "cli")[:200],
            )
        except IntegrityError:  # the same text registered at the same moment by another request
            row = await PersistedQuery.get(tenant_id=tenant_id, sha256=sha)
    if not row.enabled:
        row.enabled = True
        await row.save(update_fields=["enabled"])
    return row


async def find(tenant_id: int, sha: str) -> PersistedDocument | None:
    """The enabled document with this hash the tenant may run: its own, else a global one."""
    key = (tenant_id, sha)
    cached = _cache.get(key)
    if cached is not None and cached[0] > time.monotonic():
        _cache.move_to_end(key)
        stats.hits += 1
        return cached[1]
    stats.misses += 1
    rows = await PersistedQuery.filter(Q(tenant_id=tenant_id) | Q(tenant_id=None), sha256=sha, enabled=True)
    row = next((r for r in rows if r.tenant_id is not None), None) or next(iter(rows), None)  # type: ignore[attr-defined]
    if row is None:
        _cache.pop(key, None)
        return None
    found = _document(row)
    _cache[key] = (time.monotonic() + CACHE_SECONDS, found)
    _cache.move_to_end(key)
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return found


def forget(sha: str) -> None:
    """Drop every cached lookup of this hash (all tenants: a global document may be cached under each)."""
    for key in [key for key in _cache if key[1] == sha]:
        del _cache[key]


async def disable(actor: Actor, sha: str) -> PersistedQuery:
    """Stop serving the tenant's document with this hash; global ones are disabled from the CLI (``actor`` role admin)."""
    if actor.role != Role.ADMIN:
        raise Forbidden("only an admin key may disable persisted queries")
    row = await PersistedQuery.filter(tenant_id=actor.tenant_id, sha256=sha).first()
    if row is None:
        raise NotFound("no persisted query of this tenant has that hash", field="sha256")
    if row.enabled:
        row.enabled = False
        await row.save(update_fields=["enabled"])
    forget(sha)
    return row


async def disable_global(sha: str) -> PersistedQuery:
    row = await PersistedQuery.filter(tenant_id=None, sha256=sha).first()
    if row is None:
        raise NotFound("no global persisted query has that hash", field="sha256")
    row.enabled = False
    await row.save(update_fields=["enabled"])
    forget(sha)
    return row


def listing(actor: Actor):  # noqa: ANN201 - a Tortoise QuerySet for keyset pagination
    """The tenant's own documents and the global ones, for admins."""
    if actor.role != Role.ADMIN:
        raise Forbidden("only an admin key may list persisted queries")
    return PersistedQuery.filter(Q(tenant_id=actor.tenant_id) | Q(tenant_id=None))


def clear_cache() -> None:
    """Forget every cached lookup (a new app, or a test with a fresh database)."""
    _cache.clear()
