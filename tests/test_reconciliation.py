"""Reconciliation: a day's orders against the gateway, the ERP and the WMS, the differences, the alert and the exports.

The comparison rules are checked on their own first (no database, no
network); then whole days against the simulated Kingdee ERP and Qimen WMS
over HTTP: a day that agrees, a mis-keyed ERP invoice (the simulator's
``invoice_mismatch`` fault), a WMS short shipment, the threshold, the ERP
down, the CSV/XLSX exports and their download route, GraphQL, the CLI and the
daily schedule.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from adapters import system_http
from adapters.erp.sim_books import Line
from adapters.erp.sim_faults import Profile as ErpProfile
from adapters.erp.simulator import ErpSimulator
from adapters.erp.simulator import rest_config as erp_rest_config
from adapters.systems import SYSTEMS
from adapters.wms.simulator import Profile as WmsProfile
from adapters.wms.simulator import WmsSimulator
from adapters.wms.simulator import rest_config as wms_rest_config
from api.app import create_app
from api.reconcile_tasks import ReconcileWatch
from domain import orders
from domain.actor import Role
from domain.errors import Conflict, Forbidden, ValidationFailed
from domain.federation import delivery_orders, repair
from domain.federation.connections import link_warehouse, save_connection
from domain.orders import fulfilment
from domain.orders.create import NewAddress, NewCustomer, NewLine, NewOrder, NewPayment
from domain.reconciliation import channel, export
from domain.reconciliation.compare import AMOUNT, QUANTITY, compare, ratio
from domain.reconciliation.figures import OrderFigures
from domain.reconciliation.queries import latest_run
from domain.reconciliation.run import reconcile_day
from domain.reconciliation.schedule import due
from domain.reconciliation.window import day_window, local_today, zone_of
from domain.statuses import OrderStatus, PaymentStatus
from domain.unit_of_work import unit_of_work
from models import Alert, DeliveryOrder, Order, OrderEvent, Payment, ReconciliationDiff, ReconciliationRun
from models.order import order_no
from tests.conftest import GraphQLClient, World, settings_for
from tests.federation_support import ERP_CODE, SKU, CountingSystems, Federated, all_pushed, federated, stock_everywhere
from tests.live_fixtures import serve_asgi
from tests.statement_log import counted_statements
from tests.wms_support import fresh_breakers  # noqa: F401 - autouse: closed breakers in every test

SHANGHAI = zone_of("Asia/Shanghai")


def yesterday() -> date:
    return local_today(SHANGHAI) - timedelta(days=1)


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12, 0), tzinfo=SHANGHAI).astimezone(UTC)


# ------------------------------------------------------------------ the rules, on their own


def figures(**extra: Any) -> OrderFigures:
    values: dict[str, Any] = dict(order_id=42, number="OG000000042", status="SHIPPED", currency="CNY",
                                  channel_quantity=2, channel_amount=Decimal("100.00"), gateway_amount=Decimal("100.00"),
                                  erp_quantity=2, erp_amount=Decimal("100.00"), erp_invoiced=True, shipped=True,
                                  wms_quantity=2)
    values.update(extra)
    return OrderFigures(**values)


def test_agreeing_figures_give_no_difference() -> None:
    assert compare(figures(), Decimal("0.005")) == []


def test_each_source_off_is_named_and_the_largest_deviation_is_the_difference() -> None:
    found = compare(figures(erp_quantity=1, wms_quantity=0), Decimal("0.005"))
    assert [(d.dimension, d.difference, d.erp, d.wms) for d in found] == [(QUANTITY, Decimal(-2), Decimal(1), Decimal(0))]
    assert "ERP invoiced 1 (-1 against the channel's 2)" in found[0].note
    assert "WMS shipped 0 (-2 against the channel's 2)" in found[0].note
    money = compare(figures(gateway_amount=Decimal("90.00"), erp_amount=Decimal("100.20")), Decimal("0.005"))
    assert [(d.dimension, d.difference, d.gateway, d.erp) for d in money] == \
        [(AMOUNT, Decimal("-10.00"), Decimal("90.00"), Decimal("100.20"))]
    assert "gateway confirmed 90.00 (-10.00" in money[0].note and "ERP invoiced" not in money[0].note  # 0.2 % is fine


def test_the_threshold_is_exclusive_and_missing_figures_are_not_compared() -> None:
    assert compare(figures(erp_amount=Decimal("100.50")), Decimal("0.005")) == []          # exactly 0.5 %: not above
    assert len(compare(figures(erp_amount=Decimal("100.51")), Decimal("0.005"))) == 1
    assert compare(figures(gateway_amount=None, erp_quantity=None, erp_amount=None, wms_quantity=None),
                   Decimal("0")) == []
    assert ratio(Decimal(0), Decimal(0)) == 0 and ratio(Decimal(0), Decimal(1)) == Decimal("Infinity")
    nothing_invoiced = compare(figures(erp_quantity=0, erp_amount=Decimal(0), erp_invoiced=False), Decimal("0.005"))
    assert {d.dimension for d in nothing_invoiced} == {QUANTITY, AMOUNT}
    assert all("the ERP has no invoice for it" in d.note for d in nothing_invoiced)


def test_the_day_is_the_tenants_calendar_day() -> None:
    start, end = day_window(date(2026, 11, 30), SHANGHAI)
    assert (start, end) == (datetime(2026, 11, 29, 16, tzinfo=UTC), datetime(2026, 11, 30, 16, tzinfo=UTC))
    start, end = day_window(date(2026, 3, 29), zone_of("Europe/Berlin"))            # summer time begins: 23 hours
    assert end - start == timedelta(hours=23)
    assert zone_of("Not/AZone").key == "Asia/Shanghai" and zone_of("").key == "Asia/Shanghai"


# ------------------------------------------------------------------ a day against the simulators


@dataclass
class Day:
    world: World
    fed: Federated
    day: date
    orders: list[Order]
    database_url: str

    def number(self, index: int) -> str:
        return order_no(self.orders[index].id)


async def placed(world: World, external_id: str, quantity: int, unit_price: str, day: date, *,
                 payment: PaymentStatus = PaymentStatus.PAID) -> Order:
    total = Decimal(unit_price) * quantity
    return await orders.create_order(world.actor(), NewOrder(
        channel_id=world.channel.id, external_id=external_id, placed_at=noon(day),
        lines=[NewLine(sku=SKU, quantity=quantity, unit_price=Decimal(unit_price))],
        customer=NewCustomer(name="李四", phone="13800001111"),
        address=NewAddress(name="李四", phone="13800001111", province="上海", city="上海", district="浦东新区",
                           address="世纪大道 1 号"),
        payment=NewPayment(gateway="wechatpay", amount=total, status=payment, reference=f"WX{external_id}")))


async def push(world: World, fed: Federated, order: Order) -> str:
    await fulfilment.allocate_order(world.actor(), order.id, fed.warehouse_id, "to SH")
    async with unit_of_work():
        await delivery_orders.queue_for_order(order.id, world.tenant.id, None)
    await all_pushed([order.id])
    return (await DeliveryOrder.get(order_id=order.id)).code


async def ship(world: World, fed: Federated, order: Order, code: str, shipped: int | None = None) -> None:
    """The WMS ships (``shipped`` units when short) and OrderGraph applies what it says: the order is SHIPPED."""
    await fed.wms.ship(code, quantities=None if shipped is None else {SKU: shipped})
    await repair.apply_wms_confirmation(world.actor(), order.id, SYSTEMS, reason="the confirmation was dropped")
    assert (await Order.get(id=order.id)).status == OrderStatus.SHIPPED


def book(fed: Federated, order: Order, quantity: int, unit_price: str) -> None:
    """The ERP's sales order under our number, invoiced in full."""
    number = order_no(order.id)
    fed.erp.books.add_order("CUST-0001", [Line(SKU, quantity, Decimal(unit_price), ERP_CODE)], bill_no=number)
    fed.erp.books.set_quantities(number, "invoiced", {SKU: quantity})


