"""Applying carrier tracking pushes to shipments, and noticing parcels that never moved.

    result = await apply_tracking(carrier_actor(tenant_id, "kdniao"), tracking, payload_sha256=sha)

A push names a waybill (carrier code + tracking number) and usually repeats
its whole trace history, so scans are de-duplicated by (time, code, text).
Scans newer than what we hold go through ``fulfilment.record_tracking`` (a
delivery scan moves the order to DELIVERED); older ones arriving late are
filed without moving the status back. The push's own status (Kdniao
``StateEx``/``State``, Kuaidi100 ``state``, AfterShip ``tag``) sets the
shipment status when the push is current. A scan without a code of its own
is filed under that push status; its raw code stays empty so one can tell.

"Shipped but not moving": :func:`check_not_moving` alerts on shipments still
without a carrier scan past pick-up ``hours`` after they were handed over,
and on channel-shipped orders for which no carrier tracking exists at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from tortoise import connections

from domain import orders
from domain.actor import Actor, Role
from domain.alerts.raising import clear_alerts, raise_alert
from domain.errors import DomainError
from domain.inbound import payloads, status_maps
from domain.inbound import status_mapping as mapping_tables
from domain.inbound.normalized import InboundTracking, InboundTrackingEvent
from domain.inbound.status_mapping import Mappings
from domain.orders import fulfilment
from domain.statuses import OrderStatus, ShipmentStatus
from domain.unit_of_work import unit_of_work
from events import log
from models import Order, Shipment, TrackingEvent

S = ShipmentStatus
_FINAL = frozenset({S.DELIVERED, S.RETURNED, S.EXPIRED})
NOT_MOVING = "shipment.not_moving"

#: Carrier codes that name the same carrier across providers; used only to tell apart two shipments
#: with the same tracking number.
CARRIER_ALIASES: tuple[frozenset[str], ...] = tuple(frozenset(names) for names in (
    {"sf", "shunfeng", "sf-express", "sfexpress", "顺丰"},
    {"yto", "yuantong", "yto-express"},
    {"zto", "zhongtong", "zto-express"},
    {"sto", "shentong", "sto-express"},
    {"yd", "yunda", "yunda-express"},
    {"jd", "jingdong", "jd-express", "jdl"},
    {"ems", "china-ems", "youzhengguonei"},
    {"dbl", "debangwuliu", "deppon", "debangkuaidi"},
    {"htky", "huitongkuaidi", "best-express", "baishiwuliu"},
    {"jtsd", "jtexpress", "jt-express", "jtexpress-cn"},
    {"ups"}, {"fedex"}, {"dhl", "dhl-express"}, {"usps"},
))


def same_carrier(a: str, b: str) -> bool:
    a, b = a.strip().lower(), b.strip().lower()
    return a == b or any(a in group and b in group for group in CARRIER_ALIASES)


class TrackingOutcome(StrEnum):
    APPLIED = "applied"
    UNCHANGED = "unchanged"
    UNKNOWN_WAYBILL = "unknown_waybill"
    AMBIGUOUS = "ambiguous"


@dataclass(slots=True)
class TrackingResult:
    outcome: TrackingOutcome
    tracking_no: str
    shipment_id: int | None = None
    order_id: int | None = None
    status: str | None = None
    new_scans: int = 0
    notes: list[str] = field(default_factory=list)


def carrier_actor(tenant_id: int, provider: str) -> Actor:
    return Actor(tenant_id=tenant_id, role=Role.SERVICE, name=f"carrier:{provider}", source="carrier")


def push_status(tracking: InboundTracking, mappings: Mappings) -> tuple[ShipmentStatus | None, list[str]]:
    """The shipment status a push states, and the codes no table knew."""
    provider = tracking.provider
    unmapped: list[str] = []
    candidates: list[tuple[str, str]] = []
    push_state = tracking.extra_codes.get("push_status")
    if push_state:
        candidates.append((f"{provider}.push_status", push_state))
    if tracking.extra_codes.get("first_tag"):
        candidates.append((f"{provider}.first_tag", tracking.extra_codes["first_tag"]))
    if tracking.status_code:
        candidates.append((provider, tracking.status_code))
    coarse = tracking.extra_codes.get("State")
    if coarse and coarse != tracking.status_code:
        candidates.append((provider, coarse))
    for name, code in candidates:
        table = mappings.table(name)
        entry = table.lookup(code)
        if entry is not None and entry.get("shipment"):
            return ShipmentStatus(entry["shipment"]), unmapped
        if name == provider or table.exists:
            unmapped.append(f"{name}:{code}")
    return None, unmapped


def scan_status(event: InboundTrackingEvent, provider: str, mappings: Mappings, fallback: ShipmentStatus | None) -> ShipmentStatus | None:
    entry = mappings.table(provider).lookup(event.status_code) if event.status_code else None
    if entry is not None and entry.get("shipment"):
        return ShipmentStatus(entry["shipment"])
    return fallback


async def apply_tracking(
    actor: Actor, tracking: InboundTracking, *, payload_sha256: str = "", mapping_max_age: float = 0.0
) -> TrackingResult:
    """Apply one waybill's push in one transaction (see module doc)."""
    names = {tracking.provider, f"{tracking.provider}.push_status", f"{tracking.provider}.first_tag"}
    mappings = await mapping_tables.load(actor.tenant_id, names, max_age=mapping_max_age)
    status, unmapped = push_status(tracking, mappings)
    ref = payloads.ref(payload_sha256) if payload_sha256 else None
    async with unit_of_work():
        candidates = await Shipment.filter(order__tenant_id=actor.tenant_id, tracking_no=tracking.tracking_no.strip()).select_for_update()
        if len(candidates) > 1:
            candidates = [s for s in candidates if same_carrier(s.carrier, tracking.carrier)]
        if not candidates:
            return TrackingResult(TrackingOutcome.UNKNOWN_WAYBILL, tracking.tracking_no)
        if len(candidates) > 1:
            return TrackingResult(TrackingOutcome.AMBIGUOUS, tracking.tracking_no,
                                  notes=[f"{len(candidates)} shipments carry this tracking number"])
        shipment = candidates[0]
        return await _apply(actor, shipment, tracking, status, unmapped, mappings, ref)


