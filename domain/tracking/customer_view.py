"""What a customer may see of their orders: masked, in customer words, ready to render.

Nothing personal leaves this module in clear: the recipient is ``张*``, the
phone ``138****1234``, the address stops at the district. Internal detail
(hold reasons, cancellation reasons, stock moves, who did what) never reaches
the page; each lineage row is translated into a customer step or skipped.

The timeline is ordered by phase, then time: what happened in the warehouse,
then the parcel (hand-over and every carrier scan, by scan time), then the
order's completion, then its after-sales (requested, approved, refunded ...).
What the customer did themselves (confirmed receipt, rated and commented,
asked for a return) is kept apart in ``OrderView.actions``, so the page can
show it away from the carrier's scans. Carrier clocks and ours disagree, and an order imported
after it left shows warehouse steps recorded after the first scan; phases keep
the story in order, and a step is never shown later than the step after it
("handed over" no later than the first scan, packing no later than hand-over).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from tortoise.expressions import Q

from domain.errors import IllegalTransition
from domain.masking import mask_phone, normalize_phone
from domain.order_machine import MoveContext, check_transition
from domain.statuses import AfterSaleStatus, OrderStatus, ShipmentStatus
from models import Order, OrderEvent, OrderFeedback, OrderLine, Shipment, TrackingEvent
from models.after_sale import AfterSale, AfterSaleLine
from models.order import order_no

#: The progress bar every card shows, left to right.
STAGES = ("paid", "preparing", "shipped", "in_transit", "out_for_delivery", "delivered")
#: Most orders a page shows (newest first).
MAX_ORDERS = 20
CUSTOMER = MoveContext(role="customer", source="customer", reason="customer confirmed receipt")

_SHIPMENT_STAGE = {
    ShipmentStatus.LABEL_CREATED: 2,
    ShipmentStatus.PICKED_UP: 2,
    ShipmentStatus.IN_TRANSIT: 3,
    ShipmentStatus.CUSTOMS: 3,
    ShipmentStatus.ATTEMPT_FAILED: 4,
    ShipmentStatus.EXCEPTION: 3,
    ShipmentStatus.RETURNING: 3,
    ShipmentStatus.RETURNED: 3,
    ShipmentStatus.EXPIRED: 3,
    ShipmentStatus.OUT_FOR_DELIVERY: 4,
    ShipmentStatus.AT_PICKUP_POINT: 4,
    ShipmentStatus.DELIVERED: 5,
}
_TROUBLE = frozenset({ShipmentStatus.EXCEPTION, ShipmentStatus.ATTEMPT_FAILED, ShipmentStatus.RETURNING, ShipmentStatus.RETURNED})
_ORDER_STAGE = {
    OrderStatus.PENDING_PAYMENT: 0,
    OrderStatus.DEPOSIT_PAID: 0,
    OrderStatus.PAID: 0,
    OrderStatus.ALLOCATED: 1,
    OrderStatus.PICKING: 1,
    OrderStatus.PACKED: 1,
    OrderStatus.DELIVERED: 5,
    OrderStatus.COMPLETED: 5,
}
#: Order status reached -> the step a customer reads (statuses not listed are told by the parcel).
_STATUS_STEP = {
    OrderStatus.PAID: "paid",
    OrderStatus.DEPOSIT_PAID: "deposit_paid",
    OrderStatus.ALLOCATED: "allocated",
    OrderStatus.PICKING: "picking",
    OrderStatus.PACKED: "packed",
    OrderStatus.COMPLETED: "completed",
    OrderStatus.CANCELLED: "cancelled",
    OrderStatus.ON_HOLD: "on_hold",
}
_PHASE_WAREHOUSE, _PHASE_PARCEL, _PHASE_CUSTOMER, _PHASE_AFTER_SALE = 0, 1, 2, 3
#: A parcel in one of these is at the door (or the pick-up point): receipt may be confirmed.
ARRIVING = frozenset({ShipmentStatus.OUT_FOR_DELIVERY, ShipmentStatus.AT_PICKUP_POINT, ShipmentStatus.DELIVERED})
#: Orders a customer may ask to return, refund or exchange from (their goods have arrived).
RETURNABLE_STATUSES = frozenset({OrderStatus.DELIVERED, OrderStatus.COMPLETED})
#: After-sales still being worked on: they hold the units they name (as ``domain.after_sales`` counts them).
_OPEN_SALES = frozenset({AfterSaleStatus.REQUESTED, AfterSaleStatus.APPROVED, AfterSaleStatus.AWAITING_RETURN,
                         AfterSaleStatus.RECEIVED})
#: The customer's action steps (never mixed into the carrier's timeline).
ACTION_KEYS = frozenset({"receipt_confirmed", "rated", "return_requested"})
#: After-sale progress, per kind, as the customer reads it (REJECTED and CLOSED end any of them).
AFTER_SALE_STAGES: dict[str, tuple[str, ...]] = {
    "refund_only": ("REQUESTED", "APPROVED", "REFUNDED"),
    "return_refund": ("REQUESTED", "APPROVED", "AWAITING_RETURN", "RECEIVED", "REFUNDED"),
    "exchange": ("REQUESTED", "APPROVED", "AWAITING_RETURN", "RECEIVED", "EXCHANGED"),
}


@dataclass(frozen=True, slots=True)
class Scope:
    """Which orders a visitor has proved are theirs: a customer's orders, or single orders (links)."""

    tenant_id: int
    customer_ids: frozenset[int] = frozenset()
    order_ids: frozenset[int] = frozenset()

    def query(self) -> Q:
        return Q(customer_id__in=list(self.customer_ids)) | Q(id__in=list(self.order_ids))

    @property
    def empty(self) -> bool:
        return not self.customer_ids and not self.order_ids

    def merged(self, other: Scope) -> Scope:
        if other.tenant_id != self.tenant_id:
            return other
        return Scope(self.tenant_id, self.customer_ids | other.customer_ids, self.order_ids | other.order_ids)


