"""A WMS or ERP that stops answering, and a channel platform that throttles or fails, are on the board — once, and
only while it lasts (real simulators over HTTP)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest
from purgatory import AsyncCircuitBreakerFactory

from adapters import system_http
from adapters.channels.api import CHANNEL_APIS
from adapters.channels.sim.core import Faults
from adapters.erp import sim_faults
from adapters.formats import FORMATS
from adapters.systems import SYSTEMS
from adapters.wms.simulator import Profile
from domain.alerts.kinds import AlertKind
from domain.alerts.raising import AUTO
from domain.federation import reachability
from domain.federation.delivery_push import PUSH_FAILED_ALERT, DeliveryPusher, PushPolicy
from domain.federation.views import ask_stock
from domain.polling.poll import poll_channel
from models import Alert, DeliveryOrder, OrderEvent, SystemExchange
from tests.federation_support import ERP_CODE, SKU, federated, stock_everywhere
from tests.polling_support import taobao_shop
from tests.stock_fixtures import order
from tests.wms_support import FAST, WMS_CODE, Outbox, running_wms, wire_tenant

#: The simulated WMS down until a test ends the outage.
DOWN = {"outages": [{"after_s": 0, "for_s": 3600}]}


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """No streak from an earlier test's database; breakers that close again after a second, not 30."""
    reachability.forget()
    monkeypatch.setattr(system_http, "_breakers", AsyncCircuitBreakerFactory(
        default_threshold=system_http.BREAKER_THRESHOLD, default_ttl=1.0))


async def _until(check: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def _alerts(kind: AlertKind) -> list[Alert]:
    return await Alert.filter(kind=kind).order_by("id")


@contextlib.asynccontextmanager
async def _pushing(policy: PushPolicy) -> AsyncIterator[DeliveryPusher]:
    """The leader's pusher loop, running until the block ends."""
    pusher = DeliveryPusher(SYSTEMS, policy)
    task = asyncio.create_task(pusher.run())
    try:
        yield pusher
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _wms_outage_then_back(world: Any, db: str, policy: PushPolicy, caplog: pytest.LogCaptureFixture, *,
                                retried: bool) -> None:
    """Twelve orders while the WMS is down, pushed 8 at a time: one alert naming it (no deadlock between the failing
    pushes on PostgreSQL); when it is back, cleared and each order sent once."""
    async with running_wms(profile=Profile.read(DOWN)) as wms:
        await wire_tenant(world, wms, config={**wms.config, "retries": 0})
        placed = [await order(world, f"T-DOWN-{n}", {"TEA-001": 1}) for n in range(12)]
        await Outbox(db).feed()
        async with _pushing(policy):
            async def alerted() -> bool:
                return bool(await _alerts(AlertKind.SYSTEM_UNREACHABLE))

            await _until(alerted)
            [alert] = await _alerts(AlertKind.SYSTEM_UNREACHABLE)
            assert (alert.subject, alert.severity, alert.state, alert.order_id) == (WMS_CODE, "critical", "open", None)
            assert alert.message.startswith(f"WMS {WMS_CODE} (Shanghai WMS) unreachable since ")
            assert "12 delivery orders waiting" in alert.message
            assert "HTTP 503" in alert.message or "circuit open" in alert.message    # the breaker may be open by then

            async def tried_again() -> bool:
                rows = await DeliveryOrder.all()
                return all(r.attempts >= 3 for r in rows) if retried else wms.sim.calls["outage"] >= 6

            await _until(tried_again)
            assert {r.status for r in await DeliveryOrder.all()} == {"pending"}
            assert [a.id for a in await _alerts(AlertKind.SYSTEM_UNREACHABLE)] == [alert.id]   # still the one
            assert not wms.sim.orders

            wms.sim.profile = Profile()

            async def all_pushed() -> bool:
                return await DeliveryOrder.filter(status="pushed").count() == len(placed)

            await _until(all_pushed)      # within 30 s: with the probe, none sat out its hour of backoff
            if not retried:   # one failed push each, then sent at once when the probe heard the WMS again
                assert {r.attempts for r in await DeliveryOrder.all()} == {2}
                assert await SystemExchange.filter(operation="deliveryorder.query", outcome="ok").exists()
        cleared = await Alert.get(id=alert.id)
        assert (cleared.state, cleared.resolved_by) == ("resolved", AUTO) and cleared.cleared_at is not None
        assert [a.id for a in await _alerts(AlertKind.SYSTEM_UNREACHABLE)] == [alert.id]
        assert all(wms.sim.created[f"OG{o.id:09d}-SH"] == 1 for o in placed)
        assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR], "an attempt crashed"
        lineage = [(e.type, e.after["kind"]) for e in await OrderEvent.filter(order_id=None, type__startswith="alert.")]
        assert ("alert.raised", "system.unreachable") in lineage and ("alert.cleared", "system.unreachable") in lineage


