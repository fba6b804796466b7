"""The root ``events`` connection by business time (issue 17 e): orders placed on a day of the tenant's time
zone or in a UTC range, by recorded day, and by type, source and key owner; bad combinations are clear errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.actor import Role
from domain.tenants.accounts import authenticate, create_api_key
from models import OrderEvent
from tests.conftest import World
from tests.helpers import paid_order, stock_up

SHANGHAI = ZoneInfo("Asia/Shanghai")
OWNER = "Li Wei <li.wei@acme.cn>"
EVENTS = """query($f: EventFilter) { events(filter: $f) { nodes { eventId type: typeCode actor } } }"""


async def _world_of_events(world: World) -> tuple[set[int], set[int], set[int], datetime]:
    """An order placed late on a day ten days ago (Shanghai; the same date in UTC, 15:30) by an owned key acting
    for the ERP, one placed now, and stock events with no order."""
    _, secret = await create_api_key(world.tenant.slug, Role.OPS, "erp-bridge", owner=OWNER)
    erp = await authenticate(secret, source="erp")
    assert erp is not None
    late = datetime.combine(datetime.now(SHANGHAI).date() - timedelta(days=10), datetime.min.time(), SHANGHAI)
    late = late.replace(hour=23, minute=30)
    old = await paid_order(erp, world.channel.id, "OLD", placed_at=late)
    new = await paid_order(world.actor(Role.ADMIN), world.channel.id, "NEW")
    await stock_up(world.actor(Role.ADMIN), [world.warehouses[0].id])
    old_ids = set(await OrderEvent.filter(order_id=old.id).values_list("id", flat=True))
    new_ids = set(await OrderEvent.filter(order_id=new.id).values_list("id", flat=True))
    stock_ids = set(await OrderEvent.filter(tenant_id=world.tenant.id, type__startswith="stock.")
                    .values_list("id", flat=True))
    assert old_ids and new_ids and stock_ids
    return old_ids, new_ids, stock_ids, late


async def test_orders_of_a_day_are_found_by_placed_time_in_the_tenants_zone(world: World, gql) -> None:  # type: ignore[no-untyped-def]
    old_ids, new_ids, stock_ids, late = await _world_of_events(world)
    auditor = world.keys["auditor"]

    async def ids(**wanted: object) -> set[int]:
        nodes = (await gql(auditor, EVENTS, {"f": {"first": 500, **wanted}}))["events"]["nodes"]
        return {int(node["eventId"]) for node in nodes}

    day = late.date()
    today = datetime.now(SHANGHAI).date()
    assert await ids(day=day.isoformat()) == old_ids
    assert await ids(day=day.isoformat(), by="PLACED") == old_ids
    assert await ids(day=(day - timedelta(days=1)).isoformat()) == set()
    assert await ids(day=(day - timedelta(days=1)).isoformat(), lastDay=day.isoformat()) == old_ids
    assert await ids(day=today.isoformat()) == new_ids
    assert await ids(day=day.isoformat(), by="RECORDED") == set()
    assert old_ids | new_ids | stock_ids <= await ids(day=today.isoformat(), by="RECORDED")
    assert await ids(day=today.isoformat(), by="RECORDED", types=["stock.*"]) == stock_ids

    placed_utc = late.astimezone(UTC)
    assert await ids(placedFrom=(placed_utc - timedelta(minutes=1)).isoformat(),
                     placedTo=(placed_utc + timedelta(minutes=1)).isoformat()) == old_ids
    # A naive DateTime is UTC: 23:30 Shanghai is 15:30 UTC, so 23:00-24:00 "UTC" misses it.
    naive = late.replace(tzinfo=None)
    assert await ids(placedFrom=(naive - timedelta(hours=1)).isoformat(), placedTo=naive.isoformat()) == set()
    assert await ids(placedFrom=(placed_utc + timedelta(minutes=1)).isoformat()) == new_ids


async def test_events_are_found_by_source_owner_and_actor_text(world: World, gql) -> None:  # type: ignore[no-untyped-def]
    old_ids, new_ids, _, _ = await _world_of_events(world)
    auditor = world.keys["auditor"]

    async def found(**wanted: object) -> list[dict]:
        return (await gql(auditor, EVENTS, {"f": {"first": 500, **wanted}}))["events"]["nodes"]

    by_source = await found(source="erp")
    assert {int(n["eventId"]) for n in by_source} == old_ids
    by_owner = await found(owner=" li wei   <LI.WEI@acme.cn> ")
    assert {int(n["eventId"]) for n in by_owner} == old_ids
    assert {n["actor"] for n in by_owner} == {f"{OWNER} via erp-bridge (ops key)"}
    assert await found(owner="Li Wei") == []           # an owner is matched whole; part of it: `actor`
    assert {int(n["eventId"]) for n in await found(actor="li.wei@")} == old_ids
    created = set(await OrderEvent.filter(id__in=old_ids, type="order.created").values_list("id", flat=True))
    assert created and {int(n["eventId"]) for n in await found(source="erp", types=["order.created"])} == created
    assert await found(source="erp", day=datetime.now(SHANGHAI).date().isoformat()) == []

    looked = await OrderEvent.filter(tenant_id=world.tenant.id, type="lineage.looked_up").order_by("-id").first()
    assert looked is not None
    assert looked.after["params"]["source"] == "erp" and looked.after["params"]["by"] == "placed"
    assert looked.after["params"]["day"] == datetime.now(SHANGHAI).date().isoformat()


async def test_contradictory_or_bad_business_time_filters_are_clear_errors(world: World, gql) -> None:  # type: ignore[no-untyped-def]
    auditor = world.keys["auditor"]
    cases = [
        ({"day": "2026-11-30", "placedFrom": "2026-11-30T00:00:00Z"}, "not both"),
        ({"placedFrom": "2026-11-30T00:00:00Z", "placedTo": "2026-11-29T00:00:00Z"}, "placedTo is before"),
        ({"lastDay": "2026-11-30"}, "lastDay needs day"),
        ({"day": "2026-11-30", "lastDay": "2026-11-01"}, "ends before it starts"),
        ({"day": "2024-01-01", "lastDay": "2026-11-30"}, "at most a year"),
        ({"day": "9999-12-31"}, "out of range"),
        ({"day": "0001-01-01"}, "out of range"),
        ({"placedFrom": "0001-01-01T00:00:00+08:00"}, "out of range"),
    ]
    for wanted, says in cases:
        answer = (await gql.post(auditor, EVENTS, {"f": wanted})).json()
        assert answer["errors"][0]["extensions"]["code"] == "VALIDATION", (wanted, answer)
        assert says in answer["errors"][0]["message"], (wanted, answer)
    refused = (await gql.post(world.keys["ops"], EVENTS, {"f": {"day": "2026-11-30"}})).json()
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