@dataclass(slots=True)
class Step:
    key: str  # translated at the edge: "paid", "handed_over", "carrier.IN_TRANSIT" ...
    at: datetime
    detail: str = ""  # the carrier's own words, shown as they came
    location: str = ""
    params: dict[str, str] = field(default_factory=dict)
    phase: int = _PHASE_WAREHOUSE
    seq: int = 0
    trouble: bool = False
    rank_at: datetime | None = None  # where it sorts, when that differs from when it is said to have happened
    items: list[tuple[str, int]] = field(default_factory=list)  # the goods a step is about (an after-sale's lines)


@dataclass(slots=True)
class ParcelView:
    id: int
    carrier: str
    tracking_no: str
    status: str
    shipped_at: datetime | None
    estimated_delivery: datetime | None
    delivered_at: datetime | None


@dataclass(slots=True)
class LineView:
    """One order line as the return form offers it: how many arrived and how many may still go back."""

    id: int
    title: str
    quantity: int
    returnable: int


@dataclass(slots=True)
class AfterSaleView:
    """One after-sale (refund, return, exchange) as the customer follows it."""

    id: int
    kind: str  # refund_only | return_refund | exchange
    status: str  # AfterSaleStatus
    items: list[tuple[str, int]]
    requested_amount: Decimal
    approved_amount: Decimal | None
    refunded_amount: Decimal
    currency: str
    created_at: datetime
    updated_at: datetime
    return_by: datetime | None

    @property
    def stages(self) -> tuple[str, ...]:
        return AFTER_SALE_STAGES.get(self.kind, AFTER_SALE_STAGES["return_refund"])

    @property
    def stage(self) -> int:
        """Index into ``stages``; -1 when it ended without reaching them (rejected, or closed early)."""
        if self.status in self.stages:
            return self.stages.index(self.status)
        if self.status == AfterSaleStatus.CLOSED and self.refunded_amount > 0:
            return len(self.stages) - 1
        return -1

    @property
    def amount(self) -> tuple[str, Decimal]:
        """Which amount to show and what it is: refunded, approved or asked for."""
        if self.refunded_amount > 0:
            return "refunded", self.refunded_amount
        if self.approved_amount is not None:
            return "approved", self.approved_amount
        return "requested", self.requested_amount