async def test_a_wms_outage_is_one_alert_while_pushes_retry_and_is_cleared_when_they_get_through(world, db, caplog):
    policy = replace(FAST, delays=(0.3,), max_attempts=100, probe_interval=60.0)
    await _wms_outage_then_back(world, db, policy, caplog, retried=True)


async def test_a_quiet_wms_is_probed_so_its_outage_clears_and_the_waiting_pushes_go_without_their_backoff(world, db,
                                                                                                          caplog):
    """Backoff an hour: only the probe (every 0.3 s here, 5 s by default) can notice the WMS is back."""
    policy = replace(FAST, delays=(3600.0,), probe_interval=0.3)
    await _wms_outage_then_back(world, db, policy, caplog, retried=False)


async def test_a_single_http_500_raises_no_outage(world, db):
    async with running_wms(profile=Profile(error_rate=1.0)) as wms:
        await wire_tenant(world, wms, config={**wms.config, "retries": 0})
        placed = await order(world, "T-ONE-500", {"TEA-001": 1})
        outbox = Outbox(db)
        await outbox.step()
        assert (await DeliveryOrder.get(order_id=placed.id)).last_error.endswith("HTTP 500")
        wms.sim.profile = Profile()

        async def pushed() -> bool:
            return await DeliveryOrder.filter(order_id=placed.id, status="pushed").exists()

        await outbox.settle(pushed)
        assert wms.sim.calls["injected_errors"] == 1 and wms.sim.created[f"OG{placed.id:09d}-SH"] == 1
        assert await _alerts(AlertKind.SYSTEM_UNREACHABLE) == []


async def test_a_wms_refusing_every_push_is_not_an_outage(world, db):
    async with running_wms() as wms:
        await wire_tenant(world, wms, config={**wms.config, "app_key": "unknown-app"})
        placed = [await order(world, f"T-NO-{n}", {"TEA-001": 1}) for n in range(3)]
        await Outbox(db).step()
        assert {r.status for r in await DeliveryOrder.all()} == {"failed"}
        assert len(await _alerts(AlertKind(PUSH_FAILED_ALERT))) == len(placed)    # each refusal for a person
        assert await _alerts(AlertKind.SYSTEM_UNREACHABLE) == []