async def confirm_payments(order_ids: list[int]) -> None:
    """The gateway's notices arrived (what the payments use case records on each payment)."""
    await Payment.filter(order_id__in=order_ids).update(confirmed_at=datetime.now(UTC))


@pytest.fixture
async def day(world: World, db: str) -> AsyncIterator[Day]:
    """Yesterday (Shanghai): three paid orders shipped through the WMS, booked and invoiced in the ERP, confirmed
    by the gateway (1 x 100.00, 2 x 50.00, 3 x 10.00); a fourth allocated and invoiced but not shipped yet; one
    unpaid and one cancelled; and one of the day before."""
    async with federated(world) as fed:
        when = yesterday()
        await stock_everywhere(world, fed, 50)
        specs = [("R1", 1, "100.00"), ("R2", 2, "50.00"), ("R3", 3, "10.00"), ("R4", 1, "20.00")]
        made = [await placed(world, ext, qty, price, when) for ext, qty, price in specs]
        for order, (_, qty, price) in zip(made, specs, strict=True):
            code = await push(world, fed, order)
            book(fed, order, qty, price)
            if order is not made[-1]:
                await ship(world, fed, order, code)
        await confirm_payments([o.id for o in made])
        await placed(world, "R5-unpaid", 1, "10.00", when, payment=PaymentStatus.PENDING)
        cancelled = await placed(world, "R6-cancelled", 1, "10.00", when)
        await orders.cancel_order(world.actor(), cancelled.id, "buyer cancelled")
        await placed(world, "R0-before", 1, "10.00", when - timedelta(days=1))
        yield Day(world, fed, when, [await Order.get(id=o.id) for o in made], db)


