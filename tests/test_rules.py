"""Business rules: written in CEL through GraphQL, validated with positions, versioned, dry-run, fired, scheduled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain import orders
from domain.actor import Role
from domain.allocation.allocate import AllocationFailed
from domain.orders.create import NewLine, NewOrder
from domain.orders.fulfilment import allocate_order
from domain.rules import freezes, store
from domain.rules.runner import RulesConsumer, Schedule
from domain.stock import levels
from models import Alert, Order, OrderEvent, OrderTag, Rule, SkuFreeze
from resolvers import ids
from tests.helpers import paid_order, stock_up

SAVE = """mutation($i: RuleInput!) { saveRule(input: $i) { rule { id name version enabled
           current { condition triggers actions } } errors { code field message } } }"""
ENABLE = "mutation($id: ID!) { setRuleEnabled(id: $id, enabled: true) { rule { enabled } errors { code } } }"
DRY = """mutation($id: ID, $r: RuleInput, $d: Int!) { dryRunRule(ruleId: $id, rule: $r, days: $d) { result {
           eventsScanned ordersHit evaluations evaluationUsPerEvent hits { orderNumber eventType actions } errorCount }
           errors { code message } } }"""


def rule_input(**overrides) -> dict:
    data = {"name": "big orders", "condition": "order.total_amount > 150", "triggers": ["order.created"],
            "actions": [{"type": "tag", "tag": "big"}]}
    data.update(overrides)
    return data


async def drain(consumer: RulesConsumer) -> None:
    """Hand the consumer everything committed after its cursor (as the leader's dispatcher would)."""
    if consumer._stored is None:
        await consumer.start_position()
    while rows := await OrderEvent.filter(id__gt=consumer._stored).order_by("id"):
        await consumer.consume(rows, consumer._stored)


async def order_of(world, external_id: str, amount: str, sku: str = "TEA-001", **extra) -> Order:
    return await orders.create_order(world.actor(), NewOrder(
        channel_id=world.channel.id, external_id=external_id,
        lines=[NewLine(sku=sku, quantity=1, unit_price=Decimal(amount))], **extra))


async def test_a_condition_that_does_not_compile_is_refused_with_its_position(world, gql):
    key = world.keys["ops"]
    broken = await gql(key, SAVE, {"i": rule_input(condition="order.total_amount >")})
    [error] = broken["saveRule"]["errors"]
    assert error["field"] == "condition" and "line 1, column 21" in error["message"]
    unknown = await gql(key, SAVE, {"i": rule_input(condition="ordr.total_amount > 1")})
    assert "unknown name 'ordr'" in unknown["saveRule"]["errors"][0]["message"]
    assert "line 1, column 1" in unknown["saveRule"]["errors"][0]["message"]
    typed = await gql(key, SAVE, {"i": rule_input(condition='order.total_amount > "100"')})
    assert "wrong types" in typed["saveRule"]["errors"][0]["message"]
    not_bool = await gql(key, SAVE, {"i": rule_input(condition="order.total_amount * 2")})
    assert "not true or false" in not_bool["saveRule"]["errors"][0]["message"]
    action = await gql(key, SAVE, {"i": rule_input(actions=[{"type": "explode"}])})
    assert action["saveRule"]["errors"][0]["field"] == "actions" and "action 1" in action["saveRule"]["errors"][0]["message"]
    viewer = await gql(world.keys["auditor"], SAVE, {"i": rule_input()})
    assert viewer["saveRule"]["errors"][0]["code"] == "FORBIDDEN"
    assert await Rule.all().count() == 0


async def test_saving_a_changed_text_adds_a_version_and_keeps_the_old_one(world, gql):
    key = world.keys["ops"]
    first = (await gql(key, SAVE, {"i": rule_input()}))["saveRule"]["rule"]
    assert (first["version"], first["enabled"]) == (1, False)
    same = (await gql(key, SAVE, {"i": rule_input()}))["saveRule"]["rule"]
    assert same["version"] == 1
    changed = (await gql(key, SAVE, {"i": rule_input(condition="order.total_amount > 200")}))["saveRule"]["rule"]
    assert changed["version"] == 2 and changed["current"]["condition"] == "order.total_amount > 200"
    versions = await gql(key, 'query($id: ID!) { rule(id: $id) { versions { version condition createdBy } } }',
                         {"id": first["id"]})
    assert [(v["version"], v["condition"]) for v in versions["rule"]["versions"]] == [
        (2, "order.total_amount > 200"), (1, "order.total_amount > 150")]


async def test_an_enabled_rule_fires_on_new_orders_with_numbers_as_business_users_write_them(world, gql):
    key = world.keys["ops"]
    consumer = RulesConsumer()
    await consumer.start_position()
    rule = (await gql(key, SAVE, {"i": rule_input(
        condition="order.total_amount > 150 && order.item_count * 2 >= 2 && size(lines) >= 1")}))["saveRule"]["rule"]
    await order_of(world, "BEFORE-ENABLE", "300.00")
    await drain(consumer)
    assert not await OrderTag.filter(tag="big").exists()  # saved rules start disabled
    assert (await gql(key, ENABLE, {"id": rule["id"]}))["setRuleEnabled"]["rule"]["enabled"]
    big = await order_of(world, "BIG", "300.50")
    small = await order_of(world, "SMALL", "20.00")
    await drain(consumer)
    await drain(consumer)  # a second pass over nothing new changes nothing
    assert await OrderTag.filter(tag="big").values_list("order_id", flat=True) == [big.id]
    [fired] = await OrderEvent.filter(type="rule.fired")
    assert fired.order_id == big.id and fired.after["version"] == 1 and fired.after["rule"] == "big orders"
    assert fired.actor == "rule:big orders v1" and fired.after["actions"] == ["tagged big"]
    assert not await OrderEvent.filter(type="rule.fired", order_id=small.id).exists()
    # The rule's own lineage (order.tagged) does not trigger rules again, and the firing is listed on the rule.
    firings = await gql(key, 'query($id: ID!) { rule(id: $id) { firings { nodes { orderNumber version actions } } } }',
                        {"id": rule["id"]})
    assert firings["rule"]["firings"]["nodes"] == [{"orderNumber": f"OG{big.id:09d}", "version": 1, "actions": ["tagged big"]}]


async def test_the_red_alert_rule_freezes_intake_and_the_next_order_of_that_sku_is_held(world, gql):
    actor = world.actor()
    await stock_up(actor, [world.warehouses[0].id], "TEA-001", 10)
    await levels.set_safety_stock(actor, world.warehouses[0].id, "TEA-001", 9)  # 10 available <= 9 × 1.2
    consumer = RulesConsumer()
    await consumer.start_position()
    rule = await store.from_template(actor, "red_alert_freeze")
    await store.set_enabled(actor, rule.id, True)
    later = await order_of(world, "LATER", "50.00", ship_by=datetime.now(UTC) + timedelta(hours=30))
    soon = await order_of(world, "SOON", "50.00", ship_by=datetime.now(UTC) + timedelta(minutes=90))
    await drain(consumer)
    alert = await Alert.get(order_id=soon.id, kind="rule")
    assert alert.severity == "critical" and "TEA-001" in alert.message and f"OG{soon.id:09d}" in alert.message
    assert not await Alert.filter(order_id=later.id, kind="rule").exists()
    freeze = await SkuFreeze.get(sku="TEA-001")
    assert (freeze.scope, freeze.channel_id, freeze.lifted_at) == ("intake", world.channel.id, None)
    assert await Alert.filter(kind="sku.frozen", subject="sku:intake:TEA-001", cleared_at__isnull=True).exists()
    nxt = await order_of(world, "NEXT", "50.00", ship_by=datetime.now(UTC) + timedelta(hours=30))
    other = await order_of(world, "OTHER-SKU", "50.00", sku="CUP-01")
    await drain(consumer)
    assert (await Order.get(id=nxt.id)).hold_reasons == ["intake of TEA-001 frozen"]
    assert (await Order.get(id=other.id)).hold_reasons == []
    lifted = await gql(world.keys["ops"], 'mutation($id: ID!) { liftSkuFreeze(id: $id, reason: "restocked") { '
                       'freeze { liftedBy } errors { code } } }', {"id": ids.encode("SkuFreeze", freeze.id)})
    assert lifted["liftSkuFreeze"]["errors"] == [] and lifted["liftSkuFreeze"]["freeze"]["liftedBy"]
    assert not await Alert.filter(kind="sku.frozen", cleared_at__isnull=True).exists()


async def test_a_dry_run_shows_what_a_rule_would_have_done_without_doing_it(world, gql):
    key = world.keys["ops"]
    hits = [await order_of(world, f"D-{i}", "300.00") for i in range(3)]
    await order_of(world, "D-small", "10.00")
    result = await gql(key, DRY, {"r": rule_input(), "d": 7})
    report = result["dryRunRule"]["result"]
    assert result["dryRunRule"]["errors"] == []
    assert (report["eventsScanned"], report["evaluations"], report["ordersHit"], report["errorCount"]) == (4, 4, 3, 0)
    assert sorted(h["orderNumber"] for h in report["hits"]) == sorted(f"OG{o.id:09d}" for o in hits)
    assert report["hits"][0]["eventType"] == "order.created" and "tag" in report["hits"][0]["actions"][0]
    assert report["evaluationUsPerEvent"] > 0
    assert not await OrderTag.filter(tag="big").exists() and not await OrderEvent.filter(type="rule.fired").exists()
    saved = (await gql(key, SAVE, {"i": rule_input(condition="order.total_amount > 5")}))["saveRule"]["rule"]
    by_id = (await gql(key, DRY, {"id": saved["id"], "d": 1}))["dryRunRule"]["result"]
    assert by_id["ordersHit"] == 4
    too_long = await gql(key, DRY, {"id": saved["id"], "d": 365})
    assert too_long["dryRunRule"]["errors"][0]["code"] == "VALIDATION"


async def test_a_scheduled_rule_alerts_once_while_its_condition_holds_and_resolves_when_it_clears(world):
    actor = world.actor()
    rule = await store.from_template(actor, "held_too_long")
    await store.set_enabled(actor, rule.id, True)
    held = await paid_order(actor, world.channel.id, "HELD")
    fresh = await paid_order(actor, world.channel.id, "FRESH")
    await orders.hold_order(actor, held.id, ["address check"])
    await orders.hold_order(actor, fresh.id, ["fraud review"])
    await Order.filter(id=held.id).update(updated_at=datetime.now(UTC) - timedelta(minutes=45))
    schedule = Schedule()
    now = datetime.now(UTC)
    assert await schedule.run([world.tenant.id], now) == 1
    alert = await Alert.get(order_id=held.id, kind="rule")
    assert "address check" in alert.message and alert.state == "open"
    assert await schedule.run([world.tenant.id], now + timedelta(minutes=6)) == 0  # still holds: no second firing
    assert await OrderEvent.filter(type="rule.fired", order_id=held.id).count() == 1
    await orders.release_hold(actor, held.id)
    await schedule.run([world.tenant.id], now + timedelta(minutes=12))
    await alert.refresh_from_db()
    assert alert.state == "resolved" and "no longer holds" in alert.resolution


async def test_a_rule_that_keeps_failing_is_disabled_with_an_alert(world):
    actor = world.actor()
    consumer = RulesConsumer()
    await consumer.start_position()
    rule = await store.save_rule(actor, store.RuleInput(
        name="fragile", condition='order.tags[3] == "x"', triggers=["order.created"],
        actions=[{"type": "tag", "tag": "t"}]))
    await store.set_enabled(actor, rule.id, True)
    for i in range(21):
        await paid_order(actor, world.channel.id, f"F-{i}")
    await drain(consumer)
    await rule.refresh_from_db()
    assert not rule.enabled
    alert = await Alert.get(kind="rule", subject="rule:fragile")
    assert alert.severity == "critical" and "failed on 20 orders" in alert.message
    assert await OrderEvent.filter(type="rule.disabled").exists()


async def test_rules_of_one_tenant_never_see_another_tenants_orders(world, other_world):
    consumer = RulesConsumer()
    await consumer.start_position()
    rule = await store.save_rule(world.actor(), store.RuleInput(
        name="all", condition="true", triggers=["order.created"], actions=[{"type": "tag", "tag": "seen"}]))
    await store.set_enabled(world.actor(), rule.id, True)
    mine = await paid_order(world.actor(), world.channel.id, "MINE")
    await paid_order(other_world.actor(Role.OPS), other_world.channel.id, "THEIRS")
    await drain(consumer)
    assert await OrderTag.filter(tag="seen").values_list("order_id", flat=True) == [mine.id]


async def test_an_allocation_freeze_keeps_orders_of_that_sku_unallocated_until_lifted(world):
    actor = world.actor()
    await stock_up(actor, [world.warehouses[0].id], "TEA-001", 50)
    consumer = RulesConsumer()
    await consumer.start_position()
    rule = await store.save_rule(actor, store.RuleInput(
        name="stop tea", condition='lines.exists(l, l.sku == "TEA-001") && order.total_amount >= 999',
        triggers=["order.created"], actions=[{"type": "freeze_sku", "scope": "allocation", "all_channels": True}]))
    await store.set_enabled(actor, rule.id, True)
    await order_of(world, "TRIGGER", "999.00")
    await drain(consumer)
    freeze = await SkuFreeze.get(sku="TEA-001", scope="allocation")
    waiting = await paid_order(actor, world.channel.id, "WAITS")
    with pytest.raises(AllocationFailed, match="allocation of TEA-001 is frozen"):
        await allocate_order(actor, waiting.id)
    assert (await Order.get(id=waiting.id)).status == "PAID"
    await freezes.lift(actor, freeze.id, "buyer confirmed stock")
    assert (await allocate_order(actor, waiting.id)).status == "ALLOCATED"
