"""Every list that grows without bound pages the same way: ``edges { cursor node }``, ``nodes``, ``pageInfo``,
``totalCount``, with ``first``/``after``.

For each field that was a plain list before issue 18, a client paging two at a time sees every item once and
in order, ``totalCount`` says how many there are on every page, and an edge's cursor (not only ``endCursor``)
resumes the list right after that edge.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.actor import Role
from domain.inbound import payloads, quarantine
from events import log
from models import Alert, AuditCheckpoint, ImportRowError, ImportRun, ReconciliationRun, Rule, SkuAlias
from resolvers import ids
from tests.helpers import stock_up

PAGE = "edges { cursor node { %s } } nodes { %s } pageInfo { hasNextPage endCursor hasPreviousPage startCursor } totalCount"


def _page(selection: str) -> str:
    return PAGE % (selection, selection)


def _at(data: Any, path: list[Any]) -> Any:
    for name in path:
        data = data[name]
    return data


async def walk(gql: Any, key: str, query: str, path: list[Any], variables: dict[str, Any] | None = None,
               key_of: str = "id") -> tuple[list[Any], list[str], set[int]]:
    """Page through a connection two at a time; return the items' keys, their edge cursors (in order) and the
    totalCount figures the pages gave."""
    seen: list[Any] = []
    cursors: list[str] = []
    totals: set[int] = set()
    after = None
    while True:
        data = _at(await gql(key, query, {**(variables or {}), "first": 2, "after": after}), path)
        assert len(data["edges"]) <= 2
        keys = [edge["node"][key_of] for edge in data["edges"]]
        assert [node[key_of] for node in data["nodes"]] == keys
        info = data["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        if data["edges"]:
            assert info["startCursor"] == data["edges"][0]["cursor"]
            assert info["endCursor"] == data["edges"][-1]["cursor"]
        seen += keys
        cursors += [edge["cursor"] for edge in data["edges"]]
        totals.add(data["totalCount"])
        if not info["hasNextPage"]:
            return seen, cursors, totals
        after = info["endCursor"]


async def check(gql: Any, key: str, query: str, path: list[Any], expected: list[Any],
                variables: dict[str, Any] | None = None, key_of: str = "id") -> None:
    """Paging returns ``expected`` once each, in order; totalCount is right; a middle edge's cursor resumes."""
    seen, cursors, totals = await walk(gql, key, query, path, variables, key_of)
    assert seen == expected and len(cursors) == len(set(cursors)) == len(expected)
    assert totals == {len(expected)}  # every page counts the whole list
    whole = _at(await gql(key, query, {**(variables or {}), "first": 100, "after": None}), path)
    assert [node[key_of] for node in whole["nodes"]] == expected and whole["pageInfo"]["hasNextPage"] is False
    resumed = _at(await gql(key, query, {**(variables or {}), "first": 100, "after": cursors[2]}), path)
    assert [node[key_of] for node in resumed["nodes"]] == expected[3:]
    assert resumed["totalCount"] == len(expected)  # the count is of the whole list, not of what is left


async def test_alerts_page_newest_first(world, gql):
    rows = [await Alert.create(tenant_id=world.tenant.id, kind="low_stock", subject=f"stock:{n}", message=f"low {n}")
            for n in range(5)]
    query = "query($first: Int!, $after: String) { alerts(first: $first, after: $after) { %s } }" % _page("id")
    await check(gql, world.keys["ops"], query, ["alerts"], [ids.encode("Alert", r.id) for r in reversed(rows)])


async def test_quarantine_pages_newest_first(world, gql):
    held = []
    for n in range(5):
        body = json.dumps({"n": n}).encode()
        payload_id, _ = await payloads.store(world.tenant.id, "channel", "new-shop", body, {}, "application/json")
        await quarantine.hold(tenant_id=world.tenant.id, payload_id=payload_id, kind="channel", source="new-shop",
                              reason_code="unknown_channel", reason="no such channel", field="", http_status=404,
                              verified=False)
        held.append(body.decode())
    query = ("query($first: Int!, $after: String) { quarantine(first: $first, after: $after) { %s } }"
             % _page("id body"))
    await check(gql, world.keys["admin"], query, ["quarantine"], list(reversed(held)), key_of="body")


