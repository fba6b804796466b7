"""The exception board over GraphQL: own, snooze and close alerts, find them again, and measure how fast."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from gql import gql as ws_query

from domain import orders
from domain.actor import Role
from domain.alerts import board
from domain.alerts.kinds import AlertKind, AlertState
from domain.alerts.raising import raise_alert
from domain.errors import Forbidden
from domain.unit_of_work import unit_of_work
from models import Alert
from resolvers import ids
from tests.helpers import key_actor, paid_order
from tests.live_fixtures import collect, live_server, wait_until
from tests.stock_fixtures import stock_up

NODE = """id kind kindCode category severity state subject message details owner acknowledgedBy snoozedUntil
          resolution resolvedBy reopened dueAt overdue clearedAt order { externalId } warehouse { code } channel { code }"""
BOARD = f"""query($f: AlertFilter, $first: Int, $after: String) {{
  exceptionBoard(filter: $f, first: $first, after: $after) {{
    totalCount pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ {NODE} }} }} nodes {{ id }} }} }}"""
PAYLOAD = "alert { id state owner acknowledgedBy snoozedUntil resolution resolvedBy reopened clearedAt } errors { code field message }"
ACK = f"mutation($i: AcknowledgeAlertInput!) {{ acknowledgeAlert(input: $i) {{ {PAYLOAD} }} }}"
ASSIGN = f"mutation($i: AssignAlertInput!) {{ assignAlert(input: $i) {{ {PAYLOAD} }} }}"
SNOOZE = f"mutation($i: SnoozeAlertInput!) {{ snoozeAlert(input: $i) {{ {PAYLOAD} }} }}"
RESOLVE = f"mutation($i: ResolveAlertInput!) {{ resolveAlert(input: $i) {{ {PAYLOAD} }} }}"
REOPEN = f"mutation($i: ReopenAlertInput!) {{ reopenAlert(input: $i) {{ {PAYLOAD} }} }}"
HOLD = "mutation($i: HoldOrderInput!) { holdOrder(input: $i) { errors { code } } }"
RELEASE = "mutation($i: ReleaseHoldInput!) { releaseHold(input: $i) { errors { code } } }"
LINEAGE = "query($id: ID!) { order(id: $id) { events { type: typeCode actor reason after } } }"
ADJUST = "mutation($i: AdjustStockInput!) { adjustStock(input: $i) { errors { code } } }"
RECEIVE = "mutation($i: ReceiveStockInput!) { receiveStock(input: $i) { errors { code } } }"
SAFETY = "mutation($i: SetSafetyStockInput!) { setSafetyStock(input: $i) { errors { code } } }"
STATS = """query($since: DateTime, $until: DateTime) { alertStats(since: $since, until: $until) {
  truncated cap
  total { raised open overdue timeToAcknowledge { count p50Seconds p90Seconds } timeToClose { count p50Seconds p90Seconds } }
  groups { kind severity raised open overdue timeToAcknowledge { count p50Seconds p90Seconds } timeToClose { count p50Seconds p90Seconds } }
} }"""


def gid(kind: str, pk: int) -> str:
    return ids.encode(kind, pk)


async def board_nodes(gql, key, f=None, first=50):  # noqa: ANN001, ANN201
    return [edge["node"] for edge in (await gql(key, BOARD, {"f": f, "first": first}))["exceptionBoard"]["edges"]]


async def move(gql, key, mutation, **fields):  # noqa: ANN001, ANN201
    data = await gql(key, mutation, {"i": fields})
    return next(iter(data.values()))


async def held_order(world, gql, external_id="H-1", reasons=("address check",)):  # noqa: ANN001, ANN201
    order = await paid_order(world.actor(), world.channel.id, external_id)
    result = await gql(world.keys["ops"], HOLD, {"i": {"id": gid("Order", order.id), "reasons": list(reasons)}})
    assert result["holdOrder"]["errors"] == []
    return order


def soon(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


async def test_raise_ack_assign_snooze_wake_resolve_then_search_finds_it(world, gql):
    key = world.keys["ops"]
    order = await held_order(world, gql)
    [alert] = await board_nodes(gql, key, {"kinds": ["ORDER_HELD"], "openOnly": True})
    assert alert["kind"] == "ORDER_HELD" and alert["kindCode"] == "order.held" and alert["category"] == "FULFILMENT"
    assert (alert["severity"], alert["state"], alert["overdue"], alert["reopened"]) == ("WARNING", "OPEN", False, 0)
    assert "address check" in alert["message"] and alert["details"] == {"reasons": ["address check"]}
    assert alert["order"] == {"externalId": "H-1"} and alert["channel"] == {"code": "tmall"} and alert["dueAt"]
    alert_id, me = alert["id"], await key_actor(key)

    acked = await move(gql, key, ACK, id=alert_id, note="on it")
    assert acked["errors"] == [] and acked["alert"]["state"] == "ACKNOWLEDGED" and acked["alert"]["acknowledgedBy"] == me
    assigned = await move(gql, key, ASSIGN, id=alert_id, owner="  Wang Fang ")
    assert assigned["alert"]["owner"] == "Wang Fang" and assigned["alert"]["state"] == "ACKNOWLEDGED"
    snoozed = await move(gql, key, SNOOZE, id=alert_id, until=soon(hours=1))
    assert snoozed["alert"]["state"] == "SNOOZED" and snoozed["alert"]["snoozedUntil"]

    assert await board.wake_snoozed() == 0  # not yet
    assert await board.wake_snoozed(datetime.now(UTC) + timedelta(hours=2)) == 1
    [woken] = await board_nodes(gql, key, {"owners": ["Wang Fang"]})
    assert woken["state"] == "ACKNOWLEDGED" and woken["snoozedUntil"] is None  # acknowledged before: back to that

    blank = await move(gql, key, RESOLVE, id=alert_id, resolution="   ")
    assert blank["alert"]["state"] == "ACKNOWLEDGED" and blank["errors"][0]["code"] == "VALIDATION" and blank["errors"][0]["field"] == "resolution"
    resolved = await move(gql, key, RESOLVE, id=alert_id, resolution="Called the buyer: the street address was confirmed")
    assert resolved["errors"] == []
    assert resolved["alert"]["state"] == "RESOLVED" and resolved["alert"]["resolvedBy"] == me and resolved["alert"]["clearedAt"]

    found = await board_nodes(gql, key, {"search": "street ADDRESS", "states": ["RESOLVED"]})
    assert [(a["id"], a["resolution"]) for a in found] == [(alert_id, "Called the buyer: the street address was confirmed")]
    assert await board_nodes(gql, key, {"search": "nothing like this"}) == []
    assert await board_nodes(gql, key, {"openOnly": True}) == []

    events = (await gql(key, LINEAGE, {"id": gid("Order", order.id)}))["order"]["events"]
    alert_events = [e for e in events if e["type"].startswith("alert.")]
    assert [e["type"] for e in alert_events] == [
        "alert.raised", "alert.acknowledged", "alert.assigned", "alert.snoozed", "alert.snooze_ended", "alert.resolved",
    ]
    assert alert_events[1]["reason"] == "on it" and alert_events[1]["actor"] == me
    assert alert_events[-1]["reason"].startswith("Called the buyer") and alert_events[-1]["after"]["state"] == "resolved"
    assert alert_events[4]["actor"] == board.WAKER


async def test_illegal_moves_are_refused_with_codes_and_change_nothing(world, gql):
    key = world.keys["ops"]
    await held_order(world, gql)
    [alert] = await board_nodes(gql, key)
    alert_id = alert["id"]
    assert (await move(gql, key, REOPEN, id=alert_id, reason="x"))["errors"][0]["code"] == "ILLEGAL_TRANSITION"
    await move(gql, key, ACK, id=alert_id)
    twice = await move(gql, key, ACK, id=alert_id)
    assert twice["errors"][0]["code"] == "ILLEGAL_TRANSITION" and "acknowledged" in twice["errors"][0]["message"]
    for until, why in ((soon(minutes=-1), "future"), (soon(days=8), "7 days"), ("2030-01-01T10:00:00", "UTC offset")):
        refused = await move(gql, key, SNOOZE, id=alert_id, until=until)
        assert refused["errors"][0]["code"] == "VALIDATION" and why in refused["errors"][0]["message"], refused
    assert (await move(gql, key, RESOLVE, id=alert_id, resolution="fixed"))["errors"] == []
    before = await Alert.get(id=ids.decode(alert_id)[1])
    for mutation, fields in ((RESOLVE, {"resolution": "again"}), (SNOOZE, {"until": soon(hours=1)}), (ACK, {}),
                             (ASSIGN, {"owner": "Li Lei"})):
        refused = await move(gql, key, mutation, id=alert_id, **fields)
        assert refused["alert"]["state"] == "RESOLVED" and refused["errors"][0]["code"] == "ILLEGAL_TRANSITION", (mutation, refused)
    after = await Alert.get(id=before.id)
    assert (after.state, after.resolution, after.owner, after.updated_at) == ("resolved", "fixed", None, before.updated_at)
    missing = await move(gql, key, ACK, id=gid("Alert", 999_999))
    assert missing["errors"][0]["code"] == "NOT_FOUND"
    reopened = await move(gql, key, REOPEN, id=alert_id, reason="the buyer called again")
    assert reopened["alert"]["state"] == "OPEN" and reopened["alert"]["reopened"] == 1 and reopened["alert"]["clearedAt"] is None
    assert reopened["alert"]["acknowledgedBy"] is None and reopened["alert"]["resolution"] == "fixed"


def test_the_moves_table_refuses_every_pair_it_does_not_list():
    for state in AlertState:
        for move_ in board.Move:
            if (state, move_) in board.MOVES:
                assert board.target_of(state, move_) in AlertState
            else:
                with pytest.raises(board.AlertMoveRefused) as refused:
                    board.target_of(state, move_)
                assert refused.value.code == "ILLEGAL_TRANSITION"


async def test_viewers_read_the_board_but_cannot_act(world, gql):
    await held_order(world, gql)
    for role in ("auditor", "warehouse", "finance", "service", "partner"):
        [alert] = await board_nodes(gql, world.keys[role])
        for mutation, fields in ((ACK, {}), (ASSIGN, {"owner": "me"}), (SNOOZE, {"until": soon(hours=1)}),
                                 (RESOLVE, {"resolution": "done"}), (REOPEN, {"reason": "x"})):
            refused = await move(gql, world.keys[role], mutation, id=alert["id"], **fields)
            assert refused["alert"]["state"] == "OPEN" and refused["errors"][0]["code"] == "FORBIDDEN", (role, mutation)
    stored = await Alert.get(kind=AlertKind.ORDER_HELD)
    assert (stored.state, stored.owner, stored.acknowledged_at) == ("open", None, None)
    with pytest.raises(Forbidden):
        await board.acknowledge(world.actor(Role.AUDITOR), stored.id)


async def test_assigning_an_open_alert_acknowledges_it_and_another_tenant_cannot_touch_it(world, other_world, gql):
    await held_order(world, gql)
    [alert] = await board_nodes(gql, world.keys["admin"])
    theirs = await move(gql, other_world.keys["ops"], ASSIGN, id=alert["id"], owner="intruder")
    assert theirs["errors"][0]["code"] == "NOT_FOUND"
    assert await board_nodes(gql, other_world.keys["ops"]) == []
    assigned = await move(gql, world.keys["admin"], ASSIGN, id=alert["id"], owner="Li Lei")
    assert assigned["alert"]["state"] == "ACKNOWLEDGED" and assigned["alert"]["acknowledgedBy"] == await key_actor(world.keys["admin"])
    blank = await move(gql, world.keys["admin"], ASSIGN, id=alert["id"], owner=" ")
    assert blank["errors"][0]["field"] == "owner"


async def test_low_stock_alert_shows_the_current_figure_and_clears_on_restock(world, gql):
    await stock_up(world, {"TEA-001": {"SH": 10}})
    key = world.keys["ops"]
    sh = gid("Warehouse", next(w.id for w in world.warehouses if w.code == "SH"))
    await gql(key, SAFETY, {"i": {"warehouse": sh, "sku": "TEA-001", "safety": 6}})
    seen = []
    for delta in (-4, -2, -1):  # 6 (low), 4, 3: one alert, always the current figure
        await gql(key, ADJUST, {"i": {"warehouse": sh, "sku": "TEA-001", "delta": delta, "reason": "damage"}})
        [alert] = await board_nodes(gql, key, {"kinds": ["LOW_STOCK"], "warehouses": [sh]})
        seen.append((alert["id"], alert["state"], alert["details"]["available"], alert["warehouse"]["code"]))
        assert f"has {alert['details']['available']} available" in alert["message"]
    assert [s[1:] for s in seen] == [("OPEN", 6, "SH"), ("OPEN", 4, "SH"), ("OPEN", 3, "SH")]
    assert len({s[0] for s in seen}) == 1
    await gql(key, RECEIVE, {"i": {"warehouse": sh, "sku": "TEA-001", "quantity": 20}})
    [cleared] = await board_nodes(gql, key, {"kinds": ["LOW_STOCK"]})
    assert cleared["state"] == "RESOLVED" and cleared["clearedAt"] and cleared["resolvedBy"] == "system:auto"
    assert await board_nodes(gql, key, {"categories": ["STOCK"], "openOnly": True}) == []


async def test_a_hold_raises_an_alert_kept_current_and_the_last_release_clears_it(world, gql):
    key = world.keys["ops"]
    order = await held_order(world, gql, reasons=("address check", "fraud review"))
    order_gid = gid("Order", order.id)
    [alert] = await board_nodes(gql, key, {"orders": [order_gid]})
    assert "address check; fraud review" in alert["message"] and alert["details"]["reasons"] == ["address check", "fraud review"]
    await gql(key, RELEASE, {"i": {"id": order_gid, "reasons": ["fraud review"], "reason": "reviewed"}})
    [still] = await board_nodes(gql, key, {"orders": [order_gid]})
    assert still["id"] == alert["id"] and still["state"] == "OPEN" and "fraud review" not in still["message"]
    assert still["details"]["reasons"] == ["address check"]
    await gql(key, RELEASE, {"i": {"id": order_gid, "reason": "all clear"}})
    [cleared] = await board_nodes(gql, key, {"orders": [order_gid]})
    assert cleared["state"] == "RESOLVED" and cleared["resolvedBy"] == "system:auto"
    types = [e["type"] for e in (await gql(key, LINEAGE, {"id": order_gid}))["order"]["events"]]
    assert types == ["order.created", "order.hold_added", "alert.raised", "order.hold_released", "alert.updated",
                     "order.hold_released", "alert.cleared"]
    # Cancelling a held order ends its holds, and so their alert.
    other = await held_order(world, gql, "H-2")
    await orders.cancel_order(world.actor(), other.id, "buyer changed mind")
    [gone] = await board_nodes(gql, key, {"orders": [gid("Order", other.id)]})
    assert gone["state"] == "RESOLVED"


async def _alert_at(world, kind, severity, raised, *, ack=None, closed=None, subject="", **columns):  # noqa: ANN001, ANN201
    """An alert with known times (seconds after ``raised`` for ack and close)."""
    async with unit_of_work():
        alert = await raise_alert(tenant_id=world.tenant.id, kind=kind, severity=severity, subject=subject,
                                  message=f"{kind} {subject}", **columns)
    values = {"raised_at": raised, "due_at": raised + timedelta(minutes=15 if severity == "critical" else 120)}
    if ack is not None:
        values |= {"acknowledged_at": raised + timedelta(seconds=ack), "state": "acknowledged"}
    if closed is not None:
        values |= {"cleared_at": raised + timedelta(seconds=closed), "state": "resolved"}
    await Alert.filter(id=alert.id).update(**values)
    return alert


async def test_stats_give_time_to_acknowledge_and_close_from_known_times(world, gql):
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(hours=3)
    await _alert_at(world, "low_stock", "critical", start, ack=60, closed=300, subject="a")
    await _alert_at(world, "low_stock", "critical", start, ack=120, closed=900, subject="b")
    await _alert_at(world, "low_stock", "critical", start, ack=600, subject="c")        # acknowledged, open, overdue
    await _alert_at(world, "low_stock", "critical", start, subject="d")                 # untouched, overdue
    await _alert_at(world, "wms_push_failed", "warning", now - timedelta(minutes=5), subject="e")  # open, in time
    await _alert_at(world, "low_stock", "critical", now - timedelta(days=30), ack=1, subject="old")  # outside the period
    stats = (await gql(world.keys["auditor"], STATS, {"since": (now - timedelta(days=1)).isoformat(),
                                                      "until": (now + timedelta(minutes=1)).isoformat()}))["alertStats"]
    assert stats["truncated"] is False and stats["cap"] == 50_000
    total = stats["total"]
    assert (total["raised"], total["open"], total["overdue"]) == (5, 3, 2)
    assert total["timeToAcknowledge"] == {"count": 3, "p50Seconds": 120.0, "p90Seconds": 600.0}
    assert total["timeToClose"] == {"count": 2, "p50Seconds": 300.0, "p90Seconds": 900.0}
    groups = {(g["kind"], g["severity"]): g for g in stats["groups"]}
    assert set(groups) == {("LOW_STOCK", "CRITICAL"), ("WMS_PUSH_FAILED", "WARNING")}
    assert groups[("WMS_PUSH_FAILED", "WARNING")]["timeToAcknowledge"] == {"count": 0, "p50Seconds": None, "p90Seconds": None}
    assert groups[("LOW_STOCK", "CRITICAL")]["overdue"] == 2
    backwards = await gql.post(world.keys["ops"], STATS, {"since": now.isoformat(), "until": (now - timedelta(hours=1)).isoformat()})
    assert backwards.json()["errors"][0]["extensions"]["code"] == "VALIDATION"


async def test_filters_by_kind_severity_warehouse_owner_age_and_overdue_with_pages(world, gql):
    key = world.keys["ops"]
    sh, gz = world.warehouses[0], world.warehouses[1]
    now = datetime.now(UTC)
    a = await _alert_at(world, "low_stock", "critical", now - timedelta(hours=2), subject="sh", warehouse_id=sh.id)
    b = await _alert_at(world, "low_stock", "warning", now - timedelta(minutes=5), subject="gz", warehouse_id=gz.id)
    c = await _alert_at(world, "wms_push_failed", "warning", now - timedelta(minutes=50), subject="push",
                        channel_id=world.channel.id)
    await board.assign(world.actor(), c.id, "Li Lei")

    async def found(f):  # noqa: ANN001, ANN202
        return {ids.decode(n["id"])[1] for n in await board_nodes(gql, key, f)}

    assert await found({"kinds": ["LOW_STOCK"]}) == {a.id, b.id}
    assert await found({"categories": ["SYSTEMS"]}) == {c.id}
    assert await found({"categories": ["STOCK"], "kinds": ["WMS_PUSH_FAILED"]}) == set()
    assert await found({"severities": ["CRITICAL"]}) == {a.id}
    assert await found({"warehouses": [gid("Warehouse", gz.id)]}) == {b.id}
    assert await found({"channels": [gid("Channel", world.channel.id)]}) == {c.id}
    assert await found({"owners": ["Li Lei"]}) == {c.id}
    assert await found({"states": ["ACKNOWLEDGED"]}) == {c.id}
    assert await found({"olderThanMinutes": 30}) == {a.id, c.id}
    assert await found({"overdueOnly": True}) == {a.id}
    assert await found({"olderThanMinutes": 30, "severities": ["WARNING"]}) == {c.id}

    first = (await gql(key, BOARD, {"first": 2}))["exceptionBoard"]
    assert first["totalCount"] == 3 and first["pageInfo"]["hasNextPage"] is True
    assert [ids.decode(e["node"]["id"])[1] for e in first["edges"]] == [c.id, b.id]  # newest first
    rest = (await gql(key, BOARD, {"first": 2, "after": first["pageInfo"]["endCursor"]}))["exceptionBoard"]
    assert [ids.decode(n["id"])[1] for n in rest["nodes"]] == [a.id] and rest["pageInfo"]["hasNextPage"] is False

    legacy = await gql(key, '{ alerts(filter: {severities: [WARNING]}) { nodes { kindCode severity } } }')
    assert sorted(x["kindCode"] for x in legacy["alerts"]["nodes"]) == ["low_stock", "wms_push_failed"]
    bad = await gql.post(key, BOARD, {"f": {"olderThanMinutes": -1}})
    assert bad.json()["errors"][0]["extensions"]["code"] == "VALIDATION"


async def test_the_alerts_subscription_delivers_board_moves(world, db):
    order = await paid_order(world.actor(), world.channel.id, "SUB-1")
    query = ws_query("subscription { alerts { type kind message alert { state owner } } }")
    async with live_server(db) as (base, app):
        task = asyncio.create_task(collect(base, world.keys["auditor"], query, 3))
        await wait_until(lambda: app.state.bus.subscriber_count >= 1, 10)
        await orders.hold_order(world.actor(), order.id, ["fraud review"])
        alert = await Alert.get(order_id=order.id)
        await board.assign(world.actor(), alert.id, "Li Lei")
        await board.resolve(world.actor(), alert.id, "the payment was verified with the bank")
        received = [r["alerts"] for r in await asyncio.wait_for(task, 10)]
    assert [(r["type"], r["kind"]) for r in received] == [
        ("alert.raised", "order.held"), ("alert.assigned", "order.held"), ("alert.resolved", "order.held")]
    assert received[1]["message"] == "assigned to Li Lei"
    assert received[2]["alert"] == {"state": "RESOLVED", "owner": "Li Lei"}


async def test_the_leader_wakes_snoozed_alerts_on_its_own(world, db):
    order = await paid_order(world.actor(), world.channel.id, "WAKE-1")
    await orders.hold_order(world.actor(), order.id, ["address check"])
    alert = await Alert.get(order_id=order.id)
    async with live_server(db, alert_wake_seconds=0.1):
        await board.snooze(world.actor(), alert.id, datetime.now(UTC) + timedelta(seconds=1))
        assert (await Alert.get(id=alert.id)).state == AlertState.SNOOZED

        async def woken() -> Alert | None:
            return await Alert.filter(id=alert.id, state=AlertState.OPEN).first()

        back = await wait_until(woken, 15)
    assert back.snoozed_until is None
