"""The business day itself: orders arrive, some are cancelled, warehouses ship, parcels move — and faults strike.

    day = Day(profile, systems, cluster, redis, orders=500, hours=24, speed=2000, seed=7)
    await day.run()                  # returns when the last business hour has passed on the wall
    day.placed                       # (channel kind, external id) -> wall second it was placed
    day.faults                       # every injected fault (chaos.result.Fault), detection filled in later

Everything happens through the simulators, as it would in the world: a shop
places an order and pushes it (faults permitting), the WMS ships a delivery
order some business hours after OrderGraph sent it and calls back, the carrier
scans the parcel. Timing is seeded, so ``--seed`` repeats a day.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from adapters.erp.sim_faults import Profile as ErpProfile
from adapters.wms.simulator import Profile as WmsProfile
from chaos.cluster import Cluster, PrivateRedis
from chaos.profile import Incident, Profile
from chaos.result import Fault
from chaos.systems import Systems

#: The platform's status code for "the buyer cancelled and was refunded before shipment", per channel kind.
#: Pinduoduo's simulator has no cancellation, so its orders are never cancelled in a simulated day.
CANCELLED = {"taobao": "TRADE_CLOSED", "douyin": "4", "shopify": "voided/unfulfilled", "wechat_channels": "250",
             "amazon": "Canceled"}
SCANS = ("PICKED_UP", "IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED")
CARRIERS = ("SF", "ZTO", "YTO")


@dataclass(order=True)
class _Due:
    at: float
    seq: int
    action: Callable[[], Awaitable[None]] = field(compare=False)


@dataclass
class Day:
    profile: Profile
    systems: Systems
    cluster: Cluster | None
    redis: PrivateRedis | None
    orders: int
    hours: float
    speed: float
    seed: int
    started: float = field(default_factory=time.time)
    #: (kind, external id) -> wall second (since ``started``) the shop placed it.
    placed: dict[tuple[str, str], float] = field(default_factory=dict)
    #: (kind, external id) -> what happened to it on the way, in words (for the report's "why").
    notes: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    #: delivery-order code -> notes (the WMS side knows our order numbers, not the channel's ids).
    code_notes: dict[str, list[str]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    not_injected: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self._queue: list[_Due] = []
        self._seq = itertools.count()
        self._seen: dict[str, int] = {}  # delivery orders of each WMS already scheduled (its dict keeps arrival order)
        self._tasks: set[asyncio.Task[None]] = set()
        self._outage_until: dict[str, float] = {}

    # ------------------------------------------------------------------ clocks

    @property
    def day_wall_s(self) -> float:
        return self.hours * 3600.0 / self.speed

    def now(self) -> float:
        return time.time() - self.started

    def business_time(self, wall: float) -> str:
        seconds = int(wall * self.speed)
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"

    def later(self, business_s: float) -> float:
        return self.now() + business_s / self.speed

    def at(self, wall: float, action: Callable[[], Awaitable[None]]) -> None:
        heapq.heappush(self._queue, _Due(wall, next(self._seq), action))

    # ------------------------------------------------------------------ the plan

    def plan(self) -> None:
        """Seed the queue: every order's arrival (peaks weigh three) and every incident."""
        hours = [h for h in range(int(self.hours + 0.999))]
        weights = [3.0 if h % 24 in self.profile.peak_hours else 1.0 for h in hours]
        kinds = list(self.profile.channels)
        for index in range(self.orders):
            hour = self.rng.choices(hours, weights)[0]
            business = min(hour * 3600.0 + self.rng.uniform(0, 3600.0), self.hours * 3600.0 - 1)
            kind = kinds[index % len(kinds)]
            cancel = kind in CANCELLED and self.rng.random() < self.profile.cancel_share
            self.at(business / self.speed, lambda kind=kind, cancel=cancel: self._place(kind, cancel))
        for incident in self.profile.incidents:
            if incident.at_s >= self.hours * 3600.0:
                self.not_injected.append(f"{incident.kind} at {self.business_time(incident.at_s / self.speed)}: "
                                         "after the simulated day ends")
                continue
            self.at(incident.at_s / self.speed, lambda incident=incident: self._incident(incident))

    async def run(self) -> None:
        """Play the day on the wall clock; return when its last business second has passed and every action ran."""
        self.started = time.time()
        for shop in self.systems.shops.values():  # a delay of business minutes is seconds on the wall
            shop.faults = replace(shop.faults, delay_max_s=self.profile.messages.delay_max_s / self.speed)
        self.plan()
        watcher = asyncio.create_task(self._watch_warehouses())
        try:
            while self._queue:
                due = self._queue[0].at - self.now()
                if due > 0:
                    await asyncio.sleep(min(due, 0.25))
                    continue
                item = heapq.heappop(self._queue)
                self._spawn(item.action())
                if self.now() > self.day_wall_s and (not self._queue or self._queue[0].at > self.day_wall_s):
                    break  # the day is over: later scans and shipments belong to tomorrow
        except BaseException:  # stopped (Ctrl-C, SIGTERM) or broken: what is under way is abandoned, not awaited
            for task in [watcher, *self._tasks]:
                task.cancel()
            for sender in [*self.systems.shops.values(), self.systems.carrier]:
                sender.abandon()
            await asyncio.gather(watcher, *list(self._tasks), return_exceptions=True)
            raise
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        for shop in self.systems.shops.values():
            await shop.drain()
        await self.systems.carrier.drain()

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _count(self, name: str, by: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + by

    # ------------------------------------------------------------------ orders

    async def _place(self, kind: str, cancel: bool) -> None:
        shop = self.systems.shops[kind]
        dropped_before = len(shop.dropped)
        order = shop.place(paid_at=datetime.now(UTC))
        key = (kind, order.external_id)
        self.placed[key] = self.now()
        self._count("orders_placed")
        if len(shop.dropped) > dropped_before:
            self._note(key, "its push was dropped (only the poller could find it)")
            self.faults.append(Fault("dropped_push", f"{kind} {order.external_id}", self.now(),
                                     self.business_time(self.now())))
        if cancel:
            delay = self.rng.uniform(60.0, 600.0)
            self.at(self.later(delay), lambda: self._cancel(kind, order.external_id))

    async def _cancel(self, kind: str, external_id: str) -> None:
        shop = self.systems.shops[kind]
        dropped_before = len(shop.dropped)
        shop.touch(external_id, status=CANCELLED[kind])
        self._count("orders_cancelled")
        if len(shop.dropped) > dropped_before:
            self._note((kind, external_id), "the push of its cancellation was dropped (only the poller could find it)")
            self.faults.append(Fault("dropped_cancel", f"{kind} {external_id}", self.now(),
                                     self.business_time(self.now())))

    def _note(self, key: tuple[str, str], text: str) -> None:
        self.notes.setdefault(key, []).append(f"{self.business_time(self.now())} {text}")

    # ------------------------------------------------------------------ warehouses and carriers

    async def _watch_warehouses(self) -> None:
        """Each WMS works its queue: a delivery order that arrived is shipped some business hours later."""
        while True:
            for warehouse, wms in self.systems.wms.items():
                fresh = len(wms.orders) - self._seen.get(warehouse, 0)
                if fresh <= 0:
                    continue
                self._seen[warehouse] = len(wms.orders)
                for code in reversed(list(itertools.islice(reversed(wms.orders), fresh))):  # the newest, oldest first
                    wait = self.rng.uniform(*self.profile.ship_after_s)
                    self.at(self.later(wait), lambda warehouse=warehouse, code=code: self._ship(warehouse, code))
            await asyncio.sleep(0.25)

    async def _ship(self, warehouse: str, code: str) -> None:
        wms = self.systems.wms[warehouse]
        pause = self._outage_until.get(warehouse, 0.0) - self.now()
        if pause > 0:  # the WMS is down: the warehouse cannot confirm anything until it is back
            await asyncio.sleep(pause + 0.5)
        if wms.orders[code].status == "CANCELED":
            return
        carrier = self.rng.choice(CARRIERS)
        try:
            shipped = await wms.ship(code, carrier=carrier)
        except (LookupError, ValueError) as error:
            self.code_notes.setdefault(code, []).append(f"the WMS could not ship it: {error}")
            return
        self._count("parcels_shipped")
        self.systems.erp.set_stock(warehouse, {sku: units for (where, sku), units in wms.inventory.items()
                                               if where == warehouse})  # the ERP books the goods out as they leave
        if shipped["callback"].get("dropped"):
            self._count("wms_callbacks_dropped")
            self.code_notes.setdefault(code, []).append(
                f"{self.business_time(self.now())} its WMS confirmation was dropped (only the sweep could find it)")
            self.faults.append(Fault("dropped_callback", code, self.now(), self.business_time(self.now())))
        elif not shipped["callback"].get("sent"):
            self.code_notes.setdefault(code, []).append(
                f"{self.business_time(self.now())} its WMS confirmation failed to arrive "
                f"({shipped['callback'].get('error') or shipped['callback'].get('status')})")
        self._schedule_scans(code, shipped["tracking_no"])

    def _schedule_scans(self, code: str, number: str) -> None:
        late = self.rng.random() < self.profile.messages.late_scans
        start = self.now()
        for status, after in zip(SCANS, self.profile.scan_after_s, strict=True):
            happened = start + after / self.speed
            if late and status == "IN_TRANSIT":
                arrives = start + self.profile.scan_after_s[2] / self.speed + 0.2  # after out-for-delivery
                self.code_notes.setdefault(code, []).append("its in-transit scan arrived after the out-for-delivery one")
                self._count("late_scans")
            else:
                arrives = happened
            self.at(arrives, lambda status=status, happened=happened: self._scan(number, status, happened))

    async def _scan(self, number: str, status: str, happened_wall: float) -> None:
        self.systems.carrier.add_scan(number, status, at=datetime.fromtimestamp(self.started + happened_wall, UTC))
        self._count("scans")

    # ------------------------------------------------------------------ incidents

    async def _incident(self, incident: Incident) -> None:
        fault = Fault(incident.kind, incident.target, self.now(), self.business_time(self.now()))
        self.faults.append(fault)
        if incident.kind == "wms_outage":
            wms = self.systems.wms[incident.target]
            wms.profile = WmsProfile.read({"outages": [{"after_s": 0, "for_s": incident.for_s}]}, base=wms.profile)
            self._outage_until[incident.target] = self.now() + incident.for_s
            fault.subject = f"wms-{incident.target}"
            await asyncio.sleep(incident.for_s)
        elif incident.kind == "erp_drift":
            self.systems.erp.profile = ErpProfile.read({"stock_drift": {"warehouse": incident.target,
                                                                         "share": incident.share}})
            await asyncio.sleep(incident.for_s)
            self.systems.erp.profile = ErpProfile.read({})
        elif incident.kind == "channel_throttle":
            shop = self.systems.shops[incident.target]
            normal = shop.faults
            shop.faults = replace(normal, rate_per_s=incident.rate_per_s, burst=1)
            await asyncio.sleep(incident.for_s)
            shop.faults = normal
        elif incident.kind == "process_kill":
            if self.cluster is None:
                return self._skip(fault, "no OrderGraph process of this run's own to kill (--url)")
            pid = await asyncio.to_thread(self.cluster.kill_worker, self.rng.randrange(8))
            fault.subject = f"pid {pid}"
        elif incident.kind == "redis_restart":
            if self.redis is None:
                return self._skip(fault, "this run has no Redis (the in-process bus)")
            await asyncio.to_thread(self.redis.kill)
            await asyncio.sleep(incident.for_s)
            await asyncio.to_thread(self.redis.start_again)
        fault.ended_at = self.now()

    def _skip(self, fault: Fault, why: str) -> None:
        self.faults.remove(fault)
        self.not_injected.append(f"{fault.kind} at {fault.business_time}: {why}")
