"""One leader among the processes sharing a database, for work that must run once (in order).

- PostgreSQL: a session advisory lock on a dedicated connection. The server
  releases it the moment that connection dies, so a ``kill -9``'d leader is
  replaced within one retry interval — no lease, no clock.
- SQLite (one host by construction): an exclusive ``flock`` on a file next to
  the database, which the kernel releases when the process dies.

Leadership only ever saves work: everything the leader does is safe to repeat
(cursors advance by compare-and-set, deliveries are unique per endpoint and
event, subscribers drop repeated ids), so two leaders for a moment are harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import tempfile
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO, Protocol

import asyncpg

from events.pg_notify import asyncpg_dsn
from events.signals import wait_or_timeout
from events.tasks import cancel_and_wait

log = logging.getLogger("ordergraph.leader")


class LeaderLock(Protocol):
    async def acquire(self) -> bool: ...

    async def lost(self) -> None: ...

    async def release(self) -> None: ...


class PgAdvisoryLock:
    def __init__(self, database_url: str, name: str = "ordergraph-outbox", health_interval: float = 5.0) -> None:
        self.dsn = asyncpg_dsn(database_url)
        self.key = zlib.crc32(name.encode())
        self.health_interval = health_interval
        self._conn: asyncpg.Connection | None = None

    async def acquire(self) -> bool:
        try:
            conn = await asyncpg.connect(self.dsn, timeout=10)
        except Exception as exc:  # the database is away: not leader, try later
            log.warning("leader lock: cannot connect (%s)", type(exc).__name__)
            return False
        if await conn.fetchval("SELECT pg_try_advisory_lock($1)", self.key):
            self._conn = conn
            return True
        await conn.close()
        return False

    async def lost(self) -> None:
        conn = self._conn
        assert conn is not None
        gone = asyncio.Event()
        conn.add_termination_listener(lambda _conn: gone.set())
        while not gone.is_set():
            if await wait_or_timeout(gone, self.health_interval):
                return
            try:
                await conn.fetchval("SELECT 1", timeout=self.health_interval)
            except Exception:
                return

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2):
                    await conn.close()
            if not conn.is_closed():
                conn.terminate()


class FileLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    @classmethod
    def for_sqlite(cls, database_url: str) -> FileLock:
        db = database_url.removeprefix("sqlite://")
        if not db or ":memory:" in db:
            return cls(Path(tempfile.gettempdir()) / f"ordergraph-memory-{os.getpid()}.leader")
        return cls(Path(db + ".leader"))

    async def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "ab")  # noqa: SIM115 - held open for as long as we lead
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    async def lost(self) -> None:
        await asyncio.Event().wait()  # a held flock is only lost with the process

    async def release(self) -> None:
        handle, self._file = self._file, None
        if handle is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()


def lock_for(database_url: str) -> LeaderLock:
    if database_url.startswith(("postgres", "asyncpg")):
        return PgAdvisoryLock(database_url)
    return FileLock.for_sqlite(database_url)


class Leadership:
    """Runs the given jobs while this process holds the lock; retries to become leader otherwise."""

    def __init__(self, lock: LeaderLock, jobs: list[Callable[[], Awaitable[None]]], retry: float = 1.0) -> None:
        self.lock = lock
        self.jobs = jobs
        self.retry = retry
        self.leading = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="leadership")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            if await self.lock.acquire():
                await self._lead()
            await asyncio.sleep(self.retry)

    async def _lead(self) -> None:
        log.info("this process (pid %s) leads the outbox", os.getpid())
        tasks = [asyncio.create_task(job()) for job in self.jobs]
        watch = asyncio.create_task(self.lock.lost())
        self.leading.set()
        try:
            done, _ = await asyncio.wait([*tasks, watch], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not watch and not task.cancelled() and task.exception():
                    log.error("leader job failed", exc_info=task.exception())
        finally:
            self.leading.clear()
            for task in [*tasks, watch]:
                task.cancel()
            for task in [*tasks, watch]:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await self.lock.release()
            log.info("this process (pid %s) no longer leads the outbox", os.getpid())