async def diffs_of(run: ReconciliationRun) -> list[ReconciliationDiff]:
    return list(await ReconciliationDiff.filter(run_id=run.id).order_by("id"))


async def test_a_day_that_agrees_has_no_differences(day: Day) -> None:
    counting = CountingSystems()
    seen: list[tuple[int, int]] = []
    run = await reconcile_day(day.world.actor(Role.FINANCE), day.day, systems=counting, batch_size=2,
                              progress=lambda done, total: seen.append((done, total)))
    assert (run.status, run.orders_checked, run.orders_differing, run.error) == ("done", 4, 0, "")
    assert await diffs_of(run) == []
    totals = run.totals
    assert totals["quantity"] == {"channel": 7, "erp": 7, "wms": 6}       # R4 is not shipped: not expected in the WMS
    assert totals["amount"] == {"CNY": {"channel": "250.00", "gateway": "250.00", "erp": "250.00"}}
    assert totals["skipped"] == {"pending_payment": 1, "cancelled": 1}
    assert totals["compared"] == {"erp": 4, "wms": 3, "gateway": 4} and totals["shipped_orders"] == 3
    assert totals["sources"]["erp"]["state"] == "ok" and totals["sources"]["wms"]["connection"] == "wms-sh"
    assert seen == [(0, 4), (2, 4), (4, 4)]
    assert counting.count("invoices") == 2                                 # one ERP call per batch of 2
    assert counting.count("delivery_states") == 2                          # one WMS call per batch (one group each)
    assert not await Alert.filter(kind="reconciliation.mismatch").exists()
    event = await OrderEvent.get(type="reconciliation.finished")
    assert event.after["run_id"] == run.id and event.after["status"] == "done" and event.actor == "test-finance"


async def test_a_batch_costs_the_same_queries_whatever_its_size(day: Day) -> None:
    start, end = day_window(day.day, SHANGHAI)
    rows = await channel.order_batch(day.world.tenant.id, start, end, after_id=0, size=100)
    assert [row["id"] for row in rows] == [o.id for o in day.orders]
    with counted_statements() as one:
        await channel.channel_figures(rows[:1])
    with counted_statements() as four:
        found = await channel.channel_figures(rows)
    assert len(one) == len(four) == 2
    assert [(f.channel_quantity, f.channel_amount, f.gateway_amount, f.shipped) for f in found] == [
        (1, Decimal("100.00"), Decimal("100.00"), True), (2, Decimal("100.00"), Decimal("100.00"), True),
        (3, Decimal("30.00"), Decimal("30.00"), True), (1, Decimal("20.00"), Decimal("20.00"), False)]


async def test_a_mismatched_erp_invoice_is_the_one_difference_and_alerted(day: Day) -> None:
    mismatched = day.number(1)
    day.fed.erp.profile = ErpProfile.read({"invoice_mismatch": {mismatched: {"amount": 10}}})
    run = await reconcile_day(day.world.actor(Role.FINANCE), day.day, systems=SYSTEMS)
    assert (run.status, run.orders_differing) == ("done", 1)
    [diff] = await diffs_of(run)
    assert (diff.reference, diff.order_id, diff.dimension) == (mismatched, day.orders[1].id, "amount")
    assert (diff.channel_value, diff.erp_value, diff.gateway_value, diff.wms_value, diff.difference) == \
        (Decimal("100.00"), Decimal("110.00"), Decimal("100.00"), None, Decimal("10.00"))
    assert "ERP invoiced 110.00 (+10.00 against the channel's 100.00)" in diff.note
    assert run.totals["amount"]["CNY"]["erp"] == "260.00"
    alert = await Alert.get(kind="reconciliation.mismatch")
    assert alert.subject == f"reconciliation:{day.day.isoformat()}" and alert.severity == "warning"
    assert mismatched in alert.message and "1 of 4 orders differ" in alert.message
    assert alert.details["orders"] == [mismatched] and alert.details["run_id"] == run.id

    # Fixed in the ERP, the day is run again: a new run (the first one kept), no differences, the alert cleared.
    day.fed.erp.profile = ErpProfile()
    again = await reconcile_day(day.world.actor(Role.OPS), day.day, systems=SYSTEMS)
    assert (again.status, again.orders_differing) == ("done", 0) and again.id != run.id
    assert (await latest_run(day.world.actor(Role.AUDITOR), day.day)).id == again.id
    assert len(await diffs_of(run)) == 1 and await ReconciliationRun.filter(day=day.day).count() == 2
    alert = await Alert.get(id=alert.id)
    assert alert.state == "resolved" and f"#{again.id} found no differences" in alert.resolution


