"""Which system is out of line about an order, and what to do about it: pure rules over what each one says.

    verdict = judge(Evidence(order=facts, erp=..., deliveries=[...], wms_stock={...}, ...))
    verdict.verdict          # GREEN | YELLOW | RED
    verdict.discrepancies    # each: which system is out of line, since when, the evidence, suggested actions

No database and no network here (``diagnose`` gathers, this judges), so every
rule is a small function tested on its own. A rule names the system that is
out of line — the one whose word contradicts the facts the others agree on —
and suggests only actions that exist as mutations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from domain.federation.facts import OrderFacts
from domain.federation.ports import DeliveryState, SalesOrderState, StockFigure, WmsStatus
from domain.intake.reading import FORWARD_RANK
from domain.statuses import OrderStatus, ShipmentStatus

O = OrderStatus
#: A parcel with no carrier scan this long after the hand-over is worth a look.
NO_SCAN_AFTER = timedelta(hours=24)


class Verdict(StrEnum):
    GREEN = "GREEN"
    YELLOW = "YELLOW"
    RED = "RED"


class System(StrEnum):
    ORDERGRAPH = "ORDERGRAPH"
    CHANNEL = "CHANNEL"
    ERP = "ERP"
    WMS = "WMS"
    CARRIER = "CARRIER"


class ActionKind(StrEnum):
    APPLY_WMS_CONFIRMATION = "APPLY_WMS_CONFIRMATION"
    REPUSH_TO_WMS = "REPUSH_TO_WMS"
    FORCE_RELEASE_RESERVATION = "FORCE_RELEASE_RESERVATION"
    RESYNC_FROM_CHANNEL = "RESYNC_FROM_CHANNEL"
    ESCALATE = "ESCALATE"


#: The GraphQL mutation each action runs; its input takes ``order`` (or ``reservation``) and ``reason``.
MUTATIONS: dict[ActionKind, str] = {
    ActionKind.APPLY_WMS_CONFIRMATION: "applyWmsConfirmation",
    ActionKind.REPUSH_TO_WMS: "repushToWms",
    ActionKind.FORCE_RELEASE_RESERVATION: "releaseReservation",
    ActionKind.RESYNC_FROM_CHANNEL: "resyncFromChannel",
    ActionKind.ESCALATE: "escalateOrder",
}


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    label: str
    order_id: int | None = None
    reservation_id: int | None = None
    code: str = ""                      # the discrepancy it answers (escalations carry it into the alert)

    @property
    def mutation(self) -> str:
        return MUTATIONS[self.kind]


@dataclass(slots=True)
class Discrepancy:
    code: str
    severity: Verdict
    out_of_line: System
    message: str
    since: datetime | None
    exchange_ids: list[int] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Unreachable:
    """A system that could not be asked: the diagnosis cannot be GREEN without it."""

    system: System
    connection: str
    code: str
    message: str
    exchange_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Delivery:
    """One delivery order as we pushed it, and what the WMS said about it (``None``: not asked or unreachable)."""

    id: int
    code: str
    warehouse_id: int
    status: str                         # ours: pending, pushed, confirmed, cancel_pending, cancelled, cancel_refused, failed
    pushed_at: datetime | None
    created_at: datetime | None
    event_id: int | None
    last_error: str
    attempts: int
    wms: DeliveryState | None
    exchange_ids: tuple[int, ...] = ()


@dataclass(slots=True)
class Evidence:
    """Everything the rules look at for one order."""

    order: OrderFacts
    now: datetime
    erp: SalesOrderState | None = None
    erp_exchange_ids: tuple[int, ...] = ()
    deliveries: list[Delivery] = field(default_factory=list)
    wms_warehouses: set[int] = field(default_factory=set)          # warehouses run by an active WMS
    breakers: Mapping[int, str] = field(default_factory=dict)      # warehouse id -> why its breaker is open
    wms_stock: Mapping[tuple[int, str], StockFigure] = field(default_factory=dict)
    stock_exchange_ids: Mapping[int, tuple[int, ...]] = field(default_factory=dict)
    unreachable: list[Unreachable] = field(default_factory=list)


@dataclass(slots=True)
class Diagnosis:
    order_id: int
    verdict: Verdict
    discrepancies: list[Discrepancy]
    unreachable: list[Unreachable]
    checked_at: datetime
    elapsed_ms: float = 0.0

    @property
    def summary(self) -> str:
        if not self.discrepancies and not self.unreachable:
            return "every system agrees"
        parts = [f"{d.out_of_line.value}: {d.message}" for d in self.discrepancies[:3]]
        parts += [f"could not ask {u.system.value} {u.connection}" for u in self.unreachable]
        more = len(self.discrepancies) - 3
        return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _rank(status: OrderStatus) -> int:
    return FORWARD_RANK.get(status, -1)


def _shipped(status: OrderStatus) -> bool:
    return _rank(status) >= FORWARD_RANK[O.PARTIALLY_SHIPPED]


_IN_WAREHOUSE = frozenset({O.PAID, O.ALLOCATED, O.PICKING, O.PACKED})
_WMS_WORKING = frozenset({WmsStatus.NEW, WmsStatus.ACCEPTED, WmsStatus.PICKING, WmsStatus.PACKED})


def _waybills(state: DeliveryState) -> str:
    return ", ".join(f"{p.carrier} {p.tracking_no}" for p in state.parcels) or "no waybill"


def _escalate(order_id: int, code: str) -> Action:
    return Action(ActionKind.ESCALATE, "escalate: raise an alert for a person", order_id=order_id, code=code)


# ------------------------------------------------------------------ WMS


def wms_rules(ev: Evidence) -> list[Discrepancy]:
    found: list[Discrepancy] = []
    order = ev.order
    shipped_from = {s.warehouse_id for s in order.shipments}
    for d in ev.deliveries:
        state = d.wms
        events = [e for e in (d.event_id, order.status_event_id) if e]
        if state is None:
            continue
        if state.status == WmsStatus.SHIPPED and d.warehouse_id not in shipped_from:
            if order.effective == O.CANCELLED or order.status == O.CANCELLED:
                found.append(Discrepancy(
                    "WMS_SHIPPED_CANCELLED", Verdict.RED, System.WMS,
                    f"the WMS shipped {d.code} ({_waybills(state)}) but the order is cancelled: intercept the parcel",
                    state.updated_at or d.pushed_at, list(d.exchange_ids), events, [_escalate(order.id, "WMS_SHIPPED_CANCELLED")]))
            elif order.effective in _IN_WAREHOUSE or order.effective == O.PARTIALLY_SHIPPED:
                actions = [Action(ActionKind.APPLY_WMS_CONFIRMATION,
                                  f"apply the WMS's confirmation: ship with {_waybills(state)}", order_id=order.id,
                                  code="WMS_AHEAD")]
                if order.status == O.ON_HOLD:
                    actions.append(_escalate(order.id, "WMS_AHEAD"))
                found.append(Discrepancy(
                    "WMS_AHEAD", Verdict.RED, System.ORDERGRAPH,
                    f"WMS is ahead of OrderGraph: it shipped {d.code} ({_waybills(state)}) but OrderGraph still says "
                    f"{order.status.value}; the confirmation never arrived",
                    state.updated_at or d.pushed_at, list(d.exchange_ids), events, actions))
        elif state.status == WmsStatus.UNKNOWN and d.status in ("pushed", "confirmed"):
            found.append(Discrepancy(
                "WMS_LOST_DELIVERY", Verdict.RED, System.WMS,
                f"the WMS does not know delivery order {d.code}, which it accepted"
                + (f" at {d.pushed_at.isoformat(timespec='seconds')}" if d.pushed_at else ""),
                d.pushed_at, list(d.exchange_ids), events,
                [Action(ActionKind.REPUSH_TO_WMS, f"re-push {d.code} to the WMS (same code: it cannot be doubled)",
                        order_id=order.id, code="WMS_LOST_DELIVERY")]))
        elif state.status == WmsStatus.CANCELLED and order.status != O.CANCELLED and d.status not in ("cancel_pending", "cancelled"):
            found.append(Discrepancy(
                "WMS_CANCELLED", Verdict.RED, System.WMS,
                f"the WMS cancelled {d.code} while the order is {order.status.value}",
                state.updated_at, list(d.exchange_ids), events, [_escalate(order.id, "WMS_CANCELLED")]))
        elif state.status in _WMS_WORKING and order.status == O.CANCELLED:
            found.append(Discrepancy(
                "WMS_WORKS_CANCELLED", Verdict.RED, System.WMS,
                f"the order is cancelled but the WMS still has {d.code} as {state.raw_status or state.status.value}",
                order.status_since, list(d.exchange_ids), events, [_escalate(order.id, "WMS_WORKS_CANCELLED")]))
        elif state.status in _WMS_WORKING and d.warehouse_id in shipped_from and _shipped(order.effective):
            ours = next(s for s in order.shipments if s.warehouse_id == d.warehouse_id)
            found.append(Discrepancy(
                "WMS_BEHIND", Verdict.YELLOW, System.WMS,
                f"OrderGraph recorded the hand-over ({ours.carrier} {ours.tracking_no}) but the WMS still says "
                f"{state.raw_status or state.status.value} for {d.code}",
                ours.shipped_at, list(d.exchange_ids), events, [_escalate(order.id, "WMS_BEHIND")]))
        if state.status == WmsStatus.SHIPPED and d.warehouse_id in shipped_from:
            found += _waybill_and_quantities(ev, d, state, events)
    for d in ev.deliveries:
        if d.status == "failed":
            found.append(Discrepancy(
                "WMS_PUSH_FAILED", Verdict.RED, System.ORDERGRAPH,
                f"the push of {d.code} to the WMS failed after {d.attempts} attempts: {d.last_error or 'no answer'}",
                d.created_at, list(d.exchange_ids), [e for e in (d.event_id,) if e],
                [Action(ActionKind.REPUSH_TO_WMS, f"re-push {d.code} to the WMS", order_id=order.id, code="WMS_PUSH_FAILED")]))
    pushed = {d.warehouse_id for d in ev.deliveries}
    waiting = ({r.warehouse_id for r in order.reservations} & ev.wms_warehouses) - pushed
    if waiting and order.effective in (O.ALLOCATED, O.PICKING, O.PACKED):
        allocated = order.event("order.allocated")
        found.append(Discrepancy(
            "WMS_NOT_PUSHED", Verdict.YELLOW, System.ORDERGRAPH,
            "the order is allocated to a warehouse run by a WMS but no delivery order was pushed there",
            allocated[1] if allocated else order.status_since, [], [allocated[0]] if allocated else [],
            [Action(ActionKind.REPUSH_TO_WMS, "push the delivery order to the WMS", order_id=order.id, code="WMS_NOT_PUSHED")]))
    return found


def _waybill_and_quantities(ev: Evidence, d: Delivery, state: DeliveryState, events: list[int]) -> list[Discrepancy]:
    order = ev.order
    found = []
    ours = [s for s in order.shipments if s.warehouse_id == d.warehouse_id]
    theirs = {p.tracking_no.strip().upper() for p in state.parcels if p.tracking_no}
    mine = {s.tracking_no.strip().upper() for s in ours}
    if theirs and not theirs & mine:
        scanned = any(s.scans for s in ours)
        found.append(Discrepancy(
            "WAYBILL_MISMATCH", Verdict.RED, System.WMS if scanned else System.ORDERGRAPH,
            f"the WMS shipped {d.code} as {_waybills(state)} but OrderGraph has "
            f"{', '.join(f'{s.carrier} {s.tracking_no}' for s in ours)}"
            + ("; the carrier scans ours, so the WMS's waybill is the odd one" if scanned else
               "; no carrier has scanned ours"),
            state.updated_at, list(d.exchange_ids), events, [_escalate(order.id, "WAYBILL_MISMATCH")]))
    expected = {sku: qty for sku, qty in order.lines.items() if d.warehouse_id in order.line_warehouses.get(sku, {d.warehouse_id})}
    if state.shipped and {sku: q for sku, q in state.shipped.items() if q} != {sku: q for sku, q in expected.items() if q}:
        short = [f"{sku} {state.shipped.get(sku, 0)} of {qty}" for sku, qty in sorted(expected.items())
                 if state.shipped.get(sku, 0) != qty]
        extra = [f"{sku} {qty} not ordered" for sku, qty in sorted(state.shipped.items()) if sku not in expected and qty]
        found.append(Discrepancy(
            "WMS_QUANTITY", Verdict.YELLOW, System.WMS,
            f"the WMS shipped other quantities for {d.code}: {'; '.join(short + extra)}",
            state.updated_at, list(d.exchange_ids), events, [_escalate(order.id, "WMS_QUANTITY")]))
    return found


# ------------------------------------------------------------------ ERP


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text) if text else None
    except InvalidOperation:
        return None


def erp_rules(ev: Evidence) -> list[Discrepancy]:
    erp = ev.erp
    order = ev.order
    if erp is None or order.status == O.PENDING_PAYMENT:
        return []
    ids = list(ev.erp_exchange_ids)
    if not erp.known:
        if order.status == O.CANCELLED:
            return []
        return [Discrepancy("ERP_MISSING", Verdict.YELLOW, System.ERP,
                            "the ERP has no sales order for this order", order.status_since, ids, [],
                            [_escalate(order.id, "ERP_MISSING")])]
    found = []
    ordered = {sku: q for sku, q in erp.ordered.items() if q}
    if ordered and ordered != {sku: q for sku, q in order.lines.items() if q}:
        differ = [f"{sku} {ordered.get(sku, 0)} (ours {order.lines.get(sku, 0)})"
                  for sku in sorted(set(ordered) | set(order.lines)) if ordered.get(sku, 0) != order.lines.get(sku, 0)]
        found.append(Discrepancy("ERP_QUANTITY", Verdict.YELLOW, System.ERP,
                                 f"the ERP's sales order has other quantities: {'; '.join(differ)}",
                                 erp.updated_at, ids, [], [_escalate(order.id, "ERP_QUANTITY")]))
    shipped_units = sum(erp.shipped.values())
    wms_shipped = any(d.wms is not None and d.wms.status == WmsStatus.SHIPPED for d in ev.deliveries)
    if shipped_units and order.effective in _IN_WAREHOUSE:
        action = (Action(ActionKind.APPLY_WMS_CONFIRMATION, "apply the WMS's confirmation", order_id=order.id,
                         code="ERP_AHEAD") if wms_shipped else _escalate(order.id, "ERP_AHEAD"))
        found.append(Discrepancy("ERP_AHEAD", Verdict.RED, System.ORDERGRAPH,
                                 f"the ERP booked {shipped_units} units out of stock but OrderGraph still says "
                                 f"{order.status.value}", erp.updated_at, ids,
                                 [order.status_event_id] if order.status_event_id else [], [action]))
    elif not shipped_units and _shipped(order.effective):
        shipped = order.event("order.shipped")
        found.append(Discrepancy("ERP_BEHIND", Verdict.YELLOW, System.ERP,
                                 "OrderGraph shipped the order but the ERP has booked nothing out of stock",
                                 shipped[1] if shipped else order.status_since, ids, [shipped[0]] if shipped else [],
                                 [_escalate(order.id, "ERP_BEHIND")]))
    amount = _decimal(erp.amount)
    if amount is not None and amount != order.total_amount:
        found.append(Discrepancy("ERP_AMOUNT", Verdict.YELLOW, System.ERP,
                                 f"the ERP's amount is {amount} {order.currency}, ours {order.total_amount}",
                                 erp.updated_at, ids, [], [_escalate(order.id, "ERP_AMOUNT")]))
    return found


# ------------------------------------------------------------------ channel and carrier


def channel_rules(ev: Evidence) -> list[Discrepancy]:
    order = ev.order
    channel = order.channel
    if channel is None:
        return []
    events = [order.status_event_id] if order.status_event_id else []
    label = f"{channel.source} {channel.status_code}"
    if channel.cancelled and order.status != O.CANCELLED:
        if _shipped(order.effective):
            return [Discrepancy("CHANNEL_CANCELLED_AFTER_SHIPPING", Verdict.RED, System.ORDERGRAPH,
                                f"the channel says cancelled ({label}) but the goods left: intercept or handle the return",
                                channel.updated_at, [], events, [_escalate(order.id, "CHANNEL_CANCELLED_AFTER_SHIPPING")])]
        return [Discrepancy("CHANNEL_CANCELLED", Verdict.RED, System.ORDERGRAPH,
                            f"the channel says cancelled ({label}) but OrderGraph still says {order.status.value}",
                            channel.updated_at, [], events,
                            [Action(ActionKind.RESYNC_FROM_CHANNEL, "re-sync from the channel's last word", order_id=order.id,
                                    code="CHANNEL_CANCELLED"), _escalate(order.id, "CHANNEL_CANCELLED")])]
    if channel.forward is None or order.status == O.CANCELLED:
        return []
    if _shipped(channel.forward) and not _shipped(order.effective):
        if any(d.wms is not None and d.wms.status == WmsStatus.SHIPPED for d in ev.deliveries):
            return []  # the WMS agrees with the channel: WMS_AHEAD says it, with the fix
        return [Discrepancy("CHANNEL_AHEAD", Verdict.RED, System.CHANNEL,
                            f"the channel shows shipped ({label}) while the warehouse has not shipped "
                            f"(OrderGraph {order.status.value})", channel.updated_at, [], events,
                            [_escalate(order.id, "CHANNEL_AHEAD")])]
    if _rank(order.effective) >= FORWARD_RANK[O.SHIPPED] and _rank(channel.forward) <= FORWARD_RANK[O.PACKED]:
        shipped = order.event("order.shipped")
        return [Discrepancy("CHANNEL_BEHIND", Verdict.YELLOW, System.CHANNEL,
                            f"OrderGraph shipped the order but the channel still says {label}: the waybill has not "
                            "reached the platform", shipped[1] if shipped else order.status_since, [],
                            [shipped[0]] if shipped else [], [_escalate(order.id, "CHANNEL_BEHIND")])]
    return []


def carrier_rules(ev: Evidence) -> list[Discrepancy]:
    order = ev.order
    found = []
    if order.status not in (O.SHIPPED, O.PARTIALLY_SHIPPED):
        return []
    for s in order.shipments:
        if s.status in (ShipmentStatus.EXCEPTION, ShipmentStatus.RETURNING, ShipmentStatus.ATTEMPT_FAILED):
            found.append(Discrepancy("CARRIER_EXCEPTION", Verdict.YELLOW, System.CARRIER,
                                     f"{s.carrier} {s.tracking_no} reports {s.status}", s.last_scan_at, [], [],
                                     [_escalate(order.id, "CARRIER_EXCEPTION")]))
        elif s.scans == 0 and s.shipped_at is not None and ev.now - s.shipped_at > NO_SCAN_AFTER:
            found.append(Discrepancy("CARRIER_SILENT", Verdict.YELLOW, System.CARRIER,
                                     f"no carrier scan of {s.carrier} {s.tracking_no} since the hand-over",
                                     s.shipped_at, [], [], [_escalate(order.id, "CARRIER_SILENT")]))
    return found


def stock_rules(ev: Evidence) -> list[Discrepancy]:
    order = ev.order
    found = []
    if _shipped(order.effective) or order.status == O.CANCELLED:
        return []
    for r in order.reservations:
        figure = ev.wms_stock.get((r.warehouse_id, r.sku))
        if r.warehouse_id in ev.breakers:
            found.append(Discrepancy("STOCK_BREAKER_OPEN", Verdict.YELLOW, System.WMS,
                                     f"allocation from this order's warehouse is paused: {ev.breakers[r.warehouse_id]}",
                                     None, list(ev.stock_exchange_ids.get(r.warehouse_id, ())), [],
                                     [Action(ActionKind.FORCE_RELEASE_RESERVATION,
                                             f"release the {r.sku} reservation and allocate elsewhere",
                                             order_id=order.id, reservation_id=r.id, code="STOCK_BREAKER_OPEN")]))
        if figure is not None and figure.on_hand < r.quantity:
            found.append(Discrepancy("WMS_STOCK_SHORT", Verdict.YELLOW, System.WMS,
                                     f"the WMS has {figure.on_hand} of {r.sku} on hand; {r.quantity} are reserved "
                                     "there for this order", figure.as_of,
                                     list(ev.stock_exchange_ids.get(r.warehouse_id, ())), [],
                                     [Action(ActionKind.FORCE_RELEASE_RESERVATION,
                                             f"release the {r.sku} reservation and allocate elsewhere",
                                             order_id=order.id, reservation_id=r.id, code="WMS_STOCK_SHORT")]))
    return found


RULES: tuple[Callable[[Evidence], list[Discrepancy]], ...] = (wms_rules, erp_rules, channel_rules, carrier_rules, stock_rules)


def judge(ev: Evidence, rules: Sequence[Callable[[Evidence], list[Discrepancy]]] = RULES) -> Diagnosis:
    """Run every rule; RED if any discrepancy is, YELLOW if any is or a system could not be asked, else GREEN."""
    found = [d for rule in rules for d in rule(ev)]
    found.sort(key=lambda d: (d.severity != Verdict.RED, d.code))
    if any(d.severity == Verdict.RED for d in found):
        verdict = Verdict.RED
    elif found or ev.unreachable:
        verdict = Verdict.YELLOW
    else:
        verdict = Verdict.GREEN
    return Diagnosis(order_id=ev.order.id, verdict=verdict, discrepancies=found, unreachable=list(ev.unreachable),
                     checked_at=ev.now)
