"""The demo a customer sees with `make run` is coherent, and seeding it is all or nothing.

Every demo parcel is checked: its carrier is a normalised code and its waybill
has that carrier's format; its scans start in the shipping warehouse's city,
end (once signed for) in the delivery address's city, run forwards in time with
a courier's gaps, and none lies in the future; its promised date follows the
hand-over.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

import api.seed as seed_module
from api.seed import TARGETS, seed_demo
from domain import orders
from domain.errors import ValidationFailed
from domain.inbound import status_maps
from domain.orders import fulfilment
from domain.statuses import OrderStatus, ShipmentStatus
from domain.inbound import carrier_codes
from models import Channel, Order, Payment, Shipment, Tenant, TrackingEvent, Warehouse
from tests.helpers import paid_order, stock_up
from tests.intake_support import GENERIC_MAPPING, SECRET, generic_body, standard_headers
from tests.served import served

CHINA = timezone(timedelta(hours=8))

#: What each carrier's waybill numbers look like (written from the carriers' published formats, not from the seed).
WAYBILL = {
    "SF": re.compile(r"SF\d{12,13}"),
    "ZTO": re.compile(r"7\d{11,13}"),
    "YTO": re.compile(r"YT\d{10,15}"),
    "JD": re.compile(r"JDV?\d{11,13}"),
    "EMS": re.compile(r"E[A-Z]\d{9}CN|\d{11,13}"),
    "JT": re.compile(r"JT\d{13}"),
}


def _local(moment: datetime) -> datetime:
    return moment.astimezone(CHINA)


async def _shipments_with_scans(tenant_id: int) -> list[tuple[Shipment, list[TrackingEvent]]]:
    shipments = await Shipment.filter(order__tenant_id=tenant_id).order_by("id").prefetch_related("order", "warehouse")
    scans: dict[int, list[TrackingEvent]] = defaultdict(list)
    for scan in await TrackingEvent.filter(shipment_id__in=[s.id for s in shipments]).order_by("id"):
        scans[scan.shipment_id].append(scan)  # type: ignore[attr-defined]
    return [(shipment, scans[shipment.id]) for shipment in shipments]


async def test_every_demo_parcel_tells_a_believable_story(db):
    tenant = await seed_demo("demo")
    finished = datetime.now(UTC)

    assert await Channel.filter(tenant_id=tenant.id).count() == 4
    assert sorted(await Warehouse.filter(tenant_id=tenant.id).values_list("city", flat=True)) == ["上海", "天津", "广州"]
    statuses = Counter(await Order.filter(tenant_id=tenant.id).values_list("status", flat=True))
    assert sum(statuses.values()) >= 200
    for status, _ in TARGETS:
        assert statuses[status] > 0, f"no demo order is {status}"

    parcels = await _shipments_with_scans(tenant.id)
    assert len(parcels) >= 70
    carriers_seen: set[str] = set()
    for shipment, scans in parcels:
        order = shipment.order
        what = f"{shipment.carrier} {shipment.tracking_no} (order {order.external_id}, {order.status})"
        carriers_seen.add(shipment.carrier)
        # carrier and waybill belong together
        assert carrier_codes.normalize(shipment.carrier) == shipment.carrier, what
        assert WAYBILL[shipment.carrier].fullmatch(shipment.tracking_no), what
        # nothing in the future, and the story runs forwards
        assert order.placed_at < shipment.shipped_at <= finished, what
        assert shipment.estimated_delivery > shipment.shipped_at, what
        times = [scan.occurred_at for scan in scans]
        assert times == sorted(times) and len(set(times)) == len(times), f"{what}: scans out of order"
        assert all(shipment.shipped_at < t < finished for t in times), f"{what}: a scan before hand-over or in the future"
        for scan in scans:
            mapped = status_maps.lookup("kdniao", scan.raw_code)
            assert mapped == {"shipment": scan.status}, f"{what}: Kdniao code {scan.raw_code} is not {scan.status}"
        if not scans:
            assert shipment.status == ShipmentStatus.LABEL_CREATED, what
            continue
        assert shipment.status == scans[-1].status, what
        # the route: from the warehouse's city; the last mile and the signature in the address's city
        assert scans[0].status == ShipmentStatus.PICKED_UP and scans[0].location == shipment.warehouse.city, what
        assert times[0] - shipment.shipped_at <= timedelta(hours=6), f"{what}: picked up long after hand-over"
        for scan in scans:
            if scan.status in (ShipmentStatus.OUT_FOR_DELIVERY, ShipmentStatus.DELIVERED) or scan.raw_code == "201":
                assert scan.location == order.ship_city, f"{what}: {scan.description} in {scan.location}"
            else:
                assert scan.location == shipment.warehouse.city, f"{what}: {scan.description} in {scan.location}"
        arrived = next((s for s in scans if s.raw_code == "201"), None)
        if arrived is not None:
            assert arrived.occurred_at - scans[0].occurred_at <= timedelta(hours=60), f"{what}: line-haul too long"
        out = next((s for s in scans if s.status == ShipmentStatus.OUT_FOR_DELIVERY), None)
        if out is not None:
            last_sort = max(s.occurred_at for s in scans if s.status in (ShipmentStatus.IN_TRANSIT, ShipmentStatus.PICKED_UP))
            assert _local(out.occurred_at).date() == _local(last_sort).date() + timedelta(days=1), \
                f"{what}: out for delivery is not the day after it reached the city"
            assert 7 <= _local(out.occurred_at).hour < 12, f"{what}: the morning round starts at night"
        if order.status in (OrderStatus.DELIVERED, OrderStatus.COMPLETED):
            assert shipment.status == ShipmentStatus.DELIVERED, what
            assert scans[-1].location == order.ship_city and shipment.delivered_at == scans[-1].occurred_at, what
        if order.status == OrderStatus.SHIPPED:
            assert shipment.status != ShipmentStatus.DELIVERED, what
    assert carriers_seen == set(WAYBILL), "the demo should show every carrier the merchant uses"


async def test_demo_payments_and_placements_are_in_the_past(db):
    tenant = await seed_demo("demo", order_count=60)
    now = datetime.now(UTC)
    placed = await Order.filter(tenant_id=tenant.id).values_list("placed_at", flat=True)
    assert placed and all(moment < now for moment in placed)
    for payment in await Payment.filter(order__tenant_id=tenant.id).prefetch_related("order"):
        assert payment.paid_at is not None and payment.order.placed_at <= payment.paid_at < now
    # order numbers grow with the time the orders were placed (apart from the showcase, seeded first)
    rows = await Order.filter(tenant_id=tenant.id, external_id__not_in=["DEMO-SPLIT", "DEMO-BACKORDER"]).order_by("id")
    bulk = [o.placed_at for o in rows][3:]
    assert bulk == sorted(bulk)


async def _story(slug: str) -> list[tuple]:
    """What a customer and an ops person see of a demo, comparable across tenants."""
    tenant = await Tenant.get(slug=slug)
    orders = await Order.filter(tenant_id=tenant.id).order_by("id").values_list(
        "external_id", "status", "total_amount", "placed_at", "ship_city")
    parcels = await Shipment.filter(order__tenant_id=tenant.id).order_by("id").values_list(
        "carrier", "tracking_no", "status", "shipped_at", "estimated_delivery", "delivered_at")
    scans = await TrackingEvent.filter(shipment__order__tenant_id=tenant.id).order_by("id").values_list(
        "status", "occurred_at", "description", "location")
    return [orders, parcels, scans]


async def test_a_seed_that_dies_leaves_no_demo_and_the_next_run_completes_the_same_demo(db, monkeypatch):
    now = datetime.now(UTC)
    real = seed_module._one_order
    calls = 0

    async def dies_on_the_45th(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 45:
            raise RuntimeError("killed")
        await real(*args, **kwargs)

    monkeypatch.setattr(seed_module, "_one_order", dies_on_the_45th)
    with pytest.raises(RuntimeError, match="killed"):
        await seed_demo("demo", order_count=70, now=now)
    assert not await Tenant.exists(slug="demo"), "a half-seeded demo must not be reachable"
    unfinished = await Tenant.get(slug=seed_module.work_slug("demo"))
    assert await Order.filter(tenant_id=unfinished.id).count() == 3 + 40  # the showcase and two whole chunks
    monkeypatch.undo()

    resumed = await seed_demo("demo", order_count=70, now=now)
    assert resumed.id == unfinished.id and resumed.slug == "demo"
    assert not await Tenant.exists(slug=seed_module.work_slug("demo"))
    await seed_demo("fresh", order_count=70, now=now)
    assert await _story("demo") == await _story("fresh"), "the resumed demo differs from an uninterrupted one"


def _cli(*args: str, database_url: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "api.cli", *args], env={**os.environ, "DATABASE_URL": database_url},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


#: The current schema, as the test database fixture makes it (the subject here is seeding, not migrating).
_SCHEMA = """
import asyncio, os
from tortoise import Tortoise
from api import database
async def main():
    await database.init_db(os.environ["DATABASE_URL"])
    await Tortoise.generate_schemas(safe=True)
    await database.close_db()
