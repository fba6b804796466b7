"""The issue's user stories over GraphQL: levels and ledger, low stock, allocation with reasons, bad input."""

from __future__ import annotations

from models import Alert, Stock, StockMovement
from resolvers import ids
from tests.helpers import CREATE_ORDER, order_input
from tests.stock_fixtures import check_invariants, place_warehouses, stock_up

LEVEL = "stock { sku onHand reserved available safety quarantine lowStockThreshold low warehouse { code } }"
ERRORS = "errors { code field message }"
RECEIVE = f"mutation($i: ReceiveStockInput!) {{ receiveStock(input: $i) {{ {LEVEL} {ERRORS} }} }}"
ADJUST = f"mutation($i: AdjustStockInput!) {{ adjustStock(input: $i) {{ {LEVEL} {ERRORS} }} }}"
SAFETY = f"mutation($i: SetSafetyStockInput!) {{ setSafetyStock(input: $i) {{ {LEVEL} {ERRORS} }} }}"
POLICY = f"mutation($i: SetAllocationPolicyInput!) {{ setAllocationPolicy(input: $i) {{ policy {{ scope version config }} {ERRORS} }} }}"
ORDER_STOCK = """
query($id: ID!) { order(id: $id) {
  status warehouse { code }
  allocation { strategy outcome split summary chosen { code } candidates { code rank metric chosen reason } }
  stock { priority shipBy reservations { sku quantity status kind warehouse { code } }
          movements { kind sku reservedDelta onHandDelta actor reason warehouse { code } } }
  events { type: typeCode reason }
} }
"""


def gid(kind: str, pk: int) -> str:
    return ids.encode(kind, pk)


def wid(world, code: str) -> str:  # noqa: ANN001
    return gid("Warehouse", next(w.id for w in world.warehouses if w.code == code))


async def test_receive_adjust_and_see_the_ledger(world, gql):
    await stock_up(world, {"TEA-001": 0})
    key = world.keys["warehouse"]
    received = await gql(key, RECEIVE, {"i": {"warehouse": wid(world, "SH"), "sku": "TEA-001", "quantity": 12, "reason": "PO-7", "safety": 3}})
    assert received["receiveStock"]["errors"] == []
    assert received["receiveStock"]["stock"] == {
        "sku": "TEA-001", "onHand": 12, "reserved": 0, "available": 12, "safety": 3, "quarantine": 0,
        "lowStockThreshold": 3, "low": False, "warehouse": {"code": "SH"},
    }
    adjusted = await gql(key, ADJUST, {"i": {"warehouse": wid(world, "SH"), "sku": "TEA-001", "delta": -2, "reason": "crushed box"}})
    assert adjusted["adjustStock"]["stock"]["onHand"] == 10
    ledger = await gql(key, '{ stockMovements(sku: "TEA-001") { nodes { kind onHandDelta reason actor warehouse { code } } } }')
    assert [(m["kind"], m["onHandDelta"], m["reason"]) for m in ledger["stockMovements"]["nodes"]] == [
        ("ADJUSTMENT", -2, "crushed box"), ("RECEIPT", 12, "PO-7")
    ]
    levels = await gql(key, '{ stockLevels(sku: "TEA-001") { nodes { onHand movements(first: 1) { nodes { kind } } } } }')
    assert levels["stockLevels"]["nodes"] == [{"onHand": 10, "movements": {"nodes": [{"kind": "ADJUSTMENT"}]}}]


