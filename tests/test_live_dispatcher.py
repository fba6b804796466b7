"""The outbox dispatcher: order, crash-resume from the persistent cursor, gaps, PostgreSQL wake-ups, leadership."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from asyncpg.transaction import Transaction
import pytest
from tortoise import connections

from events import cursor as cursors
from events import log
from events.bus import InMemoryBus
from events.dispatcher import BusFeed, Dispatcher
from events.gaps import PgSnapshotGaps, TimeoutGaps
from events.leader import FileLock, Leadership, PgAdvisoryLock
from events.outbox import OutboxReader
from events.pg_notify import PgListener, asyncpg_dsn, install_trigger
from models import OrderEvent
from tests.helpers import paid_order
from tests.live_fixtures import wait_until
from tests.statement_log import counted_statements

#: Claims only PostgreSQL can prove (concurrent writers, NOTIFY, advisory locks): run on that backend only.
POSTGRES_ONLY = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


class Recorder:
    """A bus that remembers what was published."""

    def __init__(self) -> None:
        self.position = 0
        self.published: list[int] = []

    async def start(self, position: int) -> None:
        self.position = position

    async def publish(self, messages: list[dict]) -> None:
        self.published += [m["id"] for m in messages]


async def _event(world, n: int) -> int:
    row = await log.append(tenant_id=world.tenant.id, order_id=None, type="test.ping", actor="t", source="t", reason=str(n))
    return row.id


async def test_a_restarted_dispatcher_resumes_from_its_persistent_cursor(world):
    first = Recorder()
    dispatcher = Dispatcher(BusFeed(first, durable_name="bus"))
    dispatcher.cursor = await dispatcher.consumer.start_position()
    ids = [await _event(world, n) for n in range(3)]
    while await dispatcher.dispatch_once():
        pass
    assert first.published == ids and await cursors.load("bus") == ids[-1]
    # "crash": the process is gone; events keep being committed meanwhile
    missed = [await _event(world, n) for n in range(3, 6)]
    second = Recorder()
    restarted = Dispatcher(BusFeed(second, durable_name="bus"))
    restarted.cursor = await restarted.consumer.start_position()
    while await restarted.dispatch_once():
        pass
    assert second.published == missed  # nothing lost, nothing repeated


async def test_two_leaders_cannot_both_advance_the_cursor(world):
    a, b = Dispatcher(BusFeed(Recorder(), durable_name="bus")), Dispatcher(BusFeed(Recorder(), durable_name="bus"))
    a.cursor = await a.consumer.start_position()
    b.cursor = await b.consumer.start_position()
    await _event(world, 1)
    await a.dispatch_once()
    with pytest.raises(cursors.CursorMoved):
        await b.dispatch_once()


async def test_a_rolled_back_id_is_stepped_over_after_its_writer_is_gone(world):
    from tortoise.transactions import in_transaction

    before = await _event(world, 0)
    with pytest.raises(RuntimeError):
        async with in_transaction():
            await _event(world, 1)
            raise RuntimeError("rollback")
    after = await _event(world, 2)
    reader = OutboxReader(TimeoutGaps(timeout=0.2) if world.tenant._meta.db.capabilities.dialect == "sqlite" else PgSnapshotGaps())
    got: list[int] = []
    deadline = time.monotonic() + 5
    while after not in got and time.monotonic() < deadline:
        rows = await reader.read(got[-1] if got else before - 1)
        got += [r.id for r in rows]
        await asyncio.sleep(0.05)
    assert got == [before, after]


@asynccontextmanager
async def _open_event(world, db) -> AsyncIterator[tuple[Transaction, int]]:
    """An event row inserted by a transaction left open on its own connection: its id is a gap until committed."""
    slow = await asyncpg.connect(asyncpg_dsn(db))
    try:
        tx = slow.transaction()
        await tx.start()
        held = await slow.fetchval(
            "INSERT INTO order_event (tenant_id, type, actor, source, reason, created_at) "
            "VALUES ($1, 'test.slow', 't', 't', '', now()) RETURNING id",
            world.tenant.id,
        )
        yield tx, held
    finally:
        await slow.close()


@POSTGRES_ONLY
async def test_an_in_flight_id_is_never_skipped_however_long_its_transaction_runs(world, db):
    """A slow transaction holds id n while n+1 commits: the outbox waits for n, then publishes n, n+1 in order."""
    start = await _event(world, 0)
    async with _open_event(world, db) as (tx, held):
        later = await _event(world, 2)
        assert later > held
        reader = OutboxReader(PgSnapshotGaps(max_wait=60))
        deadline = time.monotonic() + 3  # well past any timeout-based gap policy
        while time.monotonic() < deadline:
            assert [r.id for r in await reader.read(start)] == []  # stops before the hole
            await asyncio.sleep(0.1)
        await tx.commit()
        assert [r.id for r in await reader.read(start)] == [held, later]


@POSTGRES_ONLY
async def test_a_reader_waiting_at_an_open_gap_reads_the_rows_after_it_once(world, db):
    """While a slow transaction holds id n, every commit rings every dispatcher: each read asks only for n and for
    what is newer than the rows it already holds, never for those rows again; when n commits, all come in order."""
    start = await _event(world, 0)
    async with _open_event(world, db) as (tx, held):
        later = [await _event(world, i) for i in range(1, 31)]
        reader = OutboxReader(PgSnapshotGaps(max_wait=60))
        assert await reader.read(start) == []
        newest = await _event(world, 31)
        with counted_statements() as statements:
            for _ in range(3):
                assert await reader.read(start) == []
        reads = [values for sql, values in statements if 'FROM "order_event"' in sql]
        assert reads and all(later[-1] in values or newest in values or values[:1] == [held] for values in reads), reads
        assert not any(values[:1] == [start] for values in reads)  # the rows after the gap were not read again
        await tx.commit()
        assert [r.id for r in await reader.read(start)] == [held, *later, newest]


@POSTGRES_ONLY
async def test_notify_wakes_the_dispatcher_for_commits_of_other_processes(world, db):
    await install_trigger(db)
    bus = InMemoryBus()
    dispatcher = Dispatcher(BusFeed(bus), poll_interval=30)  # polling alone would take 30 s
    listener = PgListener(db)
    await listener.start()
    await dispatcher.start()
    other_process = await asyncpg.connect(asyncpg_dsn(db))
    try:
        await wait_until(lambda: listener.connected.is_set(), 5)
        async with bus.subscribe() as sub:
            started = time.monotonic()
            await other_process.execute(
                "INSERT INTO order_event (tenant_id, type, actor, source, reason, created_at) VALUES ($1, 'test.remote', 't', 't', '', now())",
                world.tenant.id,
            )
            message = await asyncio.wait_for(sub.__anext__(), 5)
            assert message["type"] == "test.remote" and time.monotonic() - started < 2
    finally:
        await other_process.close()
        await dispatcher.stop()
        await listener.stop()


@POSTGRES_ONLY
async def test_one_leader_and_a_killed_leader_is_replaced(db):
    a, b = PgAdvisoryLock(db, "test-leader", health_interval=0.2), PgAdvisoryLock(db, "test-leader", health_interval=0.2)
    assert await a.acquire()
    assert not await b.acquire()
    assert a._conn is not None
    backend = a._conn.get_server_pid()
    await connections.get("default").execute_query("SELECT pg_terminate_backend($1)", [backend])  # as if kill -9
    await asyncio.wait_for(a.lost(), 5)
    assert await wait_until(b.acquire, 5)
    await a.release()
    await b.release()


async def test_leadership_runs_jobs_only_while_leading(tmp_path):
    runs: list[str] = []

    async def job() -> None:
        runs.append("start")
        await asyncio.Event().wait()

    first = Leadership(FileLock(tmp_path / "x.leader"), [job], retry=0.05)
    second = Leadership(FileLock(tmp_path / "x.leader"), [job], retry=0.05)
    await first.start()
    await wait_until(lambda: first.leading.is_set(), 2)
    await second.start()
    await asyncio.sleep(0.3)
    assert runs == ["start"] and not second.leading.is_set()
    await first.stop()
    await wait_until(lambda: second.leading.is_set(), 2)
    assert runs == ["start", "start"]
    await second.stop()


async def test_events_are_published_in_commit_order_across_a_burst(world):
    bus = InMemoryBus(max_pending=5000)
    dispatcher = Dispatcher(BusFeed(bus), poll_interval=0.02)
    await dispatcher.start()
    try:
        async with bus.subscribe() as sub:
            orders = [await paid_order(world.actor(), world.channel.id, f"B{n}") for n in range(20)]
            got = [await asyncio.wait_for(sub.__anext__(), 5) for _ in range(20)]
        assert [m["order_id"] for m in got] == [o.id for o in orders]
        assert [m["id"] for m in got] == sorted(await OrderEvent.all().values_list("id", flat=True))
    finally:
        await dispatcher.stop()
