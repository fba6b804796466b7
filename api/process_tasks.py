"""This server process in the registry, and the leader's watch for processes that vanished.

    heartbeat = ProcessHeartbeat(settings)          # api.live: started first, stopped last
    await heartbeat.start()                          # registers host:pid, heartbeats every interval
    live.leadership.jobs.append(ProcessWatch(settings).run)   # only the leader looks for lost processes
    await heartbeat.stop()                           # the goodbye: a clean stop is never "lost"

A ``kill -9`` skips the goodbye: the leader finds the silent row and raises
``system.process_lost`` (``domain.platform.processes``). If the leader itself is
killed, the next leader (advisory lock / flock) runs the same watch and finds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from datetime import timedelta

from api.settings import Settings
from domain.platform import processes
from events.tasks import cancel_and_wait

log = logging.getLogger("ordergraph.processes")


class ProcessHeartbeat:
    """Registers this process, says "still here" every interval, and says goodbye on a clean stop."""

    def __init__(self, settings: Settings) -> None:
        self.interval = settings.heartbeat_seconds
        self.process_id: int | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._register()  # before the bus starts, so its state reports name this process
        self._task = asyncio.create_task(self._beat(), name="heartbeat")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        if self.process_id is not None:
            with contextlib.suppress(Exception):  # the database is away: the leader will call it lost
                await processes.goodbye(self.process_id)

    async def _register(self) -> None:
        try:
            self.process_id = await processes.register(socket.gethostname(), os.getpid())
        except Exception as exc:  # the database blipped: the heartbeat loop registers later
            log.warning("could not register this server process (%s); retrying", type(exc).__name__)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if self.process_id is None:
                await self._register()
                continue
            try:
                if not await processes.heartbeat(self.process_id):
                    self.process_id = None  # pruned while we were away: register afresh
            except Exception as exc:  # keep beating through a database blip
                log.warning("heartbeat failed (%s); retrying", type(exc).__name__)


class ProcessWatch:
    """A leader job: every heartbeat interval, find processes gone without a goodbye and clear replaced ones."""

    def __init__(self, settings: Settings) -> None:
        self.interval = settings.heartbeat_seconds

    async def run(self) -> None:
        judging = False  # a new leader, or one back from a database outage, first gives everybody an interval
        while True:
            try:
                result = await processes.check(timedelta(seconds=self.interval), find_lost=judging)
                if result.lost:
                    log.warning("server processes lost without a goodbye: %s (%d alive)",
                                ", ".join(result.lost), result.alive)
                judging = True
            except Exception:  # keep watching through a database blip
                log.exception("process check failed; retrying next interval")
                judging = False
            await asyncio.sleep(self.interval)
