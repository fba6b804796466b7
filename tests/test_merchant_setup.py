"""A merchant sets up over GraphQL: warehouses (paused, costed), catalogue items, SKU aliases, opening stock.

Every refusal is a typed error naming the field; every change is a lineage
row with who and why. The last test is the issue's story end to end: a
tenant built from nothing takes a signed channel webhook to delivered.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from domain.actor import Role
from domain.allocation.policy import parse_policy
from domain.allocation.strategies import Destination, Need, Site, plan
from domain.tenants.accounts import create_api_key, create_tenant
from models import OrderEvent, Stock, StockMovement
from resolvers import ids
from tests.conftest import GraphQLClient
from tests.helpers import key_actor
from tests.intake_support import standard_headers
from tests.stock_fixtures import order as paid_order
from tests.stock_fixtures import place_warehouses, stock_up

ERRORS = "errors { code field message }"
WAREHOUSE = ("warehouse { id code name province city district address postalCode countryCode region latitude longitude "
             "handlingCost priority active }")
CREATE_WAREHOUSE = f"mutation($i: CreateWarehouseInput!) {{ createWarehouse(input: $i) {{ {WAREHOUSE} {ERRORS} }} }}"
UPDATE_WAREHOUSE = f"mutation($i: UpdateWarehouseInput!) {{ updateWarehouse(input: $i) {{ {WAREHOUSE} {ERRORS} }} }}"
ITEM = "item { sku title category barcode weightGrams safetyStock active }"
UPSERT_ITEM = f"mutation($i: UpsertCatalogItemInput!) {{ upsertCatalogItem(input: $i) {{ {ITEM} change {ERRORS} }} }}"
SET_ALIAS = f"mutation($i: SetSkuAliasInput!) {{ setSkuAlias(input: $i) {{ alias {{ channel alias sku }} {ERRORS} }} }}"
REMOVE_ALIAS = f"mutation($i: RemoveSkuAliasInput!) {{ removeSkuAlias(input: $i) {{ alias {{ channel alias sku }} {ERRORS} }} }}"
LEVEL = "stock { sku onHand reserved available safety warehouse { code } }"
OPENING = f"mutation($i: SetOpeningStockInput!) {{ setOpeningStock(input: $i) {{ {LEVEL} {ERRORS} }} }}"
RECEIVE = f"mutation($i: ReceiveStockInput!) {{ receiveStock(input: $i) {{ {LEVEL} {ERRORS} }} }}"
POLICY = f"mutation($i: SetAllocationPolicyInput!) {{ setAllocationPolicy(input: $i) {{ policy {{ version }} {ERRORS} }} }}"
ALLOCATE = """mutation($id: ID!) { allocateOrderByPolicy(input: {id: $id}) {
  order { status warehouse { code } allocation { strategy summary candidates { code metric chosen reason } } }
  errors { code field message } } }"""
ITEMS_PAGE = """query($f: CatalogItemFilter, $first: Int!, $after: String) {
  catalogItems(filter: $f, first: $first, after: $after) { nodes { sku title } pageInfo { hasNextPage endCursor } totalCount } }"""

SH_ADDRESS = {"province": "上海", "city": "上海", "district": "青浦区", "street": "华新镇华志路 1688 号",
              "postalCode": "201708", "countryCode": "cn"}


def wid(world: Any, code: str) -> str:
    return ids.encode("Warehouse", next(w.id for w in world.warehouses if w.code == code))


async def _events(kind: str) -> list[OrderEvent]:
    return list(await OrderEvent.filter(type=kind).order_by("id"))


# --- warehouses --------------------------------------------------------------------------------


async def test_create_a_warehouse_with_its_address_and_see_it_in_lineage(world, gql):
    created = await gql(world.keys["ops"], CREATE_WAREHOUSE, {"i": {
        "code": "SH-QP", "name": "上海青浦仓", "address": SH_ADDRESS, "latitude": 31.15, "longitude": 121.12,
        "region": "east", "handlingCost": "2.50", "priority": 5}})
    assert created["createWarehouse"]["errors"] == []
    warehouse = created["createWarehouse"]["warehouse"]
    assert {k: v for k, v in warehouse.items() if k != "id"} == {
        "code": "SH-QP", "name": "上海青浦仓", "province": "上海", "city": "上海", "district": "青浦区",
        "address": "华新镇华志路 1688 号", "postalCode": "201708", "countryCode": "CN", "region": "east",
        "latitude": 31.15, "longitude": 121.12, "handlingCost": "2.50", "priority": 5, "active": True,
    }
    listed = await gql(world.keys["auditor"], "{ warehouses { code active handlingCost } }")
    assert {"code": "SH-QP", "active": True, "handlingCost": "2.50"} in listed["warehouses"]
    [event] = await _events("warehouse.created")
    assert event.actor == await key_actor(world.keys["ops"]) and event.source == "graphql"
    assert "og_" not in event.actor
    assert event.after["code"] == "SH-QP" and event.after["handling_cost"] == "2.50" and event.order_id is None  # type: ignore[attr-defined]


async def test_bad_warehouse_input_is_refused_naming_the_field(world, gql):
    key = world.keys["admin"]
    cases = [
        ({"code": "SH", "name": "again"}, "DUPLICATE", "code"),
        ({"code": "NEW WH", "name": "x"}, "VALIDATION", "code"),
        ({"code": "N1", "name": "  "}, "VALIDATION", "name"),
        ({"code": "N1", "name": "x", "latitude": 91, "longitude": 120}, "VALIDATION", "latitude"),
        ({"code": "N1", "name": "x", "latitude": 30, "longitude": -181}, "VALIDATION", "longitude"),
        ({"code": "N1", "name": "x", "latitude": 30}, "VALIDATION", "longitude"),
        ({"code": "N1", "name": "x", "address": {"countryCode": "CHN"}}, "VALIDATION", "address.countryCode"),
        ({"code": "N1", "name": "x", "address": {"postalCode": "20#1"}}, "VALIDATION", "address.postalCode"),
        ({"code": "N1", "name": "x", "handlingCost": "-1"}, "VALIDATION", "handlingCost"),
        ({"code": "N1", "name": "x", "handlingCost": "2.555"}, "VALIDATION", "handlingCost"),
        ({"code": "N1", "name": "x", "priority": -1}, "VALIDATION", "priority"),
    ]
    for given, code, field in cases:
        result = (await gql(key, CREATE_WAREHOUSE, {"i": given}))["createWarehouse"]
        assert result["warehouse"] is None, given
        assert [(e["code"], e["field"]) for e in result["errors"]] == [(code, field)], (given, result["errors"])
    refused = (await gql(world.keys["warehouse"], CREATE_WAREHOUSE, {"i": {"code": "N2", "name": "x"}}))["createWarehouse"]
    assert refused["errors"][0]["code"] == "FORBIDDEN"
    assert await _events("warehouse.created") == []


async def test_update_changes_only_what_is_given_and_null_clears_coordinates(world, gql):
    key = world.keys["ops"]
    sh = wid(world, "SH")
    moved = (await gql(key, UPDATE_WAREHOUSE, {"i": {"warehouse": sh, "latitude": 31.2, "longitude": 121.5,
                                                     "handlingCost": "1.80", "address": {"district": "浦东新区"}}}))
    warehouse = moved["updateWarehouse"]["warehouse"]
    assert (warehouse["name"], warehouse["province"], warehouse["district"], warehouse["latitude"], warehouse["handlingCost"]) == (
        "SH", "上海", "浦东新区", 31.2, "1.80")
    cleared = (await gql(key, UPDATE_WAREHOUSE, {"i": {"warehouse": sh, "latitude": None, "longitude": None,
                                                       "handlingCost": None}}))["updateWarehouse"]["warehouse"]
    assert (cleared["latitude"], cleared["longitude"], cleared["handlingCost"], cleared["district"]) == (None, None, None, "浦东新区")
    half = (await gql(key, UPDATE_WAREHOUSE, {"i": {"warehouse": sh, "latitude": 31.2}}))["updateWarehouse"]
    assert [(e["code"], e["field"]) for e in half["errors"]] == [("VALIDATION", "longitude")]
    nulled = (await gql(key, UPDATE_WAREHOUSE, {"i": {"warehouse": sh, "name": None}}))["updateWarehouse"]
    assert [(e["code"], e["field"]) for e in nulled["errors"]] == [("VALIDATION", "name")]
    unknown = (await gql(key, UPDATE_WAREHOUSE, {"i": {"warehouse": ids.encode("Warehouse", 999999), "region": "x"}}))
    assert unknown["updateWarehouse"]["errors"][0]["code"] == "NOT_FOUND"
    updates = await _events("warehouse.updated")
    assert len(updates) == 2  # the refused ones wrote nothing
    assert updates[0].before == {"district": "", "handling_cost": None, "latitude": None, "longitude": None}
    assert updates[1].after["latitude"] is None and "changed handling_cost, latitude, longitude" in updates[1].reason


async def test_a_paused_warehouse_keeps_its_stock_and_is_skipped_by_allocation(world, gql):
    await place_warehouses(world)  # SH is nearest and first by priority for a Shanghai order
    await stock_up(world, {"TEA-001": {"SH": 10, "GZ": 10}})
    key = world.keys["ops"]
    first = await paid_order(world, "P1", {"TEA-001": 2})
    allocated = (await gql(key, ALLOCATE, {"id": ids.encode("Order", first.id)}))["allocateOrderByPolicy"]["order"]
    assert allocated["warehouse"] == {"code": "SH"}

    paused = await gql(key, UPDATE_WAREHOUSE, {"i": {"warehouse": wid(world, "SH"), "active": False, "reason": "stocktake"}})
    assert paused["updateWarehouse"]["warehouse"]["active"] is False
    [event] = await _events("warehouse.paused")
    assert event.reason == "stocktake" and event.after["live_reservations"] == 1
    second = await paid_order(world, "P2", {"TEA-001": 2})
    result = (await gql(key, ALLOCATE, {"id": ids.encode("Order", second.id)}))["allocateOrderByPolicy"]
    assert result["order"]["warehouse"] == {"code": "GZ"}
    assert "SH" not in [c["code"] for c in result["order"]["allocation"]["candidates"]]
    sh_stock = await Stock.get(warehouse_id=world.warehouses[0].id, sku="TEA-001")
    assert (sh_stock.on_hand, sh_stock.reserved) == (10, 2)  # paused: stock and the earlier promise stay

    await gql(key, UPDATE_WAREHOUSE, {"i": {"warehouse": wid(world, "SH"), "active": True}})
    assert [e.type for e in await OrderEvent.filter(type__startswith="warehouse.").order_by("id")] == [
        "warehouse.paused", "warehouse.resumed"]
    third = await paid_order(world, "P3", {"TEA-001": 2})
    again = (await gql(key, ALLOCATE, {"id": ids.encode("Order", third.id)}))["allocateOrderByPolicy"]["order"]
    assert again["warehouse"] == {"code": "SH"}


# --- lowest cost uses the warehouse's own handling cost ---------------------------------------

SH = Site(1, "SH", "上海", "上海", 31.15, 121.12, 10, handling_cost=Decimal("9.00"))
GZ = Site(2, "GZ", "广东", "广州", 23.16, 113.27, 20, handling_cost=Decimal("0.50"))
PLENTY = {(site.id, "TEA"): 50 for site in (SH, GZ)}
NANJING = Destination("江苏", "南京")


def _cost_plan(handling: dict[str, str]) -> Any:
    cost = {"shipping_base": "5", "shipping_per_km": "0.004", "handling": handling}
    return plan([SH, GZ], [Need(1, "TEA", 1)], PLENTY, parse_policy({"strategy": "cost", "cost": cost}, {"SH", "GZ"}), NANJING)


def test_lowest_cost_takes_the_warehouse_handling_cost_when_the_policy_names_none():
    own = _cost_plan({})
    metrics = {c.code: c.metric for c in own.candidates}
    assert own.assignments == {1: GZ.id}  # SH is near Nanjing but its own handling (9.00) costs more than the distance
    assert metrics["SH"].endswith("handling 9.00 (the warehouse's own) + delay 0")
    # the policy's "*" is a default: a warehouse's own figure is more specific
    assert _cost_plan({"*": "1"}).assignments == {1: GZ.id}
    # naming the warehouse in the policy wins over its own figure
    named = _cost_plan({"SH": "0"})
    assert named.assignments == {1: SH.id}
    assert {c.code: c.metric for c in named.candidates}["SH"].endswith("handling 0 + delay 0")


async def test_cost_allocation_reads_handling_cost_stored_on_the_warehouse(world, gql):
    await place_warehouses(world)
    await stock_up(world, {"TEA-001": {"SH": 5, "GZ": 5}})
    key = world.keys["ops"]
    await gql(key, UPDATE_WAREHOUSE, {"i": {"warehouse": wid(world, "SH"), "handlingCost": "30.00"}})
    config = {"strategy": "cost", "auto_allocate": False, "cost": {"shipping_base": "5", "shipping_per_km": "0.004"}}
    assert (await gql(key, POLICY, {"i": {"config": config}}))["setAllocationPolicy"]["errors"] == []
    new = await paid_order(world, "C1", {"TEA-001": 1})
    result = (await gql(key, ALLOCATE, {"id": ids.encode("Order", new.id)}))["allocateOrderByPolicy"]["order"]
    assert result["warehouse"] == {"code": "GZ"}
    metrics = {c["code"]: c["metric"] for c in result["allocation"]["candidates"]}
    assert "handling 30.00 (the warehouse's own)" in metrics["SH"]


# --- catalogue items ---------------------------------------------------------------------------


async def test_upsert_creates_changes_and_repeats_without_lineage_noise(world, gql):
    key = world.keys["ops"]
    item = {"sku": "TEA-LJ-250", "title": "西湖龙井 250g", "category": "tea", "barcode": "6901234567892",
            "weightGrams": 280, "safetyStock": 4}
    created = (await gql(key, UPSERT_ITEM, {"i": item}))["upsertCatalogItem"]
    assert created["change"] == "CREATED" and created["errors"] == []
    assert created["item"] == {"sku": "TEA-LJ-250", "title": "西湖龙井 250g", "category": "tea", "barcode": "6901234567892",
                               "weightGrams": 280, "safetyStock": 4, "active": True}
    again = (await gql(key, UPSERT_ITEM, {"i": item}))["upsertCatalogItem"]
    assert again["change"] == "UNCHANGED"
    changed = (await gql(key, UPSERT_ITEM, {"i": {"sku": "TEA-LJ-250", "safetyStock": 6, "active": False}}))["upsertCatalogItem"]
    assert changed["change"] == "UPDATED" and changed["item"]["title"] == "西湖龙井 250g" and changed["item"]["safetyStock"] == 6
    assert [e.type for e in await OrderEvent.filter(type__startswith="catalog.").order_by("id")] == [
        "catalog.item_created", "catalog.item_updated"]
    update = (await _events("catalog.item_updated"))[0]
    assert update.before == {"active": True, "safety_stock": 4} and update.after == {"sku": "TEA-LJ-250", "active": False, "safety_stock": 6}


async def test_bad_items_are_refused_naming_the_field(world, gql):
    key = world.keys["admin"]
    await gql(key, UPSERT_ITEM, {"i": {"sku": "CUP-01", "title": "盖碗", "barcode": "4006381333931"}})
    cases = [
        ({"sku": "NEW-1"}, "VALIDATION", "title"),
        ({"sku": "has space", "title": "x"}, "VALIDATION", "sku"),
        ({"sku": "NEW-1", "title": "x", "barcode": "6901234567891"}, "VALIDATION", "barcode"),  # wrong check digit
        ({"sku": "NEW-1", "title": "x", "barcode": "4006381333931"}, "DUPLICATE", "barcode"),
        ({"sku": "NEW-1", "title": "x", "weightGrams": 0}, "VALIDATION", "weightGrams"),
        ({"sku": "NEW-1", "title": "x", "safetyStock": -1}, "VALIDATION", "safetyStock"),
        ({"sku": "CUP-01", "title": None}, "VALIDATION", "title"),
    ]
    for given, code, field in cases:
        result = (await gql(key, UPSERT_ITEM, {"i": given}))["upsertCatalogItem"]
        assert result["item"] is None and result["change"] is None, given
        assert [(e["code"], e["field"]) for e in result["errors"]] == [(code, field)], (given, result["errors"])
    forbidden = (await gql(world.keys["warehouse"], UPSERT_ITEM, {"i": {"sku": "NEW-2", "title": "x"}}))["upsertCatalogItem"]
    assert forbidden["errors"][0]["code"] == "FORBIDDEN"


async def test_catalog_items_are_paged_by_sku_and_filtered(world, gql):
    key = world.keys["admin"]
    for sku, title, category in (("A-1", "Alpha", "tea"), ("B-2", "Beta 龙井", "tea"), ("C-3", "Gamma", "ware"),
                                 ("D-4", "Delta", "tea"), ("E-5", "Epsilon", "ware")):
        await gql(key, UPSERT_ITEM, {"i": {"sku": sku, "title": title, "category": category}})
    await gql(key, UPSERT_ITEM, {"i": {"sku": "E-5", "active": False}})
    reader = world.keys["auditor"]
    seen, after = [], None
    while True:
        page = (await gql(reader, ITEMS_PAGE, {"first": 2, "after": after}))["catalogItems"]
        seen += [node["sku"] for node in page["nodes"]]
        assert page["totalCount"] == 5
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["A-1", "B-2", "C-3", "D-4", "E-5"]
    tea = (await gql(reader, ITEMS_PAGE, {"f": {"category": "tea", "search": "龙井"}, "first": 10}))["catalogItems"]
    assert [n["sku"] for n in tea["nodes"]] == ["B-2"]
    active_ware = (await gql(reader, ITEMS_PAGE, {"f": {"category": "ware", "active": True}, "first": 10}))["catalogItems"]
    assert [n["sku"] for n in active_ware["nodes"]] == ["C-3"]
    too_many = await gql.post(reader, ITEMS_PAGE, {"first": 1000})
    assert too_many.json()["errors"][0]["message"].startswith("first must be between 0 and")


# --- aliases -----------------------------------------------------------------------------------


async def test_sku_alias_points_at_a_known_item_and_can_be_repointed_and_removed(world, gql):
    key = world.keys["ops"]
    for sku in ("TEA-250", "TEA-500"):
        await gql(key, UPSERT_ITEM, {"i": {"sku": sku, "title": sku}})
    unknown = (await gql(key, SET_ALIAS, {"i": {"channel": "tmall", "alias": "TB-X", "sku": "NOPE"}}))["setSkuAlias"]
    assert [(e["code"], e["field"]) for e in unknown["errors"]] == [("NOT_FOUND", "sku")]
    assert "upsertCatalogItem" in unknown["errors"][0]["message"]
    no_channel = (await gql(key, SET_ALIAS, {"i": {"channel": "nowhere", "alias": "TB-X", "sku": "TEA-250"}}))["setSkuAlias"]
    assert [(e["code"], e["field"]) for e in no_channel["errors"]] == [("NOT_FOUND", "channel")]
    made = (await gql(key, SET_ALIAS, {"i": {"channel": "tmall", "alias": "TB-TEA-250", "sku": "TEA-250"}}))["setSkuAlias"]
    assert made == {"alias": {"channel": "tmall", "alias": "TB-TEA-250", "sku": "TEA-250"}, "errors": []}
    moved = (await gql(key, SET_ALIAS, {"i": {"channel": "tmall", "alias": "TB-TEA-250", "sku": "TEA-500"}}))["setSkuAlias"]
    assert moved["alias"]["sku"] == "TEA-500"
    listed = await gql(world.keys["finance"], '{ skuAliases(channel: "tmall") { nodes { alias sku } totalCount } }')
    assert listed["skuAliases"] == {"nodes": [{"alias": "TB-TEA-250", "sku": "TEA-500"}], "totalCount": 1}
    removed = (await gql(key, REMOVE_ALIAS, {"i": {"channel": "tmall", "alias": "TB-TEA-250"}}))["removeSkuAlias"]
    assert removed["alias"]["sku"] == "TEA-500"
    gone = (await gql(key, REMOVE_ALIAS, {"i": {"channel": "tmall", "alias": "TB-TEA-250"}}))["removeSkuAlias"]
    assert [(e["code"], e["field"]) for e in gone["errors"]] == [("NOT_FOUND", "alias")]
    events = await OrderEvent.filter(type__startswith="catalog.alias").order_by("id")
    assert [(e.type, e.before, (e.after or {}).get("sku")) for e in events] == [
        ("catalog.alias_set", None, "TEA-250"), ("catalog.alias_set", {"sku": "TEA-250"}, "TEA-500"),
        ("catalog.alias_removed", {"channel": "tmall", "alias": "TB-TEA-250", "sku": "TEA-500"}, None)]


# --- opening stock -----------------------------------------------------------------------------


async def test_opening_stock_goes_through_the_ledger_once_and_new_rows_take_the_item_safety(world, gql):
    key = world.keys["ops"]
    await gql(key, UPSERT_ITEM, {"i": {"sku": "TEA-250", "title": "龙井", "safetyStock": 4}})
    opened = (await gql(key, OPENING, {"i": {"warehouse": wid(world, "SH"), "sku": "TEA-250", "quantity": 20,
                                             "reason": "stocktake 2026-11"}}))["setOpeningStock"]
    assert opened == {"stock": {"sku": "TEA-250", "onHand": 20, "reserved": 0, "available": 20, "safety": 4,
                                "warehouse": {"code": "SH"}}, "errors": []}
    ledger = await gql(key, '{ stockMovements(sku: "TEA-250") { nodes { kind onHandDelta reason actor } } }')
    [movement] = ledger["stockMovements"]["nodes"]
    assert (movement["kind"], movement["onHandDelta"], movement["reason"]) == ("OPENING_STOCK", 20, "opening stock: stocktake 2026-11")
    [event] = await _events("stock.opened")
    assert event.reason.startswith("opening stock") and event.after["on_hand"] == 20 and event.actor == movement["actor"]

    twice = (await gql(key, OPENING, {"i": {"warehouse": wid(world, "SH"), "sku": "TEA-250", "quantity": 20}}))["setOpeningStock"]
    assert [(e["code"], e["field"]) for e in twice["errors"]] == [("CONFLICT", "quantity")]
    assert "receiveStock" in twice["errors"][0]["message"]
    # a row that already had a receipt cannot be "opened" either
    received = (await gql(key, RECEIVE, {"i": {"warehouse": wid(world, "GZ"), "sku": "TEA-250", "quantity": 3}}))["receiveStock"]
    assert received["stock"]["safety"] == 4  # a new (warehouse, SKU) row starts with the item's safety stock
    late = (await gql(key, OPENING, {"i": {"warehouse": wid(world, "GZ"), "sku": "TEA-250", "quantity": 9}}))["setOpeningStock"]
    assert late["errors"][0]["code"] == "CONFLICT" and "RECEIPT" in late["errors"][0]["message"]
    assert await StockMovement.filter(kind="OPENING_STOCK").count() == 1

    for given, code, field in (({"quantity": -1}, "VALIDATION", "quantity"), ({"sku": "NOPE"}, "NOT_FOUND", "sku"),
                               ({"warehouse": ids.encode("Warehouse", 999999)}, "NOT_FOUND", "warehouse")):
        wanted = {"warehouse": wid(world, "TJ"), "sku": "TEA-250", "quantity": 5, **given}
        result = (await gql(key, OPENING, {"i": wanted}))["setOpeningStock"]
        assert [(e["code"], e["field"]) for e in result["errors"]] == [(code, field)], given
    forbidden = (await gql(world.keys["warehouse"], OPENING, {"i": {"warehouse": wid(world, "TJ"), "sku": "TEA-250",
                                                                    "quantity": 1}}))["setOpeningStock"]
    assert forbidden["errors"][0]["code"] == "FORBIDDEN"


async def test_receiving_an_unknown_sku_says_how_to_create_it(world, gql):
    refused = (await gql(world.keys["warehouse"], RECEIVE, {"i": {"warehouse": wid(world, "SH"), "sku": "GHOST-1",
                                                                  "quantity": 1}}))["receiveStock"]
    assert refused["errors"][0]["code"] == "NOT_FOUND" and refused["errors"][0]["field"] == "sku"
    assert "upsertCatalogItem" in refused["errors"][0]["message"] and "ordergraph catalog import" in refused["errors"][0]["message"]


# --- the issue's story: from nothing to delivered -----------------------------------------------

WEBHOOK_SECRET = "whsec_dGVhaG91c2Utd3hzaG9wLXNpZ25pbmcta2V5LTAx"
KUAIDI100_SALT = "teahouse-kd100-salt"
#: A WeChat mini-shop that posts its own JSON (amounts in yuan, ISO times): read by a generic JMESPath mapping.
SHOP_MAPPING = {
    "source": "wxshop",
    "external_id": "order.no",
    "status": "order.state",
    "currency": "order.currency",
    "total_amount": "order.pay_amount",
    "updated_at": "order.updated_at",
    "placed_at": "order.created_at",
    "lines": "order.goods",
    "line.sku": "sku_code",
    "line.quantity": "count",
    "line.unit_price": "price",
    "line.title": "name",
    "customer_name": "order.receiver.name",
    "customer_phone": "order.receiver.mobile",
    "address.name": "order.receiver.name",
    "address.phone": "order.receiver.mobile",
    "address.province": "order.receiver.province",
    "address.city": "order.receiver.city",
    "address.district": "order.receiver.district",
    "address.street": "order.receiver.detail",
    "payment_reference": "order.transaction_id",
    "payment_gateway": "'wechatpay'",
}
CHINA = timezone(timedelta(hours=8))


def _shop_order(now: datetime) -> bytes:
    placed = (now - timedelta(minutes=12)).astimezone(CHINA).isoformat(timespec="seconds")
    paid = (now - timedelta(minutes=10)).astimezone(CHINA).isoformat(timespec="seconds")
    return json.dumps({"event": "order.paid", "order": {
        "no": "WX202611300001", "state": "paid", "currency": "CNY", "pay_amount": "346.00",
        "created_at": placed, "updated_at": paid, "transaction_id": "4200002011202611301234567890",
        "receiver": {"name": "周敏", "mobile": "13700001111", "province": "上海市", "city": "上海市", "district": "徐汇区",
                     "detail": "漕溪北路 88 号 1201 室"},
        "goods": [{"sku_code": "TEA-LJ-250", "count": 2, "price": "168.00", "name": "西湖龙井 250g"},
                  {"sku_code": "CUP-GW", "count": 1, "price": "10.00", "name": "白瓷盖碗"}],
    }}, ensure_ascii=False).encode()


def _kuaidi100_delivered(now: datetime, waybill: str) -> bytes:
    def china(hours_ago: float) -> str:
        return (now - timedelta(hours=hours_ago)).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")

    param = json.dumps({"status": "polling", "billstatus": "check", "message": "", "autoCheck": "0", "comOld": "", "comNew": "",
                        "lastResult": {"message": "ok", "nu": waybill, "ischeck": "1", "condition": "F00", "com": "yuantong",
                                       "status": "200", "state": "3", "data": [
            {"time": china(0.1), "ftime": china(0.1), "context": "【上海市徐汇区】已签收，签收人：本人", "status": "签收",
             "areaName": "上海,上海市,徐汇区", "statusCode": "3"},
            {"time": china(1), "ftime": china(1), "context": "【上海市徐汇区】派件员正在派件", "status": "派件",
             "areaName": "上海,上海市,徐汇区", "statusCode": "5"},
            {"time": china(2), "ftime": china(2), "context": "【上海市青浦区】已揽收", "status": "揽收",
             "areaName": "上海,上海市,青浦区", "statusCode": "1"},
        ]}}, ensure_ascii=False, separators=(",", ":"))
    sign = hashlib.md5((param + KUAIDI100_SALT).encode()).hexdigest().upper()
    return urlencode({"param": param, "sign": sign}).encode()


ORDER_VIEW = """query($channel: String!, $id: String!) { orderByExternalId(channel: $channel, externalId: $id) {
  id status totalAmount warehouse { code }
  lines { sku quantity warehouse { code } }
  shipments { carrier trackingNo status source trackingEvents { status rawCode } }
  allocation { strategy chosen { code } }
  stock { movements { kind sku onHandDelta reservedDelta warehouse { code } } }
  events { type: typeCode actor source reason }
} }"""


async def _ok(gql: GraphQLClient, key: str, query: str, variables: dict[str, Any], name: str) -> dict[str, Any]:
    result = (await gql(key, query, variables))[name]
    assert result["errors"] == [], (name, result["errors"])
    return result


async def test_a_tenant_built_from_nothing_takes_a_webhook_order_to_delivered(db, gql):
    await create_tenant("teahouse", "Teahouse 茶舍")
    _, admin = await create_api_key("teahouse", Role.ADMIN, "setup desk", owner="Mei Lin <mei@teahouse.cn>")
    _, ops = await create_api_key("teahouse", Role.OPS, "dock", owner="Dock team")
    wh = await _ok(gql, admin, CREATE_WAREHOUSE, {"i": {
        "code": "SH", "name": "上海青浦仓", "address": SH_ADDRESS, "latitude": 31.15, "longitude": 121.12,
        "handlingCost": "3.00"}}, "createWarehouse")
    gz = await _ok(gql, admin, CREATE_WAREHOUSE, {"i": {
        "code": "GZ", "name": "广州白云仓", "address": {"province": "广东", "city": "广州"}, "latitude": 23.16,
        "longitude": 113.27, "handlingCost": "1.00"}}, "createWarehouse")
    sh_id, gz_id = wh["warehouse"]["id"], gz["warehouse"]["id"]
    for sku, title, safety in (("TEA-LJ-250", "西湖龙井 250g", 2), ("CUP-GW", "白瓷盖碗", 0)):
        await _ok(gql, admin, UPSERT_ITEM, {"i": {"sku": sku, "title": title, "safetyStock": safety}}, "upsertCatalogItem")
    for warehouse, sku, quantity in ((sh_id, "TEA-LJ-250", 30), (sh_id, "CUP-GW", 10), (gz_id, "TEA-LJ-250", 5)):
        await _ok(gql, admin, OPENING, {"i": {"warehouse": warehouse, "sku": sku, "quantity": quantity}}, "setOpeningStock")
    channel = await gql(admin, """mutation($i: RegisterChannelInput!) { registerChannel(input: $i) {
        channel { hookPath hasSecret } errors { code field message } } }""",
                        {"i": {"code": "wxshop", "kind": "generic", "name": "微信小店", "secret": WEBHOOK_SECRET,
                               "mapping": SHOP_MAPPING}})
    assert channel["registerChannel"] == {"channel": {"hookPath": "/hooks/teahouse/wxshop", "hasSecret": True}, "errors": []}
    mapped = await gql(admin, """mutation($i: SaveStatusMappingInput!) { saveStatusMapping(input: $i) { table { version }
        errors { code field message } } }""", {"i": {"table": "wxshop", "reason": "our shop's states",
                                                     "entries": [{"code": "paid", "order": "PAID", "payment": "PAID"}]}})
    assert mapped["saveStatusMapping"]["errors"] == []
    account = await gql(admin, """mutation($i: CarrierAccountInput!) { saveCarrierAccount(input: $i) { account { hookPath }
        errors { code } } }""", {"i": {"provider": "kuaidi100", "secret": KUAIDI100_SALT}})
    assert account["saveCarrierAccount"]["account"]["hookPath"] == "/hooks/teahouse/carrier/kuaidi100"
    policy = {"strategy": "cost", "auto_allocate": True, "cost": {"shipping_base": "6", "shipping_per_km": "0.004"}}
    await _ok(gql, admin, POLICY, {"i": {"config": policy}}, "setAllocationPolicy")

    # 1. the channel posts a paid order, signed (Standard Webhooks): it is created and allocated at once
    now = datetime.now(UTC)
    body = _shop_order(now)
    response = await gql.http.post("/hooks/teahouse/wxshop", content=body, headers=standard_headers(body, secret=WEBHOOK_SECRET))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "created" and response.json()["orderStatus"] == "ALLOCATED"
    view = (await gql(ops, ORDER_VIEW, {"channel": "wxshop", "id": "WX202611300001"}))["orderByExternalId"]
    assert view["status"] == "ALLOCATED" and view["totalAmount"] == "346.00" and view["warehouse"] == {"code": "SH"}
    assert view["allocation"] == {"strategy": "cost", "chosen": [{"code": "SH"}]}
    assert sorted((m["kind"], m["sku"], m["reservedDelta"], m["warehouse"]["code"]) for m in view["stock"]["movements"]) == [
        ("RESERVE", "CUP-GW", 1, "SH"), ("RESERVE", "TEA-LJ-250", 2, "SH")]
    types = [e["type"] for e in view["events"]]
    assert types[0] == "order.created" and "order.allocated" in types
    assert (view["events"][0]["actor"], view["events"][0]["source"]) == ("channel:wxshop", "channel")
    levels = await gql(ops, '{ stockLevels(sku: "TEA-LJ-250") { nodes { warehouse { code } onHand reserved safety } } }')
    assert levels["stockLevels"]["nodes"] == [{"warehouse": {"code": "SH"}, "onHand": 30, "reserved": 2, "safety": 2},
                                              {"warehouse": {"code": "GZ"}, "onHand": 5, "reserved": 0, "safety": 2}]

    # 2. the dock picks, packs and hands the parcel to YTO
    order_id = view["id"]
    for status in ("PICKING", "PACKED"):
        moved = await gql(ops, """mutation($i: TransitionOrderInput!) { transitionOrder(input: $i) { order { status }
            errors { code message } } }""", {"i": {"id": order_id, "status": status}})
        assert moved["transitionOrder"] == {"order": {"status": status}, "errors": []}
    shipped = await gql(ops, """mutation($i: ShipOrderInput!) { shipOrder(input: $i) { order { status } errors { code message } } }""",
                        {"i": {"id": order_id, "carrier": "YTO", "trackingNo": "YT9876543210123"}})
    assert shipped["shipOrder"] == {"order": {"status": "SHIPPED"}, "errors": []}
    view = (await gql(ops, ORDER_VIEW, {"channel": "wxshop", "id": "WX202611300001"}))["orderByExternalId"]
    ships = sorted((m["sku"], m["onHandDelta"], m["reservedDelta"]) for m in view["stock"]["movements"] if m["kind"] == "SHIP")
    assert ships == [("CUP-GW", -1, -1), ("TEA-LJ-250", -2, -2)]
    assert [(s["carrier"], s["status"], s["source"]) for s in view["shipments"]] == [("YTO", "LABEL_CREATED", "ops")]
    tea = await StockMovement.filter(sku="TEA-LJ-250", warehouse__code="SH").order_by("id").values_list("kind", "on_hand_delta", "reserved_delta")
    assert tea == [("OPENING_STOCK", 30, 0), ("RESERVE", 0, 2), ("SHIP", -2, -2)]

    # 3. Kuaidi100 pushes the delivery scan, signed with the account's salt
    push = await gql.http.post("/hooks/teahouse/carrier/kuaidi100", content=_kuaidi100_delivered(now, "YT9876543210123"),
                               headers={"content-type": "application/x-www-form-urlencoded"})
    assert push.status_code == 200 and push.content.decode() == '{"result":true,"returnCode":"200","message":"成功"}'
    view = (await gql(ops, ORDER_VIEW, {"channel": "wxshop", "id": "WX202611300001"}))["orderByExternalId"]
    assert view["status"] == "DELIVERED"
    assert [e["status"] for e in view["shipments"][0]["trackingEvents"]] == ["PICKED_UP", "OUT_FOR_DELIVERY", "DELIVERED"]
    lineage = [(e["type"], e["actor"]) for e in view["events"]]
    shipped_at = next(i for i, (kind, actor) in enumerate(lineage) if kind == "order.shipped" and actor == "Dock team via dock (ops key)")
    delivered_at = next(i for i, (kind, actor) in enumerate(lineage) if kind == "order.status_changed" and actor == "carrier:kuaidi100")
    assert shipped_at < delivered_at
    assert ("intake.tracking_applied", "carrier:kuaidi100") in lineage[shipped_at:]
    final = await Stock.get(warehouse__code="SH", sku="TEA-LJ-250")
    assert (final.on_hand, final.reserved) == (28, 0)
    setup = [e.type for e in await OrderEvent.filter(order_id=None).order_by("id")]
    assert setup[:7] == ["warehouse.created", "warehouse.created", "catalog.item_created", "catalog.item_created",
                         "stock.opened", "stock.opened", "stock.opened"]
    assert {"channel.registered", "carrier_account.saved", "allocation.policy_set"} <= set(setup)