async def test_low_stock_alert_is_raised_once_and_cleared_on_recovery(world, gql):
    await stock_up(world, {"TEA-001": {"SH": 10}})
    key = world.keys["ops"]
    sh = wid(world, "SH")
    await gql(key, SAFETY, {"i": {"warehouse": sh, "sku": "TEA-001", "safety": 4}})
    factor = await gql(key, 'mutation { setLowStockFactor(input: {sku: "TEA-001", factor: "1.5"}) { sku factor errors { code } } }')
    assert factor["setLowStockFactor"] == {"sku": "TEA-001", "factor": "1.50", "errors": []}
    for delta in (-3, -1, -1):  # 7 > 6, then 6 <= 6 (raise), then 5 (still low: no second alert)
        await gql(key, ADJUST, {"i": {"warehouse": sh, "sku": "TEA-001", "delta": delta, "reason": "damage"}})
    alerts = await Alert.filter(kind="low_stock")
    assert len(alerts) == 1 and alerts[0].cleared_at is None and alerts[0].details["threshold"] == 6
    low = await gql(key, "{ stockLevels(lowOnly: true) { nodes { sku low available lowStockThreshold } } }")
    assert low["stockLevels"]["nodes"] == [{"sku": "TEA-001", "low": True, "available": 5, "lowStockThreshold": 6}]
    await gql(key, RECEIVE, {"i": {"warehouse": sh, "sku": "TEA-001", "quantity": 5}})
    assert (await Alert.get(id=alerts[0].id)).cleared_at is not None
    assert (await gql(key, "{ stockLevels(lowOnly: true) { nodes { sku } } }"))["stockLevels"]["nodes"] == []
    await gql(key, ADJUST, {"i": {"warehouse": sh, "sku": "TEA-001", "delta": -5, "reason": "damage"}})
    assert await Alert.filter(kind="low_stock", cleared_at__isnull=True).count() == 1  # a new episode, one alert


async def test_paid_order_is_allocated_by_policy_with_reasons_and_lineage(world, gql):
    await place_warehouses(world)
    await stock_up(world, {"TEA-001": {"SH": 1, "GZ": 9, "TJ": 9}, "CUP-01": 9})
    key = world.keys["ops"]
    config = {"strategy": "nearest", "service_radius_km": 1500, "allow_split": False}
    stored = await gql(key, POLICY, {"i": {"config": config}})
    assert stored["setAllocationPolicy"]["policy"]["version"] == 1
    created = await gql(key, CREATE_ORDER, {"input": order_input("NEAR-1")})  # 2 x TEA-001 + CUP-01 to 浙江/杭州
    order_id = created["createOrder"]["order"]["id"]
    assert created["createOrder"]["order"]["status"] == "ALLOCATED"
    order = (await gql(key, ORDER_STOCK, {"id": order_id}))["order"]
    assert order["warehouse"] == {"code": "GZ"}
    allocation = order["allocation"]
    assert (allocation["strategy"], allocation["outcome"], allocation["chosen"]) == ("nearest", "ALLOCATED", [{"code": "GZ"}])
    by_code = {c["code"]: c for c in allocation["candidates"]}
    assert by_code["SH"]["rank"] == 1 and by_code["SH"]["reason"] == "cannot fill: TEA-001: needs 2, 1 available"
    assert by_code["GZ"]["chosen"] and by_code["GZ"]["metric"].endswith(" km")
    assert by_code["TJ"]["rank"] == 3 and by_code["TJ"]["reason"] == "ranked below GZ (1,052 km vs 1,045 km)"
    reservations = order["stock"]["reservations"]
    assert {(r["sku"], r["quantity"], r["status"], r["warehouse"]["code"]) for r in reservations} == {
        ("TEA-001", 2, "ACTIVE", "GZ"), ("CUP-01", 1, "ACTIVE", "GZ")
    }
    movements = order["stock"]["movements"]
    assert {(m["kind"], m["sku"], m["reservedDelta"]) for m in movements} == {("RESERVE", "TEA-001", 2), ("RESERVE", "CUP-01", 1)}
    types = [e["type"] for e in order["events"]]
    assert types == ["order.created", "stock.reserved", "order.allocated"]
    assert order["stock"]["priority"] == "STANDARD" and order["stock"]["shipBy"]
    await check_invariants(world.tenant.id)


async def test_channel_policy_overrides_tenant_policy(world, gql):
    await place_warehouses(world)
    await stock_up(world, {"TEA-001": 9, "CUP-01": 9})
    key = world.keys["admin"]
    await gql(key, POLICY, {"i": {"config": {"strategy": "priority", "priority": ["TJ", "GZ", "SH"]}}})
    region = {"strategy": "region", "regions": [{"province": "浙江", "warehouses": ["SH"]}]}
    stored = await gql(key, POLICY, {"i": {"config": region, "channel": "tmall"}})
    assert stored["setAllocationPolicy"]["policy"]["scope"].startswith("channel:")
    created = await gql(key, CREATE_ORDER, {"input": order_input("REGION-1")})
    order = (await gql(key, ORDER_STOCK, {"id": created["createOrder"]["order"]["id"]}))["order"]
    assert order["allocation"]["summary"] == "region (rule 浙江): SH"
    policies = await gql(key, "{ allocationPolicies { scope channel version } }")
    assert [p["channel"] for p in policies["allocationPolicies"]] == [None, "tmall"]