asyncio.run(main())
"""


def _run(*args: str, database_url: str) -> tuple[int, str, str]:
    process = _cli(*args, database_url=database_url)
    out, err = process.communicate(timeout=300)
    return process.returncode, out, err


def test_seeding_while_the_server_runs_and_writes_on_the_same_sqlite_file(tmp_path):
    """`ordergraph seed` next to a running server taking orders: both go on, and the demo is complete."""
    database_url = f"sqlite://{tmp_path / 'demo.sqlite3'}"
    schema = subprocess.run([sys.executable, "-c", _SCHEMA], env={**os.environ, "DATABASE_URL": database_url},
                            capture_output=True, text=True, timeout=120)
    assert schema.returncode == 0, schema.stderr
    assert _run("tenants", "create", "acme", "Acme", database_url=database_url)[0] == 0
    code, out, err = _run("keys", "create", "--tenant", "acme", "--role", "admin", "--owner", "test-suite", database_url=database_url)
    assert code == 0, err
    key = out.strip().splitlines()[-1]
    log: list[str] = []
    with served(database_url, output=log) as base, httpx.Client(base_url=base, timeout=30) as client:
        registered = client.post("/graphql", headers={"authorization": f"Bearer {key}"}, json={
            "query": "mutation($input: RegisterChannelInput!) { registerChannel(input: $input) { errors { message } } }",
            "variables": {"input": {"code": "miniapp", "kind": "generic", "name": "mini", "secret": SECRET,
                                    "mapping": GENERIC_MAPPING}}})
        assert registered.json() == {"data": {"registerChannel": {"errors": []}}}, registered.text
        seeding = _cli("seed", "--tenant", "demo", database_url=database_url)
        taken: list[int] = []
        while seeding.poll() is None:
            body = generic_body(order_no=f"LIVE{len(taken)}")
            taken.append(client.post("/hooks/acme/miniapp", content=body, headers=standard_headers(body)).status_code)
            time.sleep(0.2)
        out, err = seeding.communicate()
        again = _run("seed", "--tenant", "demo", database_url=database_url)
    assert seeding.returncode == 0, err[-3000:]
    assert "demo tenant demo seeded" in out
    assert again[0] == 0 and "already present; nothing changed" in again[1]
    assert taken and set(taken) == {200}, f"the server refused orders while the demo was seeded: {taken}\n{log[0][-4000:]}"
    with sqlite3.connect(tmp_path / "demo.sqlite3") as plain:
        counts = dict(plain.execute('SELECT t.slug, COUNT(*) FROM "orders" o JOIN "tenant" t ON t.id = o.tenant_id '
                                    "GROUP BY t.slug").fetchall())
    assert counts["demo"] >= 200 and counts["acme"] == len(taken)


async def test_a_hand_over_reported_late_keeps_its_time_and_one_in_the_future_is_refused(world):
    """What lets the demo (or a WMS reporting late) record when a parcel really left."""
    ops = world.actor()
    order = await paid_order(ops, world.channel.id, "LATE-1")
    await stock_up(ops, [world.warehouses[0].id])
    await fulfilment.allocate_order(ops, order.id, world.warehouses[0].id)
    for step in (OrderStatus.PICKING, OrderStatus.PACKED):
        await orders.transition_order(ops, order.id, step)
    with pytest.raises(ValidationFailed) as refused:
        await fulfilment.ship_order(ops, order.id, "SF", "SF1234567890123",
                                    shipped_at=datetime.now(UTC) + timedelta(hours=1))
    assert refused.value.field == "shippedAt"
    left = datetime.now(UTC) - timedelta(hours=5)
    shipment = await fulfilment.ship_order(ops, order.id, "SF", "SF1234567890123", shipped_at=left)
    assert (await Shipment.get(id=shipment.id)).shipped_at == left
