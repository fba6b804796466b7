"""Federation entry points: diagnose orders in a batch, read evidence and the failure rate, and the repairs.

Queries: ``diagnose(orders:)``, ``crossSystemFailureRate(days:)``, ``systemExchange(id:|ref:)``.
Mutations (each the action a diagnosis suggests, or the breaker's controls):
``applyWmsConfirmation``, ``repushToWms``, ``resyncFromChannel``, ``escalateOrder``,
``checkStockDrift``, ``resetDriftBreaker``. Each returns a payload with
``errors`` and changes nothing when it refuses.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.federation.drift_breaker import DriftReport as DomainDriftReport
from domain.federation.failure_rate import TARGET
from resolvers import federation as federation_resolvers
from resolvers import ids
from schema.errors import UserError, attempt
from schema.federation_read import Diagnosis, DriftBreaker, SystemExchange
from schema.mutation import OrderPayload
from schema.mutation import _payload as order_payload
from schema.types import Alert


@strawberry.type(description="One UTC day of a connection's exchanges.")
class DailyFailureRate:
    day: date = strawberry.field(description="The UTC day.")
    total: int = strawberry.field(description="Exchanges that day.")
    failed: int = strawberry.field(description="Of them, failed or disagreed.")
    disagreed: int = strawberry.field(description="Of them, answered but contradicted OrderGraph.")
    ratio: float = strawberry.field(description="failed / total (0 when there were none).")


@strawberry.type(description="Of one connection's exchanges (pushes, queries, callbacks), the share that failed or disagreed.")
class SystemFailureRate:
    connection: str = strawberry.field(description="The connection's code.")
    system: str = strawberry.field(description="`erp` or `wms`.")
    total: int = strawberry.field(description="Exchanges over the period.")
    failed: int = strawberry.field(description="error, timeout, unreachable or disagreed")
    disagreed: int = strawberry.field(description="answered, but contradicted OrderGraph")
    ratio: float = strawberry.field(description="failed / total over the period (0 when there were none).")
    target: float = strawberry.field(description="The share merchants hold integrations to (0.003).")
    days: list[DailyFailureRate] = strawberry.field(description="One per UTC day, oldest first.")


@strawberry.type(description="One SKU whose WMS and ERP stock differ.")
class SkuDrift:
    sku: str = strawberry.field(description="The SKU code.")
    wms: int = strawberry.field(description="On hand per the WMS.")
    erp: int = strawberry.field(description="On hand per the ERP.")
    difference: int = strawberry.field(description="WMS minus ERP.")


@strawberry.type(description="One stock-drift check of a warehouse and what it did to the breaker.")
class DriftReport:
    warehouse_id: strawberry.ID = strawberry.field(description="The warehouse's id.")
    warehouse_code: str = strawberry.field(description="The warehouse's code.")
    action: str = strawberry.field(description="opened, still_open, recovering, closed, closed_ok (under the threshold, breaker closed) or skipped")
    message: str = strawberry.field(description="What the check found and did, in words.")
    breaker_open: bool = strawberry.field(description="Whether the breaker is open after the check.")
    threshold: float = strawberry.field(
        description="The share of differing SKUs or units above which the breaker opens (0-1).")
    compared: int = strawberry.field(description="SKUs compared.")
    differing: int = strawberry.field(description="SKUs whose WMS and ERP figures differ.")
    sku_share: float = strawberry.field(description="differing / compared (0-1).")
    unit_share: float = strawberry.field(description="Units in difference / units compared (0-1).")
    top: list[SkuDrift] = strawberry.field(description="The most differing SKUs.")
    checked_at: datetime = strawberry.field(description="When the check ran (UTC).")
    exchange_ids: list[strawberry.ID] = strawberry.field(description="The SystemExchanges the figures came from.")

    @classmethod
    def from_domain(cls, report: DomainDriftReport) -> DriftReport:
        drift = report.drift
        return cls(
            warehouse_id=strawberry.ID(ids.encode("Warehouse", report.warehouse_id)), warehouse_code=report.warehouse_code,
            action=report.action, message=report.message, breaker_open=report.breaker_open, threshold=report.threshold,
            compared=drift.compared if drift else 0, differing=drift.differing if drift else 0,
            sku_share=drift.sku_share if drift else 0.0, unit_share=drift.unit_share if drift else 0.0,
            top=[SkuDrift(sku=r.sku, wms=r.wms, erp=r.erp, difference=r.difference) for r in (drift.top if drift else ())],
            checked_at=report.checked_at,
            exchange_ids=[strawberry.ID(ids.encode("SystemExchange", e)) for e in report.exchange_ids])


@strawberry.input(description="An order to repair, and why.")
class OrderRepairInput:
    order: strawberry.ID = strawberry.field(description="The order's id.")
    reason: str = strawberry.field(default="", description="Why, recorded in the lineage (required by some repairs).")


@strawberry.input(description="An order to escalate to a person.")
class EscalateOrderInput:
    order: strawberry.ID = strawberry.field(description="The order's id.")
    reason: str = strawberry.field(description="Why, shown on the alert.")
    code: str = strawberry.field(default="", description="The discrepancy code the alert is about (from a diagnosis).")


@strawberry.input(description="A breaker to close by hand.")
class ResetDriftBreakerInput:
    warehouse: strawberry.ID = strawberry.field(description="The warehouse's id.")
    reason: str = strawberry.field(description="Why, recorded in the lineage.")


@strawberry.type(description="The result of escalating an order.")
class EscalationPayload:
    alert: Alert | None = strawberry.field(
        description="The critical alert raised (or the open one updated); null when `errors` is not empty.")
    errors: list[UserError] = strawberry.field(description="Why nothing was raised; empty on success.")


@strawberry.type(description="The result of a stock-drift check.")
class DriftCheckPayload:
    report: DriftReport | None = strawberry.field(
        description="What the check found and did; null when `errors` is not empty.")
    errors: list[UserError] = strawberry.field(
        description="Why the check did not run (e.g. the warehouse has no WMS); empty otherwise.")


@strawberry.type(description="The result of closing a breaker.")
class DriftBreakerPayload:
    breaker: DriftBreaker | None = strawberry.field(description="The breaker as it is now; null when `errors` is not empty.")
    errors: list[UserError] = strawberry.field(
        description="Why nothing changed (FORBIDDEN for roles other than ops and admin); empty on success.")


@strawberry.type
class FederationQuery:
    @strawberry.field(description="Diagnose up to 100 orders at once: each system asked once for all of them, in parallel.")
    async def diagnose(self, info: Info, orders: Annotated[list[strawberry.ID], strawberry.argument(description="1 to 100 order ids.")]) -> list[Diagnosis]:
        found = await federation_resolvers.diagnose_orders(info.context, orders)
        return [Diagnosis.from_domain(d) for d in found]

    @strawberry.field(description="Per ERP/WMS connection: exchanges failed or disagreed / all, per UTC day. `days` 1-31.")
    async def cross_system_failure_rate(self, info: Info, days: Annotated[int, strawberry.argument(description="How many UTC days back, 1-31; 7 by default.")] = 7) -> list[SystemFailureRate]:
        rates = await federation_resolvers.failure_rates(info.context, days)
        return [SystemFailureRate(
            connection=r.connection, system=r.system, total=r.tally.total, failed=r.tally.failed,
            disagreed=r.tally.disagreed, ratio=r.tally.ratio, target=TARGET,
            days=[DailyFailureRate(day=d.day, total=d.tally.total, failed=d.tally.failed, disagreed=d.tally.disagreed,
                                   ratio=d.tally.ratio) for d in r.days]) for r in rates]

    @strawberry.field(description="One exchange with an ERP or WMS, by its id or by lineage's payloadRef (`exchange:<n>`).")
    async def system_exchange(self, info: Info, id: Annotated[strawberry.ID | None, strawberry.argument(description="The exchange's id (give this or `ref`).")] = None, ref: Annotated[str | None, strawberry.argument(description="Lineage's payloadRef, `exchange:<n>` (give this or `id`).")] = None) -> SystemExchange | None:
        row = await federation_resolvers.exchange(info.context, id, ref)
        return SystemExchange.from_row(row) if row else None


@strawberry.type
class FederationMutation:
    @strawberry.mutation(description="Ship the order as its WMS says it shipped (waybills, time, warehouse), when the "
                                     "confirmation never arrived. The WMS is asked again first; refused if it does not say so.")
    async def apply_wms_confirmation(self, info: Info, input: Annotated[OrderRepairInput, strawberry.argument(description="The order.")]) -> OrderPayload:
        return await order_payload(info, lambda: federation_resolvers.apply_confirmation(info.context, input.order, input.reason), input.order)

    @strawberry.mutation(description="Push the order's delivery orders to the WMS again, by the same codes (a reason is required).")
    async def repush_to_wms(self, info: Info, input: Annotated[OrderRepairInput, strawberry.argument(description="The order and why.")]) -> OrderPayload:
        return await order_payload(info, lambda: federation_resolvers.repush(info.context, input.order, input.reason), input.order)

    @strawberry.mutation(description="Re-apply the channel's last word about the order, mapped by today's status tables.")
    async def resync_from_channel(self, info: Info, input: Annotated[OrderRepairInput, strawberry.argument(description="The order.")]) -> OrderPayload:
        return await order_payload(info, lambda: federation_resolvers.resync(info.context, input.order, input.reason), input.order)

    @strawberry.mutation(description="Raise a critical alert on the order for a person to handle.")
    async def escalate_order(self, info: Info, input: Annotated[EscalateOrderInput, strawberry.argument(description="The order and why.")]) -> EscalationPayload:
        row, errors = await attempt(lambda: federation_resolvers.escalate(info.context, input.order, input.code, input.reason))
        return EscalationPayload(alert=Alert.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Compare the warehouse's WMS and ERP stock now and open or close its breaker.")
    async def check_stock_drift(self, info: Info, warehouse: Annotated[strawberry.ID, strawberry.argument(description="The warehouse's id.")]) -> DriftCheckPayload:
        report, errors = await attempt(lambda: federation_resolvers.check_drift(info.context, warehouse))
        return DriftCheckPayload(report=DriftReport.from_domain(report) if report else None, errors=errors)

    @strawberry.mutation(description="Close a warehouse's stock-drift breaker by hand, saying why (ops or admin).")
    async def reset_drift_breaker(self, info: Info, input: Annotated[ResetDriftBreakerInput, strawberry.argument(description="The warehouse and why.")]) -> DriftBreakerPayload:
        row, errors = await attempt(lambda: federation_resolvers.reset_breaker(info.context, input.warehouse, input.reason))
        return DriftBreakerPayload(breaker=DriftBreaker.from_row(row) if row else None, errors=errors)
