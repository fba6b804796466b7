"""Federation entry points: diagnose orders in a batch, read evidence and the failure rate, and the repairs.

Queries: ``diagnose(orders:)``, ``crossSystemFailureRate(days:)``, ``systemExchange(id:|ref:)``.
Mutations (each the action a diagnosis suggests, or the breaker's controls):
``applyWmsConfirmation``, ``repushToWms``, ``resyncFromChannel``, ``escalateOrder``,
``checkStockDrift``, ``resetDriftBreaker``. Each returns a payload with
``errors`` and changes nothing when it refuses.
"""

from __future__ import annotations

from datetime import date, datetime

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


@strawberry.type
class DailyFailureRate:
    day: date
    total: int
    failed: int
    disagreed: int
    ratio: float


@strawberry.type(description="Of one connection's exchanges (pushes, queries, callbacks), the share that failed or disagreed.")
class SystemFailureRate:
    connection: str
    system: str
    total: int
    failed: int = strawberry.field(description="error, timeout, unreachable or disagreed")
    disagreed: int = strawberry.field(description="answered, but contradicted OrderGraph")
    ratio: float
    target: float = strawberry.field(description="The share merchants hold integrations to (0.003).")
    days: list[DailyFailureRate] = strawberry.field(description="One per UTC day, oldest first.")


@strawberry.type
class SkuDrift:
    sku: str
    wms: int
    erp: int
    difference: int = strawberry.field(description="WMS minus ERP.")


@strawberry.type(description="One stock-drift check of a warehouse and what it did to the breaker.")
class DriftReport:
    warehouse_id: strawberry.ID
    warehouse_code: str
    action: str = strawberry.field(description="opened, still_open, recovering, closed, closed_ok (under the threshold, breaker closed) or skipped")
    message: str
    breaker_open: bool
    threshold: float
    compared: int
    differing: int
    sku_share: float
    unit_share: float
    top: list[SkuDrift]
    checked_at: datetime
    exchange_ids: list[strawberry.ID]

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


@strawberry.input
class OrderRepairInput:
    order: strawberry.ID
    reason: str = ""


@strawberry.input
class EscalateOrderInput:
    order: strawberry.ID
    reason: str
    code: str = strawberry.field(default="", description="The discrepancy code the alert is about (from a diagnosis).")


@strawberry.input
class ResetDriftBreakerInput:
    warehouse: strawberry.ID
    reason: str


@strawberry.type
class EscalationPayload:
    alert: Alert | None
    errors: list[UserError]


@strawberry.type
class DriftCheckPayload:
    report: DriftReport | None
    errors: list[UserError]


@strawberry.type
class DriftBreakerPayload:
    breaker: DriftBreaker | None
    errors: list[UserError]


@strawberry.type
class FederationQuery:
    @strawberry.field(description="Diagnose up to 100 orders at once: each system asked once for all of them, in parallel.")
    async def diagnose(self, info: Info, orders: list[strawberry.ID]) -> list[Diagnosis]:
        found = await federation_resolvers.diagnose_orders(info.context, orders)
        return [Diagnosis.from_domain(d) for d in found]

    @strawberry.field(description="Per ERP/WMS connection: exchanges failed or disagreed / all, per UTC day. `days` 1-31.")
    async def cross_system_failure_rate(self, info: Info, days: int = 7) -> list[SystemFailureRate]:
        rates = await federation_resolvers.failure_rates(info.context, days)
        return [SystemFailureRate(
            connection=r.connection, system=r.system, total=r.tally.total, failed=r.tally.failed,
            disagreed=r.tally.disagreed, ratio=r.tally.ratio, target=TARGET,
            days=[DailyFailureRate(day=d.day, total=d.tally.total, failed=d.tally.failed, disagreed=d.tally.disagreed,
                                   ratio=d.tally.ratio) for d in r.days]) for r in rates]

    @strawberry.field(description="One exchange with an ERP or WMS, by its id or by lineage's payloadRef (`exchange:<n>`).")
    async def system_exchange(self, info: Info, id: strawberry.ID | None = None, ref: str | None = None) -> SystemExchange | None:
        row = await federation_resolvers.exchange(info.context, id, ref)
        return SystemExchange.from_row(row) if row else None


@strawberry.type
class FederationMutation:
    @strawberry.mutation(description="Ship the order as its WMS says it shipped (waybills, time, warehouse), when the "
                                     "confirmation never arrived. The WMS is asked again first; refused if it does not say so.")
    async def apply_wms_confirmation(self, info: Info, input: OrderRepairInput) -> OrderPayload:
        return await order_payload(info, lambda: federation_resolvers.apply_confirmation(info.context, input.order, input.reason))

    @strawberry.mutation(description="Push the order's delivery orders to the WMS again, by the same codes (a reason is required).")
    async def repush_to_wms(self, info: Info, input: OrderRepairInput) -> OrderPayload:
        return await order_payload(info, lambda: federation_resolvers.repush(info.context, input.order, input.reason))

    @strawberry.mutation(description="Re-apply the channel's last word about the order, mapped by today's status tables.")
    async def resync_from_channel(self, info: Info, input: OrderRepairInput) -> OrderPayload:
        return await order_payload(info, lambda: federation_resolvers.resync(info.context, input.order, input.reason))

    @strawberry.mutation(description="Raise a critical alert on the order for a person to handle.")
    async def escalate_order(self, info: Info, input: EscalateOrderInput) -> EscalationPayload:
        row, errors = await attempt(lambda: federation_resolvers.escalate(info.context, input.order, input.code, input.reason))
        return EscalationPayload(alert=Alert.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Compare the warehouse's WMS and ERP stock now and open or close its breaker.")
    async def check_stock_drift(self, info: Info, warehouse: strawberry.ID) -> DriftCheckPayload:
        report, errors = await attempt(lambda: federation_resolvers.check_drift(info.context, warehouse))
        return DriftCheckPayload(report=DriftReport.from_domain(report) if report else None, errors=errors)

    @strawberry.mutation(description="Close a warehouse's stock-drift breaker by hand, saying why (ops or admin).")
    async def reset_drift_breaker(self, info: Info, input: ResetDriftBreakerInput) -> DriftBreakerPayload:
        row, errors = await attempt(lambda: federation_resolvers.reset_breaker(info.context, input.warehouse, input.reason))
        return DriftBreakerPayload(breaker=DriftBreaker.from_row(row) if row else None, errors=errors)