async def test_a_refund_counts_on_both_money_sides_and_needs_the_erps_credit_note(day: Day) -> None:
    refunded = day.orders[0]                                                 # 1 x 100.00, refunded 30.00
    await Payment.create(order_id=refunded.id, gateway="wechatpay", reference="AS1", amount=Decimal("-30.00"),
                         status=PaymentStatus.REFUNDED, kind="refund", paid_at=datetime.now(UTC))
    run = await reconcile_day(day.world.actor(Role.FINANCE), day.day, systems=SYSTEMS)
    [diff] = await diffs_of(run)                                             # the ERP has no credit note yet
    assert (diff.reference, diff.dimension, diff.channel_value, diff.gateway_value, diff.erp_value, diff.difference) == \
        (day.number(0), "amount", Decimal("70.00"), Decimal("70.00"), Decimal("100.00"), Decimal("30.00"))
    assert run.totals["refunded"] == {"CNY": "30.00"}
    day.fed.erp.books.set_invoice_amount(day.number(0), Decimal("70.00"))    # the red invoice is booked
    again = await reconcile_day(day.world.actor(Role.FINANCE), day.day, systems=SYSTEMS)
    assert again.orders_differing == 0 and again.totals["amount"]["CNY"] == \
        {"channel": "220.00", "gateway": "220.00", "erp": "220.00"}


async def test_a_wms_short_shipment_is_a_quantity_difference(world: World) -> None:
    async with federated(world) as fed:
        when = yesterday()
        await stock_everywhere(world, fed, 20)
        order = await placed(world, "SHORT1", 2, "50.00", when)
        code = await push(world, fed, order)
        book(fed, order, 2, "50.00")
        await ship(world, fed, order, code, shipped=1)                   # one of two units left the warehouse
        await confirm_payments([order.id])
        run = await reconcile_day(world.actor(Role.FINANCE), when, systems=SYSTEMS)
    [diff] = await diffs_of(run)
    assert (diff.reference, diff.dimension, diff.channel_value, diff.erp_value, diff.wms_value, diff.difference) == \
        (order_no(order.id), "quantity", Decimal(2), Decimal(2), Decimal(1), Decimal(-1))
    assert "WMS shipped 1 (-1 against the channel's 2)" in diff.note
    assert run.totals["quantity"] == {"channel": 2, "erp": 2, "wms": 1}


async def test_the_threshold_decides_what_is_a_difference(day: Day) -> None:
    day.fed.erp.profile = ErpProfile.read({"invoice_mismatch": {day.number(0): {"amount": 0.3}}})   # 0.3 % of 100.00
    actor = day.world.actor(Role.FINANCE)
    default = await reconcile_day(actor, day.day, systems=SYSTEMS)
    assert (default.orders_differing, default.threshold) == (0, Decimal("0.005"))
    assert default.totals["amount"]["CNY"]["erp"] == "250.30"
    strict = await reconcile_day(actor, day.day, systems=SYSTEMS, threshold="0.002")
    [diff] = await diffs_of(strict)
    assert (diff.reference, diff.difference, strict.threshold) == (day.number(0), Decimal("0.30"), Decimal("0.002"))
    for bad in ("1", "-0.1", "abc", "0.00001", "NaN"):
        with pytest.raises(ValidationFailed) as refused:
            await reconcile_day(actor, day.day, systems=SYSTEMS, threshold=bad)
        assert refused.value.field == "threshold"
    for never in (local_today(SHANGHAI) + timedelta(days=1), date(1, 1, 1)):
        with pytest.raises(ValidationFailed):
            await reconcile_day(actor, never, systems=SYSTEMS)
    with pytest.raises(Forbidden):
        await reconcile_day(day.world.actor(Role.WAREHOUSE), day.day, systems=SYSTEMS)
    with pytest.raises(Forbidden):
        await reconcile_day(day.world.actor(Role.AUDITOR), day.day, systems=SYSTEMS)   # auditors read, never run