@dataclass(slots=True)
class OrderView:
    id: int
    number: str
    external_id: str
    channel_name: str
    channel_kind: str
    status: str
    placed_at: datetime
    total: Decimal
    currency: str
    items: list[tuple[str, int]]
    recipient: str
    phone: str
    region: str
    parcels: list[ParcelView]
    steps: list[Step]  # newest first; steps[0] is the current one
    actions: list[Step]  # what the customer did themselves, newest first
    stage: int  # index into STAGES, -1 before payment
    alert: str | None  # "awaiting_payment", "on_hold", "cancelled", "trouble"
    can_confirm: bool
    can_rate: bool
    rating: int | None
    comment: str
    last_event_id: int
    lines: list[LineView] = field(default_factory=list)
    after_sales: list[AfterSaleView] = field(default_factory=list)  # newest first

    @property
    def can_return(self) -> bool:
        """Delivered (or completed), with something left that has not already been asked back."""
        return self.status in RETURNABLE_STATUSES and any(line.returnable > 0 for line in self.lines)

    @property
    def item_count(self) -> int:
        return sum(quantity for _, quantity in self.items)

    @property
    def eta(self) -> datetime | None:
        if self.stage >= 5 or self.alert in ("cancelled",):
            return None
        dates = [p.estimated_delivery for p in self.parcels if p.estimated_delivery and p.delivered_at is None]
        return max(dates) if dates else None


def mask_recipient(name: str) -> str:
    """``张三丰`` -> ``张*``: the first character, and not even the length of the rest."""
    name = name.strip()
    return f"{name[0]}*" if name else ""


def mask_contact(phone: str) -> str:
    """``+86 138 1234 1234`` -> ``138****1234`` (national number, middle hidden)."""
    if not phone:
        return ""
    normal = normalize_phone(phone)
    national = normal[3:] if normal.startswith("+86") else normal.lstrip("+")
    return mask_phone(national) or ""


def region_of(province: str, city: str, district: str) -> str:
    """Province, city, district, without the repeat of municipalities (``上海 上海``)."""
    parts: list[str] = []
    for part in (province, city, district):
        part = part.strip()
        if part and part not in parts:
            parts.append(part)
    return " ".join(parts)


def receipt_confirmable(status: str, parcel_statuses: list[str]) -> bool:
    """The customer may confirm receipt: the state machine allows it and the goods are at the door.

    A delivered order may always be confirmed; a shipped one only once every
    parcel is out for delivery, at the pick-up point or delivered (never while
    it is still on its way).
    """
    try:
        check_transition(OrderStatus(status), OrderStatus.COMPLETED, CUSTOMER)
    except (IllegalTransition, ValueError):
        return False
    if status == OrderStatus.DELIVERED:
        return True
    return bool(parcel_statuses) and all(s in ARRIVING for s in parcel_statuses)


def _stage(order: Order, parcels: list[ParcelView]) -> tuple[int, str | None]:
    status = OrderStatus(order.status)
    alert = None
    if status == OrderStatus.ON_HOLD:
        alert = "on_hold"
        status = OrderStatus(order.status_before_hold or OrderStatus.PAID)
    if status == OrderStatus.CANCELLED:
        return -1, "cancelled"
    if status == OrderStatus.PENDING_PAYMENT:
        return -1, "awaiting_payment"
    if any(p.status in _TROUBLE for p in parcels) and status not in (OrderStatus.DELIVERED, OrderStatus.COMPLETED):
        alert = alert or "trouble"
    if status in _ORDER_STAGE:
        return _ORDER_STAGE[status], alert
    shipped = [_SHIPMENT_STAGE.get(ShipmentStatus(p.status), 2) for p in parcels]
    stage = min(shipped) if shipped else 2
    if status == OrderStatus.PARTIALLY_SHIPPED:
        stage = 2
    return stage, alert


