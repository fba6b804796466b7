"""Fan-out of committed events to subscribers in this process.

    bus = InMemoryBus()
    async with bus.subscribe() as subscription:
        async for message in subscription:
            ...

Each subscriber has its own bounded queue. A subscriber that falls more than
``max_pending`` messages behind is cut off (``SlowSubscriber``) instead of
letting memory grow: it can resume from its last event id.

``position`` is the id of the newest event delivered here. Delivery is in id
order and anything at or below ``position`` is dropped as a repeat, so a
subscriber that starts at ``position`` can read older events from the
database and newer ones from its queue without gap or repeat.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any, Protocol

Message = dict[str, Any]


class SlowSubscriber(Exception):
    """The subscriber did not keep up and was dropped; resume from the last id seen.

    ``extensions`` is picked up by graphql-core when it wraps the exception, so
    any subscription that lets it escape reports the code the WebSocket layer
    closes the connection on.
    """

    extensions = {"code": "SLOW_SUBSCRIBER"}


class Subscription:
    """One subscriber's bounded queue. ``start`` is the bus position when it subscribed."""

    def __init__(self, max_pending: int, start: int) -> None:
        self._queue: asyncio.Queue[Message | None] = asyncio.Queue(maxsize=max_pending)
        self.start = start
        self.overflowed = False

    def offer(self, message: Message) -> None:
        if self.overflowed:
            return
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            # Drop everything not yet consumed, not just the oldest: the subscriber's last
            # id seen must be a clean resume point, with no hole before it.
            self.overflowed = True
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(None)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Message:
        message = await self._queue.get()
        if message is None:
            raise SlowSubscriber("subscriber fell too far behind; resume with the last event id seen")
        return message


class Bus(Protocol):
    """What the app, the dispatcher and the subscription resolvers rely on."""

    position: int

    async def start(self, position: int) -> None: ...

    async def publish(self, messages: list[Message]) -> None: ...

    def subscribe(self, orders: frozenset[int] | None = None) -> Any: ...

    async def close(self) -> None: ...


class InMemoryBus:
    """The process-local fan-out; also the local half of ``RedisBus``."""

    def __init__(self, max_pending: int = 1000) -> None:
        self.max_pending = max_pending
        self.position = 0
        self._subscriptions: set[Subscription] = set()
        # subscribers to a few orders' events only (open tracking pages): found by the message's order_id,
        # so an event wakes the pages watching its order, not all ten thousand of them
        self._by_order: dict[int, set[Subscription]] = {}
        self._watching = 0

    async def start(self, position: int) -> None:
        self.position = max(self.position, position)

    async def publish(self, messages: list[Message]) -> None:
        self.deliver(messages)

    def deliver(self, messages: Iterable[Message]) -> int:
        """Hand new messages (id above ``position``) to every subscriber; return how many were new."""
        fresh = [message for message in messages if message["id"] > self.position]
        if not fresh:
            return 0
        fresh.sort(key=lambda message: message["id"])
        self.position = fresh[-1]["id"]
        for subscription in list(self._subscriptions):
            for message in fresh:
                subscription.offer(message)
        if self._by_order:
            for message in fresh:
                for subscription in list(self._by_order.get(message.get("order_id"), ())):  # type: ignore[arg-type]
                    subscription.offer(message)
        return len(fresh)

    @asynccontextmanager
    async def subscribe(self, orders: frozenset[int] | None = None) -> AsyncIterator[Subscription]:
        """Every message, or with ``orders`` only those whose ``order_id`` is one of them (in order either way)."""
        subscription = Subscription(self.max_pending, self.position)
        if orders is None:
            self._subscriptions.add(subscription)
        else:
            self._watching += 1
            for order_id in orders:
                self._by_order.setdefault(order_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            if orders is None:
                self._subscriptions.discard(subscription)
            else:
                self._watching -= 1
                for order_id in orders:
                    watchers = self._by_order.get(order_id)
                    if watchers is not None:
                        watchers.discard(subscription)
                        if not watchers:
                            del self._by_order[order_id]

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions) + self._watching

    async def close(self) -> None:
        self._subscriptions.clear()
        self._by_order.clear()