async def _apply(
    actor: Actor, shipment: Shipment, tracking: InboundTracking, status: ShipmentStatus | None,
    unmapped: list[str], mappings: Mappings, ref: str | None,
) -> TrackingResult:
    order_id: int = shipment.order_id  # type: ignore[attr-defined]
    result = TrackingResult(TrackingOutcome.UNCHANGED, tracking.tracking_no, shipment.id, order_id)
    known = await TrackingEvent.filter(shipment_id=shipment.id).values_list("occurred_at", "raw_code", "description")
    seen = {(when, code, text) for when, code, text in known}
    latest = max((when for when, _, _ in known), default=None)
    fresh = [e for e in tracking.events if (e.occurred_at, e.status_code[:32], e.description[:500]) not in seen]
    newest_in_push = tracking.events[-1].occurred_at if tracking.events else None
    current = latest is None or newest_in_push is None or newest_in_push >= latest
    backfill = [e for e in fresh if latest is not None and e.occurred_at < latest]
    forward = [e for e in fresh if latest is None or e.occurred_at >= latest]
    before_status = shipment.status
    if backfill:
        await TrackingEvent.bulk_create([
            TrackingEvent(shipment_id=shipment.id, status=scan_status(e, tracking.provider, mappings, status) or shipment.status,
                          raw_code=e.status_code[:32], description=e.description[:500], location=e.location[:200],
                          occurred_at=e.occurred_at, source=actor.name[:32])
            for e in backfill
        ])
        result.notes.append(f"{len(backfill)} late scans filed without changing the status")
    for index, event in enumerate(forward):
        is_newest = index == len(forward) - 1 and event.occurred_at == newest_in_push
        fallback = status if is_newest else None
        scan = scan_status(event, tracking.provider, mappings, fallback) or _previous(shipment, status)
        await fulfilment.record_tracking(actor, shipment.id, scan, event.occurred_at, description=event.description[:500],
                                         location=event.location[:200], raw_code=event.status_code[:32])
    result.new_scans = len(fresh)
    shipment = await Shipment.get(id=shipment.id)
    if status is not None and current and shipment.status != status and shipment.status not in _FINAL:
        await _set_status(actor, shipment, status, tracking, ref)
    if tracking.estimated_delivery and shipment.estimated_delivery != tracking.estimated_delivery:
        await Shipment.filter(id=shipment.id).update(estimated_delivery=tracking.estimated_delivery)
    shipment = await Shipment.get(id=shipment.id)
    if shipment.status != S.LABEL_CREATED:
        await clear_alerts(tenant_id=actor.tenant_id, order_id=order_id, kind=NOT_MOVING, actor=actor.name)
    await _side_alerts(actor, order_id, tracking, unmapped)
    changed = bool(fresh) or shipment.status != before_status
    result.outcome = TrackingOutcome.APPLIED if changed else TrackingOutcome.UNCHANGED
    result.status = shipment.status
    if changed or unmapped or tracking.issues:
        await log.append(
            tenant_id=actor.tenant_id, order_id=order_id, type="intake.tracking_applied", actor=actor.name,
            source=actor.source, reason=f"{tracking.provider} {tracking.carrier} {tracking.tracking_no}: "
                                        f"{len(fresh)} new scans" + ("" if current else " (push older than the last scan)"),
            before={"shipment_id": shipment.id, "status": before_status},
            after={"shipment_id": shipment.id, "status": shipment.status, "status_code": tracking.status_code,
                   "extra_codes": dict(tracking.extra_codes), "unmapped": unmapped, "new_scans": len(fresh)},
            payload_ref=ref,
        )
    return result


def _previous(shipment: Shipment, status: ShipmentStatus | None) -> ShipmentStatus:
    """Status for an older scan with no code of its own: the push status, else what the shipment has."""
    return status or ShipmentStatus(shipment.status)


