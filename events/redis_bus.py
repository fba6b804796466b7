"""Fan-out across processes through Redis pub/sub, without losing events when Redis blips.

Only the outbox leader publishes (``publish``: one PUBLISH per batch, in id
order, together with ``SET <channel>:last`` in one MULTI). Every process runs
ONE listener that feeds the local ``InMemoryBus`` and its per-subscriber
queues. Pub/sub is at-most-once, so the database stays the truth: when the
listener (re)connects it SUBSCRIBEs, waits for the confirmation, reads
``<channel>:last`` and reads events between its own position and that id from
the database. Everything published later arrives on the subscription;
repeats are dropped by id. Subscribers see a delay, never a gap.

The channel name carries a hash of the database URL, so deployments (and test
sessions) sharing one Redis never see each other's events.

``on_state`` hears when the connection is lost (or cannot be made) and when it is
back — after the back-fill, so "connected" means caught up:

    bus = RedisBus(url, channel, on_state=lambda state: print(state.connected, state.since))
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from events import cursor as cursors
from events.bus import InMemoryBus, Message, Subscription
from events.messages import to_messages
from events.outbox import newest_id
from events.tasks import cancel_and_wait
from models import OrderEvent

log = logging.getLogger("ordergraph.redis_bus")

BACKFILL_BATCH = 500


@dataclass(frozen=True)
class BusState:
    """The listener's connection to Redis: ``connected`` (and caught up) or not, ``since`` when that began."""

    connected: bool
    since: datetime


def channel_for(database_url: str) -> str:
    """``ordergraph:<hash of the database URL without password>:events``."""
    parts = urlsplit(database_url)
    identity = f"{parts.scheme}://{parts.username or ''}@{parts.hostname or ''}:{parts.port or ''}{parts.path}"
    return f"ordergraph:{hashlib.sha256(identity.encode()).hexdigest()[:12]}:events"


class RedisBus:
    def __init__(
        self,
        url: str,
        channel: str,
        *,
        max_pending: int = 1000,
        durable_cursor: str = "bus",
        health_interval: float = 5.0,
        backfill: Callable[[int, int], AsyncIterator[list[Message]]] | None = None,
        client_name: str | None = None,
        on_state: Callable[[BusState], None] | None = None,
    ) -> None:
        self.url = url
        self.channel = channel
        self.last_key = f"{channel}:last"
        self.local = InMemoryBus(max_pending)
        self.durable_cursor = durable_cursor
        self.backfill = backfill or _committed_between
        self.connected = asyncio.Event()
        self.reconnects = 0
        self.client_name = client_name or f"ordergraph-{os.getpid()}"
        self._redis = aioredis.from_url(
            url,
            health_check_interval=health_interval,
            socket_keepalive=True,
            socket_connect_timeout=5,
            client_name=self.client_name,
        )
        self._task: asyncio.Task[None] | None = None
        self._position_known = False
        self.on_state = on_state
        self._reported: bool | None = None

    @property
    def position(self) -> int:
        return self.local.position

    @property
    def max_pending(self) -> int:
        return self.local.max_pending

    @property
    def subscriber_count(self) -> int:
        return self.local.subscriber_count

    async def start(self, position: int | None) -> None:
        """Begin delivering after ``position`` (None: find it in the database on first connect)."""
        self._position_known = position is not None
        if position is not None:
            await self.local.start(position)
        self._task = asyncio.create_task(self._listen(), name="redis-listener")

    async def publish(self, messages: list[Message]) -> None:
        """Leader only: one PUBLISH for the batch and the new high-water mark, atomically."""
        if not messages:
            return
        body = json.dumps({"messages": messages}, separators=(",", ":"), default=str)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.publish(self.channel, body)
            pipe.set(self.last_key, messages[-1]["id"])
            await pipe.execute()

    def subscribe(self, orders: frozenset[int] | None = None) -> contextlib.AbstractAsyncContextManager[Subscription]:
        return self.local.subscribe(orders)

    async def close(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        await self.local.close()
        await self._redis.aclose()

    async def _listen(self) -> None:
        backoff = 0.05
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                await self._confirmed(pubsub)
                await self._catch_up(await self._published_up_to())
                self.connected.set()
                self._report(True)
                backoff = 0.05
                while True:
                    item = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if item is not None and item["type"] == "message":
                        self.local.deliver(json.loads(item["data"])["messages"])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("Redis listener lost its connection (%s); reconnecting", type(exc).__name__)
                self._report(False)
            except Exception:  # a bad message or a database blip during backfill: start over
                log.exception("Redis listener failed; reconnecting")
            finally:
                self.connected.clear()
                with contextlib.suppress(Exception):
                    await asyncio.shield(pubsub.aclose())
            self.reconnects += 1
            await asyncio.sleep(backoff * random.uniform(0.5, 1.5))
            backoff = min(backoff * 2, 5.0)

    def _report(self, connected: bool) -> None:
        if self.on_state is None or self._reported is connected:
            return
        self._reported = connected
        try:
            self.on_state(BusState(connected, datetime.now(UTC)))
        except Exception:  # the listener must keep listening whatever the observer does
            log.exception("bus state observer failed")

    async def _confirmed(self, pubsub: Any) -> None:
        """Wait until Redis has processed SUBSCRIBE: from then on nothing published is missed."""
        async with asyncio.timeout(10):
            while True:
                item = await pubsub.get_message(timeout=1.0)
                if item is not None and item["type"] == "subscribe":
                    return

    async def _published_up_to(self) -> int:
        raw = await self._redis.get(self.last_key)
        if raw is not None:
            return int(raw)
        if self.backfill is not _committed_between:
            return self.local.position
        stored = await cursors.load(self.durable_cursor)  # Redis lost its keys (restart): trust the leader's cursor
        return stored if stored is not None else await newest_id()

    async def _catch_up(self, upto: int) -> None:
        if not self._position_known:
            # First contact: begin where the leader has got to; nobody subscribed here can be owed older events.
            stored = await cursors.load(self.durable_cursor) if self.backfill is _committed_between else None
            await self.local.start(min(upto, stored) if stored is not None else upto)
            self._position_known = True
        async for batch in self.backfill(self.local.position, upto):
            self.local.deliver(batch)
            await asyncio.sleep(0)  # let subscribers drain between batches


async def _committed_between(after: int, upto: int) -> AsyncIterator[list[Message]]:
    cursor = after
    while cursor < upto:
        rows = await OrderEvent.filter(id__gt=cursor, id__lte=upto).order_by("id").limit(BACKFILL_BATCH)
        if not rows:
            return
        yield await to_messages(rows)
        cursor = rows[-1].id
