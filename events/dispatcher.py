"""The outbox dispatcher: hands committed ``OrderEvent`` rows, in id order, to one consumer.

A consumer is anything that must see every committed event once and in order:
the live bus (``BusFeed``) or the webhook fan-out. The dispatcher wakes on the
local doorbell (and, on PostgreSQL, on NOTIFY from other processes, which
rings the same bell), polls as a fallback, and never steps over a gap that
may still fill (see ``events.gaps``).

A consumer with a persistent cursor records its progress itself (durably, in
the same transaction as its effect where it has one); on restart the
dispatcher asks it where to begin, so a crash loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

from events import cursor as cursors
from events import signals
from events.bus import Bus
from events.cursor import CursorMoved
from events.messages import to_messages
from events.outbox import OutboxReader, newest_id
from events.signals import wait_or_timeout
from models import OrderEvent

log = logging.getLogger("ordergraph.dispatcher")


class Consumer(Protocol):
    name: str

    async def start_position(self) -> int:
        """The last event id already handled."""

    async def consume(self, rows: list[OrderEvent], previous: int) -> None:
        """Handle ``rows`` (all after ``previous``); raise ``CursorMoved`` if another process got there first."""


class BusFeed:
    """Publishes events to a bus. ``durable_name`` keeps a persistent cursor (the Redis leader does)."""

    def __init__(self, bus: Bus, durable_name: str | None = None) -> None:
        self.bus = bus
        self.durable_name = durable_name
        self.name = durable_name or "live"
        self._stored: int | None = None

    async def start_position(self) -> int:
        if self.durable_name:
            self._stored = await cursors.load_or_start(self.durable_name, await newest_id())
            return self._stored
        # The local bus: continue from what it has delivered (primed at start-up), else from the newest event.
        position = self.bus.position or await newest_id()
        await self.bus.start(position)
        return position

    async def consume(self, rows: list[OrderEvent], previous: int) -> None:
        await self.bus.publish(await to_messages(rows))
        if self.durable_name:
            # Published first, recorded second: a crash in between repeats events, never loses them.
            await cursors.advance(self.durable_name, self._stored, rows[-1].id)
            self._stored = rows[-1].id


class Dispatcher:
    def __init__(self, consumer: Consumer, *, reader: OutboxReader | None = None, poll_interval: float = 0.25) -> None:
        self.consumer = consumer
        self.reader = reader or OutboxReader()
        self.poll_interval = poll_interval
        self.cursor = 0
        self._task: asyncio.Task[None] | None = None
        self._errors_logged_at = 0.0

    async def start(self) -> None:
        """Begin in the background; a database that is not reachable yet only delays the start."""
        self._task = asyncio.create_task(self.run(), name=f"outbox-{self.consumer.name}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def run(self) -> None:
        """Run until cancelled (for callers that manage the task, e.g. leadership)."""
        self.cursor = await self._start_position()
        await self._loop()

    async def _start_position(self) -> int:
        delay = self.poll_interval
        while True:
            try:
                return await self.consumer.start_position()
            except Exception:  # the database is not there yet
                self._log_failure()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _loop(self) -> None:
        doorbell = signals.listen()
        try:
            while True:
                doorbell.clear()
                try:
                    while await self.dispatch_once():
                        pass
                except CursorMoved:
                    self.cursor = await self.consumer.start_position()
                    continue
                except Exception:  # keep dispatching through a database or Redis blip
                    self._log_failure()
                await wait_or_timeout(doorbell, self.poll_interval)
        finally:
            signals.stop_listening(doorbell)

    async def dispatch_once(self) -> int:
        """Hand on what is committed after the cursor; return how many events were handed on."""
        rows = await self.reader.read(self.cursor)
        if not rows:
            return 0
        await self.consumer.consume(rows, self.cursor)
        self.cursor = rows[-1].id
        return len(rows)

    def _log_failure(self) -> None:
        now = time.monotonic()
        if now - self._errors_logged_at > 10:
            self._errors_logged_at = now
            log.exception("outbox consumer %s failed; retrying", self.consumer.name)
