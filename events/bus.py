"""Fan-out of committed events to subscribers in this process.

    bus = InMemoryBus()
    async with bus.subscribe() as subscription:
        async for message in subscription:
            ...

Each subscriber has its own bounded queue. A subscriber that falls more than
``max_pending`` messages behind is cut off (``SlowSubscriber``) instead of
letting memory grow: it can resume from its last event id.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

Message = dict[str, Any]


class SlowSubscriber(Exception):
    """The subscriber did not keep up and was dropped; resume from the last id seen."""


class Subscription:
    def __init__(self, max_pending: int) -> None:
        self._queue: asyncio.Queue[Message | None] = asyncio.Queue(maxsize=max_pending)
        self.overflowed = False

    def offer(self, message: Message) -> None:
        if self.overflowed:
            return
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed = True
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
    async def publish(self, messages: list[Message]) -> None: ...

    def subscribe(self) -> Any: ...

    async def close(self) -> None: ...


class InMemoryBus:
    def __init__(self, max_pending: int = 1000) -> None:
        self.max_pending = max_pending
        self._subscriptions: set[Subscription] = set()

    async def publish(self, messages: list[Message]) -> None:
        self.deliver(messages)

    def deliver(self, messages: list[Message]) -> None:
        for subscription in list(self._subscriptions):
            for message in messages:
                subscription.offer(message)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscription]:
        subscription = Subscription(self.max_pending)
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)

    async def close(self) -> None:
        self._subscriptions.clear()