def _status_steps(order: Order, events: list[dict[str, Any]]) -> list[Step]:
    steps = [Step("placed", order.placed_at, seq=0)]
    seen: set[str] = set()
    for event in events:
        after = event["after"] or {}
        before = event["before"] or {}
        status = after.get("status")
        kind = event["type"]
        if kind.startswith("after_sale."):
            continue  # told by _after_sale_steps
        if kind == "order.created":
            if status in (OrderStatus.PAID, OrderStatus.DEPOSIT_PAID):
                steps.append(Step(_STATUS_STEP[status], order.placed_at, seq=event["id"]))
                seen.add(_STATUS_STEP[status])
            continue
        if kind == "order.hold_released" and before.get("status") == OrderStatus.ON_HOLD and status != OrderStatus.ON_HOLD:
            steps.append(Step("resumed", event["created_at"], seq=event["id"]))
            continue
        if not status or status == before.get("status"):
            continue
        key = "receipt_confirmed" if kind == "order.receipt_confirmed" else _STATUS_STEP.get(status)
        if key is None or (key in seen and key not in ("on_hold",)):
            continue  # told by the parcel, or a repeat (re-allocation is not news to the customer)
        seen.add(key)
        phase = _PHASE_CUSTOMER if key in ("completed", "receipt_confirmed") else _PHASE_WAREHOUSE
        params = {"warehouse": order.warehouse.city} if key == "allocated" and order.warehouse else {}  # type: ignore[attr-defined]
        steps.append(Step(key, event["created_at"], params=params, phase=phase, seq=event["id"]))
    return steps


def _parcel_steps(parcels: list[ParcelView], scans: list[TrackingEvent]) -> list[Step]:
    first_scan: dict[int, datetime] = {}
    for scan in scans:
        first_scan.setdefault(scan.shipment_id, scan.occurred_at)  # type: ignore[attr-defined]
    steps = []
    for p in parcels:
        if p.shipped_at:  # the hand-over comes before the parcel's first scan, whatever the clocks say
            at = min(p.shipped_at, first_scan.get(p.id, p.shipped_at))
            steps.append(
                Step(
                    "handed_over", at, params={"carrier": p.carrier, "tracking_no": p.tracking_no},
                    phase=_PHASE_PARCEL, rank_at=at - timedelta(seconds=1),
                )
            )
    for scan in scans:
        steps.append(
            Step(
                f"carrier.{scan.status}",
                scan.occurred_at,
                detail=scan.description,
                location=scan.location,
                phase=_PHASE_PARCEL,
                seq=scan.id,
                trouble=scan.status in _TROUBLE,
            )
        )
    return steps


async def orders_for(scope: Scope, *, only: int | None = None) -> list[OrderView]:
    """The scope's orders (or just ``only``, if the scope covers it), newest first, fully composed."""
    if scope.empty:
        return []
    query = Order.filter(tenant_id=scope.tenant_id).filter(scope.query())
    if only is not None:
        query = query.filter(id=only)
    orders = await query.order_by("-placed_at", "-id").limit(MAX_ORDERS).select_related("channel", "warehouse")
    if not orders:
        return []
    ids = [o.id for o in orders]
    lines: dict[int, list[LineView]] = defaultdict(list)
    for line_id, order_id, title, sku, quantity in await OrderLine.filter(order_id__in=ids).order_by("id").values_list(
        "id", "order_id", "title", "sku", "quantity"
    ):
        lines[order_id].append(LineView(line_id, title or sku, quantity, quantity))
    shipments = await Shipment.filter(order_id__in=ids).order_by("id")
    scans = await TrackingEvent.filter(shipment_id__in=[s.id for s in shipments]).order_by("occurred_at", "id") if shipments else []
    events = await OrderEvent.filter(order_id__in=ids).filter(
        Q(type__startswith="order.") | Q(type__startswith="shipment.") | Q(type__startswith="after_sale.")
    ).order_by("id").values("id", "order_id", "type", "before", "after", "created_at")
    feedback = {f.order_id: f for f in await OrderFeedback.filter(order_id__in=ids)}  # type: ignore[attr-defined]
    sales = await _after_sales(ids, lines)
    by_order: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        by_order[event["order_id"]].append(event)
    parcels_of: dict[int, list[ParcelView]] = defaultdict(list)
    for s in shipments:
        parcels_of[s.order_id].append(  # type: ignore[attr-defined]
            ParcelView(s.id, s.carrier, s.tracking_no, s.status, s.shipped_at, s.estimated_delivery, s.delivered_at)
        )
    scans_of: dict[int, list[TrackingEvent]] = defaultdict(list)
    order_of_shipment = {s.id: s.order_id for s in shipments}  # type: ignore[attr-defined]
    for scan in scans:
        scans_of[order_of_shipment[scan.shipment_id]].append(scan)  # type: ignore[attr-defined]
    return [
        _compose(o, lines[o.id], parcels_of[o.id], scans_of[o.id], by_order[o.id], feedback.get(o.id), sales.get(o.id, []))
        for o in orders
    ]


