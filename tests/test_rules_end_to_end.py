"""The issue's story in one test: a business user writes the red-alert rule through GraphQL, dry-runs it, enables
it, sees it fire on a new order, gets a DingTalk message, acknowledges and resolves the alert, and reads it all in
the order's lineage. Everything runs for real: the app with its leader jobs (rules consumer, notification fan-out
and sender), and the DingTalk robot simulator behind uvicorn, which verifies the signed URL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from adapters.notify import aclose
from adapters.notify.simulator import DingTalkBot, RobotSimulator
from api.app import create_app
from domain.stock import levels
from models import Order
from tests.conftest import GraphQLClient, settings_for
from tests.helpers import stock_up
from tests.live_fixtures import serve_asgi, wait_until

SECRET = "SECe2e0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
TEMPLATE = """{ ruleTemplates { key condition triggers actions } }"""
SAVE = """mutation($i: RuleInput!) { saveRule(input: $i) { rule { id version enabled } errors { code field message } } }"""
DRY = """mutation($id: ID!) { dryRunRule(ruleId: $id, days: 7) { result { eventsScanned ordersHit
           hits { orderNumber actions } } errors { code } } }"""
ENABLE = "mutation($id: ID!) { setRuleEnabled(id: $id, enabled: true) { rule { enabled } errors { code } } }"
CREATE_ROUTE = """mutation($input: CreateNotificationRouteInput!) { createNotificationRoute(input: $input) {
                    route { id } errors { code field message } } }"""
CREATE_ORDER = """mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id number } errors { code } } }"""
BOARD = """query($o: [ID!]) { exceptionBoard(filter: {orders: $o, openOnly: true}) { totalCount
             nodes { id kind severity state message } } }"""
ACK = """mutation($id: ID!) { acknowledgeAlert(input: {id: $id, note: "on it"}) { alert { state acknowledgedBy }
           errors { code } } }"""
RESOLVE = """mutation($id: ID!) { resolveAlert(input: {id: $id, resolution: "moved 20 units from the Hangzhou DC"}) {
               alert { state resolution resolvedBy } errors { code } } }"""
LINEAGE = """query($id: ID!) { order(id: $id) { status events { type: typeCode actor reason after } } }"""


@pytest.fixture
async def app_with_rules(db: str) -> AsyncIterator[Any]:
    application = create_app(settings_for(db, rules_enabled=True), manage_database=False)
    async with application.router.lifespan_context(application):
        await wait_until(lambda: application.state.live.leadership.leading.is_set(), timeout=15)
        yield application
    await aclose()


def order_input(external_id: str, ship_in: timedelta) -> dict[str, Any]:
    return {"channel": "tmall", "externalId": external_id, "shipBy": (datetime.now(UTC) + ship_in).isoformat(),
            "lines": [{"sku": "TEA-001", "quantity": 1, "unitPrice": "99.00"}],
            "payment": {"gateway": "alipay", "amount": "99.00"}}


async def test_a_business_user_writes_dry_runs_enables_and_closes_the_loop_on_the_red_alert_rule(app_with_rules, world):
    robots = RobotSimulator(dingtalk={"dt-ops": DingTalkBot(secret=SECRET)})
    actor = world.actor()
    await stock_up(actor, [world.warehouses[0].id], "TEA-001", 10)
    await levels.set_safety_stock(actor, world.warehouses[0].id, "TEA-001", 9)  # 10 ≤ 9 × 1.2 after any order
    transport = httpx.ASGITransport(app=app_with_rules)
    async with serve_asgi(robots.app()) as robot_base, \
            httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        gql = GraphQLClient(http)
        ops, admin = world.keys["ops"], world.keys["admin"]
        route = await gql(admin, CREATE_ROUTE, {"input": {
            "name": "运营群", "target": "DINGTALK", "minSeverity": "CRITICAL",
            "config": {"webhook_url": f"{robot_base}/robot/send?access_token=dt-ops", "secret": SECRET}}})
        assert route["createNotificationRoute"]["errors"] == []
        # Yesterday's order (ship-by in 1 h) is what the dry run should find; nothing is enabled yet.
        earlier = (await gql(ops, CREATE_ORDER, {"i": order_input("EARLIER", timedelta(hours=1))}))["createOrder"]
        # 1. Write the rule from the template, as a business user would, through GraphQL.
        template = next(t for t in (await gql(ops, TEMPLATE))["ruleTemplates"] if t["key"] == "red_alert_freeze")
        saved = (await gql(ops, SAVE, {"i": {"name": "红色预警", "condition": template["condition"],
                                             "triggers": template["triggers"], "actions": template["actions"]}}))
        assert saved["saveRule"]["errors"] == [] and saved["saveRule"]["rule"]["enabled"] is False
        rule_id = saved["saveRule"]["rule"]["id"]
        # 2. Dry-run it: it would have hit the earlier order, alerting and freezing TEA-001.
        dry = (await gql(ops, DRY, {"id": rule_id}))["dryRunRule"]
        assert dry["errors"] == [] and dry["result"]["ordersHit"] == 1
        [hit] = dry["result"]["hits"]
        assert hit["orderNumber"] == earlier["order"]["number"] and hit["actions"][0].startswith("alert")
        assert "freeze_sku" in hit["actions"][1]
        assert robots.messages == []  # a dry run does nothing
        # 3. Enable it and take a new order due at the carrier in 90 minutes.
        assert (await gql(ops, ENABLE, {"id": rule_id}))["setRuleEnabled"]["rule"]["enabled"] is True
        new = (await gql(ops, CREATE_ORDER, {"i": order_input("NEW", timedelta(minutes=90))}))["createOrder"]["order"]
        # 4. The DingTalk group hears of it (the simulator checked the signed URL).
        [message] = await robots.wait_for(1, robot="dingtalk")
        assert new["number"] in message["text"] and "TEA-001" in message["text"]
        # 5. On the board: acknowledge, then resolve with what was done.
        board = (await gql(ops, BOARD, {"o": [new["id"]]}))["exceptionBoard"]
        [alert] = [node for node in board["nodes"] if node["kind"] == "RULE"]
        assert (alert["severity"], alert["state"]) == ("CRITICAL", "OPEN")
        acked = (await gql(ops, ACK, {"id": alert["id"]}))["acknowledgeAlert"]
        assert acked["errors"] == [] and acked["alert"]["state"] == "ACKNOWLEDGED"
        resolved = (await gql(ops, RESOLVE, {"id": alert["id"]}))["resolveAlert"]
        assert resolved["errors"] == [] and resolved["alert"]["state"] == "RESOLVED"
        # 6. The freeze holds the next order of that SKU.
        after = (await gql(ops, CREATE_ORDER, {"i": order_input("AFTER", timedelta(hours=30))}))["createOrder"]["order"]

        async def held() -> bool:
            return (await Order.get(external_id="AFTER")).status == "ON_HOLD"
        await wait_until(held, timeout=15)
        # 7. All of it in the order's lineage, with the rule's version.
        events = (await gql(ops, LINEAGE, {"id": new["id"]}))["order"]["events"]
        types = [event["type"] for event in events]
        for expected in ("order.created", "alert.raised", "sku.frozen", "rule.fired", "alert.acknowledged",
                         "alert.resolved"):
            assert expected in types, (expected, types)
        fired = next(event for event in events if event["type"] == "rule.fired")
        assert fired["after"]["rule"] == "红色预警" and fired["after"]["version"] == 1
        assert fired["actor"].startswith("rule:红色预警 v1")
        resolved_event = next(event for event in events if event["type"] == "alert.resolved")
        assert "Hangzhou" in resolved_event["reason"] or "Hangzhou" in str(resolved_event["after"])
        assert "intake of TEA-001 frozen" in (await gql(ops, LINEAGE, {"id": after["id"]}))["order"]["events"][-1]["reason"]
