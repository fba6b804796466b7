"""``healthFigures(days:)``: the seeds' health figures per day in the tenant's time zone (see ``domain.health``).

    { healthFigures(days: 14) { timeZone days { day statusCredibility onTimeShippingRate } } }

A figure is null on a day with nothing to measure, never 0.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain import health
from domain.federation.failure_rate import TARGET
from resolvers import health as health_resolvers


@strawberry.type(description="One day's health figures (a calendar day in the tenant's time zone). Null: nothing to measure that day.")
class HealthDay:
    day: date = strawberry.field(description="The day, in the tenant's time zone.")
    status_credibility: float | None = strawberry.field(
        description="1 - ordersDiffering / ordersChecked of the day's newest finished reconciliation (0-1); null without one.")
    orders_checked: int | None = strawberry.field(description="Orders the day's reconciliation compared; null without a finished run.")
    orders_differing: int | None = strawberry.field(description="Of them, orders whose figures differ between systems; null without a finished run.")
    exceptions_closed: int = strawberry.field(description="Alerts resolved that day (by a person or because the condition cleared).")
    exception_close_p50_seconds: float | None = strawberry.field(
        description="Median seconds from raised to resolved of the alerts resolved that day; null when none was.")
    exchanges: int = strawberry.field(description="Exchanges with an ERP or WMS that day (pushes, queries, callbacks).")
    exchanges_failed: int = strawberry.field(description="Of them, failed (error, timeout, unreachable) or disagreed.")
    cross_system_failure_rate: float | None = strawberry.field(description="exchangesFailed / exchanges (0-1); null without exchanges.")
    recoveries: int = strawberry.field(
        description="Cross-system alerts (WMS conflicts and failures, stock drift, escalations, reconciliation mismatches) resolved that day.")
    recovery_cycle_p50_seconds: float | None = strawberry.field(
        description="Median seconds from raised to resolved of those cross-system alerts; null when none was resolved.")
    shipped: int = strawberry.field(description="Orders whose first parcel was handed over that day.")
    shipped_on_time: int = strawberry.field(description="Of them, handed over by the order's ship-by (or, unset, its tier's promise).")
    judged_by_tier_promise: int = strawberry.field(
        description="Of the shipped, orders without a ship-by, judged by placement plus their priority tier's promise.")
    on_time_shipping_rate: float | None = strawberry.field(description="shippedOnTime / shipped (0-1); null when nothing shipped.")

    @classmethod
    def from_domain(cls, d: health.HealthDay) -> HealthDay:
        return cls(day=d.day, status_credibility=d.status_credibility, orders_checked=d.orders_checked,
                   orders_differing=d.orders_differing, exceptions_closed=d.exceptions_closed,
                   exception_close_p50_seconds=d.close_p50, exchanges=d.exchanges, exchanges_failed=d.exchanges_failed,
                   cross_system_failure_rate=d.failure_rate, recoveries=d.recoveries,
                   recovery_cycle_p50_seconds=d.recovery_p50, shipped=d.shipped, shipped_on_time=d.shipped_on_time,
                   judged_by_tier_promise=d.by_tier_promise, on_time_shipping_rate=d.on_time_rate)


@strawberry.type(description="The tenant's health figures over the last days, oldest day first, today last.")
class HealthFigures:
    time_zone: str = strawberry.field(description="The IANA time zone the days are cut in (the tenant's).")
    failure_target: float = strawberry.field(description="The cross-system failure rate merchants hold integrations to (0.003).")
    days: list[HealthDay] = strawberry.field(description="One per day, oldest first.")


@strawberry.type
class HealthQuery:
    @strawberry.field(description="Status credibility, exception close time, cross-system failure rate, recovery cycle and "
                                  "on-time shipping per day in the tenant's time zone (ops, admin, finance, auditor).")
    async def health_figures(self, info: Info, days: Annotated[int, strawberry.argument(description="How many days back, today included, 1-31; 14 by default.")] = 14) -> HealthFigures:
        figures = await health_resolvers.health_figures(info.context, days)
        return HealthFigures(time_zone=figures.time_zone, failure_target=TARGET,
                             days=[HealthDay.from_domain(d) for d in figures.days])
