"""API keys on requests: ``Authorization: Bearer og_…`` (or ``X-Api-Key``).

Resolved keys are cached for a few seconds per process, so a revoked key stops
working within ``ttl`` seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

from domain.actor import Actor
from domain.tenants.accounts import authenticate


def key_from_headers(headers: Mapping[str, str]) -> str | None:
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return headers.get("x-api-key") or None


def key_from_connection_params(params: object) -> str | None:
    """The key a WebSocket client sent in ``connection_init``: ``{"apiKey": …}`` or an Authorization entry."""
    if not isinstance(params, dict):
        return None
    secret = params.get("apiKey") or key_from_headers({str(k).lower(): str(v) for k, v in params.items()})
    return secret if isinstance(secret, str) else None


class KeyCache:
    """Looked-up keys for ``ttl`` seconds; one database look-up at a time per key.

    Thousands of sockets opened with one partner key re-check it every ttl
    (``api.ws_protocol``): when the entry expires, those that ask while the
    look-up is in flight wait for it instead of each querying the database.
    """

    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, Actor | None]] = {}
        self._looking: dict[str, asyncio.Future[None]] = {}

    async def actor_for(self, secret: str | None, source: str = "graphql") -> Actor | None:
        if not secret:
            return None
        while True:
            now = time.monotonic()
            hit = self._entries.get(secret)
            if hit and now - hit[0] < self.ttl:
                return hit[1]
            looking = self._looking.get(secret)
            if looking is None:
                break
            await asyncio.wait([looking])  # then read the entry it left, or look up ourselves if it failed
        looking = self._looking[secret] = asyncio.get_running_loop().create_future()
        try:
            actor = await authenticate(secret, source)
        except BaseException:
            looking.cancel()  # each waiter then looks the key up itself
            raise
        finally:
            if self._looking.get(secret) is looking:
                del self._looking[secret]
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[secret] = (now, actor)
        looking.set_result(None)
        return actor
