"""The second path: what webhooks miss, the poller and the daily check find, exactly once (simulated Taobao over HTTP)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from httpx import ASGITransport, AsyncClient
from tortoise import connections

from adapters.channels.sim.core import Faults
from adapters.formats import FORMATS
from api.app import create_app
from domain.allocation import policy as allocation_policy
from domain.polling.daily_check import check_channel
from domain.polling.poll import poll_channel
from domain.polling.rounds import poll_round
from models import Alert, ChannelOrderState, ChannelPoll, InboundPayload, Order, OrderEvent, OrderLine, Payment
from tests.conftest import settings_for
from tests.intake_support import post
from tests.polling_support import taobao_shop
from tests.stock_fixtures import stock_up


async def _no_sleep(_seconds: float) -> None:
    return None


async def test_with_5_percent_of_pushes_dropped_every_order_arrives_exactly_once(world, db):
    async with taobao_shop(world, db, faults=Faults(drop_push=0.05, duplicate_push=0.05, reorder_push=0.1,
                                                    reorder_delay_s=0.2, page_size_max=7)) as shop:
        for _ in range(80):
            shop.platform.place()
        await shop.platform.drain()
        dropped = set(shop.platform.dropped)
        assert dropped, "the fault must have dropped some pushes for this test to mean anything"
        assert set(await shop.held()) == shop.truth() - dropped

        report = await poll_channel(shop.channel, shop.api, formats=FORMATS)

        assert report.error == ""
        held = await shop.held()
        assert set(held) == shop.truth() and set(held.values()) == {1}
        assert report.created == len(dropped) and set(report.created_ids) == dropped
        check = await check_channel(shop.channel, shop.api, formats=FORMATS)
        assert check.missing == {} and check.matches
        assert check.platform_count == check.held_count == 80


async def test_a_push_and_a_poll_of_the_same_order_make_one_order_with_one_creation(world, db):
    async with taobao_shop(world, db) as shop:
        for _ in range(12):
            shop.platform.place()
        await shop.platform.drain()
        assert len(await shop.held()) == 12
        report = await poll_channel(shop.channel, shop.api, formats=FORMATS)
        assert report.created == 0 and report.skipped + report.unchanged == 12
        created = await OrderEvent.filter(tenant_id=world.tenant.id, type="order.created").count()
        assert created == 12


async def test_orders_that_move_during_paging_and_throttling_lose_no_order(world, db):
    faults = Faults(page_size_max=3, touch_while_paging=0.5, rate_per_s=15, burst=4)
    async with taobao_shop(world, db, faults=faults, push=False) as shop:
        for _ in range(40):
            shop.platform.place(push=False)
        report = await poll_channel(shop.channel, shop.api, formats=FORMATS)
        assert report.error == "", report.error
        assert shop.platform.calls["touched_while_paging"] > 0 and report.throttled > 0
        # an order touched while paging has moved past the window end: the next run reads it (and the rest is held)
        shop.platform.faults = Faults()
        await poll_channel(shop.channel, shop.api, formats=FORMATS)
        held = await shop.held()
        assert set(held) == shop.truth() and set(held.values()) == {1}


async def test_a_restart_resumes_from_the_watermark_and_an_outage_does_not_move_it(world, db):
    async with taobao_shop(world, db, push=False) as shop:
        for _ in range(5):
            shop.platform.place(push=False)
        first = await poll_channel(shop.channel, shop.api, formats=FORMATS)
        state = await ChannelPoll.get(channel_id=shop.channel.id)
        assert first.created == 5 and state.watermark is not None and state.failures == 0

        shop.platform.faults = Faults(error_rate=1.0)
        for _ in range(3):
            shop.platform.place(push=False)
        down = await poll_channel(shop.channel, shop.api, formats=FORMATS, sleep=_no_sleep)
        after_outage = await ChannelPoll.get(channel_id=shop.channel.id)
        assert "unavailable" in down.error and after_outage.watermark == state.watermark
        assert after_outage.failures == 1 and after_outage.last_error

        shop.platform.faults = Faults()
        resumed = await poll_channel(shop.channel, shop.api, formats=FORMATS)
        assert resumed.error == "" and resumed.created == 3
        assert len(await shop.held()) == 8
        assert (await ChannelPoll.get(channel_id=shop.channel.id)).failures == 0


async def test_a_back_fill_reads_a_past_range_without_moving_the_watermark_back(world, db):
    async with taobao_shop(world, db, push=False) as shop:
        long_ago = datetime.now(UTC) - timedelta(days=3)
        for n in range(6):
            shop.platform.place(paid_at=long_ago + timedelta(hours=n * 6), push=False)
        await poll_channel(shop.channel, shop.api, formats=FORMATS)
        watermark = (await ChannelPoll.get(channel_id=shop.channel.id)).watermark
        assert len(await shop.held()) == 0  # all older than the first run's look-back

        report = await poll_channel(shop.channel, shop.api, formats=FORMATS, since=long_ago - timedelta(minutes=1),
                                    until=long_ago + timedelta(days=2))
        assert report.created == 6 and report.windows >= 2  # Taobao lists at most a day per call
        assert (await ChannelPoll.get(channel_id=shop.channel.id)).watermark == watermark


async def test_the_daily_check_fetches_missing_orders_and_says_which_and_why(world, db):
    async with taobao_shop(world, db, push=False) as shop:
        missed = [shop.platform.place(push=False).external_id for _ in range(3)]
        check = await check_channel(shop.channel, shop.api, formats=FORMATS)
        assert set(check.missing) == set(missed) and check.recovered == 3
        assert all("push lost" in why for why in check.missing.values())
        assert set(await shop.held()) == set(missed)
        alert = await Alert.get(tenant_id=world.tenant.id, kind="orders_missed")
        assert all(external_id in alert.message for external_id in missed)
        state = await ChannelPoll.get(channel_id=shop.channel.id)
        assert state.checked_at is not None and state.check["platform_count"] == 3

        again = await check_channel(shop.channel, shop.api, formats=FORMATS)
        assert again.missing == {} and again.matches


async def test_refused_credentials_stop_the_run_and_the_round_backs_off(world, db):
    async with taobao_shop(world, db, push=False) as shop:
        shop.platform.place(push=False)
        shop.channel.config = {**shop.channel.config, "api": {**shop.channel.config["api"], "app_secret": "wrong"}}
        await shop.channel.save(update_fields=["config"])
        rounds = await poll_round(FORMATS.apis, formats=FORMATS, interval=timedelta(seconds=60))
        ours = [r for r in rounds if r.channel_id == shop.channel.id]
        assert ours and ours[0].poll is not None and ours[0].poll.error
        state = await ChannelPoll.get(channel_id=shop.channel.id)
        assert state.watermark is None and state.failures == 1 and state.next_run_at is not None
        assert state.next_run_at > datetime.now(UTC) + timedelta(seconds=30)
        # not due yet: the next round leaves it alone
        assert not [r for r in await poll_round(FORMATS.apis, formats=FORMATS) if r.channel_id == shop.channel.id]
        assert len(await shop.held()) == 0


async def test_a_run_that_fails_on_our_side_is_tried_again_next_period_without_backing_off(world, db):
    """A deadlock or a lost connection is not the platform failing: the channel must not wait minutes for it."""
    async with taobao_shop(world, db, push=False) as shop:
        placed = shop.platform.place(push=False).external_id
        connection = connections.get("default")
        await connection.execute_script('ALTER TABLE "inbound_payload" RENAME TO "inbound_payload_away"')
        try:
            rounds = await poll_round(FORMATS.apis, formats=FORMATS, interval=timedelta(seconds=60))
        finally:
            await connection.execute_script('ALTER TABLE "inbound_payload_away" RENAME TO "inbound_payload"')
        ours = [r for r in rounds if r.channel_id == shop.channel.id]
        assert ours and ours[0].poll is not None and ours[0].poll.error and ours[0].poll.internal
        state = await ChannelPoll.get(channel_id=shop.channel.id)
        assert state.failures == 1 and state.next_run_at is None and state.last_error

        again = [r for r in await poll_round(FORMATS.apis, formats=FORMATS) if r.channel_id == shop.channel.id]
        assert again and again[0].poll is not None and again[0].poll.error == ""
        assert set(await shop.held()) == {placed}
        assert (await ChannelPoll.get(channel_id=shop.channel.id)).failures == 0


async def test_operators_see_how_far_each_channel_was_read_and_what_the_check_found(world, db, gql):
    async with taobao_shop(world, db, push=False) as shop:
        missed = shop.platform.place(push=False).external_id
        await check_channel(shop.channel, shop.api, formats=FORMATS)
        await poll_channel(shop.channel, shop.api, formats=FORMATS)
    query = ("{ channels { code pulling { enabled watermark lagSeconds failures ordersRead ordersCreated lastError "
             "lastCheck { platformCount heldCount matches recovered missing { externalId reason } } } } }")
    channels = {c["code"]: c["pulling"] for c in (await gql(world.keys["ops"], query))["channels"]}
    pulled, plain = channels["tb-pull"], channels["tmall"]
    assert pulled["enabled"] and pulled["watermark"] and 0 <= pulled["lagSeconds"] < 60
    assert (pulled["failures"], pulled["lastError"], pulled["ordersCreated"]) == (0, "", 0)  # the check had brought it
    assert pulled["lastCheck"]["missing"] == [{"externalId": missed, "reason": pulled["lastCheck"]["missing"][0]["reason"]}]
    assert "push lost" in pulled["lastCheck"]["missing"][0]["reason"] and pulled["lastCheck"]["recovered"] == 1
    assert plain == {"enabled": False, "watermark": None, "lagSeconds": None, "failures": 0, "ordersRead": 0,
                     "ordersCreated": 0, "lastError": "", "lastCheck": None}
    metrics = (await gql.http.get("/metrics")).text
    assert 'ordergraph_channel_poll_lag_seconds{channel="tb-pull",tenant="acme"}' in metrics
    assert 'ordergraph_channel_missed_orders{channel="tb-pull",tenant="acme"} 1.0' in metrics


UPDATE = ("mutation($input: UpdateChannelInput!) { updateChannel(input: $input) { "
          "channel { code } errors { field message } } }")


async def test_an_admin_connects_the_api_account_checked_and_can_turn_polling_off(world, db, gql):
    async with taobao_shop(world, db, push=False) as shop:
        account = dict(shop.channel.config["api"])
        incomplete = {k: v for k, v in account.items() if k != "session"}
        refused = await gql(world.keys["admin"], UPDATE, {"input": {"code": "tb-pull", "apiAccount": incomplete}})
        error = refused["updateChannel"]["errors"][0]
        assert error["field"] == "apiAccount" and "session" in error["message"]
        saved = await gql(world.keys["admin"], UPDATE, {"input": {"code": "tb-pull", "apiAccount":
                                                                  {**account, "timeout_seconds": 3}, "polling": False}})
        assert saved["updateChannel"]["errors"] == []
        shop.platform.place(push=False)
        rounds = await poll_round(FORMATS.apis, formats=FORMATS)
        assert not [r for r in rounds if r.channel_id == shop.channel.id]
        pulling = (await gql(world.keys["ops"], "{ channels { code pulling { enabled } } }"))["channels"]
        assert {"code": "tb-pull", "pulling": {"enabled": False}} in pulling
        await gql(world.keys["admin"], UPDATE, {"input": {"code": "tb-pull", "polling": True}})
        rounds = await poll_round(FORMATS.apis, formats=FORMATS)
        ours = [r for r in rounds if r.channel_id == shop.channel.id]
        assert ours and ours[0].poll is not None and ours[0].poll.created == 1 and ours[0].poll.error == ""


async def test_the_leader_polls_on_its_own_and_finds_an_order_whose_push_was_lost(world, db):
    async with taobao_shop(world, db, faults=Faults(drop_push=1.0), poll_seconds=0.5) as shop:
        lost = shop.platform.place().external_id
        assert shop.platform.dropped == [lost]
        deadline = asyncio.get_running_loop().time() + 15
        while lost not in await shop.held():
            assert asyncio.get_running_loop().time() < deadline, "the leader's poller never found the order"
            await asyncio.sleep(0.1)
        created = await OrderEvent.get(tenant_id=world.tenant.id, type="order.created")
        assert created.after["via"] == "poller"


async def test_a_page_of_new_orders_is_written_whole_as_a_webhook_would_write_each(world, db):
    await stock_up(world, {sku: 50 for sku in ("SKU-A", "SKU-B", "SKU-C", "SKU-D", "SKU-E")})
    await allocation_policy.save_policy(world.actor(), {"strategy": "priority", "allow_split": True, "auto_allocate": True})
    async with taobao_shop(world, db, push=False) as shop:
        polled = [shop.platform.place(push=False).external_id for _ in range(6)]
        report = await poll_channel(shop.channel, shop.api, formats=FORMATS)
        assert (report.created, report.error) == (6, "")
        # the same kind of order through the webhook path (a TMC message, fetched), for comparison
        pushed = shop.platform.place(push=False)
        message = shop.platform.protocol.push(pushed, shop.platform.push_secret)
        app = create_app(settings_for(db), manage_database=False)
        async with app.router.lifespan_context(app), AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as http:
            assert (await post(http, f"/hooks/acme/{shop.channel.code}", message.body, message.headers)).status_code == 200

    async def picture(external_id: str) -> dict[str, object]:
        order = await Order.get(channel_id=shop.channel.id, external_id=external_id)
        created = await OrderEvent.get(order_id=order.id, type="order.created")
        payload_ref = created.payload_ref or ""
        kept = await InboundPayload.filter(sha256=payload_ref.removeprefix("sha256:")).first()
        return {"status": order.status, "customer": order.customer_id is not None,
                "lines": await OrderLine.filter(order_id=order.id).count() > 0,
                "payment": await Payment.filter(order_id=order.id).count(),
                "state": await ChannelOrderState.filter(order_id=order.id).count(),
                "kept": kept is not None and b'"trade_fullinfo_get_response"' in bytes(kept.body),
                "lineage": sorted(k for k in created.after if k != "via"), "actor": created.actor}

    webhook = await picture(pushed.external_id)
    assert webhook["status"] == "ALLOCATED" and webhook["kept"] and webhook["payment"] == 1
    for external_id in polled:
        assert await picture(external_id) == webhook
        created = await OrderEvent.get(order__external_id=external_id, type="order.created")
        assert created.after["via"] == "poller"
