"""``OrderEvent.type`` is the ``EventType`` enum (from ``events.catalogue``), ``typeCode`` the stored string.

An old row whose type this version does not know is ``OTHER`` and still
reads; filters take the enum next to the strings.
"""

from __future__ import annotations

import asyncio

import pytest
from gql import gql as document

from domain.errors import ValidationFailed
from events import log
from events.catalogue import CATALOGUE, enum_name
from resolvers import ids
from schema.build import build_schema
from schema.event_enums import EventType, filter_types
from domain import orders
from tests.helpers import paid_order
from tests.live_fixtures import collect, live_server, wait_until

ORDER_EVENTS = "query($id: ID!) { order(id: $id) { events { type typeCode } } }"
EVENTS = "query($f: EventFilter) { events(filter: $f) { nodes { type typeCode } } }"


def test_every_catalogued_type_is_an_enum_value_with_its_description():
    enum = build_schema(production=False)._schema.get_type("EventType")
    assert set(enum.values) == {enum_name(entry.type) for entry in CATALOGUE} | {"OTHER"}
    for entry in CATALOGUE:
        value = enum.values[enum_name(entry.type)]
        assert value.value == entry.type and entry.fires in value.description


async def test_an_event_shows_its_enum_value_and_its_stored_string(world, gql):
    order = await paid_order(world.actor(), world.channel.id, "E1")
    events = (await gql(world.keys["ops"], ORDER_EVENTS, {"id": ids.encode("Order", order.id)}))["order"]["events"]
    assert events == [{"type": "ORDER_CREATED", "typeCode": "order.created"}]


async def test_a_type_the_catalogue_does_not_know_reads_as_other(world, gql):
    order = await paid_order(world.actor(), world.channel.id, "E2")
    await log.append(tenant_id=world.tenant.id, order_id=order.id, type="legacy.renamed_long_ago", actor="old", source="v0")
    events = (await gql(world.keys["ops"], ORDER_EVENTS, {"id": ids.encode("Order", order.id)}))["order"]["events"]
    assert events[-1] == {"type": "OTHER", "typeCode": "legacy.renamed_long_ago"}


async def test_the_events_filter_takes_enum_values_next_to_strings(world, gql):
    order = await paid_order(world.actor(), world.channel.id, "E3")
    await log.append(tenant_id=world.tenant.id, order_id=order.id, type="legacy.renamed_long_ago", actor="old", source="v0")
    key = world.keys["admin"]
    by_enum = (await gql(key, EVENTS, {"f": {"eventTypes": ["ORDER_CREATED"]}}))["events"]["nodes"]
    assert by_enum == [{"type": "ORDER_CREATED", "typeCode": "order.created"}]
    both = (await gql(key, EVENTS, {"f": {"eventTypes": ["ORDER_CREATED"], "types": ["legacy.*"]}}))["events"]["nodes"]
    assert sorted(node["typeCode"] for node in both) == ["legacy.renamed_long_ago", "order.created"]
    refused = (await gql.post(key, EVENTS, {"f": {"eventTypes": ["OTHER"]}})).json()
    assert refused["errors"][0]["extensions"]["code"] == "VALIDATION" and "typeCode" in refused["errors"][0]["message"]
    unknown = (await gql.post(key, EVENTS, {"f": {"eventTypes": ["ORDER_EXPLODED"]}})).json()
    assert unknown["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_type_filters_join_strings_and_enum_values_and_refuse_other():
    assert filter_types(None, None) is None and filter_types([], []) is None
    assert filter_types(["stock.*"], [EventType.ORDER_SHIPPED]) == ["stock.*", "order.shipped"]
    with pytest.raises(ValidationFailed) as refused:
        filter_types(None, [EventType.ORDER_CREATED, EventType.OTHER])
    assert refused.value.field == "eventTypes"


async def test_a_subscription_filters_by_enum_values_and_shows_both_forms(world, db):
    subscription = document("subscription($f: OrderEventFilter) { orderEvents(filter: $f) { type typeCode } }")
    async with live_server(db) as (base, app):
        task = asyncio.create_task(collect(base, world.keys["ops"], subscription, 1,
                                           {"f": {"eventTypes": ["ORDER_HOLD_ADDED"]}}))
        await wait_until(lambda: app.state.bus.subscriber_count >= 1, 10)
        order = await paid_order(world.actor(), world.channel.id, "S-1")  # order.created: not wanted
        await orders.hold_order(world.actor(), order.id, ["address check"])
        received = await asyncio.wait_for(task, 10)
    assert received == [{"orderEvents": {"type": "ORDER_HOLD_ADDED", "typeCode": "order.hold_added"}}]