async def test_invalid_policy_is_refused_with_its_path(world, gql):
    key = world.keys["ops"]
    cases = [
        ({"strategy": "fastest"}, "config.strategy"),
        ({"strategy": "region", "regions": [{"province": "广东", "warehouses": ["XX"]}]}, "config.regions.0.warehouses"),
        ({"strategy": "cost"}, "config.cost"),
        ({"strategy": "nearest", "service_radius_km": -5}, "config.service_radius_km"),
        ({"strategy": "priority", "colour": "red"}, "config"),
    ]
    for config, field in cases:
        result = await gql(key, POLICY, {"i": {"config": config}})
        assert result["setAllocationPolicy"]["policy"] is None
        assert result["setAllocationPolicy"]["errors"][0]["field"] == field, config
    assert (await gql(key, "{ allocationPolicies { scope } }"))["allocationPolicies"] == []
    forbidden = await gql(world.keys["warehouse"], POLICY, {"i": {"config": {"strategy": "priority"}}})
    assert forbidden["setAllocationPolicy"]["errors"][0]["code"] == "FORBIDDEN"


async def test_bad_stock_input_changes_nothing(world, other_world, gql):
    await stock_up(world, {"TEA-001": {"SH": 5}})
    key = world.keys["ops"]
    sh = wid(world, "SH")
    foreign = gid("Warehouse", other_world.warehouses[0].id)
    before = (await StockMovement.all().count(), [(s.on_hand, s.reserved) for s in await Stock.all().order_by("id")])
    refusals = [
        (RECEIVE, {"warehouse": sh, "sku": "TEA-001", "quantity": 0}, "VALIDATION", "quantity"),
        (RECEIVE, {"warehouse": sh, "sku": "TEA-001", "quantity": -3}, "VALIDATION", "quantity"),
        (RECEIVE, {"warehouse": sh, "sku": "NOPE", "quantity": 1}, "NOT_FOUND", "sku"),
        (RECEIVE, {"warehouse": foreign, "sku": "TEA-001", "quantity": 1}, "NOT_FOUND", "warehouseId"),
        (RECEIVE, {"warehouse": "not-an-id", "sku": "TEA-001", "quantity": 1}, "NOT_FOUND", "id"),
        (ADJUST, {"warehouse": sh, "sku": "TEA-001", "delta": -6, "reason": "lost"}, "INSUFFICIENT_STOCK", "delta"),
        (ADJUST, {"warehouse": sh, "sku": "TEA-001", "delta": 0, "reason": "noop"}, "VALIDATION", "delta"),
        (ADJUST, {"warehouse": sh, "sku": "TEA-001", "delta": 1, "reason": " "}, "VALIDATION", "reason"),
        (SAFETY, {"warehouse": sh, "sku": "TEA-001", "safety": -1}, "VALIDATION", "safety"),
    ]
    for mutation, data, code, field in refusals:
        result = await gql(key, mutation, {"i": data})
        payload = next(iter(result.values()))
        assert payload["stock"] is None and payload["errors"][0]["code"] == code and payload["errors"][0]["field"] == field, (data, payload)
    auditor = await gql(world.keys["auditor"], RECEIVE, {"i": {"warehouse": sh, "sku": "TEA-001", "quantity": 1}})
    assert auditor["receiveStock"]["errors"][0]["code"] == "FORBIDDEN"
    after = (await StockMovement.all().count(), [(s.on_hand, s.reserved) for s in await Stock.all().order_by("id")])
    assert after == before


async def test_adjusting_below_what_is_reserved_is_refused(world, gql):
    await place_warehouses(world)
    await stock_up(world, {"TEA-001": {"SH": 3}, "CUP-01": {"SH": 3}})
    key = world.keys["ops"]
    await gql(key, POLICY, {"i": {"config": {"strategy": "priority"}}})
    await gql(key, CREATE_ORDER, {"input": order_input("HOLD-2")})  # reserves 2 TEA-001 in SH
    result = await gql(key, ADJUST, {"i": {"warehouse": wid(world, "SH"), "sku": "TEA-001", "delta": -2, "reason": "count"}})
    assert result["adjustStock"]["errors"][0]["code"] == "INSUFFICIENT_STOCK"
    assert "only 1 are not promised" in result["adjustStock"]["errors"][0]["message"]
    await check_invariants(world.tenant.id)


