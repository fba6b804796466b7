"""The outbox dispatcher: publishes committed ``OrderEvent`` rows, in id order, to the bus.

Ids are handed out at insert but rows become visible at commit, so a
concurrent transaction can leave a short-lived gap (id 41 visible, 40 not yet).
The dispatcher stops at a gap and waits up to ``gap_timeout`` for it to fill
before skipping it (a rolled-back insert leaves a gap forever).
"""

from __future__ import annotations

import asyncio
import logging
import time

from events import signals
from events.bus import Bus
from events.messages import to_messages
from models import OrderEvent

log = logging.getLogger("ordergraph.dispatcher")


class Dispatcher:
    def __init__(self, bus: Bus, *, poll_interval: float = 0.25, batch: int = 500, gap_timeout: float = 2.0) -> None:
        self.bus = bus
        self.poll_interval = poll_interval
        self.batch = batch
        self.gap_timeout = gap_timeout
        self.cursor = 0
        self._gap_since: float | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, from_id: int | None = None) -> None:
        """Begin after ``from_id`` (default: the newest event now committed)."""
        if from_id is None:
            from_id = await OrderEvent.all().order_by("-id").first().values_list("id", flat=True) or 0
        self.cursor = from_id
        self._task = asyncio.create_task(self._run(), name="outbox-dispatcher")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        doorbell = signals.listen()
        try:
            while True:
                try:
                    while await self.dispatch_once():
                        pass
                except Exception:  # keep dispatching through a database blip
                    log.exception("dispatch failed; retrying")
                try:
                    await asyncio.wait_for(doorbell.wait(), timeout=self.poll_interval)
                except TimeoutError:
                    pass
                doorbell.clear()
        finally:
            signals.stop_listening(doorbell)

    async def dispatch_once(self) -> int:
        """Publish what is committed after the cursor; return how many were published."""
        rows = await OrderEvent.filter(id__gt=self.cursor).order_by("id").limit(self.batch)
        ready = []
        expected = self.cursor + 1
        for row in rows:
            if row.id != expected:
                if not self._gap_expired():
                    break
                self._gap_since = None  # give up on this gap: a rolled-back insert
            ready.append(row)
            expected = row.id + 1
        if len(ready) == len(rows):
            self._gap_since = None
        if not ready:
            return 0
        await self.bus.publish(await to_messages(ready))
        self.cursor = ready[-1].id
        return len(ready)

    def _gap_expired(self) -> bool:
        now = time.monotonic()
        if self._gap_since is None:
            self._gap_since = now
        return now - self._gap_since >= self.gap_timeout
