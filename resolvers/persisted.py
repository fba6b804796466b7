"""Persisted queries in GraphQL: glue from arguments to ``domain.persisted_queries`` (who may do what is decided there)."""

from __future__ import annotations

from domain import persisted_queries as store
from domain.errors import ValidationFailed
from models import PersistedQuery
from resolvers.context import Context
from resolvers.orders import actor_of
from resolvers.pagination import Page, check_page_size, keyset_page


def clean_hash(value: str) -> str:
    """A hash as a client may write it: bare hex, or ``sha256:<hex>`` (the GraphQL-over-HTTP document id)."""
    sha = value.strip().lower().removeprefix("sha256:")
    if not store.is_hash(sha):
        raise ValidationFailed("not a SHA-256 hash: 64 hexadecimal characters, optionally after `sha256:`",
                               field="sha256")
    return sha


async def page(ctx: Context, first: int, after: str | None) -> Page:
    check_page_size(first, ctx.max_page_size)
    return await keyset_page(store.listing(actor_of(ctx)), "created_at", descending=True, first=first, after=after)


async def register(ctx: Context, document: str, name: str) -> PersistedQuery:
    return await store.register(actor_of(ctx), document, name=name)


async def disable(ctx: Context, sha256: str) -> PersistedQuery:
    return await store.disable(actor_of(ctx), clean_hash(sha256))