async def _set_status(actor: Actor, shipment: Shipment, status: ShipmentStatus, tracking: InboundTracking, ref: str | None) -> None:
    before = shipment.status
    shipment.status = status
    if status == S.DELIVERED and shipment.delivered_at is None:
        shipment.delivered_at = tracking.events[-1].occurred_at if tracking.events else datetime.now(UTC)
    await shipment.save(update_fields=["status", "delivered_at", "updated_at"])
    await log.append(tenant_id=actor.tenant_id, order_id=shipment.order_id,  # type: ignore[attr-defined]
                     type="shipment.status_changed", actor=actor.name, source=actor.source,
                     reason=f"{tracking.provider} reports {tracking.status_code or status}",
                     before={"shipment_id": shipment.id, "status": before},
                     after={"shipment_id": shipment.id, "status": status.value}, payload_ref=ref)
    if status == S.DELIVERED:
        order = await Order.filter(id=shipment.order_id).first()  # type: ignore[attr-defined]
        if order is not None and order.status in (OrderStatus.SHIPPED, OrderStatus.PARTIALLY_SHIPPED):
            try:
                await orders.transition_order(actor, order.id, OrderStatus.DELIVERED, f"{tracking.provider} reports delivery")
            except DomainError:  # pragma: no cover - SHIPPED -> DELIVERED by a carrier is always allowed
                pass


async def _side_alerts(actor: Actor, order_id: int, tracking: InboundTracking, unmapped: list[str]) -> None:
    if unmapped:
        await raise_alert(
            tenant_id=actor.tenant_id, order_id=order_id, kind="intake.unmapped_code", severity="warning",
            message=f"no mapping for {', '.join(unmapped)} ({tracking.carrier} {tracking.tracking_no}); "
                    "the scans are kept, the shipment status was not guessed",
            details={"codes": unmapped, "tracking_no": tracking.tracking_no}, actor=actor.name, source=actor.source,
        )
    if tracking.issues:
        await raise_alert(
            tenant_id=actor.tenant_id, order_id=order_id, kind="intake.payload_issues", severity="warning",
            message=f"{tracking.provider} push has problems: " + "; ".join(tracking.issues),
            details={"issues": list(tracking.issues)}, actor=actor.name, source=actor.source,
        )


# ------------------------------------------------------------------ shipped but not moving


@dataclass(slots=True)
class NotMovingReport:
    checked: int = 0
    alerted: list[int] = field(default_factory=list)


async def check_not_moving(tenant_id: int | None = None, *, hours: float = 24.0, now: datetime | None = None) -> NotMovingReport:
    """Alert on parcels handed over ``hours`` ago with no carrier scan past the label, once per order.

    Safe to run from several workers: on PostgreSQL a transaction-level
    advisory lock lets one run at a time and the others return at once.
    """
    moment = now or datetime.now(UTC)
    cutoff = moment - timedelta(hours=hours)
    report = NotMovingReport()
    async with unit_of_work():
        if not await _try_lock():
            return report
        scope = {"order__tenant_id": tenant_id} if tenant_id is not None else {}
        idle = await Shipment.filter(
            status=S.LABEL_CREATED, shipped_at__lt=cutoff,
            order__status__in=[OrderStatus.SHIPPED, OrderStatus.PARTIALLY_SHIPPED], **scope,
        ).prefetch_related("order")
        report.checked += len(idle)
        for shipment in idle:
            order = shipment.order
            raised = await raise_alert(
                tenant_id=order.tenant_id, order_id=order.id, kind=NOT_MOVING, severity="warning",
                message=f"shipped but not moving: {shipment.carrier} {shipment.tracking_no} handed over "
                        f"{shipment.shipped_at:%Y-%m-%d %H:%M} UTC has no carrier pick-up scan after {hours:g} h",
                details={"shipment_id": shipment.id, "tracking_no": shipment.tracking_no, "hours": hours},
            )
            report.alerted.append(raised.order_id)  # type: ignore[attr-defined]
        order_scope = {"tenant_id": tenant_id} if tenant_id is not None else {}
        untracked = await Order.filter(
            status=OrderStatus.SHIPPED, updated_at__lt=cutoff, shipments__id__isnull=True, **order_scope
        ).distinct()
        report.checked += len(untracked)
        for order in untracked:
            await raise_alert(
                tenant_id=order.tenant_id, order_id=order.id, kind=NOT_MOVING, severity="warning",
                message=f"shipped but not moving: the channel reports SHIPPED and no carrier tracking is known "
                        f"after {hours:g} h",
                details={"hours": hours, "tracking_no": None},
            )
            report.alerted.append(order.id)
    return report


async def _try_lock() -> bool:
    connection = connections.get("default")
    if connection.capabilities.dialect != "postgres":
        return True
    rows = await connection.execute_query_dict("SELECT pg_try_advisory_xact_lock(74210001) AS ok")
    return bool(rows and rows[0]["ok"])


def provider_tables(provider: str) -> list[str]:
    return [name for name in status_maps.TABLES if name.split(".", 1)[0] == provider]