async def _after_sales(order_ids: list[int], lines: dict[int, list[LineView]]) -> dict[int, list[tuple[AfterSaleView, str]]]:
    """Each order's after-sales (newest first, with their source), and what they leave returnable on its lines."""
    rows = await AfterSale.filter(order_id__in=order_ids).order_by("-created_at", "-id")
    if not rows:
        return {}
    line_of = {line.id: line for order_lines in lines.values() for line in order_lines}
    claimed: dict[int, list[tuple[int, int, bool]]] = defaultdict(list)
    for sale_id, line_id, quantity, replaced in await AfterSaleLine.filter(after_sale_id__in=[r.id for r in rows]).order_by(
        "id"
    ).values_list("after_sale_id", "order_line_id", "quantity", "replacement_line_id"):
        claimed[sale_id].append((line_id, quantity, replaced is not None))
    out: dict[int, list[tuple[AfterSaleView, str]]] = defaultdict(list)
    for row in rows:
        items = []
        for line_id, quantity, replaced in claimed[row.id]:
            line = line_of.get(line_id)
            if line is None:
                continue
            items.append((line.title, quantity))
            if _covers(row.status, row.refunded_amount or Decimal("0"), replaced):
                line.returnable = max(0, line.returnable - quantity)
        view = AfterSaleView(
            row.id, row.kind, row.status, items, row.requested_amount, row.approved_amount, row.refunded_amount or Decimal("0"),
            row.currency, row.created_at, row.updated_at, row.return_by,
        )
        out[row.order_id].append((view, row.source))  # type: ignore[attr-defined]
    return out


def _covers(status: str, refunded: Decimal, replaced: bool) -> bool:
    """Whether an after-sale still holds its units: open, or finished having given money or goods back."""
    if status in _OPEN_SALES or status in (AfterSaleStatus.REFUNDED, AfterSaleStatus.EXCHANGED):
        return True
    return status == AfterSaleStatus.CLOSED and (refunded > 0 or replaced)


def _sale_of(event: dict[str, Any], sales: list[AfterSaleView]) -> AfterSaleView | None:
    """The after-sale a lineage row is about: named in it, or the order's only one."""
    after = event["after"] or {}
    named = after.get("after_sale_id", after.get("id"))
    for sale in sales:
        if named is not None and str(named) == str(sale.id):
            return sale
    return sales[0] if named is None and len(sales) == 1 else None


def _after_sale_steps(sales: list[AfterSaleView], events: list[dict[str, Any]]) -> list[Step]:
    """Each after-sale's progress: asked for, then every status its lineage shows (or at least the current one)."""
    steps: list[Step] = []
    reached: set[tuple[int, str]] = set()
    for sale in sales:
        steps.append(Step("after_sale.REQUESTED", sale.created_at, params={"kind": sale.kind}, phase=_PHASE_AFTER_SALE,
                          seq=sale.id, items=sale.items))
        reached.add((sale.id, AfterSaleStatus.REQUESTED))
    for event in events:
        if not event["type"].startswith("after_sale."):
            continue
        status = (event["after"] or {}).get("status")
        sale = _sale_of(event, sales)
        if sale is None or status not in AfterSaleStatus.__members__ or (sale.id, status) in reached:
            continue
        if status == (event["before"] or {}).get("status"):
            continue
        reached.add((sale.id, status))
        steps.append(_sale_step(sale, status, event["created_at"], event["id"], event["after"] or {}))
    for sale in sales:
        if (sale.id, sale.status) not in reached:  # lineage we could not read: the current state, as of its last change
            steps.append(_sale_step(sale, sale.status, max(sale.updated_at, sale.created_at), 10**12 + sale.id, {}))
    return steps