async def test_stock_count_sync_records_differences_and_reports_conflicts(world, gql):
    await place_warehouses(world)
    await stock_up(world, {"TEA-001": {"SH": 10, "GZ": 4}, "CUP-01": {"SH": 5}})
    key = world.keys["service"]
    await gql(world.keys["ops"], POLICY, {"i": {"config": {"strategy": "priority"}}})
    await gql(world.keys["ops"], CREATE_ORDER, {"input": order_input("SYNC-1")})  # SH: 2 TEA-001, 1 CUP-01 reserved
    sync = """mutation($i: SyncStockCountsInput!) { syncStockCounts(input: $i) {
        results { sku before counted difference outcome message warehouse { code } } errors { code field } } }"""
    counts = [
        {"warehouse": wid(world, "SH"), "sku": "TEA-001", "onHand": 8},
        {"warehouse": wid(world, "GZ"), "sku": "TEA-001", "onHand": 4, "inTransit": 30},
        {"warehouse": wid(world, "SH"), "sku": "CUP-01", "onHand": 0},
    ]
    result = (await gql(key, sync, {"i": {"counts": counts, "reason": "WMS nightly"}}))["syncStockCounts"]
    assert [(r["sku"], r["warehouse"]["code"], r["difference"], r["outcome"]) for r in result["results"]] == [
        ("TEA-001", "SH", -2, "APPLIED"), ("TEA-001", "GZ", 0, "UNCHANGED"), ("CUP-01", "SH", -5, "CONFLICT")
    ]
    assert await Alert.filter(kind="count_conflict", subject__startswith="stock:", severity="critical").count() == 1
    gz = (await gql(key, '{ stockLevels(sku: "TEA-001") { nodes { inTransit warehouse { code } } } }'))["stockLevels"]["nodes"]
    assert {n["warehouse"]["code"]: n["inTransit"] for n in gz} == {"SH": 0, "GZ": 30}
    ledger = await StockMovement.filter(kind="COUNT_SYNC").values_list("on_hand_delta", "reason")
    assert ledger == [(-2, "WMS nightly: counted 8, was 10")]
    bad = (await gql(key, sync, {"i": {"counts": [counts[0], counts[0]]}}))["syncStockCounts"]
    assert bad["errors"][0]["code"] == "VALIDATION" and bad["results"] == []
    negative = (await gql(key, sync, {"i": {"counts": [{**counts[1], "onHand": -1}]}}))["syncStockCounts"]
    assert negative["errors"] == [{"code": "VALIDATION", "field": "counts.0.onHand"}]
    await check_invariants(world.tenant.id)


async def test_reservation_release_move_and_return_over_graphql(world, gql):
    await place_warehouses(world)
    await stock_up(world, {"TEA-001": 9, "CUP-01": 9})
    key = world.keys["ops"]
    await gql(key, POLICY, {"i": {"config": {"strategy": "priority"}}})
    order_id = (await gql(key, CREATE_ORDER, {"input": order_input("OPS-1")}))["createOrder"]["order"]["id"]
    detail = await gql(key, "query($id: ID!) { order(id: $id) { lines { id sku } stock { reservations { id sku } } } }", {"id": order_id})
    tea_line = next(line["id"] for line in detail["order"]["lines"] if line["sku"] == "TEA-001")
    tea_reservation = next(r["id"] for r in detail["order"]["stock"]["reservations"] if r["sku"] == "TEA-001")

    move = "mutation($i: MoveOrderLineInput!) { moveOrderLine(input: $i) { order { status } errors { code message } } }"
    moved = await gql(key, move, {"i": {"line": tea_line, "warehouse": wid(world, "TJ"), "reason": "SH short of staff"}})
    assert moved["moveOrderLine"] == {"order": {"status": "ALLOCATED"}, "errors": []}

    release = "mutation($i: ReleaseReservationInput!) { releaseReservation(input: $i) { order { status } errors { code message } } }"
    stale = await gql(key, release, {"i": {"reservation": tea_reservation, "reason": "oops"}})
    assert stale["releaseReservation"]["errors"][0]["code"] == "CONFLICT"  # the move already released it
    current = await gql(key, "query($id: ID!) { order(id: $id) { stock { reservations { id sku status warehouse { code } } } } }", {"id": order_id})
    live_tea = next(r for r in current["order"]["stock"]["reservations"] if r["sku"] == "TEA-001" and r["status"] == "ACTIVE")
    assert live_tea["warehouse"]["code"] == "TJ"
    released = await gql(key, release, {"i": {"reservation": live_tea["id"], "reason": "customer asked to wait"}})
    assert released["releaseReservation"] == {"order": {"status": "PAID"}, "errors": []}
    reallocated = await gql(key, "mutation($i: AllocateByPolicyInput!) { allocateOrderByPolicy(input: $i) { order { status } errors { code } } }",
                            {"i": {"id": order_id, "reason": "stock is back"}})
    assert reallocated["allocateOrderByPolicy"]["order"]["status"] == "ALLOCATED"
    events = await gql(key, "query($id: ID!) { order(id: $id) { events { type: typeCode } } }", {"id": order_id})
    types = [e["type"] for e in events["order"]["events"]]
    for expected in ("order.line_moved", "stock.force_released", "stock.reserved"):
        assert expected in types
    await check_invariants(world.tenant.id)


