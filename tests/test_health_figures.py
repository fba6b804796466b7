"""healthFigures: the seeds' health figures per day in the tenant's time zone, from a small constructed history."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
import pytest

from domain.actor import Role
from models import Alert, Order, ReconciliationRun, Shipment, SystemExchange
from tests.test_console import person, signed_in

SHANGHAI = ZoneInfo("Asia/Shanghai")
QUERY = """query($days: Int!) { healthFigures(days: $days) { timeZone failureTarget days { day statusCredibility
  ordersChecked ordersDiffering exceptionsClosed exceptionCloseP50Seconds exchanges exchangesFailed
  crossSystemFailureRate recoveries recoveryCycleP50Seconds shipped shippedOnTime judgedByTierPromise
  onTimeShippingRate } } }"""


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time on ``day``, in UTC (as stored)."""
    return datetime.combine(day, time(hour, minute), SHANGHAI).astimezone(UTC)


async def order(world, ref: str, placed: datetime, parcels: list[datetime], *, ship_by: datetime | None = None,
                priority: str = "STANDARD") -> None:
    row = await Order.create(tenant_id=world.tenant.id, channel_id=world.channel.id, external_id=ref, status="SHIPPED",
                             total_amount=Decimal("10.00"), placed_at=placed, ship_by=ship_by, priority=priority)
    for n, shipped_at in enumerate(parcels):
        await Shipment.create(order_id=row.id, carrier="SF", tracking_no=f"{ref}-{n}", status="IN_TRANSIT",
                              shipped_at=shipped_at)


async def alert(world, kind: str, raised: datetime, cleared: datetime | None) -> None:
    row = await Alert.create(tenant_id=world.tenant.id, kind=kind, message=kind,
                             state="resolved" if cleared else "open", cleared_at=cleared)
    await Alert.filter(id=row.id).update(raised_at=raised)


async def exchange(world, outcome: str, when: datetime) -> None:
    row = await SystemExchange.create(tenant_id=world.tenant.id, system="wms", operation="push", outcome=outcome)
    await SystemExchange.filter(id=row.id).update(created_at=when)


@pytest.fixture
def days() -> tuple[date, date]:
    today = datetime.now(SHANGHAI).date()
    return today - timedelta(days=2), today - timedelta(days=1)


async def history(world, a: date, b: date) -> None:
    """Two days of orders, alerts, reconciliation runs and exchanges whose figures the tests below know."""
    # Shipping. Day A: on time, late, and one whose second parcel leaves on B (counted on A only).
    await order(world, "on-time", at(a, 8), [at(a, 10)], ship_by=at(a, 12))
    await order(world, "late", at(a, 8), [at(a, 10)], ship_by=at(a, 9))
    await order(world, "split", at(a, 8), [at(a, 11), at(b, 11)], ship_by=at(a, 12))
    # Day B: no ship-by, judged by the tier's promise: STANDARD (72 h) is on time, URGENT_4H 9 h later is late.
    await order(world, "standard", at(a, 8), [at(b, 10)])
    await order(world, "urgent", at(b, 1), [at(b, 10)], priority="URGENT_4H")
    await order(world, "unshipped", at(a, 8), [], ship_by=at(a, 9))
    # Alerts, counted on the day they were resolved.
    await alert(world, "low_stock", at(a, 9), at(a, 9, 30))                   # 1800 s
    await alert(world, "wms_push_failed", at(a, 8), at(a, 10))               # 7200 s, cross-system
    await alert(world, "wms_confirm_conflict", at(a, 10), None)              # still open: not counted
    await alert(world, "stock_drift", at(a, 20), at(b, 2))                   # 21600 s, cross-system, closed on B
    # Reconciliation: day A's newest finished run wins; day B's failed run gives no figure.
    await ReconciliationRun.create(tenant_id=world.tenant.id, day=a, status="partial", threshold=Decimal("0.01"),
                                   orders_checked=10, orders_differing=5)
    await ReconciliationRun.create(tenant_id=world.tenant.id, day=a, status="done", threshold=Decimal("0.01"),
                                   orders_checked=40, orders_differing=2)
    await ReconciliationRun.create(tenant_id=world.tenant.id, day=b, status="failed", threshold=Decimal("0.01"))
    # Exchanges with the WMS: day A 5, of them a timeout and a disagreement; day B none.
    for outcome in ("ok", "ok", "ok", "timeout", "disagreed"):
        await exchange(world, outcome, at(a, 15))
    await exchange(world, "error", at(a, 23, 59) + timedelta(minutes=2))     # 00:01 on B, Shanghai time


