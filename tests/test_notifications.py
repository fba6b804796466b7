"""Alerts reach people: routing, text, retries, give-up, rate limit and digests, GraphQL admin, and end to end.

The messages go to real local servers: the robot simulator (WeCom and DingTalk
formats, DingTalk signatures checked) and an aiosmtpd mailbox. The fan-out and
the sender are driven by hand where a test needs control of time (a fake clock
for the per-minute limit); the end-to-end test lets the app's leader do it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.notify import NOTIFIERS, aclose
from adapters.notify.mailbox import Mailbox
from adapters.notify.simulator import DingTalkBot, RobotSimulator
from domain.actor import Role
from domain.alerts.raising import clear_alerts, raise_alert
from domain.errors import Duplicate, Forbidden, NotFound, ValidationFailed
from domain.notifications import routes
from domain.notifications.fanout import NotificationFanout
from domain.notifications.sender import NotificationSender, SendPolicy
from domain.unit_of_work import unit_of_work
from events.cursor import CursorMoved
from events.dispatcher import Dispatcher
from models import NotificationDelivery, NotificationRoute, OrderEvent
from models.order import order_no
from tests.helpers import paid_order
from tests.live_fixtures import serve_asgi, wait_until

SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
FAST = SendPolicy(delays=(0.05, 0.05, 0.05, 0.05, 0.05), max_attempts=6, lease=5.0, poll_interval=0.1)


@pytest.fixture
async def robots() -> AsyncIterator[tuple[RobotSimulator, str]]:
    sim = RobotSimulator(wecom_keys={"wk-1"}, dingtalk={"dt-1": DingTalkBot(secret=SECRET)})
    async with serve_asgi(sim.app()) as base:
        yield sim, base
    await aclose()


async def _route(world, name: str, target: str = "wecom", config: dict | None = None, **filters) -> NotificationRoute:
    return await routes.create_route(world.actor(Role.ADMIN), name=name, target=target,
                                     config=config or {"key": "wk-1", "base_url": "http://127.0.0.1:9"}, **filters)


async def _feed() -> Dispatcher:
    feed = Dispatcher(NotificationFanout(link="https://og.example.com/graphql"))
    feed.cursor = await feed.consumer.start_position()
    return feed


async def _raise(world, kind: str = "low_stock", severity: str = "warning", subject: str = "", **extra):
    async with unit_of_work():
        return await raise_alert(tenant_id=world.tenant.id, kind=kind, severity=severity, subject=subject,
                                 message=extra.pop("message", f"{kind} about {subject or 'it'}"), **extra)


async def _titles(route: NotificationRoute) -> list[str]:
    return list(await NotificationDelivery.filter(route_id=route.id).order_by("id").values_list("title", flat=True))


async def _drain_until(sender: NotificationSender, predicate, timeout: float = 15) -> None:
    async def check():
        await sender.drain()
        return await predicate()
    await wait_until(check, timeout=timeout)


# ------------------------------------------------------------------ routes


async def test_routes_are_validated_admin_only_and_named_once(world, other_world):
    admin = world.actor(Role.ADMIN)
    with pytest.raises(Forbidden):
        await routes.create_route(world.actor(Role.OPS), name="x", target="wecom", config={"key": "k"})
    with pytest.raises(ValidationFailed) as bad_kind:
        await _route(world, "x", kinds=["no_such_kind"])
    assert bad_kind.value.field == "kinds"
    with pytest.raises(ValidationFailed) as bad_severity:
        await _route(world, "x", min_severity="urgent")
    assert bad_severity.value.field == "minSeverity"
    with pytest.raises(ValidationFailed):
        await _route(world, "x", rate_per_minute=0)
    with pytest.raises(NotFound):
        await _route(world, "x", warehouse_ids=[other_world.warehouses[0].id])
    route = await _route(world, "仓库群", kinds=["LOW_STOCK", "stock"], warehouse_ids=[world.warehouses[0].id])
    assert route.kinds == ["low_stock", "stock"]
    with pytest.raises(Duplicate):
        await _route(world, "仓库群")
    with pytest.raises(NotFound):
        await routes.get_route(other_world.actor(Role.ADMIN), route.id)
    changed = await routes.update_route(admin, route.id, config={"key": "****"}, min_severity="critical")
    assert changed.config["key"] == "wk-1" and changed.min_severity == "critical"
    lineage = await OrderEvent.filter(tenant_id=world.tenant.id, type__startswith="notification.route").values("after")
    assert len(lineage) == 2 and all("wk-1" not in str(row["after"]) for row in lineage)
    assert await routes.delete_route(admin, route.id) == route.id
    assert await NotificationRoute.filter(id=route.id).count() == 0


async def test_fanout_routes_by_kind_category_severity_and_warehouse(world, other_world):
    sh, gz = world.warehouses[0].id, world.warehouses[1].id
    everything = await _route(world, "all")
    stock = await _route(world, "stock", kinds=["stock"])
    held = await _route(world, "held", kinds=["order.held"])
    critical = await _route(world, "critical", min_severity="critical")
    shanghai = await _route(world, "sh", warehouse_ids=[sh])
    off = await _route(world, "off", active=False)
    rival = await _route(other_world, "rival")
    feed = await _feed()
    await _raise(world, "low_stock", "warning", "stock:1", warehouse_id=sh)
    await _raise(world, "order.held", "critical", "order:9")
    await _raise(world, "low_stock", "critical", "stock:2", warehouse_id=gz)
    await feed.dispatch_once()
    expected = {everything: 3, stock: 2, held: 1, critical: 2, shanghai: 1, off: 0, rival: 0}
    assert {route.name: len(await _titles(route)) for route in expected} == {r.name: n for r, n in expected.items()}
    assert "stock:1" not in str(await _titles(critical))
    # A second leader working from the same place cannot write the batch again.
    stale = NotificationFanout()
    stale._stored = 0
    rows = await OrderEvent.filter(type="alert.raised").order_by("id")
    with pytest.raises(CursorMoved):
        await stale.consume(rows, 0)
    assert len(await _titles(everything)) == 3


async def test_text_speaks_the_route_language_and_masks_phones(world):
    zh = await _route(world, "zh")
    en = await _route(world, "en", language="en")
    order = await paid_order(world.actor(), world.channel.id, "PHONE-1")
    feed = await _feed()
    await _raise(world, "order.buyer_message", "warning", order_id=order.id,
                 message="买家留言：改发顺丰，电话 13812341234，邮箱 alice@example.com")
    await feed.dispatch_once()
    [zh_row] = await NotificationDelivery.filter(route_id=zh.id)
    [en_row] = await NotificationDelivery.filter(route_id=en.id)
    for row in (zh_row, en_row):
        text = row.title + row.body
        assert "13812341234" not in text and "alice@" not in text
        assert "138****1234" in row.body and order_no(order.id) in text
        assert "https://og.example.com/graphql" in row.body
    assert zh_row.title.startswith("【警告】") and "买家" in zh_row.title
    assert en_row.title.startswith("[WARNING]") and "Buyer" in en_row.title


async def test_reopen_escalation_and_resolution_are_told_but_plain_updates_are_not(world):
    route = await _route(world, "all")
    feed = await _feed()
    await _raise(world, "low_stock", "warning", "stock:5", message="5 left")
    await _raise(world, "low_stock", "warning", "stock:5", message="4 left")   # same problem, newer facts: quiet
    await _raise(world, "low_stock", "critical", "stock:5", message="1 left")  # escalated: told
    async with unit_of_work():
        await clear_alerts(tenant_id=world.tenant.id, kind="low_stock", subject="stock:5")
    await feed.dispatch_once()
    titles = await _titles(route)
    assert len(titles) == 3, titles
    assert titles[0].startswith("【警告】") and "升级" in titles[1] and titles[2].startswith("【已解决】")


# ------------------------------------------------------------------ sending


async def test_a_failed_send_is_retried_then_succeeds(world, robots):
    sim, base = robots
    route = await _route(world, "wecom", config={"key": "wk-1", "base_url": base})
    feed = await _feed()
    await _raise(world, "low_stock", "warning", "stock:1")
    await feed.dispatch_once()
    sim.fail_next(1, errcode=45009)
    sender = NotificationSender(NOTIFIERS, FAST)
    await sender.drain()
    [row] = await NotificationDelivery.filter(route_id=route.id)
    assert row.status == "pending" and row.attempts == 1 and "45009" in row.last_error
    await _drain_until(sender, lambda: NotificationDelivery.filter(route_id=route.id, status="sent").exists())
    [row] = await NotificationDelivery.filter(route_id=route.id)
    assert row.attempts == 2 and row.last_error == "" and row.sent_at is not None
    assert [m["title"] for m in sim.received()] == [row.title]


async def test_a_slow_robot_times_out_and_the_message_is_sent_again(world, robots):
    sim, base = robots
    route = await _route(world, "wecom", config={"key": "wk-1", "base_url": base})
    feed = await _feed()
    await _raise(world, "low_stock", "warning", "stock:1")
    await feed.dispatch_once()
    sim.fail_next(1, delay_ms=2000)
    sender = NotificationSender(NOTIFIERS, SendPolicy(delays=(0.05,), lease=0.5))
    await sender.drain()
    [row] = await NotificationDelivery.filter(route_id=route.id)
    assert row.status == "pending" and "no answer" in row.last_error
    await _drain_until(sender, lambda: NotificationDelivery.filter(route_id=route.id, status="sent").exists())
    assert (await NotificationDelivery.get(route_id=route.id)).attempts == 2


async def test_gives_up_after_six_attempts_and_logs_it(world, robots, caplog):
    sim, base = robots
    route = await _route(world, "wecom", config={"key": "wk-1", "base_url": base})
    feed = await _feed()
    await _raise(world, "low_stock", "warning", "stock:1")
    await feed.dispatch_once()
    sim.fail_next(100, status=503)
    sender = NotificationSender(NOTIFIERS, FAST)
    with caplog.at_level(logging.WARNING, logger="ordergraph.notifications"):
        await _drain_until(sender, lambda: NotificationDelivery.filter(route_id=route.id, status="failed").exists())
    [row] = await NotificationDelivery.filter(route_id=route.id)
    assert row.attempts == 6 and "503" in row.last_error
    assert sim.calls["wecom"] == 6
    assert any("failed for good" in record.getMessage() and str(row.id) in record.getMessage() for record in caplog.records)


async def test_a_refusal_retrying_cannot_fix_fails_at_once(world, robots):
    sim, base = robots
    route = await _route(world, "ding", target="dingtalk",
                         config={"access_token": "dt-1", "secret": SECRET[:-1] + "x", "base_url": base})
    feed = await _feed()
    await _raise(world, "low_stock", "warning", "stock:1")
    await feed.dispatch_once()
    await NotificationSender(NOTIFIERS, FAST).drain()
    [row] = await NotificationDelivery.filter(route_id=route.id)
    assert row.status == "failed" and row.attempts == 1 and "310000" in row.last_error
    assert sim.messages == []


class FakeClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


async def test_over_the_rate_the_excess_is_folded_into_one_digest_next_minute(world, robots):
    sim, base = robots
    route = await _route(world, "ding", target="dingtalk", rate_per_minute=2,
                         config={"access_token": "dt-1", "secret": SECRET, "base_url": base})
    feed = await _feed()
    for n in range(5):
        await _raise(world, "low_stock", "warning", f"stock:{n}")
    await feed.dispatch_once()
    minute = (datetime.now(UTC) + timedelta(minutes=1)).replace(second=0, microsecond=0)
    clock = FakeClock(minute + timedelta(seconds=5))
    sender = NotificationSender(NOTIFIERS, FAST, clock=clock)
    await sender.drain()
    assert len(sim.received()) == 2
    rows = await NotificationDelivery.filter(route_id=route.id).order_by("id")
    folded = [row for row in rows if row.status == "digested"]
    [digest] = [row for row in rows if row.digest_of]
    assert len(folded) == 3 and sorted(digest.digest_of) == [row.id for row in folded]
    assert digest.status == "pending" and digest.next_attempt_at == minute + timedelta(minutes=1)
    clock.at = minute + timedelta(seconds=50)
    await sender.drain()
    assert len(sim.received()) == 2  # the digest waits for the minute to roll over
    clock.at = minute + timedelta(seconds=61)
    await sender.drain()
    [*_, last] = await sim.wait_for(3)
    assert last["title"].startswith("另有 3 条告警")
    assert all(row.title in last["text"] for row in folded)
    assert (await NotificationDelivery.get(id=digest.id)).status == "sent"


# ------------------------------------------------------------------ GraphQL

ROUTE_FIELDS = "id name target config kinds minSeverity warehouses language ratePerMinute active"
CREATE = f"""mutation($input: CreateNotificationRouteInput!) {{ createNotificationRoute(input: $input) {{
    route {{ {ROUTE_FIELDS} }} errors {{ code field message }} }} }}"""
UPDATE = f"""mutation($input: UpdateNotificationRouteInput!) {{ updateNotificationRoute(input: $input) {{
    route {{ {ROUTE_FIELDS} }} errors {{ code field message }} }} }}"""
TEST = "mutation($id: ID!) { testNotificationRoute(id: $id) { delivered error retryable errors { code } } }"
DELETE = "mutation($id: ID!) { deleteNotificationRoute(id: $id) { deletedId errors { code } } }"
ROUTES = f"{{ notificationRoutes {{ {ROUTE_FIELDS} }} }}"
DELIVERIES = """query($status: NotificationDeliveryStatus) { notificationDeliveries(first: 10, status: $status) {
    nodes { route status title attempts alert digestOf } pageInfo { hasNextPage } } }"""


async def test_graphql_admin_manages_routes_and_sends_a_test_message(gql, world, robots):
    sim, base = robots
    admin, ops = world.keys["admin"], world.keys["ops"]
    config = {"webhook_url": f"{base}/robot/send?access_token=dt-1", "secret": SECRET}
    created = (await gql(admin, CREATE, {"input": {"name": "钉钉告警群", "target": "DINGTALK", "config": config,
                                                   "kinds": ["stock"], "minSeverity": "WARNING"}}))["createNotificationRoute"]
    assert created["errors"] == []
    route = created["route"]
    assert route["config"]["secret"] == "****" + SECRET[-4:] and SECRET not in str(route)
    assert route["config"]["access_token"] == "****" and route["target"] == "DINGTALK"
    tested = (await gql(admin, TEST, {"id": route["id"]}))["testNotificationRoute"]
    assert tested == {"delivered": True, "error": None, "retryable": False, "errors": []}
    assert "测试消息" in (await sim.wait_for(1))[0]["title"]
    # Sending the hidden secret back keeps it; a wrong one is refused by DingTalk, and the test says so.
    kept = (await gql(admin, UPDATE, {"input": {"id": route["id"], "config": route["config"], "ratePerMinute": 5}}))
    assert kept["updateNotificationRoute"]["errors"] == [] and kept["updateNotificationRoute"]["route"]["ratePerMinute"] == 5
    assert (await gql(admin, TEST, {"id": route["id"]}))["testNotificationRoute"]["delivered"] is True
    await gql(admin, UPDATE, {"input": {"id": route["id"], "config": {"secret": "SECwrong"}}})
    refused = (await gql(admin, TEST, {"id": route["id"]}))["testNotificationRoute"]
    assert refused["delivered"] is False and "310000" in refused["error"] and refused["retryable"] is False
    bad = (await gql(admin, CREATE, {"input": {"name": "mail", "target": "EMAIL",
                                               "config": {"host": "smtp.example.com", "from": "a@example.com", "to": ["nope"]}}}))
    assert bad["createNotificationRoute"]["errors"][0]["field"] == "config.to"
    assert [r["name"] for r in (await gql(admin, ROUTES))["notificationRoutes"]] == ["钉钉告警群"]
    assert (await gql(admin, DELIVERIES, {}))["notificationDeliveries"]["nodes"] == []
    # Not for other roles.
    denied = await gql.post(ops, ROUTES)
    assert denied.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    forbidden = (await gql(ops, TEST, {"id": route["id"]}))["testNotificationRoute"]
    assert forbidden["errors"] == [{"code": "FORBIDDEN"}]
    assert (await gql(admin, DELETE, {"id": route["id"]}))["deleteNotificationRoute"] == {"deletedId": route["id"], "errors": []}
    assert (await gql(admin, ROUTES))["notificationRoutes"] == []


# ------------------------------------------------------------------ end to end


async def test_an_alert_raised_in_a_transaction_reaches_dingtalk_wecom_and_email(app, gql, world, robots):
    sim, base = robots
    async with Mailbox() as box:
        await _route(world, "ding", target="dingtalk", config={"access_token": "dt-1", "secret": SECRET, "base_url": base})
        await _route(world, "wecom", config={"key": "wk-1", "base_url": base}, min_severity="critical")
        await _route(world, "mail", target="email", config=box.config(to=["ops@example.com"]))
        await wait_until(lambda: app.state.live.leadership.leading.is_set(), timeout=15)
        async with unit_of_work():
            alert = await raise_alert(tenant_id=world.tenant.id, kind="low_stock", severity="critical",
                                      subject="stock:7", message="TEA-001 在上海仓只剩 3 件（安全库存 10）",
                                      warehouse_id=world.warehouses[0].id)
        [ding] = await sim.wait_for(1, robot="dingtalk")
        [wecom] = await sim.wait_for(1, robot="wecom")
        [mail] = await box.wait_for(1)
    for text in (ding["text"], wecom["text"], mail["text"]):
        assert "TEA-001 在上海仓只剩 3 件" in text and f"#{alert.id}" in text
    assert mail["subject"].startswith("【严重】库存告警") and mail["to"] == ["ops@example.com"]
    async def all_sent() -> bool:
        return await NotificationDelivery.filter(status="sent").count() == 3
    await wait_until(all_sent, timeout=10)
    sent = (await gql(world.keys["admin"], DELIVERIES, {"status": "SENT"}))["notificationDeliveries"]["nodes"]
    assert len(sent) == 3 and all(node["attempts"] == 1 and node["alert"] for node in sent)
