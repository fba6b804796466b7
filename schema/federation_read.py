"""The federated fields: what the ERP and the WMS say now, next to ours, and the diagnosis of who is out of line.

Attached in ``schema.types``: ``Order.erp``, ``Order.wms``, ``Order.diagnosis``,
``Warehouse.liveStock(skus:)`` and ``Warehouse.driftBreaker``. This module
imports nothing from ``schema.types`` (which imports it), so the types here
refer to orders and warehouses by id.

A system that cannot answer fails only its own field: the field is null and
the response's ``errors`` carry ``extensions.code = SYSTEM_UNAVAILABLE`` with
the system and connection; every other field answers. Nothing here is
personal data (no receiver, no phone): every role sees the same.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.federation import diagnosis as rules
from domain.federation import evidence
from domain.federation.ports import WmsStatus as DomainWmsStatus
from domain.federation.views import check_skus
from domain.inbound.carrier_codes import normalize
from models.order import order_no
from resolvers import ids
from resolvers.federation_loaders import DeliveryView, ErpOrderView, LiveStockView, federation, stock_key
from schema.enum_values import describe_values

WmsStatus = describe_values(strawberry.enum(DomainWmsStatus, description="Where a delivery order stands in the WMS, mapped from its own codes."), {
    "NEW": "Received by the WMS, not yet worked on.",
    "ACCEPTED": "Accepted by the WMS for fulfilment.",
    "PICKING": "Being picked.",
    "PACKED": "Packed, waiting for the carrier.",
    "SHIPPED": "Left the warehouse with a waybill.",
    "CANCELLED": "Cancelled in the WMS.",
    "EXCEPTION": "The WMS reports a problem with it.",
    "UNKNOWN": "The WMS does not know the delivery order.",
})
Verdict = describe_values(strawberry.enum(rules.Verdict, description="GREEN: every system agrees. YELLOW: a lag or a system that could not be asked. RED: systems contradict each other."), {
    "GREEN": "Every system agrees.",
    "YELLOW": "A lag, or a system that could not be asked: look again later.",
    "RED": "Systems contradict each other: act on the suggested repairs.",
})
SystemName = describe_values(strawberry.enum(rules.System, description="A system an order's truth is spread over."), {
    "ORDERGRAPH": "OrderGraph itself.",
    "CHANNEL": "The sales channel (platform) the order came from.",
    "ERP": "The tenant's ERP (sales orders, invoices).",
    "WMS": "The warehouse management system running the warehouse.",
    "CARRIER": "The carrier's tracking.",
})
ActionKind = describe_values(strawberry.enum(rules.ActionKind, description="A repair a diagnosis suggests; each is a mutation."), {
    "APPLY_WMS_CONFIRMATION": "Apply the shipment the WMS confirmed but OrderGraph has not recorded.",
    "REPUSH_TO_WMS": "Push the delivery order to the WMS again (same code, so it is idempotent).",
    "FORCE_RELEASE_RESERVATION": "Release a reservation that holds stock for nothing.",
    "RESYNC_FROM_CHANNEL": "Re-apply the channel's last word about the order, mapped by today's status tables.",
    "ESCALATE": "Raise a critical alert on the order for a person to handle.",
})


def _id(type_name: str, pk: int | None) -> strawberry.ID | None:
    return strawberry.ID(ids.encode(type_name, pk)) if pk else None


@strawberry.type(description="One request to (or callback from) an ERP or WMS and its answer, redacted: the evidence "
                             "lineage and the federated fields link to (lineage's payloadRef `exchange:<n>`).")
class SystemExchange:
    id: strawberry.ID = strawberry.field(description="The exchange's global id.")
    exchange_id: int = strawberry.field(description="The exchange's number (as in `ref`).")
    ref: str = strawberry.field(description="How lineage names it: `exchange:<n>`.")
    system: str = strawberry.field(description="`erp` or `wms`.")
    operation: str = strawberry.field(description="What was asked or told, e.g. push, query, cancel, confirm.")
    direction: str = strawberry.field(description="`out`: we asked. `in`: the system called us back.")
    method: str = strawberry.field(description="The HTTP method.")
    url: str = strawberry.field(description="The URL, secrets starred.")
    status_code: int | None = strawberry.field(description="The HTTP status answered; null when no answer came.")
    outcome: str = strawberry.field(description="ok, error, timeout, unreachable or disagreed (answered, but contradicted OrderGraph)")
    error: str = strawberry.field(description="Why it failed, in words; empty on success.")
    elapsed_ms: float = strawberry.field(description="How long the exchange took, in milliseconds.")
    request_body: str = strawberry.field(description="As sent, secrets starred and personal data masked.")
    response_body: str = strawberry.field(description="As answered, secrets starred and personal data masked.")
    created_at: datetime = strawberry.field(description="When it happened (UTC).")
    order_id: strawberry.ID | None = strawberry.field(description="The order it was about, if any.")

    @classmethod
    def from_row(cls, row: Any) -> SystemExchange:
        return cls(id=strawberry.ID(ids.encode("SystemExchange", row.id)), exchange_id=row.id, ref=evidence.ref(row.id),
                   system=row.system, operation=row.operation, direction=row.direction, method=row.method, url=row.url,
                   status_code=row.status_code, outcome=row.outcome, error=row.error, elapsed_ms=row.elapsed_ms,
                   request_body=row.request_body, response_body=row.response_body, created_at=row.created_at,
                   order_id=_id("Order", row.order_id))


async def exchange_by_pk(info: Info, pk: int | None) -> SystemExchange | None:
    if not pk:
        return None
    row = await federation(info.context).exchange.load(pk)
    return SystemExchange.from_row(row) if row else None


@strawberry.type(description="Units of one SKU.")
class SkuQuantity:
    sku: str = strawberry.field(description="The SKU code.")
    quantity: int = strawberry.field(description="Units.")


@strawberry.type(description="One SKU of the ERP's sales order: ordered, shipped (out-stock booked) and invoiced.")
class ErpOrderLine:
    sku: str = strawberry.field(description="The SKU code.")
    ordered: int = strawberry.field(description="Units on the ERP's sales order.")
    shipped: int = strawberry.field(description="Units the ERP booked out of stock.")
    invoiced: int = strawberry.field(description="Units the ERP invoiced.")


@strawberry.type(description="What the ERP says now about the order's sales order (asked, or cached for a few seconds).")
class ErpOrder:
    connection: str = strawberry.field(description="The ERP connection's code.")
    known: bool = strawberry.field(description="false: the ERP has no sales order with our order number.")
    status: str = strawberry.field(description="The ERP's own document status, verbatim (empty when unknown).")
    lines: list[ErpOrderLine] = strawberry.field(description="The sales order's lines, per SKU.")
    ordered_quantity: int = strawberry.field(description="Units ordered, all lines together.")
    shipped_quantity: int = strawberry.field(description="Units shipped, all lines together.")
    invoiced_quantity: int = strawberry.field(description="Units invoiced, all lines together.")
    amount: Decimal | None = strawberry.field(description="The sales order's total as the ERP states it.")
    updated_at: datetime | None = strawberry.field(description="When the ERP last changed it.")
    asked_at: datetime = strawberry.field(description="When OrderGraph asked (older than now when cached).")
    cached: bool = strawberry.field(description="true: the answer is from the few-second cache, not asked now.")
    evidence_id: strawberry.ID | None = strawberry.field(description="The SystemExchange the answer came from.")
    evidence_pk: strawberry.Private[int | None]

    @strawberry.field(description="The exchange the answer came from, redacted.")
    async def evidence(self, info: Info) -> SystemExchange | None:
        return await exchange_by_pk(info, self.evidence_pk)

    @classmethod
    def from_view(cls, view: ErpOrderView) -> ErpOrder:
        state = view.state
        skus = sorted(set(state.ordered) | set(state.shipped) | set(state.invoiced))
        try:
            amount = Decimal(state.amount) if state.amount else None
        except InvalidOperation:
            amount = None
        return cls(connection=view.connection, known=state.known, status=state.status,
                   lines=[ErpOrderLine(sku=s, ordered=state.ordered.get(s, 0), shipped=state.shipped.get(s, 0),
                                       invoiced=state.invoiced.get(s, 0)) for s in skus],
                   ordered_quantity=sum(state.ordered.values()), shipped_quantity=sum(state.shipped.values()),
                   invoiced_quantity=sum(state.invoiced.values()), amount=amount, updated_at=state.updated_at,
                   asked_at=view.asked_at, cached=view.cached, evidence_id=_id("SystemExchange", view.evidence_id),
                   evidence_pk=view.evidence_id)


@strawberry.type(description="A waybill the WMS reports for a delivery order.")
class Waybill:
    carrier: str = strawberry.field(description="As the WMS names the carrier.")
    carrier_code: str = strawberry.field(description="OrderGraph's code for it (SF, ZTO, …); empty when unknown.")
    tracking_no: str = strawberry.field(description="The carrier's tracking number.")


@strawberry.type(description="One delivery order of the order and what its WMS says about it now.")
class WmsDelivery:
    code: str = strawberry.field(description="The delivery order's code, the same on every push (the idempotency key).")
    connection: str = strawberry.field(description="The WMS connection's code.")
    warehouse_id: strawberry.ID = strawberry.field(description="The warehouse it ships from.")
    pushed: str = strawberry.field(description="Our side: pending, pushed, confirmed, cancel_pending, cancelled, cancel_refused or failed.")
    pushed_at: datetime | None = strawberry.field(description="When we pushed it to the WMS (UTC); null if not yet.")
    confirmed_at: datetime | None = strawberry.field(description="When we applied the WMS's confirmation.")
    status: WmsStatus = strawberry.field(description="What the WMS says now.")
    raw_status: str = strawberry.field(description="The WMS's own status code, verbatim.")
    shipped: list[SkuQuantity] = strawberry.field(description="Units the WMS reports shipped, per SKU.")
    waybills: list[Waybill] = strawberry.field(description="Waybills the WMS reports.")
    updated_at: datetime | None = strawberry.field(description="When the WMS last changed it.")
    asked_at: datetime = strawberry.field(description="When OrderGraph asked the WMS (UTC; older than now when cached).")
    cached: bool = strawberry.field(description="true: the answer is from the few-second cache, not asked now.")
    evidence_id: strawberry.ID | None = strawberry.field(description="The SystemExchange the answer came from.")
    evidence_pk: strawberry.Private[int | None]

    @strawberry.field(description="The exchange the answer came from, redacted.")
    async def evidence(self, info: Info) -> SystemExchange | None:
        return await exchange_by_pk(info, self.evidence_pk)

    @classmethod
    def from_view(cls, view: DeliveryView) -> WmsDelivery:
        state = view.state
        return cls(code=view.code, connection=view.connection, warehouse_id=strawberry.ID(ids.encode("Warehouse", view.warehouse_id)),
                   pushed=view.our_status, pushed_at=view.pushed_at, confirmed_at=view.confirmed_at,
                   status=WmsStatus(state.status), raw_status=state.raw_status,
                   shipped=[SkuQuantity(sku=s, quantity=q) for s, q in sorted(state.shipped.items())],
                   waybills=[Waybill(carrier=p.carrier, carrier_code=normalize(p.carrier), tracking_no=p.tracking_no)
                             for p in state.parcels],
                   updated_at=state.updated_at, asked_at=view.asked_at, cached=view.cached,
                   evidence_id=_id("SystemExchange", view.evidence_id), evidence_pk=view.evidence_id)


# ------------------------------------------------------------------ stock


@strawberry.type(description="One SKU as one system counts it, next to our on-hand.")
class SystemStockFigure:
    sku: str = strawberry.field(description="The SKU code.")
    on_hand: int = strawberry.field(description="On hand as that system counts it.")
    available: int | None = strawberry.field(description="Available as that system counts it; null if it does not say.")
    as_of: datetime | None = strawberry.field(
        description="When that system says its figure was true (UTC); null if it does not say.")
    ours: int | None = strawberry.field(description="Our on-hand for the SKU in this warehouse (null: we hold none).")
    difference: int = strawberry.field(description="Theirs minus ours.")


@strawberry.type(description="The WMS's or the ERP's on-hand for the asked SKUs of one warehouse.")
class SystemStock:
    system: str = strawberry.field(description="`wms` or `erp`.")
    connection: str = strawberry.field(description="The connection's code.")
    warehouse_code: str = strawberry.field(description="The code that system knows the warehouse by.")
    figures: list[SystemStockFigure] = strawberry.field(description="One figure per asked SKU.")
    asked_at: datetime = strawberry.field(description="When OrderGraph asked (UTC; older than now when cached).")
    cached: bool = strawberry.field(description="true: the answer is from the few-second cache, not asked now.")
    evidence_id: strawberry.ID | None = strawberry.field(description="The SystemExchange the answer came from.")
    evidence_pk: strawberry.Private[int | None]

    @strawberry.field(description="The exchange the answer came from, redacted.")
    async def evidence(self, info: Info) -> SystemExchange | None:
        return await exchange_by_pk(info, self.evidence_pk)


def _system_stock(stock: Any, view: LiveStockView) -> SystemStock:
    figures = []
    for sku in view.skus:
        figure = stock.figures.get(sku)
        ours = view.ours.get(sku)
        on_hand = figure.on_hand if figure else 0
        figures.append(SystemStockFigure(sku=sku, on_hand=on_hand, available=figure.available if figure else None,
                                         as_of=figure.as_of if figure else None, ours=ours.on_hand if ours else None,
                                         difference=on_hand - (ours.on_hand if ours else 0)))
    return SystemStock(system=stock.system.upper(), connection=stock.connection, warehouse_code=stock.warehouse_code,
                       figures=figures, asked_at=stock.asked_at, cached=stock.cached,
                       evidence_id=_id("SystemExchange", stock.evidence_id), evidence_pk=stock.evidence_id)


@strawberry.type(description="A SKU's levels in OrderGraph, in units.")
class OurStock:
    sku: str = strawberry.field(description="The SKU code.")
    on_hand: int = strawberry.field(description="Units on hand.")
    reserved: int = strawberry.field(description="Units reserved for orders.")
    available: int = strawberry.field(description="onHand - reserved.")


@strawberry.type(description="A warehouse's on-hand per SKU: ours, the WMS's and the ERP's, each system failing alone.")
class LiveStock:
    skus: list[str] = strawberry.field(description="The asked SKUs, cleaned and without duplicates.")
    ours: list[OurStock] = strawberry.field(description="Our levels for the asked SKUs we hold.")
    view: strawberry.Private[LiveStockView]

    @strawberry.field(description="What the warehouse's WMS says; null when it has none (an error when it did not answer).")
    def wms(self) -> SystemStock | None:
        return self._system(self.view.wms)

    @strawberry.field(description="What the ERP says; null when the tenant has none (an error when it did not answer).")
    def erp(self) -> SystemStock | None:
        return self._system(self.view.erp)

    def _system(self, found: Any) -> SystemStock | None:
        if found is None:
            return None
        if isinstance(found, GraphQLError):
            raise found
        return _system_stock(found, self.view)


# ------------------------------------------------------------------ the breaker


@strawberry.type(description="The stock-drift breaker of a warehouse: open = allocation from it is paused.")
class DriftBreaker:
    open: bool = strawberry.field(description="true: allocation skips the warehouse until the breaker closes.")
    reason: str = strawberry.field(description="Why it opened (or last changed), in words.")
    opened_at: datetime | None = strawberry.field(description="When it opened (UTC); null while closed.")
    below_threshold_since: datetime | None = strawberry.field(description="Since when the difference has stayed under the threshold (it closes after the configured time).")
    details: JSON = strawberry.field(description="Shares, threshold and the top differing SKUs of the last check.")
    wms: str | None = strawberry.field(description="The WMS connection running the warehouse.")

    @classmethod
    def from_row(cls, row: Any) -> DriftBreaker:
        return cls(open=row.breaker_open, reason=row.breaker_reason, opened_at=row.breaker_opened_at,
                   below_threshold_since=row.drift_below_since, details=row.breaker_details or {},
                   wms=row.wms.code if row.wms is not None else None)


# ------------------------------------------------------------------ diagnosis


_ACTION_IDS = {"order": "Order", "reservation": "Reservation"}


@strawberry.type(description="A repair, ready to run: call `mutation` with `input`.")
class SuggestedAction:
    kind: ActionKind = strawberry.field(description="The repair.")
    label: str = strawberry.field(description="The repair in words, for a button.")
    mutation: str = strawberry.field(description="The mutation to call, e.g. `repushToWms`.")
    input: JSON = strawberry.field(description="The mutation's `input`, ready to send (JSON).")

    @classmethod
    def from_domain(cls, action: rules.Action, reason: str) -> SuggestedAction:
        data: dict[str, Any] = {}
        if action.reservation_id:
            data["reservation"] = ids.encode("Reservation", action.reservation_id)
        elif action.order_id:
            data["order"] = ids.encode("Order", action.order_id)
        if action.kind == rules.ActionKind.ESCALATE:
            data["code"] = action.code
        if action.kind != rules.ActionKind.APPLY_WMS_CONFIRMATION:
            data["reason"] = f"diagnosis {action.code}: {reason}"[:300]
        return cls(kind=ActionKind(action.kind), label=action.label, mutation=action.mutation, input=data)


@strawberry.type(description="One thing two systems disagree about.")
class Discrepancy:
    code: str = strawberry.field(description="A stable code for the kind of disagreement, e.g. WMS_AHEAD, WMS_NOT_PUSHED.")
    severity: Verdict = strawberry.field(description="RED (a contradiction) or YELLOW (a lag).")
    out_of_line: SystemName = strawberry.field(description="The system whose word contradicts the others'.")
    message: str = strawberry.field(description="The disagreement in words.")
    since: datetime | None = strawberry.field(description="Since when (from lineage or the other system's own times).")
    exchange_ids: list[strawberry.ID] = strawberry.field(description="The SystemExchanges that show it.")
    event_ids: list[strawberry.ID] = strawberry.field(description="The lineage events (OrderEvent) it is dated from.")
    actions: list[SuggestedAction] = strawberry.field(description="Repairs to choose from; may be empty.")
    exchange_pks: strawberry.Private[list[int]]

    @strawberry.field(description="The exchanges that show it, redacted.")
    async def evidence(self, info: Info) -> list[SystemExchange]:
        rows = await federation(info.context).exchange.load_many(self.exchange_pks[:20])
        return [SystemExchange.from_row(row) for row in rows if row is not None]


@strawberry.type(description="A system the diagnosis could not ask.")
class UnreachableSystem:
    system: SystemName = strawberry.field(description="The system.")
    connection: str = strawberry.field(description="Its connection's code.")
    code: str = strawberry.field(description="Why, as a stable code.")
    message: str = strawberry.field(description="Why, in words.")
    exchange_ids: list[strawberry.ID] = strawberry.field(description="The failed SystemExchanges.")


@strawberry.type(description="An order compared across OrderGraph, its channel, the ERP, the WMS and the carriers.")
class Diagnosis:
    order_id: strawberry.ID = strawberry.field(description="The order's id.")
    order_number: str = strawberry.field(description="The order's number (OG000000042).")
    verdict: Verdict = strawberry.field(
        description="The worst severity found (GREEN if none, YELLOW if a system could not be asked).")
    summary: str = strawberry.field(description="The verdict in one sentence.")
    discrepancies: list[Discrepancy] = strawberry.field(description="Everything two systems disagree about.")
    unreachable: list[UnreachableSystem] = strawberry.field(description="Systems that could not be asked: the verdict cannot be GREEN without them.")
    checked_at: datetime = strawberry.field(description="When the comparison ran (UTC).")
    elapsed_ms: float = strawberry.field(description="How long it took, in milliseconds.")

    @classmethod
    def from_domain(cls, found: rules.Diagnosis) -> Diagnosis:
        return cls(
            order_id=strawberry.ID(ids.encode("Order", found.order_id)), order_number=order_no(found.order_id),
            verdict=Verdict(found.verdict), summary=found.summary,
            discrepancies=[Discrepancy(
                code=d.code, severity=Verdict(d.severity), out_of_line=SystemName(d.out_of_line), message=d.message,
                since=d.since, exchange_ids=[strawberry.ID(ids.encode("SystemExchange", e)) for e in d.exchange_ids],
                event_ids=[strawberry.ID(ids.encode("OrderEvent", e)) for e in d.event_ids],
                actions=[SuggestedAction.from_domain(a, d.message) for a in d.actions], exchange_pks=list(d.exchange_ids))
                for d in found.discrepancies],
            unreachable=[UnreachableSystem(system=SystemName(u.system), connection=u.connection, code=u.code,
                                           message=u.message,
                                           exchange_ids=[strawberry.ID(ids.encode("SystemExchange", e)) for e in u.exchange_ids])
                         for u in found.unreachable],
            checked_at=found.checked_at, elapsed_ms=found.elapsed_ms)


# ------------------------------------------------------------------ the fields (attached in schema.types)


async def order_erp(root: Any, info: Info) -> ErpOrder | None:
    """Order.erp"""
    view = await federation(info.context).erp.load(root.pk)
    return ErpOrder.from_view(view) if view is not None else None


async def order_wms(root: Any, info: Info) -> list[WmsDelivery] | None:
    """Order.wms"""
    return [WmsDelivery.from_view(view) for view in await federation(info.context).wms.load(root.pk)]


async def order_diagnosis(root: Any, info: Info) -> Diagnosis | None:
    """Order.diagnosis"""
    found = await federation(info.context).diagnosis.load(root.pk)
    return Diagnosis.from_domain(found) if found is not None else None


async def warehouse_live_stock(
    root: Any, info: Info, skus: Annotated[list[str], strawberry.argument(description="1 to 200 SKU codes.")]
) -> LiveStock:
    """Warehouse.liveStock"""
    try:
        wanted = check_skus(skus)
    except ValueError as error:
        raise GraphQLError(f"skus: {error}", extensions={"code": "BAD_USER_INPUT", "field": "skus"}) from None
    view = await federation(info.context).stock.load(stock_key(root.pk, wanted))
    ours = [OurStock(sku=s, on_hand=row.on_hand, reserved=row.reserved, available=row.on_hand - row.reserved)
            for s in view.skus if (row := view.ours.get(s)) is not None]
    return LiveStock(skus=view.skus, ours=ours, view=view)


async def warehouse_drift_breaker(root: Any, info: Info) -> DriftBreaker | None:
    """Warehouse.driftBreaker"""
    row = await federation(info.context).breaker.load(root.pk)
    return DriftBreaker.from_row(row) if row is not None else None

