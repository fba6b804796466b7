"""The stock-drift breaker: ERP and WMS disagree about a warehouse's stock → allocation from it pauses, with an alert.

The measure is checked on its own; then against the simulated WMS and ERP
over HTTP: drift past the threshold opens the breaker (allocation goes
elsewhere, an alert names the top SKUs, lineage links the evidence), a
person's reset or a quiet spell under the threshold closes it, and the
leader's periodic task does the same without anyone asking.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from adapters.systems import SYSTEMS
from adapters.wms.simulator import Profile as WmsProfile
from api.app import create_app
from domain.actor import Role
from domain.allocation import policy as allocation_policy
from domain.errors import ValidationFailed
from domain.federation.breaker_config import breaker_settings
from domain.federation.connections import save_connection
from domain.federation.drift_breaker import SYSTEM_ACTOR, alert_subject, check_warehouse, measure
from domain.federation.ports import StockFigure
from domain.orders import fulfilment
from domain.statuses import OrderStatus
from models import Alert, Order, OrderEvent, SystemExchange, WarehouseSystems
from resolvers import ids
from tests.conftest import GraphQLClient, World, settings_for
from tests.federation_support import ERP_CODE, WMS_CODE, federated
from tests.helpers import paid_order, stock_up

SKUS = [f"SKU-{n:02d}" for n in range(1, 21)]


def figures(values: dict[str, int]) -> dict[str, StockFigure]:
    return {sku: StockFigure(sku, on_hand) for sku, on_hand in values.items()}


def test_drift_is_the_share_of_skus_or_units_apart() -> None:
    wms = figures({"A": 10, "B": 10, "C": 0, "D": 5})
    erp = figures({"A": 10, "B": 7, "C": 2})                   # D unknown to the ERP: 0 there
    drift = measure(["A", "B", "C", "D"], wms, erp)
    assert (drift.compared, drift.differing) == (4, 3)
    assert drift.sku_share == pytest.approx(0.75)
    assert drift.units_apart == 3 + 2 + 5 and drift.units == 10 + 10 + 2 + 5
    assert [r.sku for r in drift.top] == ["D", "B", "C"]        # largest difference first
    assert drift.exceeds(0.05) and not measure(["A"], wms, erp).exceeds(0.05)


def test_one_sku_in_many_apart_can_still_trip_on_units() -> None:
    skus = [f"S{n}" for n in range(100)]
    wms = figures({sku: 10 for sku in skus} | {"S0": 500})
    erp = figures({sku: 10 for sku in skus})
    drift = measure(skus, wms, erp)
    assert drift.sku_share == pytest.approx(0.01) and drift.unit_share > 0.05 and drift.exceeds(0.05)


def test_a_unit_in_flight_on_a_large_sku_is_not_drift_but_a_share_past_the_threshold_is() -> None:
    skus = ["A", "B", "C", "D", "E"]
    wms = figures({"A": 1_000_000, "B": 999_998, "C": 40, "D": 3, "E": 100})
    erp = figures({"A": 999_999, "B": 1_000_000, "C": 40, "D": 3, "E": 100})  # goods-out not booked yet: 1 and 2 apart
    assert measure(skus, wms, erp, tolerance=0.05).differing == 0
    assert measure(skus, wms, erp).differing == 2                                 # without a tolerance: every unit counts
    drifted = figures({"A": 1_080_000, "B": 1_080_000, "C": 43, "D": 4, "E": 100})  # the ERP 8 % over, D one of three
    drift = measure(skus, drifted, erp, tolerance=0.05)
    assert [row.sku for row in drift.top] == ["A", "B", "C", "D"] and drift.exceeds(0.05)


def test_settings_come_from_the_erp_config_with_defaults() -> None:
    assert breaker_settings({}) == (0.05, timedelta(minutes=30))
    assert breaker_settings({"drift_threshold": 0.1, "drift_close_after_minutes": 5}) == (0.1, timedelta(minutes=5))
    assert breaker_settings({"drift_threshold": "lots"}) == (0.05, timedelta(minutes=30))


async def test_a_bad_threshold_is_refused_when_the_erp_is_saved(world: World) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await save_connection(world.actor(Role.ADMIN), "erp", "erp", "kingdee",
                              config={"base_url": "http://127.0.0.1:9/k3cloud/", "acct_id": "a", "username": "u",
                                      "password": "p", "drift_threshold": 5}, systems=SYSTEMS)
    assert refused.value.field == "config" and "drift_threshold" in refused.value.message


@pytest.fixture
async def client(db: str) -> AsyncIterator[tuple[GraphQLClient, Any]]:
    app = create_app(settings_for(db, drift_check_seconds=0), manage_database=False)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            yield GraphQLClient(http), app


async def stocked(world: World, fed: Any, quantity: int = 30) -> None:
    """Every SKU in SH (all three systems agreeing) and in GZ (OrderGraph only)."""
    actor = world.actor()
    for sku in SKUS:
        await stock_up(actor, [fed.warehouse_id, world.warehouses[1].id], sku, quantity)
        fed.wms.set_stock(WMS_CODE, sku, quantity)
    fed.erp.set_stock(ERP_CODE, {sku: quantity for sku in SKUS})


CHECK = """mutation($w: ID!) { checkStockDrift(warehouse: $w) { report { action message breakerOpen skuShare unitShare
           threshold compared differing top { sku wms erp difference } exchangeIds } errors { code message } } }"""
RESET = """mutation($i: ResetDriftBreakerInput!) { resetDriftBreaker(input: $i) { breaker { open reason details }
           errors { code field message } } }"""


async def test_drift_past_the_threshold_pauses_allocation_until_a_person_resets_it(world: World, client) -> None:
    gql, _ = client
    key = world.keys["ops"]
    sh, gz = world.warehouses[0], world.warehouses[1]
    async with federated(world) as fed:
        await stocked(world, fed)
        warehouse = ids.encode("Warehouse", sh.id)
        fine = (await gql(key, CHECK, {"w": warehouse}))["checkStockDrift"]["report"]
        assert fine["action"] == "closed_ok" and fine["compared"] == 20 and fine["differing"] == 0

        fed.wms.profile = WmsProfile.read({"stock_drift": {"SKU-03": -5, "SKU-07": 4}})     # 2 of 20 SKUs: 10%
        report = (await gql(key, CHECK, {"w": warehouse}))["checkStockDrift"]["report"]
        assert report["action"] == "opened" and report["breakerOpen"] is True
        assert report["skuShare"] == pytest.approx(0.10) and report["threshold"] == 0.05
        assert [t["sku"] for t in report["top"]] == ["SKU-03", "SKU-07"]
        assert report["top"][0] == {"sku": "SKU-03", "wms": 25, "erp": 30, "difference": -5}

        alert = await Alert.get(tenant_id=world.tenant.id, kind="stock_drift", subject=alert_subject("SH"), cleared_at__isnull=True)
        assert "SKU-03 (WMS 25, ERP 30)" in alert.message and alert.severity == "critical"
        opened = await OrderEvent.get(tenant_id=world.tenant.id, type="warehouse.breaker_opened")
        assert opened.payload_ref and opened.payload_ref.startswith("exchange:")
        assert (await SystemExchange.get(id=int(opened.payload_ref.split(":")[1]))).outcome == "disagreed"
        shown = await gql(key, "query($w: ID!) { node(id: $w) { ... on Warehouse { driftBreaker { open reason wms } } } }",
                          {"w": warehouse})
        assert shown["node"]["driftBreaker"]["open"] is True and shown["node"]["driftBreaker"]["wms"] == "wms-sh"

        # Allocation skips SH (first by priority otherwise) and says why when asked for it by name.
        await stock_up(world.actor(), [sh.id, gz.id], "TEA-001", 10)
        order = await paid_order(world.actor(), world.channel.id, "DRIFT1")
        assert order.status == OrderStatus.PAID
        allocated = await fulfilment.allocate_order(world.actor(), order.id)
        assert allocated.warehouse_id == gz.id  # type: ignore[attr-defined]
        second = await paid_order(world.actor(), world.channel.id, "DRIFT2")
        refused = await gql(key, """mutation($i: AllocateOrderInput!) { allocateOrder(input: $i) { errors { code message } } }""",
                            {"i": {"id": ids.encode("Order", second.id), "warehouseId": warehouse, "reason": "try SH"}})
        [error] = refused["allocateOrder"]["errors"]
        assert error["code"] == "CONFLICT" and "stock-drift breaker" in error["message"]
        assert (await Order.get(id=second.id)).status == OrderStatus.PAID

        no_reason = (await gql(key, RESET, {"i": {"warehouse": warehouse, "reason": " "}}))["resetDriftBreaker"]
        assert no_reason["errors"][0]["field"] == "reason" and no_reason["breaker"] is None
        auditor = (await gql(world.keys["auditor"], RESET, {"i": {"warehouse": warehouse, "reason": "x"}}))["resetDriftBreaker"]
        assert auditor["errors"][0]["code"] == "FORBIDDEN"
        reset = (await gql(key, RESET, {"i": {"warehouse": warehouse, "reason": "counted by hand; ERP corrected"}}))
        assert reset["resetDriftBreaker"]["breaker"]["open"] is False
        assert await Alert.filter(kind="stock_drift", subject=alert_subject("SH"), cleared_at__isnull=True).count() == 0
        assert (await OrderEvent.get(type="warehouse.breaker_reset")).reason == "reset by hand: counted by hand; ERP corrected"
        third = await fulfilment.allocate_order(world.actor(), second.id, sh.id, "SH again")
        assert third.warehouse_id == sh.id  # type: ignore[attr-defined]


async def test_the_breaker_closes_itself_after_the_drift_stayed_under_the_threshold(world: World) -> None:
    async with federated(world, erp_extra={"drift_close_after_minutes": 30}) as fed:
        await stocked(world, fed)
        fed.wms.profile = WmsProfile.read({"stock_drift": {"SKU-01": 9, "SKU-02": 9, "SKU-03": 9}})
        t0 = datetime.now(UTC)
        assert (await check_warehouse(fed.warehouse_id, SYSTEMS, actor=SYSTEM_ACTOR, now=t0)).action == "opened"
        fed.wms.profile = WmsProfile()                      # the WMS and the ERP agree again
        recovering = await check_warehouse(fed.warehouse_id, SYSTEMS, actor=SYSTEM_ACTOR, now=t0 + timedelta(minutes=1))
        assert recovering.action == "recovering" and recovering.breaker_open
        link = await WarehouseSystems.get(warehouse_id=fed.warehouse_id)
        assert link.breaker_open and link.drift_below_since is not None
        fed.wms.profile = WmsProfile.read({"stock_drift": {"SKU-01": 9, "SKU-02": 9}})  # drifts again: the clock restarts
        assert (await check_warehouse(fed.warehouse_id, SYSTEMS, actor=SYSTEM_ACTOR,
                                      now=t0 + timedelta(minutes=20))).action == "still_open"
        fed.wms.profile = WmsProfile()
        for minutes, expected in ((25, "recovering"), (50, "recovering"), (56, "closed")):
            report = await check_warehouse(fed.warehouse_id, SYSTEMS, actor=SYSTEM_ACTOR, now=t0 + timedelta(minutes=minutes))
            assert report.action == expected, (minutes, report.message)
        assert not (await WarehouseSystems.get(warehouse_id=fed.warehouse_id)).breaker_open
        closed = await OrderEvent.get(type="warehouse.breaker_closed")
        assert closed.actor == "stock-drift check" and "allocation from SH resumes" in closed.reason
        assert await Alert.filter(kind="stock_drift", subject=alert_subject("SH"), cleared_at__isnull=True).count() == 0


async def test_orders_refused_while_the_breaker_was_open_are_allocated_when_it_closes(world: World) -> None:
    async with federated(world, erp_extra={"drift_close_after_minutes": 30}) as fed:
        await stocked(world, fed)
        await stock_up(world.actor(), [fed.warehouse_id], "TEA-001", 10)            # only SH holds the tea
        await allocation_policy.save_policy(world.actor(Role.ADMIN), {"strategy": "priority", "auto_allocate": True})
        fed.wms.profile = WmsProfile.read({"stock_drift": {"SKU-01": 9, "SKU-02": 9, "SKU-03": 9}})
        t0 = datetime.now(UTC)
        assert (await check_warehouse(fed.warehouse_id, SYSTEMS, actor=SYSTEM_ACTOR, now=t0)).action == "opened"
        waiting = [await paid_order(world.actor(), world.channel.id, f"WAIT{n}") for n in range(3)]
        for order in waiting:
            assert (await Order.get(id=order.id)).status == OrderStatus.PAID
            assert await Alert.get(order_id=order.id, kind="allocation_failed", cleared_at__isnull=True)

        fed.wms.profile = WmsProfile()
        assert (await check_warehouse(fed.warehouse_id, SYSTEMS, actor=SYSTEM_ACTOR,
                                      now=t0 + timedelta(minutes=1))).action == "recovering"
        assert (await Order.get(id=waiting[0].id)).status == OrderStatus.PAID   # still paused: nothing moves yet
        closed = await check_warehouse(fed.warehouse_id, SYSTEMS, actor=SYSTEM_ACTOR, now=t0 + timedelta(minutes=32))
        assert closed.action == "closed"
        for order in waiting:
            allocated = await Order.get(id=order.id)
            assert allocated.status == OrderStatus.ALLOCATED and allocated.warehouse_id == fed.warehouse_id  # type: ignore[attr-defined]
            assert await Alert.filter(order_id=order.id, kind="allocation_failed", cleared_at__isnull=True).count() == 0
            event = await OrderEvent.get(order_id=order.id, type="order.allocated")
            assert event.actor == "stock-drift check"  # by the check that closed the breaker, not a person


async def test_an_unreachable_system_changes_nothing(world: World) -> None:
    async with federated(world) as fed:
        await stocked(world, fed)
        fed.wms.profile = WmsProfile.read({"outages": [{"after_s": 0, "for_s": 60}]})
        report = await check_warehouse(fed.warehouse_id, SYSTEMS, actor=SYSTEM_ACTOR)
        assert report.action == "skipped" and "wms-sh" in report.message and not report.breaker_open
        assert await OrderEvent.filter(type="warehouse.breaker_opened").count() == 0


async def test_the_leaders_periodic_check_opens_the_breaker_by_itself(world: World, db: str) -> None:
    async with federated(world) as fed:
        await stocked(world, fed)
        fed.wms.profile = WmsProfile.read({"stock_drift": {sku: 3 for sku in SKUS[:4]}})
        app = create_app(settings_for(db, drift_check_seconds=0.2), manage_database=False)
        async with app.router.lifespan_context(app):
            for _ in range(100):
                if (await WarehouseSystems.get(warehouse_id=fed.warehouse_id)).breaker_open:
                    break
                await asyncio.sleep(0.1)
        link = await WarehouseSystems.get(warehouse_id=fed.warehouse_id)
        assert link.breaker_open and link.breaker_details["differing"] == 4
        assert (await OrderEvent.get(type="warehouse.breaker_opened")).actor == "stock-drift check"
