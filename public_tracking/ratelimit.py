"""Fixed-window counters for abuse limits: Redis when ``REDIS_URL`` is set, in-process otherwise.

    limiter = limiter_for(redis_url)
    verdict = await limiter.hit("lookup-ip:…", limit=20, window=600)
    if not verdict.allowed: ...             # verdict.retry_after seconds

A window starts at a key's first hit and lasts ``window`` seconds. With Redis
the count is one atomic ``INCR`` + ``EXPIRE NX`` round trip, shared by every
worker; in-process counters are per worker (fine for one process, looser for
several). Keys never hold personal data: callers pass hashes.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from typing import Protocol

from redis import asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger("ordergraph.tracking")
PREFIX = "og:track:"


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    count: int
    retry_after: int


def hashed(value: str) -> str:
    """Short, stable, non-reversible stand-in for an IP or phone in a counter key."""
    return hashlib.sha256(f"og-limit:{value}".encode()).hexdigest()[:24]


class Limiter(Protocol):
    async def hit(self, key: str, limit: int, window: int) -> Verdict: ...

    async def count(self, key: str) -> int: ...

    async def aclose(self) -> None: ...


class MemoryLimiter:
    def __init__(self, max_keys: int = 100_000) -> None:
        self._counts: dict[str, tuple[int, float]] = {}
        self.max_keys = max_keys

    def _live(self, key: str, now: float) -> tuple[int, float] | None:
        entry = self._counts.get(key)
        if entry and entry[1] <= now:
            del self._counts[key]
            return None
        return entry

    async def hit(self, key: str, limit: int, window: int) -> Verdict:
        now = time.monotonic()
        entry = self._live(key, now)
        count, reset = (entry[0] + 1, entry[1]) if entry else (1, now + window)
        if len(self._counts) >= self.max_keys and key not in self._counts:
            self._prune(now)
        self._counts[key] = (count, reset)
        return Verdict(count <= limit, count, max(1, math.ceil(reset - now)))

    async def count(self, key: str) -> int:
        entry = self._live(key, time.monotonic())
        return entry[0] if entry else 0

    def _prune(self, now: float) -> None:
        for key in [k for k, (_, reset) in self._counts.items() if reset <= now]:
            del self._counts[key]
        while len(self._counts) >= self.max_keys:  # still full of live keys: drop the oldest windows
            del self._counts[min(self._counts, key=lambda k: self._counts[k][1])]

    async def aclose(self) -> None:
        self._counts.clear()


class RedisLimiter:
    """Counters shared by all workers. The client connects lazily, in the loop that uses it.

    If Redis stops answering, limits fall back to this process's counters (still
    limited, only per worker) rather than locking every customer out.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._client: aioredis.Redis | None = None
        self.fallback = MemoryLimiter()

    @property
    def client(self) -> aioredis.Redis:
        if self._client is None:
            self._client = aioredis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)
        return self._client

    async def hit(self, key: str, limit: int, window: int) -> Verdict:
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.incr(PREFIX + key)
                pipe.expire(PREFIX + key, window, nx=True)
                pipe.ttl(PREFIX + key)
                count, _, ttl = await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("rate limits on local counters, redis failed: %s", type(exc).__name__)
            return await self.fallback.hit(key, limit, window)
        return Verdict(count <= limit, count, max(1, ttl if ttl and ttl > 0 else window))

    async def count(self, key: str) -> int:
        try:
            value = await self.client.get(PREFIX + key)
        except (RedisError, OSError) as exc:
            log.warning("rate limits on local counters, redis failed: %s", type(exc).__name__)
            return await self.fallback.count(key)
        return int(value) if value else 0

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def limiter_for(redis_url: str | None) -> Limiter:
    return RedisLimiter(redis_url) if redis_url else MemoryLimiter()