async def test_follow_an_order_from_payment_to_the_pick_queue_and_out(world, gql):
    """The issue's "done means": payment, allocation with reasons, the queue, the picker, and every movement it caused."""
    await place_warehouses(world)
    await stock_up(world, {"TEA-001": 5, "CUP-01": 5})
    key = world.keys["ops"]
    await gql(key, POLICY, {"i": {"config": {"strategy": "region", "fallback": "nearest",
                                             "regions": [{"province": "浙江", "warehouses": ["SH", "GZ"]}]}}})
    unpaid = order_input("E2E-1")
    del unpaid["payment"]
    order_id = (await gql(key, CREATE_ORDER, {"input": unpaid}))["createOrder"]["order"]["id"]
    pay = "mutation($i: TransitionOrderInput!) { transitionOrder(input: $i) { order { status } errors { code } } }"
    assert (await gql(key, pay, {"i": {"id": order_id, "status": "PAID"}}))["transitionOrder"]["order"]["status"] == "ALLOCATED"

    order = (await gql(key, ORDER_STOCK, {"id": order_id}))["order"]
    assert order["allocation"]["summary"] == "region (rule 浙江): SH"
    queue = await gql(world.keys["warehouse"], QUEUE_HEAD, {"w": wid(world, "SH")})
    assert queue["pickQueue"]["entries"] == [{"order": {"id": order_id}, "lines": [{"sku": "TEA-001", "quantity": 2}, {"sku": "CUP-01", "quantity": 1}]}]
    claimed = await gql(world.keys["warehouse"], "mutation($w: ID!) { claimPick(input: {warehouse: $w}) { order { status } errors { code } } }",
                        {"w": wid(world, "SH")})
    assert claimed["claimPick"]["order"]["status"] == "PICKING"
    await gql(key, pay, {"i": {"id": order_id, "status": "PACKED"}})
    ship = "mutation($i: ShipOrderInput!) { shipOrder(input: $i) { order { status } errors { code } } }"
    assert (await gql(key, ship, {"i": {"id": order_id, "carrier": "SF", "trackingNo": "SF123"}}))["shipOrder"]["order"]["status"] == "SHIPPED"

    order = (await gql(key, ORDER_STOCK, {"id": order_id}))["order"]
    assert [(m["kind"], m["sku"], m["onHandDelta"], m["reservedDelta"]) for m in order["stock"]["movements"]] == [
        ("RESERVE", "TEA-001", 0, 2), ("RESERVE", "CUP-01", 0, 1), ("SHIP", "TEA-001", -2, -2), ("SHIP", "CUP-01", -1, -1)
    ]
    assert {r["status"] for r in order["stock"]["reservations"]} == {"CONSUMED"}
    assert [e["type"] for e in order["events"]] == [
        "order.created", "order.status_changed", "stock.reserved", "order.allocated", "order.pick_claimed",
        "order.status_changed", "order.shipped", "stock.consumed",
    ]
    await check_invariants(world.tenant.id)


QUEUE_HEAD = "query($w: ID!) { pickQueue(warehouse: $w) { entries { order { id } lines { sku quantity } } } }"


