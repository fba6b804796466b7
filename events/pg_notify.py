"""PostgreSQL wake-ups: a trigger NOTIFYs on every commit that added events, a listener rings the doorbell.

The trigger is created at start-up (idempotently, under an advisory lock so
several processes starting together do not race) rather than in a migration:
it is plumbing of the outbox, not part of the model. NOTIFY is delivered at
commit and folded per transaction, so a busy writer costs one wake-up per
transaction. Polling stays on as the fallback: a lost NOTIFY costs latency only.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable

import asyncpg

from events import signals
from events.signals import wait_or_timeout

log = logging.getLogger("ordergraph.pg_notify")

CHANNEL = "ordergraph_events"
_INSTALL_LOCK = 0x6F67_6E6F  # any constant shared by every process: "ogno"

_FUNCTION = f"""
CREATE OR REPLACE FUNCTION ordergraph_notify_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', '');
    RETURN NULL;
END $$
"""
_TRIGGER = """
CREATE TRIGGER ordergraph_event_notify AFTER INSERT ON order_event
FOR EACH STATEMENT EXECUTE FUNCTION ordergraph_notify_event()
"""


def asyncpg_dsn(database_url: str) -> str:
    """Tortoise's URL as asyncpg wants it (no Tortoise-only query parameters)."""
    dsn = database_url.split("?", 1)[0]
    for prefix in ("asyncpg://", "postgresql://"):
        if dsn.startswith(prefix):
            dsn = "postgres://" + dsn.removeprefix(prefix)
    return dsn


async def install_trigger(database_url: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(database_url), timeout=10)
    try:
        await _install(conn)
    finally:
        await conn.close()


async def _install(conn: asyncpg.Connection) -> None:
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _INSTALL_LOCK)
        exists = await conn.fetchval(
            "SELECT 1 FROM pg_trigger WHERE tgname = 'ordergraph_event_notify' AND tgrelid = 'order_event'::regclass"
        )
        if not exists:
            await conn.execute(_FUNCTION)
            await conn.execute(_TRIGGER)


class PgListener:
    """One dedicated connection per process, LISTENing; reconnects with backoff.

    It also installs the trigger on its first connection, so a database that
    was down at start-up gets it as soon as it is back.
    """

    def __init__(self, database_url: str, on_notify: Callable[[], None] = signals.ring, health_interval: float = 10.0) -> None:
        self.dsn = asyncpg_dsn(database_url)
        self.on_notify = on_notify
        self.health_interval = health_interval
        self.connected = asyncio.Event()
        self.trigger_installed = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="pg-listener")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def _notified(self, *_: object) -> None:
        self.on_notify()

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self.dsn, timeout=10)
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _conn: lost.set())
                if not self.trigger_installed:
                    try:
                        await _install(conn)
                        self.trigger_installed = True
                    except asyncpg.PostgresError as exc:  # e.g. no right to create triggers: polling still delivers
                        log.warning("cannot install the outbox NOTIFY trigger (%s); relying on polling", exc)
                await conn.add_listener(CHANNEL, self._notified)
                self.connected.set()
                backoff = 0.1
                self.on_notify()  # catch up on whatever committed while we were not listening
                while not await wait_or_timeout(lost, self.health_interval):
                    await conn.fetchval("SELECT 1", timeout=self.health_interval)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # reconnect on any connection trouble
                log.warning("LISTEN connection lost (%s); reconnecting", type(exc).__name__)
            finally:
                self.connected.clear()
                if conn is not None and not conn.is_closed():
                    conn.terminate()
            await asyncio.sleep(backoff * random.uniform(0.5, 1.5))
            backoff = min(backoff * 2, 5.0)