async def test_an_erp_that_stops_answering_is_raised_and_cleared_by_its_next_answer(world, db):
    async with federated(world) as fed:
        await stock_everywhere(world, fed, 5)
        erp = fed.erp_connection
        fed.erp.profile = sim_faults.Profile.read({"down": True})
        first = await ask_stock(world.tenant.id, erp, ERP_CODE, [SKU], SYSTEMS, budget=5)
        assert first.error is not None and await _alerts(AlertKind.SYSTEM_UNREACHABLE) == []   # one failure: not yet
        await ask_stock(world.tenant.id, erp, ERP_CODE, [SKU], SYSTEMS, budget=5)
        [alert] = await _alerts(AlertKind.SYSTEM_UNREACHABLE)
        assert (alert.subject, alert.severity, alert.state) == ("erp", "critical", "open")
        assert alert.message.startswith("ERP erp unreachable since ") and "503" in alert.message
        assert "waiting" not in alert.message                    # nothing is queued for an ERP

        fed.erp.profile = sim_faults.Profile()
        answer = await ask_stock(world.tenant.id, erp, ERP_CODE, [SKU], SYSTEMS, budget=5)
        assert answer.ok and answer.value is not None and answer.value[SKU].on_hand == 5
        cleared = await Alert.get(id=alert.id)
        assert (cleared.state, cleared.resolved_by) == ("resolved", AUTO)


async def _no_sleep(_seconds: float) -> None:
    return None


async def _short_sleep(seconds: float) -> None:
    """The platform's wait, cut short: its token bucket refills in real time all the same."""
    await asyncio.sleep(min(seconds, 0.1))


async def test_a_throttling_platform_raises_channel_throttled_once_and_a_clean_run_clears_it(world, db):
    async with taobao_shop(world, db, faults=Faults(page_size_max=3, rate_per_s=15, burst=4), push=False) as shop:
        for _ in range(12):
            shop.platform.place(push=False)
        first = await poll_channel(shop.channel, shop.api, formats=FORMATS, sleep=_short_sleep)
        assert first.error == "" and first.throttled > 0
        [alert] = await _alerts(AlertKind.CHANNEL_THROTTLED)
        assert (alert.subject, alert.severity, alert.channel_id) == (shop.channel.code, "warning", shop.channel.id)
        assert f"{first.throttled} call" in alert.message and "waited" in alert.message

        for _ in range(12):
            shop.platform.place(push=False)
        again = await poll_channel(shop.channel, shop.api, formats=FORMATS, sleep=_short_sleep)
        assert again.throttled > 0
        assert [a.id for a in await _alerts(AlertKind.CHANNEL_THROTTLED)] == [alert.id]    # updated in place
        assert (await Alert.get(id=alert.id)).state == "open"

        shop.platform.faults = Faults()
        clean = await poll_channel(shop.channel, shop.api, formats=FORMATS)
        assert clean.error == "" and clean.throttled == 0
        cleared = await Alert.get(id=alert.id)
        assert (cleared.state, cleared.resolved_by) == ("resolved", AUTO)
        assert len(await shop.held()) == 24


async def test_a_failing_platform_raises_channel_unreachable_and_a_refusal_raises_nothing(world, db):
    async with taobao_shop(world, db, push=False) as shop:
        shop.platform.place(push=False)
        shop.platform.faults = Faults(error_rate=1.0)
        down = await poll_channel(shop.channel, shop.api, formats=FORMATS, sleep=_no_sleep)
        assert "unavailable" in down.error
        [alert] = await _alerts(AlertKind.CHANNEL_UNREACHABLE)
        assert (alert.subject, alert.state) == (shop.channel.code, "open") and "HTTP 500" in alert.message
        assert await _alerts(AlertKind.CHANNEL_THROTTLED) == []

        shop.platform.faults = Faults()
        back = await poll_channel(shop.channel, shop.api, formats=FORMATS)
        assert back.error == "" and back.created == 1
        assert (await Alert.get(id=alert.id)).resolved_by == AUTO

        shop.channel.config = {**shop.channel.config, "api": {**shop.channel.config["api"], "app_secret": "wrong"}}
        await shop.channel.save(update_fields=["config"])
        wrong_secret = CHANNEL_APIS.for_channel("taobao", shop.channel.config["api"])
        assert wrong_secret is not None
        refused = await poll_channel(shop.channel, wrong_secret, formats=FORMATS)
        assert refused.error and refused.stopped_by == ""
        assert [a.id for a in await Alert.filter(channel_id=shop.channel.id)] == [alert.id]   # nothing new