async def test_a_second_run_of_the_day_waits_for_the_first(day: Day) -> None:
    busy = await ReconciliationRun.create(tenant_id=day.world.tenant.id, day=day.day, status="running",
                                          threshold=Decimal("0.005"), started_by="someone")
    with pytest.raises(Conflict) as refused:
        await reconcile_day(day.world.actor(Role.FINANCE), day.day, systems=SYSTEMS)
    assert f"#{busy.id}" in refused.value.message
    await ReconciliationRun.filter(id=busy.id).update(started_at=datetime.now(UTC) - timedelta(hours=2))  # crashed
    run = await reconcile_day(day.world.actor(Role.FINANCE), day.day, systems=SYSTEMS)
    assert run.status == "done"


async def test_an_unreachable_erp_makes_the_run_partial_not_a_crash(day: Day) -> None:
    day.fed.erp.profile = ErpProfile.read({"down": True})                    # the WMS still answers
    run = await reconcile_day(day.world.actor(Role.FINANCE), day.day, systems=SYSTEMS, batch_size=2)
    assert run.status == "partial" and run.finished_at is not None
    assert "ERP erp unreachable" in run.error and "4 orders not compared with it" in run.error
    assert run.totals["sources"]["erp"] == {"connection": "erp", "state": "unreachable",
                                            "error": run.totals["sources"]["erp"]["error"], "orders_asked": 0,
                                            "orders_missed": 4}
    assert run.totals["compared"] == {"erp": 0, "wms": 3, "gateway": 4} and run.orders_differing == 0
    assert await diffs_of(run) == []
    assert (await OrderEvent.get(type="reconciliation.finished")).after["status"] == "partial"


@contextlib.asynccontextmanager
async def rest_federated(world: World, *, invoices: bool = True) -> AsyncIterator[Federated]:
    """The same simulators in their REST modes, registered as ``rest_erp`` and ``rest_wms`` connections."""
    wms, erp = WmsSimulator(seed=3), ErpSimulator(seed=3)
    admin = world.actor(Role.ADMIN)
    try:
        async with serve_asgi(wms.app) as wms_url, serve_asgi(erp.app) as erp_url:
            wms_row = await save_connection(admin, "wms-rest", "wms", "rest_wms",
                                            config=wms_rest_config(wms_url, retries=0, batch_size=2), systems=SYSTEMS)
            erp_config = erp_rest_config(erp_url, retries=0)
            if not invoices:
                del erp_config["operations"]["invoices"]
            erp_row = await save_connection(admin, "erp-rest", "erp", "rest_erp", config=erp_config, systems=SYSTEMS)
            sh = world.warehouses[0]
            await link_warehouse(admin, sh.id, wms="wms-rest", wms_warehouse_code="SH01", erp_warehouse_code=ERP_CODE)
            yield Federated(wms, wms_url, erp, erp_url, wms_row, erp_row, sh.id)
    finally:
        await system_http.aclose()


async def test_rest_erp_and_rest_wms_reconcile_the_same_way(world: World) -> None:
    async with rest_federated(world) as fed:
        when = yesterday()
        await stock_everywhere(world, fed, 20)
        made = [await placed(world, f"REST{n}", 2, "30.00", when) for n in range(3)]
        for n, order in enumerate(made):
            code = await push(world, fed, order)
            number = order_no(order.id)      # the REST ERP keeps our number in a field of its own bill
            fed.erp.books.add_order("CUST-0001", [Line(SKU, 2, Decimal("30.00"), ERP_CODE)], fields={"F_OrderNo": number})
            fed.erp.books.set_quantities(number, "invoiced", {SKU: 2})
            await ship(world, fed, order, code, shipped=1 if n == 2 else None)
        await confirm_payments([o.id for o in made])
        fed.erp.profile = ErpProfile.read({"invoice_mismatch": {order_no(made[0].id): {"amount": -6}}})
        counting = CountingSystems()
        run = await reconcile_day(world.actor(Role.FINANCE), when, systems=counting)
    assert run.status == "done" and counting.count("invoices") == 1
    found = [(d.reference, d.dimension, d.channel_value, d.erp_value, d.wms_value, d.difference) for d in await diffs_of(run)]
    assert found == [(order_no(made[0].id), "amount", Decimal("60.00"), Decimal("54.00"), None, Decimal("-6.00")),
                     (order_no(made[2].id), "quantity", Decimal(2), Decimal(2), Decimal(1), Decimal(-1))]
    assert run.totals["sources"]["wms"]["connection"] == "wms-rest" and run.totals["quantity"]["wms"] == 5


