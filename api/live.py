"""Wiring of everything live: the bus, the outbox dispatchers, leadership, the webhook sender.

Without ``REDIS_URL`` every process runs its own dispatcher that reads the
outbox and feeds its in-memory bus (several processes still work: each reads
the database; PostgreSQL NOTIFY wakes them). With ``REDIS_URL`` one leader
reads the outbox and publishes to Redis, and every process (the leader too)
feeds its subscribers from one Redis listener.

In both modes the leader also turns events into webhook deliveries, and every
process sends due deliveries. The leader also turns allocations and
cancellations into WMS delivery orders and sends them (``domain.federation``:
``delivery_orders`` and ``delivery_push``; leases keep a row with one sender).

Every process registers and heartbeats (``api.process_tasks``); the leader finds
processes lost without a goodbye. With ``REDIS_URL`` every process also reports
its Redis connection to the exception board (``api.bus_alerts``).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from adapters.systems import SYSTEMS
from api.bus_alerts import BusDownWatch
from api.process_tasks import ProcessHeartbeat, ProcessWatch
from api.settings import Settings
from domain.federation.delivery_orders import DeliveryOrderFeed
from domain.federation.delivery_push import DeliveryPusher, PushPolicy
from domain.webhooks import endpoints as webhook_domain
from events import cursor as cursors
from events.bus import InMemoryBus
from events.dispatcher import BusFeed, Dispatcher
from events.gaps import policy_for
from events.leader import Leadership, lock_for
from events.outbox import OutboxReader, newest_id
from events.pg_notify import PgListener
from events.redis_bus import RedisBus, channel_for
from events.webhooks.fanout import WebhookFanout
from events.webhooks.sender import WebhookSender

log = logging.getLogger("ordergraph.live")


def _is_postgres(url: str) -> bool:
    return url.startswith(("postgres", "asyncpg"))


def partner_client(settings: Settings) -> httpx.AsyncClient:
    """The one HTTP client for all partner deliveries: explicit timeouts, no redirects, pooled."""
    t = settings.partner_timeout
    return httpx.AsyncClient(
        timeout=httpx.Timeout(connect=min(5.0, t), read=t, write=t, pool=min(5.0, t)),
        limits=httpx.Limits(max_connections=max(10, settings.partner_concurrency * 2), max_keepalive_connections=20),
        follow_redirects=False,
        headers={"user-agent": "OrderGraph-Webhooks/1"},
    )


@dataclass
class Live:
    settings: Settings
    bus: Any
    local_feed: Dispatcher | None
    leadership: Leadership
    sender: WebhookSender
    client: httpx.AsyncClient
    listener: PgListener | None = None
    pusher: DeliveryPusher | None = None
    heartbeat: ProcessHeartbeat | None = None
    bus_watch: BusDownWatch | None = None
    _started: list[Any] = field(default_factory=list)

    async def start(self) -> None:
        url = self.settings.database_url
        for part in (self.heartbeat, self.bus_watch):  # registered before the bus reports its state
            if part is not None and part not in self._started:
                await part.start()
                self._started.append(part)
        if _is_postgres(url):
            self.listener = PgListener(url)  # installs the NOTIFY trigger once it reaches the database
            await self.listener.start()
            self._started.append(self.listener)
        # Subscribers may connect as soon as we serve: fix where the bus starts now if the database answers.
        try:
            position: int | None = await self._start_position()
        except Exception as exc:  # the database is away: the feeds find their position once it is back
            log.warning("live feed starts without the database (%s)", type(exc).__name__)
            position = None
        if self.local_feed is not None:
            if position is not None:
                await self.bus.start(position)
            await self.local_feed.start()
            self._started.append(self.local_feed)
        else:
            await self.bus.start(position)
        await self.leadership.start()
        self._started.append(self.leadership)
        await self.sender.start()
        self._started.append(self.sender)

    async def _start_position(self) -> int:
        if self.local_feed is None:
            stored = await cursors.load("bus")  # what the Redis leader has published
            if stored is not None:
                return stored
        return await newest_id()

    async def stop(self) -> None:
        for part in reversed(self._started):
            with contextlib.suppress(Exception):
                await part.stop()
        self._started.clear()
        await self.bus.close()
        await self.client.aclose()


def build_live(settings: Settings) -> Live:
    url = settings.database_url
    gaps = policy_for(url)
    poll = settings.poll_interval
    heartbeat = ProcessHeartbeat(settings) if settings.heartbeat_seconds > 0 else None
    bus_watch = BusDownWatch(settings, heartbeat) if settings.redis_url else None
    if settings.redis_url:
        bus: Any = RedisBus(settings.redis_url, channel_for(url), max_pending=settings.live_max_pending,
                            on_state=bus_watch.on_state if bus_watch else None)
        local_feed = None
        publisher = Dispatcher(BusFeed(bus, durable_name="bus"), reader=OutboxReader(gaps), poll_interval=poll)
        jobs = [publisher.run]
    else:
        bus = InMemoryBus(settings.live_max_pending)
        local_feed = Dispatcher(BusFeed(bus), reader=OutboxReader(gaps), poll_interval=poll)
        jobs = []
    fanout = Dispatcher(WebhookFanout(), reader=OutboxReader(policy_for(url)), poll_interval=max(poll, 0.25))
    jobs.append(fanout.run)
    delivery_feed = Dispatcher(DeliveryOrderFeed(), reader=OutboxReader(policy_for(url)), poll_interval=max(poll, 0.25))
    pusher = DeliveryPusher(SYSTEMS, wms_push_policy(settings))
    jobs += [delivery_feed.run, pusher.run]
    if heartbeat is not None:
        jobs.append(ProcessWatch(settings).run)  # only the leader looks for processes lost without a goodbye
    disable_after = timedelta(hours=settings.partner_disable_after_hours)

    async def exhausted(endpoint_id: int, reason: str) -> None:
        await webhook_domain.disable_if_failing(endpoint_id, reason, disable_after)

    client = partner_client(settings)
    sender = WebhookSender(
        client,
        concurrency=settings.partner_concurrency,
        lease=settings.partner_lease,
        attempt_timeout=settings.partner_timeout * 3,
        poll_interval=settings.partner_poll_interval,
        on_gone=webhook_domain.disable_by_system,
        on_exhausted=exhausted,
        delays=settings.partner_retry_delays,
        public_only=not settings.partner_allow_private,
    )
    return Live(
        settings=settings,
        bus=bus,
        local_feed=local_feed,
        leadership=Leadership(lock_for(url), jobs),
        sender=sender,
        client=client,
        pusher=pusher,
        heartbeat=heartbeat,
        bus_watch=bus_watch,
    )


def wms_push_policy(settings: Settings) -> PushPolicy:
    return PushPolicy(concurrency=settings.wms_push_concurrency, lease=settings.wms_push_lease,
                      poll_interval=settings.wms_push_poll_interval, delays=settings.wms_push_retry_delays,
                      max_attempts=settings.wms_push_max_attempts)


def url_policy(settings: Settings) -> webhook_domain.UrlPolicy:
    """Where webhooks may not point: this server (its bind address and public URL)."""
    policy = webhook_domain.UrlPolicy(allow_private=settings.partner_allow_private)
    policy = policy.with_origin(settings.host, settings.port)
    if settings.public_url:
        origin = webhook_domain.origin_of(settings.public_url)
        if origin:
            policy = policy.with_origin(*origin)
    return policy
