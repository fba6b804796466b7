"""The bus: in-process fan-out, and Redis fan-out across 'processes' (two RedisBus instances) on the real server."""

from __future__ import annotations

import asyncio
import uuid

import fakeredis
import pytest
from redis import asyncio as aioredis

from events import cursor as cursors
from events.bus import InMemoryBus, SlowSubscriber
from events.dispatcher import BusFeed, Dispatcher
from events.redis_bus import RedisBus, channel_for
from tests.helpers import paid_order
from tests.live_fixtures import redis_url, wait_until  # noqa: F401 - fixture

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _message(event_id: int, tenant: int = 1) -> dict:
    return {"id": event_id, "tenant_id": tenant, "type": "t"}


async def test_in_memory_bus_delivers_in_order_once_and_remembers_its_position():
    bus = InMemoryBus()
    async with bus.subscribe() as sub:
        assert sub.start == 0
        bus.deliver([_message(2), _message(1)])
        bus.deliver([_message(2), _message(3)])  # 2 again: a repeat, dropped
        got = [await asyncio.wait_for(sub.__anext__(), 1) for _ in range(3)]
    assert [m["id"] for m in got] == [1, 2, 3]
    assert bus.position == 3
    async with bus.subscribe() as late:
        assert late.start == 3


async def test_a_slow_subscriber_is_cut_off_with_bounded_memory():
    bus = InMemoryBus(max_pending=5)
    async with bus.subscribe() as slow, bus.subscribe() as fast:
        for n in range(1, 4):
            bus.deliver([_message(n)])
            assert (await fast.__anext__())["id"] == n
        bus.deliver([_message(n) for n in range(4, 20)])
        assert slow._queue.qsize() <= 5
        with pytest.raises(SlowSubscriber):
            while True:
                await asyncio.wait_for(slow.__anext__(), 1)


async def no_backfill(after: int, upto: int):
    """Unit tests without a database: nothing to read back."""
    return
    yield


async def _kill_pubsub(admin: aioredis.Redis, name: str) -> None:
    """Drop the listener's pub/sub connection on the server side, as a Redis restart or network blip would."""
    victims = [c["id"] for c in await admin.client_list() if c.get("name") == name and int(c.get("sub", 0)) > 0]
    assert victims, "the listener's pub/sub connection should be visible"
    for client_id in victims:
        await admin.client_kill_filter(_id=client_id)


async def _cursor_at(event_id: int) -> bool:
    return await cursors.load("bus") == event_id


def _channel() -> str:
    return f"ordergraph:test-{uuid.uuid4().hex[:8]}:events"


async def test_fakeredis_round_trip_for_a_quick_unit_check(monkeypatch):
    fake = fakeredis.FakeAsyncRedis()
    bus = RedisBus("redis://fake", _channel(), backfill=no_backfill)
    bus._redis = fake
    await bus.start(0)
    try:
        await wait_until(lambda: bus.connected.is_set(), 5)
        async with bus.subscribe() as sub:
            await bus.publish([_message(1), _message(2)])
            got = [await asyncio.wait_for(sub.__anext__(), 2) for _ in range(2)]
        assert [m["id"] for m in got] == [1, 2]
        assert int(await fake.get(bus.last_key)) == 2
    finally:
        await bus.close()


async def test_redis_fans_out_to_every_process(redis_url):  # noqa: F811
    channel = _channel()
    a, b = RedisBus(redis_url, channel, backfill=no_backfill), RedisBus(redis_url, channel, backfill=no_backfill)
    await a.start(0)
    await b.start(0)
    try:
        await wait_until(lambda: a.connected.is_set() and b.connected.is_set(), 5)
        async with a.subscribe() as on_a, b.subscribe() as on_b:
            await a.publish([_message(1), _message(2)])
            for sub in (on_a, on_b):
                assert [(await asyncio.wait_for(sub.__anext__(), 2))["id"] for _ in range(2)] == [1, 2]
    finally:
        await a.close()
        await b.close()