def _sale_step(sale: AfterSaleView, status: str, at: datetime, seq: int, after: dict[str, Any]) -> Step:
    params = {"kind": sale.kind, "currency": sale.currency}
    if status == AfterSaleStatus.REFUNDED or (status == AfterSaleStatus.CLOSED and sale.refunded_amount > 0):
        params["amount"] = str(after.get("refunded_amount") or sale.refunded_amount)
    elif status == AfterSaleStatus.APPROVED and (after.get("approved_amount") or sale.approved_amount) is not None:
        params["amount"] = str(after.get("approved_amount") or sale.approved_amount)
    if status == AfterSaleStatus.AWAITING_RETURN and sale.return_by:
        params["return_by"] = sale.return_by.isoformat()
    return Step(f"after_sale.{status}", at, params=params, phase=_PHASE_AFTER_SALE, seq=seq,
                trouble=status == AfterSaleStatus.REJECTED)


def _compose(
    order: Order,
    lines: list[LineView],
    parcels: list[ParcelView],
    scans: list[TrackingEvent],
    events: list[dict[str, Any]],
    feedback: OrderFeedback | None,
    sales_and_sources: list[tuple[AfterSaleView, str]],
) -> OrderView:
    sales = [sale for sale, _ in sales_and_sources]
    warehouse, parcel = _status_steps(order, events), _parcel_steps(parcels, scans)
    if parcel:  # recorded after the carrier already had it (a late import): it happened no later than that
        handed = min(step.at for step in parcel)
        for step in warehouse:
            if step.phase == _PHASE_WAREHOUSE and step.at > handed:
                step.at = handed
    steps = [s for s in warehouse if s.key not in ACTION_KEYS] + parcel + _after_sale_steps(sales, events)
    actions = [s for s in warehouse if s.key in ACTION_KEYS]
    if feedback:
        actions.append(Step("rated", feedback.created_at, params={"rating": str(feedback.rating), "comment": feedback.comment},
                            phase=_PHASE_CUSTOMER, seq=10**12))
    for sale, source in sales_and_sources:
        if source == "customer":
            actions.append(Step("return_requested", sale.created_at, params={"kind": sale.kind}, phase=_PHASE_CUSTOMER,
                                seq=sale.id, items=sale.items))
    steps.sort(key=lambda s: (s.phase, s.rank_at or s.at, s.seq), reverse=True)
    actions.sort(key=lambda s: (s.at, s.seq), reverse=True)
    stage, alert = _stage(order, parcels)
    status = order.status
    return OrderView(
        id=order.id,
        number=order_no(order.id),
        external_id=order.external_id,
        channel_name=order.channel.name,  # type: ignore[attr-defined]
        channel_kind=order.channel.kind,  # type: ignore[attr-defined]
        status=status,
        placed_at=order.placed_at,
        total=order.total_amount,
        currency=order.currency,
        items=[(line.title, line.quantity) for line in lines],
        recipient=mask_recipient(order.ship_name),
        phone=mask_contact(order.ship_phone),
        region=region_of(order.ship_province, order.ship_city, order.ship_district),
        parcels=parcels,
        steps=steps,
        actions=actions,
        stage=stage,
        alert=alert,
        can_confirm=receipt_confirmable(status, [p.status for p in parcels]),
        can_rate=feedback is None and status in (OrderStatus.DELIVERED, OrderStatus.COMPLETED),
        rating=feedback.rating if feedback else None,
        comment=feedback.comment if feedback else "",
        last_event_id=events[-1]["id"] if events else 0,
        lines=lines,
        after_sales=sales,
    )