async def test_an_erp_that_cannot_say_what_it_invoiced_or_a_wms_that_is_down_make_the_run_partial(world: World) -> None:
    async with rest_federated(world, invoices=False) as fed:
        when = yesterday()
        await stock_everywhere(world, fed, 20)
        order = await placed(world, "NOINV", 1, "30.00", when)
        await ship(world, fed, order, await push(world, fed, order))
        fed.wms.profile = WmsProfile.read({"outages": [{"after_s": 0, "for_s": 600}]})
        run = await reconcile_day(world.actor(Role.FINANCE), when, systems=SYSTEMS)
    assert run.status == "partial" and run.orders_checked == 1
    assert "ERP erp-rest refused (this ERP connection has no invoices operation configured)" in run.error
    assert "WMS unreachable" in run.error and "1 shipped orders not compared with it" in run.error
    assert run.totals["sources"]["wms"]["state"] == "unreachable" and run.totals["compared"]["erp"] == 0


async def test_kingdee_with_its_own_bill_numbers_is_asked_by_our_order_number_field(world: World) -> None:
    async with federated(world, erp_extra={"order_no_field": "F_OG_OrderNo"}) as fed:
        when = yesterday()
        await stock_everywhere(world, fed, 20)
        order = await placed(world, "K1", 1, "88.00", when)
        await push(world, fed, order)
        number = order_no(order.id)
        bill = fed.erp.books.add_order("CUST-0001", [Line(SKU, 1, Decimal("88.00"), ERP_CODE)],
                                       fields={"F_OG_OrderNo": number})
        fed.erp.books.set_quantities(bill.bill_no, "invoiced", {SKU: 1})
        fed.erp.books.set_invoice_amount(bill.bill_no, Decimal("80.00"))     # the receivable was keyed wrong
        run = await reconcile_day(world.actor(Role.FINANCE), when, systems=SYSTEMS)
    [diff] = await diffs_of(run)
    assert bill.bill_no.startswith("XSDD") and (diff.reference, diff.dimension, diff.erp_value) == \
        (number, "amount", Decimal("80.00"))
    assert f"invoices AR{bill.fid:08d}" in diff.note
    assert diff.gateway_value is None           # no gateway notice confirmed its payment: not compared
    assert run.totals["compared"]["gateway"] == 0 and run.totals["compared"]["wms"] == 0   # not shipped yet


# ------------------------------------------------------------------ exports, the download route, GraphQL, CLI


def read_csv(data: bytes) -> tuple[dict[str, str], list[dict[str, str]]]:
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data[3:].decode("utf-8"))))
    blank = rows.index([])
    summary = {key: value for key, value in rows[1:blank]}
    header, *table = rows[blank + 1:]
    return summary, [dict(zip(header, row, strict=True)) for row in table]


