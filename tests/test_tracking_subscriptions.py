"""Tracking subscriptions, direct queries and stalled parcels, against the simulated providers over real HTTP:
the served app receives the simulator's pushes on its own hooks."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.carriers import sim as carrier_sim
from adapters.carriers.api import PROVIDER_APIS
from adapters.channels.api import http
from domain.intake import sources as intake_sources
from domain.statuses import ShipmentStatus
from domain.tracking.carrier_pushes import STALLED
from domain.tracking.silent import query_silent
from domain.tracking.stalled import detect_stalled
from domain.tracking.subscriptions import PROVIDER_REFUSED, RoundSettings, subscribe_due, tracking_round
from models import Alert, CarrierAccount, Order, OrderEvent, Shipment, TrackingEvent
from tests.intake_support import admin, shipped_order
from resolvers import ids
from tests.live_fixtures import live_server, serve_asgi

S = ShipmentStatus


@dataclass
class Served:
    sim: carrier_sim.TrackingSimulator
    sim_url: str
    app_url: str


@contextlib.asynccontextmanager
async def served(db: str, *, app: bool = True, **settings: Any) -> AsyncIterator[Served]:
    simulator = carrier_sim.TrackingSimulator()
    async with serve_asgi(simulator.app()) as sim_url:
        try:
            if not app:
                yield Served(simulator, sim_url, "")
                return
            async with live_server(db, **settings) as (app_url, _app):
                simulator.push_urls = {p: f"{app_url}/hooks/acme/carrier/{p}" for p in ("kdniao", "aftership")}
                yield Served(simulator, sim_url, app_url)
                await simulator.drain()
        finally:
            await simulator.aclose()
            await http.aclose()


async def connect(world: Any, provider: str, sim_url: str, **config: Any) -> None:
    await intake_sources.set_carrier_account(admin(world), provider, carrier_sim.account_secret(provider),
                                             carrier_sim.account_config(provider, sim_url) | config)


async def parcel(world: Any, number: str, carrier: str = "SF", *, shipped_hours_ago: float = 1.0) -> Shipment:
    order, shipment = await shipped_order(world, f"T-{number}", carrier, number,
                                          shipped_at=datetime.now(UTC) - timedelta(hours=shipped_hours_ago))
    await Order.filter(id=order.id).update(ship_phone="13800005678")
    return shipment


async def wait_for(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("provider", ["kuaidi100", "kdniao", "aftership"])
async def test_a_shipped_parcel_is_subscribed_once_and_the_pushes_move_it(world, db, provider: str) -> None:
    async with served(db) as env:
        await connect(world, provider, env.sim_url)
        shipment = await parcel(world, f"SF15{len(provider):08d}")
        settings = RoundSettings(callback_base=env.app_url)
        first = await tracking_round(PROVIDER_APIS, settings=settings)
        assert first.as_dict()["subscribe"]["subscribed"] == 1
        again = await tracking_round(PROVIDER_APIS, settings=settings)
        assert (first.subscribe.subscribed, again.subscribe.checked) == (1, 0)
        row = await Shipment.get(id=shipment.id)
        assert (row.subscription, row.subscription_attempts, row.subscription_error) == ("subscribed", 1, "")
        assert row.subscribed_at is not None
        [subscription] = env.sim.listing()
        assert (subscription["provider"], subscription["number"], subscription["phone"]) == (
            provider, shipment.tracking_no, "5678" if provider != "aftership" else "")
        if provider == "kuaidi100":
            assert subscription["callback_url"] == f"{env.app_url}/hooks/acme/carrier/kuaidi100"
        events = OrderEvent.filter(type="shipment.tracking_subscribed", order_id=shipment.order_id)  # type: ignore[attr-defined]
        assert await events.count() == 1

        picked = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
        env.sim.add_scan(shipment.tracking_no, "PICKED_UP", at=picked)
        env.sim.add_scan(shipment.tracking_no, "IN_TRANSIT", at=picked + timedelta(hours=1))

        async def moved() -> bool:
            return (await Shipment.get(id=shipment.id)).status == S.IN_TRANSIT

        await wait_for(moved)
        await env.sim.drain()
        row = await Shipment.get(id=shipment.id)
        assert row.last_scan_at == picked + timedelta(hours=1)
        assert await TrackingEvent.filter(shipment_id=shipment.id).count() == 2
        assert all(code == 200 for _, _, code in env.sim.push_answers)


SHIPMENT = "query($id: ID!) { node(id: $id) { ... on Shipment { trackingSubscription subscriptionError } } }"


async def test_a_failed_subscription_is_retried_later_and_says_why(world, db, gql) -> None:
    async with served(db, app=False) as env:
        await connect(world, "kuaidi100", env.sim_url)
        shipment = await parcel(world, "SF1500000101")
        env.sim.faults = carrier_sim.Faults(error_rate=1.0)
        now = datetime.now(UTC)
        report = await subscribe_due(PROVIDER_APIS, callback_base="http://og.test", now=now)
        assert (report.failed, report.subscribed) == (1, 0)
        row = await Shipment.get(id=shipment.id)
        assert row.subscription == "failed" and "HTTP 500" in row.subscription_error
        assert row.subscription_attempts == 1 and row.subscription_retry_at == now + timedelta(seconds=300)
        seen = (await gql(world.keys["ops"], SHIPMENT, {"id": ids.encode("Shipment", shipment.id)}))["node"]
        assert seen["trackingSubscription"] == "failed" and "HTTP 500" in seen["subscriptionError"]

        calls = env.sim.calls["kuaidi100.subscribe"]
        soon = now + timedelta(seconds=60)
        assert (await subscribe_due(PROVIDER_APIS, callback_base="http://og.test", now=soon)).checked == 0
        assert env.sim.calls["kuaidi100.subscribe"] == calls  # not due yet: not asked

        env.sim.faults = carrier_sim.Faults()
        later = now + timedelta(seconds=301)
        assert (await subscribe_due(PROVIDER_APIS, callback_base="http://og.test", now=later)).subscribed == 1
        row = await Shipment.get(id=shipment.id)
        assert (row.subscription, row.subscription_attempts, row.subscription_error) == ("subscribed", 2, "")
        assert row.subscribed_at == later and row.subscription_retry_at is None


async def test_refusals_unsupported_carriers_and_accounts_without_api(world, db) -> None:
    async with served(db, app=False) as env:
        await connect(world, "kdniao", env.sim_url, app_key="not-the-app-key")
        refused = await parcel(world, "SF1500000201")
        local = await parcel(world, "LC1500000202", carrier="Some Local Courier")
        report = await subscribe_due(PROVIDER_APIS, now=datetime.now(UTC))
        assert list(report.stopped) == [world.tenant.id] and report.checked == 1  # the account stops at the first
        row = await Shipment.get(id=refused.id)
        assert row.subscription == "failed" and "签名" in row.subscription_error
        alert = await Alert.get(kind=PROVIDER_REFUSED)
        assert "kdniao" in alert.message and alert.order_id is None  # type: ignore[attr-defined]

        await connect(world, "kdniao", env.sim_url)
        report = await subscribe_due(PROVIDER_APIS, now=datetime.now(UTC) + timedelta(hours=1))
        assert (report.subscribed, report.unsupported) == (1, 1)
        row = await Shipment.get(id=local.id)
        assert row.subscription == "unsupported" and "Some Local Courier" in row.subscription_error

        await CarrierAccount.filter(provider="kdniao").update(config={"ebusiness_id": "1237100"})  # receive only...
        assert (await CarrierAccount.get(provider="kdniao")).config == {"ebusiness_id": "1237100"}
        await CarrierAccount.filter(provider="kdniao").delete()
        await parcel(world, "SF1500000203")
        assert (await subscribe_due(PROVIDER_APIS, now=datetime.now(UTC))).checked == 0  # no account: nothing asked


async def test_a_silent_parcel_is_queried_and_later_pushes_add_nothing_twice(world, db) -> None:
    async with served(db) as env:
        await connect(world, "kuaidi100", env.sim_url)
        shipment = await parcel(world, "SF1500000301", shipped_hours_ago=30)
        fresh = await parcel(world, "SF1500000302", shipped_hours_ago=1)
        await subscribe_due(PROVIDER_APIS, callback_base=env.app_url)
        env.sim.faults = carrier_sim.Faults(push=False)  # the provider's pushes are lost
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=29)
        env.sim.add_scan(shipment.tracking_no, "PICKED_UP", at=start)
        env.sim.add_scan(shipment.tracking_no, "IN_TRANSIT", at=start + timedelta(hours=3))

        now = datetime.now(UTC)
        report = await query_silent(PROVIDER_APIS, now=now, after_hours=12)
        assert (report.queried, report.moved, report.new_scans) == (1, 1, 2)  # the fresh parcel is not asked
        row = await Shipment.get(id=shipment.id)
        assert (row.status, row.queried_at, row.last_scan_at) == (S.IN_TRANSIT, now, start + timedelta(hours=3))
        assert (await Shipment.get(id=fresh.id)).queried_at is None
        calls = env.sim.calls["kuaidi100.query"]
        assert (await query_silent(PROVIDER_APIS, now=now + timedelta(hours=1), after_hours=12)).queried == 0
        assert env.sim.calls["kuaidi100.query"] == calls

        env.sim.faults = carrier_sim.Faults()  # pushes work again: the whole history comes with the next scan
        env.sim.add_scan(shipment.tracking_no, "OUT_FOR_DELIVERY", at=start + timedelta(hours=28))

        async def out() -> bool:
            return (await Shipment.get(id=shipment.id)).status == S.OUT_FOR_DELIVERY

        await wait_for(out)
        assert await TrackingEvent.filter(shipment_id=shipment.id).count() == 3


async def test_a_parcel_whose_subscription_outcome_is_unknown_or_failed_is_still_queried_when_silent(world, db) -> None:
    """A subscribe call that timed out on our side may have subscribed the parcel (its pushes come), and a process
    killed mid-call leaves it pending for the lease: a lost push must be made good for these too."""
    async with served(db) as env:
        await connect(world, "kuaidi100", env.sim_url)
        later = datetime.now(UTC) + timedelta(days=1)
        states = {"SF1500000311": "pending", "SF1500000312": "failed", "SF1500000313": "", "SF1500000314": "unsupported"}
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=29)
        env.sim.faults = carrier_sim.Faults(push=False)
        for number, state in states.items():
            shipment = await parcel(world, number, shipped_hours_ago=30)
            await Shipment.filter(id=shipment.id).update(subscription=state, subscription_retry_at=later)
            env.sim.add_scan(number, "IN_TRANSIT", at=start)

        report = await query_silent(PROVIDER_APIS, now=datetime.now(UTC), after_hours=12)
        assert (report.queried, report.moved) == (2, 2)
        moved = {row.tracking_no for row in await Shipment.filter(status=S.IN_TRANSIT)}
        assert moved == {"SF1500000311", "SF1500000312"}  # not the parcel never offered, nor the one it cannot track


async def test_a_stalled_parcel_raises_one_alert_until_it_moves_again(world, db) -> None:
    async with served(db) as env:
        await connect(world, "kuaidi100", env.sim_url)
        sf = await parcel(world, "SF1500000401", shipped_hours_ago=40)
        zto = await parcel(world, "ZT1500000402", carrier="ZTO", shipped_hours_ago=40)
        await subscribe_due(PROVIDER_APIS, callback_base=env.app_url)
        scanned = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=30)
        for shipment in (sf, zto):
            env.sim.add_scan(shipment.tracking_no, "PICKED_UP", at=scanned - timedelta(hours=2))
            env.sim.add_scan(shipment.tracking_no, "IN_TRANSIT", at=scanned)

        async def both_moving() -> bool:
            return await Shipment.filter(status=S.IN_TRANSIT).count() == 2

        await wait_for(both_moving)
        limits = {"hours_by_carrier": {"SF": 24}, "default_hours": 48}
        first = await detect_stalled(**limits)
        again = await detect_stalled(**limits)
        assert (first.alerted, again.alerted) == ([sf.id], [])  # ZTO's 48 h are not up yet
        [alert] = await Alert.filter(kind=STALLED)
        assert "stalled in transit" in alert.message and alert.details["shipment_id"] == sf.id
        assert alert.order_id == sf.order_id  # type: ignore[attr-defined]

        await Alert.filter(id=alert.id).update(cleared_at=datetime.now(UTC))  # a person looked at it
        assert (await detect_stalled(**limits)).alerted == []  # the same stall is not raised twice

        env.sim.add_scan(sf.tracking_no, "OUT_FOR_DELIVERY")

        async def moved() -> bool:
            return (await Shipment.get(id=sf.id)).status == S.OUT_FOR_DELIVERY

        await wait_for(moved)
        later = datetime.now(UTC) + timedelta(hours=25)
        # a new stall of the SF parcel, a new alert; by now ZTO's 48 h are up too
        assert (await detect_stalled(now=later, **limits)).alerted == [sf.id, zto.id]
        assert await Alert.filter(kind=STALLED, cleared_at__isnull=True).count() == 2


async def test_the_config_is_sealed_and_resealed(world, db) -> None:
    from tortoise import connections

    from domain.tenants.secrets import reseal_all

    await connect(world, "aftership", "http://sim.test")
    raw = await connections.get("default").execute_query_dict("SELECT config FROM carrier_account")
    assert str(raw[0]["config"]).startswith("gAAAAA") and "asat_" not in str(raw[0]["config"])
    assert await reseal_all() >= 1
    assert (await CarrierAccount.get(provider="aftership")).config["api_key"] == carrier_sim.AFTERSHIP["api_key"]


async def test_the_leader_subscribes_parcels_on_its_own(world, db) -> None:
    async with served(db, tracking_round_seconds=0.3, tracking_callback_base="http://og.test") as env:
        await connect(world, "kuaidi100", env.sim_url)
        shipment = await parcel(world, "SF1500000999")

        async def subscribed() -> bool:
            return (await Shipment.get(id=shipment.id)).subscription == "subscribed"

        await wait_for(subscribed)
        [subscription] = env.sim.listing()
        assert subscription["callback_url"] == "http://og.test/hooks/acme/carrier/kuaidi100"