async def test_a_different_database_never_sees_the_events(redis_url):  # noqa: F811
    assert channel_for("postgres://u:secret@db:5432/shop_a") != channel_for("postgres://u:secret@db:5432/shop_b")
    assert channel_for("postgres://u:one@db:5432/shop") == channel_for("postgres://u:two@db:5432/shop")


async def test_the_listener_reconnects_and_backfills_what_it_missed(db, world, redis_url):  # noqa: F811
    """Kill the listener's connection, publish while it is away: subscribers see a delay, not a gap."""
    channel = channel_for(db) + uuid.uuid4().hex[:6]
    publisher_bus = RedisBus(redis_url, channel)
    listener_bus = RedisBus(redis_url, channel, client_name=f"og-test-{uuid.uuid4().hex[:8]}")
    leader = Dispatcher(BusFeed(publisher_bus, durable_name="bus"), poll_interval=0.05)
    await publisher_bus.start(0)
    await listener_bus.start(0)
    await leader.start()
    admin = aioredis.from_url(redis_url)
    try:
        await wait_until(lambda: listener_bus.connected.is_set(), 5)
        async with listener_bus.subscribe() as sub:
            first = await paid_order(world.actor(), world.channel.id, "BEFORE")
            seen = [await asyncio.wait_for(sub.__anext__(), 5)]
            reconnects = listener_bus.reconnects
            await _kill_pubsub(admin, listener_bus.client_name)
            for n in range(3):
                await paid_order(world.actor(), world.channel.id, f"WHILE-{n}")
            await wait_until(lambda: listener_bus.reconnects > reconnects, 5)
            await paid_order(world.actor(), world.channel.id, "AFTER")
            while len(seen) < 5:
                seen.append(await asyncio.wait_for(sub.__anext__(), 10))
        ids = [m["id"] for m in seen]
        assert ids == sorted(ids) and len(set(ids)) == 5
        assert seen[0]["order_id"] == first.id
        await wait_until(lambda: _cursor_at(ids[-1]), 5)  # recorded just after publishing
    finally:
        await leader.stop()
        await admin.aclose()
        await listener_bus.close()
        await publisher_bus.close()


async def test_an_overflowing_subscriber_sees_no_hole_before_its_last_id():
    """What a dropped subscriber saw must be a gapless prefix, so resuming after its last id loses nothing."""
    bus = InMemoryBus(max_pending=3)
    async with bus.subscribe() as sub:
        bus.deliver([_message(1)])
        seen = [(await sub.__anext__())["id"]]
        bus.deliver([_message(n) for n in range(2, 10)])
        with pytest.raises(SlowSubscriber):
            while True:
                seen.append((await asyncio.wait_for(sub.__anext__(), 1))["id"])
    assert seen == list(range(1, len(seen) + 1))


async def test_a_subscriber_to_some_orders_gets_only_their_events_in_order_and_leaves_no_trace():
    """Open tracking pages watch a few orders each: an event reaches the pages of its order only."""
    bus = InMemoryBus()
    events = [{**_message(n), "order_id": order_id} for n, order_id in ((1, 10), (2, 11), (3, 10), (4, None), (5, 12))]
    async with bus.subscribe() as everything, bus.subscribe(orders=frozenset({10, 12})) as mine, \
            bus.subscribe(orders=frozenset({11})) as other:
        assert bus.subscriber_count == 3
        bus.deliver(events)
        assert [(await asyncio.wait_for(everything.__anext__(), 1))["id"] for _ in range(5)] == [1, 2, 3, 4, 5]
        assert [(await asyncio.wait_for(mine.__anext__(), 1))["id"] for _ in range(3)] == [1, 3, 5]
        assert [(await asyncio.wait_for(other.__anext__(), 1))["id"] for _ in range(1)] == [2]
        assert mine._queue.empty() and other._queue.empty()
    assert bus.subscriber_count == 0
    assert bus._by_order == {}