def read_xlsx(data: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    summary = {row[0]: row[1] for row in list(book["Summary"].values)[1:]}
    header, *table = list(book["Differences"].values)
    return summary, [dict(zip(header, row, strict=True)) for row in table]


async def mismatched_run(day: Day) -> ReconciliationRun:
    day.fed.erp.profile = ErpProfile.read({"invoice_mismatch": {day.number(1): {"amount": 10}}})
    return await reconcile_day(day.world.actor(Role.FINANCE), day.day, systems=SYSTEMS)


async def test_csv_and_xlsx_exports_read_back(day: Day) -> None:
    run = await mismatched_run(day)
    name, media_type, data = await export.export(day.world.actor(Role.AUDITOR), run.id, "csv")
    assert name == f"reconciliation-{day.day.isoformat()}-run-{run.id}.csv" and media_type.startswith("text/csv")
    summary, table = read_csv(data)
    assert (summary["status"], summary["orders_differing"], summary["threshold"]) == ("done", "1", "0.0050")
    assert summary["totals.amount.CNY.erp"] == "260.00" and summary["totals.quantity.wms"] == "6"
    assert table == [{"order": day.number(1), "order_id": str(day.orders[1].id), "dimension": "amount",
                      "channel": "100.00", "erp": "110.00", "wms": "", "gateway": "100.00", "difference": "10.00",
                      "note": table[0]["note"]}]
    _, _, data = await export.export(day.world.actor(Role.FINANCE), run.id, "xlsx")
    summary, table = read_xlsx(data)
    assert summary["status"] == "done" and summary["totals.amount.CNY.gateway"] == "250.00"
    assert [(r["order"], r["dimension"], r["channel"], r["erp"], r["difference"]) for r in table] == \
        [(day.number(1), "amount", 100, 110, 10)]
    with pytest.raises(ValidationFailed):
        await export.export(day.world.actor(Role.FINANCE), run.id, "pdf")
    with pytest.raises(Forbidden):
        await export.export(day.world.actor(Role.WAREHOUSE), run.id, "csv")


async def test_the_download_route_needs_a_readers_key_of_the_runs_tenant(day: Day, other_world: World) -> None:
    run = await mismatched_run(day)
    app = create_app(settings_for(day.database_url), manage_database=False)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                                   base_url="http://test") as http:
        path = f"/exports/reconciliation/{run.id}"
        keys = day.world.keys
        answer = await http.get(f"{path}.csv", headers={"Authorization": f"Bearer {keys['finance']}"})
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
        assert f'filename="reconciliation-{day.day.isoformat()}-run-{run.id}.csv"' in answer.headers["content-disposition"]
        assert answer.headers["cache-control"] == "no-store"
        assert read_csv(answer.content)[1][0]["order"] == day.number(1)
        answer = await http.get(f"{path}.xlsx", headers={"X-Api-Key": keys["auditor"]})
        assert answer.status_code == 200 and read_xlsx(answer.content)[1][0]["difference"] == 10
        assert (await http.get(f"{path}.csv")).status_code == 401
        assert (await http.get(f"{path}.csv", headers={"Authorization": "Bearer og_not_a_key"})).status_code == 401
        assert (await http.get(f"{path}.csv", headers={"Authorization": f"Bearer {keys['warehouse']}"})).status_code == 403
        rival = await http.get(f"{path}.csv", headers={"Authorization": f"Bearer {other_world.keys['finance']}"})
        assert rival.status_code == 404
        assert (await http.get(f"{path}.pdf", headers={"Authorization": f"Bearer {keys['finance']}"})).status_code == 404
        assert (await http.get("/exports/reconciliation/99999999999.csv",
                               headers={"Authorization": f"Bearer {keys['finance']}"})).status_code == 404


RECONCILIATION = """
query Day($day: Date!, $first: Int!, $after: String) {
  reconciliation(day: $day) {
    id day status threshold ordersChecked ordersDiffering totals error
    diffs(first: $first, after: $after) {
      edges { cursor node { order orderNumber dimension channelValue erpValue wmsValue gatewayValue difference note } }
      pageInfo { hasNextPage endCursor }
    }
    downloads { csv xlsx }
  }
  reconciliations(first: 5) { nodes { id status ordersDiffering } }
}
"""
RUN = """
mutation Run($day: Date!, $threshold: Decimal) {
  runReconciliation(day: $day, threshold: $threshold) { run { id status ordersDiffering } errors { code field message } }
}
"""