async def test_backorder_run_over_graphql(world, gql):
    await place_warehouses(world)
    await stock_up(world, {"TEA-001": {"SH": 1}, "CUP-01": 5})
    key = world.keys["ops"]
    await gql(key, POLICY, {"i": {"config": {"strategy": "priority"}}})
    created = await gql(key, CREATE_ORDER, {"input": order_input("BACK-1")})
    assert created["createOrder"]["order"]["status"] == "PAID"  # short of TEA-001: waits, with an alert
    alerts = await gql(key, "{ alerts { nodes { kind order { externalId } } } }")
    assert {"kind": "ALLOCATION_FAILED", "order": {"externalId": "BACK-1"}} in alerts["alerts"]["nodes"]
    run = "mutation($n: Int!) { allocateBackorders(first: $n) { allocated stillWaiting errors { code field } } }"
    assert (await gql(key, run, {"n": 0}))["allocateBackorders"]["errors"] == [{"code": "VALIDATION", "field": "first"}]
    await gql(key, RECEIVE, {"i": {"warehouse": wid(world, "GZ"), "sku": "TEA-001", "quantity": 5}})
    assert (await gql(key, run, {"n": 10}))["allocateBackorders"] == {"allocated": 1, "stillWaiting": 0, "errors": []}
    assert [a["kind"] for a in (await gql(key, "{ alerts { nodes { kind } } }"))["alerts"]["nodes"]
            if a["kind"] == "ALLOCATION_FAILED"] == []


async def test_another_tenant_sees_and_touches_none_of_it(world, other_world, gql):
    await place_warehouses(world)
    await stock_up(world, {"TEA-001": 5, "CUP-01": 5})
    await gql(world.keys["ops"], POLICY, {"i": {"config": {"strategy": "priority"}}})
    order_id = (await gql(world.keys["ops"], CREATE_ORDER, {"input": order_input("MINE-1")}))["createOrder"]["order"]["id"]
    rival = other_world.keys["ops"]
    assert (await gql(rival, "{ stockLevels { nodes { sku } } stockMovements { nodes { sku } } allocationPolicies { scope } }")) == {
        "stockLevels": {"nodes": []}, "stockMovements": {"nodes": []}, "allocationPolicies": [],
    }
    assert (await gql(rival, "query($id: ID!) { order(id: $id) { id } }", {"id": order_id}))["order"] is None
    queue = await gql.post(rival, QUEUE_HEAD, {"w": wid(world, "SH")})
    assert queue.json()["errors"][0]["message"] == "no such warehouse"
    claim = await gql(rival, "mutation($w: ID!) { claimPick(input: {warehouse: $w}) { errors { code } } }", {"w": wid(world, "SH")})
    assert claim["claimPick"]["errors"] == [{"code": "NOT_FOUND"}]
    received = await gql(rival, RECEIVE, {"i": {"warehouse": wid(world, "SH"), "sku": "TEA-001", "quantity": 1}})
    assert received["receiveStock"]["errors"][0]["code"] == "NOT_FOUND"
    await check_invariants(world.tenant.id)


async def test_reservations_and_movements_are_nodes_of_their_tenant_only(world, other_world, gql):
    """An ops person pasting a reservation or ledger id from a log gets the row back; another tenant gets nothing."""
    await place_warehouses(world)
    await stock_up(world, {"TEA-001": 9, "CUP-01": 9})
    key = world.keys["ops"]
    await gql(key, POLICY, {"i": {"config": {"strategy": "priority"}}})
    order_id = (await gql(key, CREATE_ORDER, {"input": order_input("NODE-1")}))["createOrder"]["order"]["id"]
    stock = (await gql(key, "query($id: ID!) { order(id: $id) { stock { reservations { id sku } movements { id kind } } } }",
                       {"id": order_id}))["order"]["stock"]
    reservation, movement = stock["reservations"][0], stock["movements"][0]
    query = """query($id: ID!) { node(id: $id) { id __typename
        ... on Reservation { sku status warehouse { code } }
        ... on StockMovement { kind reservedDelta } } }"""
    found = (await gql(key, query, {"id": reservation["id"]}))["node"]
    assert found == {"id": reservation["id"], "__typename": "Reservation", "sku": reservation["sku"], "status": "ACTIVE",
                     "warehouse": {"code": "SH"}}
    ledger = (await gql(key, query, {"id": movement["id"]}))["node"]
    assert (ledger["__typename"], ledger["kind"]) == ("StockMovement", movement["kind"])
    for foreign in (reservation["id"], movement["id"]):
        assert (await gql(other_world.keys["ops"], query, {"id": foreign}))["node"] is None
