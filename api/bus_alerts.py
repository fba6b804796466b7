"""Turns the Redis listener's connection state into ``system.bus_down`` on the exception board.

    watch = BusDownWatch(settings, heartbeat)           # heartbeat: api.process_tasks.ProcessHeartbeat
    bus = RedisBus(url, channel, on_state=watch.on_state)
    await watch.start() ... await watch.stop()

The events layer only reports (``events.redis_bus.BusState``); this watch waits
``ORDERGRAPH_BUS_DOWN_AFTER_SECONDS`` before raising (a blip that heals sooner
is no incident) and reports the bus back once the listener has reconnected and
back-filled. One task does the reporting, so state changes that come quickly
one after another are written in order; a failed write is retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime

from api.process_tasks import ProcessHeartbeat
from api.settings import Settings
from domain.platform import event_bus
from events.redis_bus import BusState
from events.tasks import cancel_and_wait

log = logging.getLogger("ordergraph.bus_alerts")

RETRY_SECONDS = 1.0


class BusDownWatch:
    def __init__(self, settings: Settings, heartbeat: ProcessHeartbeat | None) -> None:
        self.after = settings.bus_down_after_seconds
        self.heartbeat = heartbeat
        self.down_since: datetime | None = None  # wall clock, for the message
        self._down_at = 0.0  # monotonic, for the delay
        self.reported_down = False
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def on_state(self, state: BusState) -> None:
        """The ``RedisBus`` callback: remember the newest state and wake the reporter."""
        self.down_since = None if state.connected else state.since
        self._down_at = time.monotonic()
        self._changed.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._report(), name="bus-alerts")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def _report(self) -> None:
        while True:
            self._changed.clear()
            wait: float | None = None
            try:
                wait = await self._step()
            except Exception as exc:  # the database blipped: try again shortly
                log.warning("could not record the event bus state (%s); retrying", type(exc).__name__)
                wait = RETRY_SECONDS
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), wait)

    async def _step(self) -> float | None:
        """Write what is due now; returns how long until something else may be due (None: until a change)."""
        process_id = self.heartbeat.process_id if self.heartbeat else None
        since = self.down_since
        if since is not None and not self.reported_down:
            remaining = self._down_at + self.after - time.monotonic()
            if remaining > 0:
                return remaining
            await event_bus.report_down(process_id, since)
            self.reported_down = True
            log.warning("event bus (Redis) down since %s: raised system.bus_down", since.isoformat())
        elif since is None and self.reported_down:
            await event_bus.report_back(process_id)
            self.reported_down = False
            log.info("event bus (Redis) back: system.bus_down cleared")
        return None