async def test_graphql_runs_and_reads_the_day(day: Day) -> None:
    app = create_app(settings_for(day.database_url), manage_database=False)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                                   base_url="http://test") as http:
        gql = GraphQLClient(http)
        keys = day.world.keys
        assert (await gql(keys["auditor"], RECONCILIATION, {"day": day.day.isoformat(), "first": 1}))["reconciliation"] is None
        day.fed.erp.profile = ErpProfile.read({"invoice_mismatch": {day.number(1): {"amount": 10},
                                                                    day.number(2): {"quantity": -1}}})
        ran = (await gql(keys["finance"], RUN, {"day": day.day.isoformat()}))["runReconciliation"]
        assert ran["errors"] == [] and (ran["run"]["status"], ran["run"]["ordersDiffering"]) == ("DONE", 2)
        refused = (await gql(keys["auditor"], RUN, {"day": day.day.isoformat()}))["runReconciliation"]
        assert refused["run"] is None and refused["errors"][0]["code"] == "FORBIDDEN"
        bad = (await gql(keys["finance"], RUN, {"day": day.day.isoformat(), "threshold": "2"}))["runReconciliation"]
        assert bad["errors"][0]["field"] == "threshold"

        found = (await gql(keys["auditor"], RECONCILIATION, {"day": day.day.isoformat(), "first": 1}))["reconciliation"]
        assert (found["id"], found["status"], found["ordersChecked"], found["ordersDiffering"]) == \
            (ran["run"]["id"], "DONE", 4, 2)
        assert found["totals"]["quantity"]["erp"] == 6 and found["threshold"] == "0.0050"
        first = found["diffs"]["edges"][0]["node"]
        assert (first["orderNumber"], first["dimension"], first["difference"]) == (day.number(1), "AMOUNT", "10.00")
        assert found["diffs"]["pageInfo"]["hasNextPage"] is True
        after = found["diffs"]["pageInfo"]["endCursor"]
        rest = (await gql(keys["finance"], RECONCILIATION, {"day": day.day.isoformat(), "first": 5, "after": after}))
        second = rest["reconciliation"]["diffs"]["edges"]
        assert [(e["node"]["orderNumber"], e["node"]["dimension"], e["node"]["erpValue"]) for e in second] == \
            [(day.number(2), "QUANTITY", "2.00")]
        run_pk = (await ReconciliationRun.get(day=day.day)).id
        assert found["downloads"] == {"csv": f"/exports/reconciliation/{run_pk}.csv",
                                      "xlsx": f"/exports/reconciliation/{run_pk}.xlsx"}
        assert [r["id"] for r in rest["reconciliations"]["nodes"]] == [ran["run"]["id"]]
        yesterdays = await gql(keys["finance"], "{ reconciliation { id } }")       # the day defaults to yesterday
        assert yesterdays["reconciliation"]["id"] == ran["run"]["id"]
        answer = await gql.post(keys["warehouse"], RECONCILIATION, {"day": day.day.isoformat(), "first": 1})
        assert answer.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def _cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env={**os.environ, "DATABASE_URL": database_url},
                          capture_output=True, text=True, timeout=120)


async def test_the_cli_reconciles_with_a_progress_bar_and_writes_the_file(day: Day, tmp_path: Path) -> None:
    day.fed.erp.profile = ErpProfile.read({"invoice_mismatch": {day.number(1): {"amount": 10}}})
    target = tmp_path / "day.xlsx"
    done = await asyncio.to_thread(_cli, "reconcile", "--tenant", "acme", "--date", day.day.isoformat(),
                                   "-o", str(target), database_url=day.database_url)
    assert done.returncode == 0, done.stderr
    assert "4 orders checked, 1 differ (quantity 0, amount 1) beyond 0.0050" in done.stdout
    assert f"{day.number(1)}: amount 10.00" in done.stdout
    assert "4/4" in done.stderr                                             # tqdm's bar reached the end
    summary, table = read_xlsx(target.read_bytes())
    assert summary["status"] == "done" and [r["order"] for r in table] == [day.number(1)]
    refused = await asyncio.to_thread(_cli, "reconcile", "--tenant", "acme", "--date", day.day.isoformat(),
                                      "--threshold", "5", database_url=day.database_url)
    assert refused.returncode == 2 and "threshold" in refused.stderr
    nobody = await asyncio.to_thread(_cli, "reconcile", "--tenant", "nobody", "--date", day.day.isoformat(),
                                     database_url=day.database_url)
    assert nobody.returncode == 2 and "no tenant nobody" in nobody.stderr


# ------------------------------------------------------------------ the daily schedule


async def test_the_leader_reconciles_yesterday_once_after_the_hour(day: Day) -> None:
    tenant = day.world.tenant
    today = day.day + timedelta(days=1)
    early = datetime.combine(today, time(5, 59), tzinfo=SHANGHAI)
    late = datetime.combine(today, time(6, 1), tzinfo=SHANGHAI)
    assert await due(early, hour=6) == []
    assert await due(late, hour=6) == [(tenant.id, day.day)]
    assert await due(late + timedelta(days=1), hour=6) == []                   # today had no orders: nothing is due
    watch = ReconcileWatch(settings_for(day.database_url, reconcile_hour=6), SYSTEMS)
    assert await watch.round(late) == 1
    run = await ReconciliationRun.get(tenant_id=tenant.id)
    assert (run.day, run.status, run.started_by) == (day.day, "done", "system:reconciliation")
    assert await due(late + timedelta(hours=3), hour=6) == []                  # once a day
    assert await watch.round(late + timedelta(hours=3)) == 0
    await ReconciliationRun.filter(id=run.id).update(status="failed")
    assert await due(late, hour=6) == [(tenant.id, day.day)]                   # a failed day is tried again