async def test_import_runs_page_newest_first(world, gql):
    rows = [await ImportRun.create(tenant_id=world.tenant.id, channel_id=world.channel.id, file_name=f"orders-{n}.csv",
                                   file_sha256=f"{n:064d}", format="csv") for n in range(5)]
    query = "query($first: Int!, $after: String) { importRuns(first: $first, after: $after) { %s } }" % _page("id")
    await check(gql, world.keys["admin"], query, ["importRuns"], [ids.encode("ImportRun", r.id) for r in reversed(rows)])


async def test_an_imports_refused_rows_page_in_row_order(world, gql):
    run = await ImportRun.create(tenant_id=world.tenant.id, channel_id=world.channel.id, file_name="orders.csv",
                                 file_sha256="0" * 64, format="csv")
    for row in (6, 2, 4, 3, 5):
        await ImportRowError.create(run_id=run.id, row=row, field="quantity", message=f"row {row} is refused")
    other = await ImportRun.create(tenant_id=world.tenant.id, channel_id=world.channel.id, file_name="other.csv",
                                   file_sha256="1" * 64, format="csv")
    await ImportRowError.create(run_id=other.id, row=2, field="sku", message="another run's row")
    query = ("query($id: ID!, $first: Int!, $after: String) { importRun(id: $id) { errors(first: $first, after: $after) "
             "{ %s } } }" % _page("row message"))
    await check(gql, world.keys["admin"], query, ["importRun", "errors"], [2, 3, 4, 5, 6],
                {"id": ids.encode("ImportRun", run.id)}, key_of="row")


async def test_sku_aliases_page_oldest_first(world, gql):
    made = ("TB-E", "TB-A", "TB-C", "TB-B", "TB-D")
    for alias in made:
        await SkuAlias.create(tenant_id=world.tenant.id, channel_id=world.channel.id, alias=alias, sku="TEA-500")
    query = ("query($first: Int!, $after: String) { skuAliases(channel: \"tmall\", first: $first, after: $after) "
             "{ %s } }" % _page("alias channel"))
    await check(gql, world.keys["ops"], query, ["skuAliases"], list(made), key_of="alias")


async def test_reconciliations_page_newest_first(world, gql):
    rows = [await ReconciliationRun.create(tenant_id=world.tenant.id, day=date(2026, 11, 1) + timedelta(days=n),
                                           threshold=Decimal("0.01")) for n in range(5)]
    query = ("query($first: Int!, $after: String) { reconciliations(first: $first, after: $after) { %s } }"
             % _page("day"))
    await check(gql, world.keys["finance"], query, ["reconciliations"], [r.day.isoformat() for r in reversed(rows)],
                key_of="day")


async def test_lineage_checkpoints_page_largest_first(world, gql):
    signed = datetime(2026, 11, 1, tzinfo=UTC)
    for size in (10, 20, 30, 40, 50):
        await AuditCheckpoint.create(tenant_id=world.tenant.id, tree_size=size, root_hash=bytes(32), last_event_id=size,
                                     signed_at=signed + timedelta(minutes=size), key_id="k1", signature=bytes(64))
    query = ("query($first: Int!, $after: String) { lineageCheckpoints(first: $first, after: $after) { %s } }"
             % _page("treeSize"))
    await check(gql, world.keys["auditor"], query, ["lineageCheckpoints"], [50, 40, 30, 20, 10], key_of="treeSize")