async def test_health_figures_per_day_from_a_constructed_history(world, gql, days):
    a, b = days
    await history(world, a, b)

    data = (await gql(world.keys["auditor"], QUERY, {"days": 3}))["healthFigures"]
    assert data["timeZone"] == "Asia/Shanghai" and data["failureTarget"] == 0.003
    by_day = {d["day"]: d for d in data["days"]}
    assert list(by_day) == [a.isoformat(), b.isoformat(), (b + timedelta(days=1)).isoformat()]
    day_a, day_b, today = by_day.values()
    assert day_a == {
        "day": a.isoformat(), "statusCredibility": pytest.approx(0.95), "ordersChecked": 40, "ordersDiffering": 2,
        "exceptionsClosed": 2, "exceptionCloseP50Seconds": 1800.0, "exchanges": 5, "exchangesFailed": 2,
        "crossSystemFailureRate": pytest.approx(0.4), "recoveries": 1, "recoveryCycleP50Seconds": 7200.0,
        "shipped": 3, "shippedOnTime": 2, "judgedByTierPromise": 0, "onTimeShippingRate": pytest.approx(2 / 3)}
    assert day_b == {
        "day": b.isoformat(), "statusCredibility": None, "ordersChecked": None, "ordersDiffering": None,
        "exceptionsClosed": 1, "exceptionCloseP50Seconds": 21600.0, "exchanges": 1, "exchangesFailed": 1,
        "crossSystemFailureRate": 1.0, "recoveries": 1, "recoveryCycleP50Seconds": 21600.0,
        "shipped": 2, "shippedOnTime": 1, "judgedByTierPromise": 2, "onTimeShippingRate": 0.5}
    assert today["statusCredibility"] is None and today["crossSystemFailureRate"] is None
    assert today["onTimeShippingRate"] is None and today["exceptionCloseP50Seconds"] is None
    assert today["recoveryCycleP50Seconds"] is None and today["shipped"] == 0


async def test_health_figures_are_the_tenants_own(world, other_world, gql, days):
    a, _ = days
    await order(other_world, "theirs", at(a, 8), [at(a, 10)], ship_by=at(a, 12))
    await exchange(other_world, "error", at(a, 15))
    data = (await gql(world.keys["ops"], QUERY, {"days": 3}))["healthFigures"]
    assert all(d["shipped"] == 0 and d["exchanges"] == 0 for d in data["days"])


async def test_health_figures_refuse_other_roles_and_bad_days(world, gql):
    denied = (await gql.post(world.keys["warehouse"], QUERY, {"days": 7})).json()
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    for days in (0, 32):
        bad = (await gql.post(world.keys["finance"], QUERY, {"days": days})).json()
        assert bad["errors"][0]["extensions"]["code"] == "VALIDATION", days


async def test_console_report_charts_the_health_figures_with_gaps(world, app, days):
    a, b = days
    await history(world, a, b)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as browser:
        await signed_in(browser, await person(world, Role.ADMIN))
        page = (await browser.get("/console/report?days=7", headers={"accept-language": "en"})).text
        pdf = await browser.get("/console/report.pdf", headers={"accept-language": "en"})
    charts = dict(re.findall(r'<h2>([^<]+)</h2>(<svg class="chart".*?</svg>)', page))
    label_a, label_b = a.strftime("%m-%d"), b.strftime("%m-%d")
    assert f"<title>{label_a}: 67</title>" in charts["On-time shipping rate (%)"]
    assert f"<title>{label_b}: 50</title>" in charts["On-time shipping rate (%)"]
    assert f"<title>{label_a}: 95</title>" in charts["Status credibility (orders agreeing across systems, %)"]
    assert f"<title>{label_b}:" not in charts["Status credibility (orders agreeing across systems, %)"]  # a gap
    assert f"<title>{label_a}: 40</title>" in charts["Cross-system failure rate (%)"]
    assert f"<title>{label_a}: 30</title>" in charts["Median exception close time (minutes)"]
    assert f"<title>{label_b}: 360</title>" in charts["Median recovery cycle of cross-system alerts (minutes)"]
    assert charts["On-time shipping rate (%)"].count('class="gap"') == 5          # the other five days: no data
    assert "On-time shipping rate: <em>" not in page and "Stock accuracy: <em>Not available yet</em>" in page
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