async def test_rule_firings_page_newest_first(world, gql):
    saved = await gql(world.keys["admin"], """mutation { saveRule(input: {name: "big orders", condition: "true",
        triggers: ["order.created"], actions: [{type: "tag", tag: "big"}]}) { rule { id } errors { message } } }""")
    rule_id = saved["saveRule"]["rule"]["id"]
    rule = await Rule.get(id=ids.decode(rule_id)[1])
    for n in range(5):
        await log.append(tenant_id=world.tenant.id, order_id=None, type="rule.fired", actor=f"rule:{rule.name} v1",
                         source="rules", after={"rule": rule.name, "version": 1, "actions": [f"action {n}"]})
    await log.append(tenant_id=world.tenant.id, order_id=None, type="rule.fired", actor="rule:other v1",
                     source="rules", after={"rule": "other", "version": 1, "actions": ["not this rule"]})
    query = ("query($id: ID!, $first: Int!, $after: String) { rule(id: $id) { firings(first: $first, after: $after) "
             "{ %s } } }" % _page("actions"))
    expected = [[f"action {n}"] for n in reversed(range(5))]
    await check(gql, world.keys["admin"], query, ["rule", "firings"], expected, {"id": rule_id}, key_of="actions")


async def test_stock_level_movements_page_newest_first(world, gql):
    actor = world.actor(Role.ADMIN)
    for quantity in (1, 2, 3, 4, 5):
        await stock_up(actor, [world.warehouses[0].id], quantity=quantity)
    query = ("query($first: Int!, $after: String) { stockLevels(sku: \"TEA-001\") { nodes { "
             "movements(first: $first, after: $after) { %s } } } }" % _page("id onHandDelta"))
    await check(gql, world.keys["ops"], query, ["stockLevels", "nodes", 0, "movements"], [5, 4, 3, 2, 1],
                key_of="onHandDelta")


async def test_connections_that_had_only_nodes_now_have_edges_and_a_total(world, gql):
    actor = world.actor(Role.ADMIN)
    for n in range(5):
        await stock_up(actor, [world.warehouses[0].id], sku=f"SKU-{n}", quantity=1)
    query = ("query($first: Int!, $after: String) { stockLevels(first: $first, after: $after) { %s } }"
             % _page("sku"))
    await check(gql, world.keys["ops"], query, ["stockLevels"], [f"SKU-{n}" for n in range(5)], key_of="sku")
    query = ("query($first: Int!, $after: String) { stockMovements(first: $first, after: $after) { %s } }"
             % _page("sku"))
    await check(gql, world.keys["ops"], query, ["stockMovements"], [f"SKU-{n}" for n in reversed(range(5))],
                key_of="sku")


def test_every_connection_of_the_schema_has_the_one_shape():
    from graphql import GraphQLObjectType, get_named_type

    from schema.sdl import schema

    types = schema._schema.type_map
    connections = [name for name, t in types.items() if name.endswith("Connection") and isinstance(t, GraphQLObjectType)
                   and "pageInfo" in t.fields]
    assert {"OrderConnection", "AlertConnection", "ImportRunConnection", "StockLevelConnection"} <= set(connections)
    for name in connections:
        fields = types[name].fields
        assert {"edges", "nodes", "pageInfo", "totalCount"} <= set(fields), name
        edge = get_named_type(fields["edges"].type)
        assert set(edge.fields) == {"cursor", "node"}, name
        assert get_named_type(edge.fields["node"].type) is get_named_type(fields["nodes"].type), name
    assert set(types["PageInfo"].fields) == {"hasNextPage", "endCursor", "hasPreviousPage", "startCursor"}


async def test_a_cursor_from_elsewhere_is_refused_with_a_code(world, gql):
    answer = await gql.post(world.keys["admin"], '{ importRuns(after: "not-a-cursor") { totalCount } }')
    [error] = answer.json()["errors"]
    assert answer.status_code == 200 and error["extensions"]["code"] == "BAD_CURSOR"
    too_many = await gql.post(world.keys["admin"], "{ quarantine(first: 101) { totalCount } }")
    assert too_many.json()["errors"][0]["extensions"]["code"] == "BAD_PAGE_SIZE"
