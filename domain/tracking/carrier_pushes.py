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

Which shipment: the one carrying the push's tracking number; when several
do, the one whose carrier is the push's carrier once both are normalised
(:func:`domain.inbound.carrier_codes.normalize`: Kdniao ``SF``, Kuaidi100
``shunfeng`` and AfterShip ``sf-express`` are all ``SF``). A push from a
carrier the table does not know still matches when exactly one shipment has
the number.

Which status: the push's codes are looked up in the provider's tables
(:mod:`domain.inbound.status_maps`) in order: the subscription state
(Kuaidi100 ``param.status``), refinements (AfterShip first tag, subtag), the
main code, the coarse code. Codes the provider documents as saying nothing
(``status_maps.SILENT``: Kuaidi100 ``polling``, AfterShip ``Pending``) and
codes a refinement table lacks pass silently; any other unknown code raises
an ``intake.unmapped_code`` alert with the raw code.

Times: a scan whose local time was placed in a zone by the parser
(``time_inferred``) is stored so, and the lineage row of the update says how
many scan times were inferred and in which zones.

Each application keeps ``Shipment.last_scan_at`` (the newest scan held) and
clears a "stalled in transit" alert when a newer scan arrives.

"Shipped but not moving": :func:`check_not_moving` alerts on shipments still
without a carrier scan past pick-up ``hours`` after they were handed over,
and on channel-shipped orders for which no carrier tracking exists at all.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from tortoise import connections

from domain import orders
from domain.actor import Actor, Role
from domain.alerts.raising import clear_alerts, raise_alert
from domain.errors import DomainError
from domain.inbound import payloads, status_maps
from domain.inbound import status_mapping as mapping_tables
from domain.inbound.normalized import InboundTracking, InboundTrackingEvent
from domain.inbound.status_mapping import Mappings, Table
from domain.orders import fulfilment
from domain.statuses import OrderStatus, ShipmentStatus
from domain.inbound import carrier_codes
from domain.unit_of_work import unit_of_work
from events import log
from models import Order, Shipment, TrackingEvent

S = ShipmentStatus
_FINAL = frozenset({S.DELIVERED, S.RETURNED, S.EXPIRED})
NOT_MOVING = "shipment.not_moving"
#: A parcel on its way whose newest scan is too old (``domain.tracking.stalled``); cleared by the next scan.
STALLED = "shipment.stalled"


def carrier_key(name: str) -> str:
    """What two carrier spellings must share to be the same carrier: the normalised code, else the lowered name."""
    return carrier_codes.normalize(name) or name.strip().lower()


def same_carrier(a: str, b: str) -> bool:
    return carrier_key(a) == carrier_key(b)


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


def _candidates(tracking: InboundTracking) -> list[tuple[str, str]]:
    """(table, code) pairs a push states, most decisive first (see module doc)."""
    provider, extra = tracking.provider, tracking.extra_codes
    pairs = [(f"{provider}.push_status", extra.get("push_status", "")), (f"{provider}.first_tag", extra.get("first_tag", "")),
             (f"{provider}.subtag", extra.get("subtag", "")), (provider, tracking.status_code)]
    if extra.get("State") != tracking.status_code:
        pairs.append((provider, extra.get("State", "")))
    return [(name, code) for name, code in pairs if code]


def _unmapped(table: Table, code: str) -> bool:
    """Whether a code no entry maps deserves an alert: not when documented as silent or only a refinement missed."""
    if code in table.overrides:  # the tenant unmapped it on purpose
        return table.name not in status_maps.REFINEMENTS
    if table.name in status_maps.REFINEMENTS or status_maps.is_silent(table.name, code):
        return False
    return table.exists or "." not in table.name


def push_status(tracking: InboundTracking, mappings: Mappings) -> tuple[ShipmentStatus | None, list[str]]:
    """The shipment status a push states, and the codes no table knew."""
    unmapped: list[str] = []
    for name, code in _candidates(tracking):
        table = mappings.table(name)
        entry = table.lookup(code)
        if entry is not None and entry.get("shipment"):
            return ShipmentStatus(entry["shipment"]), unmapped
        if _unmapped(table, code):
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
    names = {tracking.provider, *(f"{tracking.provider}.{key}" for key in ("push_status", "first_tag", "subtag"))}
    mappings = await mapping_tables.load(actor.tenant_id, names, max_age=mapping_max_age)
    status, unmapped = push_status(tracking, mappings)
    ref = payloads.ref(payload_sha256) if payload_sha256 else None
    async with unit_of_work():
        carrying = await Shipment.filter(order__tenant_id=actor.tenant_id, tracking_no=tracking.tracking_no.strip()).select_for_update()
        if not carrying:
            return TrackingResult(TrackingOutcome.UNKNOWN_WAYBILL, tracking.tracking_no)
        candidates = carrying if len(carrying) == 1 else [s for s in carrying if same_carrier(s.carrier, tracking.carrier)]
        if len(candidates) != 1:
            return TrackingResult(TrackingOutcome.AMBIGUOUS, tracking.tracking_no,
                                  notes=[f"{len(carrying)} shipments carry this tracking number, "
                                         f"{len(candidates)} of them by carrier {tracking.carrier}"])
        return await _apply(actor, candidates[0], tracking, status, unmapped, mappings, ref)


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
                          occurred_at=e.occurred_at, source=actor.name[:32], time_inferred=e.time_inferred)
            for e in backfill
        ])
        result.notes.append(f"{len(backfill)} late scans filed without changing the status")
    for index, event in enumerate(forward):
        is_newest = index == len(forward) - 1 and event.occurred_at == newest_in_push
        fallback = status if is_newest else None
        scan = scan_status(event, tracking.provider, mappings, fallback) or _previous(shipment, status)
        await fulfilment.record_tracking(actor, shipment.id, scan, event.occurred_at, description=event.description[:500],
                                         location=event.location[:200], raw_code=event.status_code[:32],
                                         time_inferred=event.time_inferred)
    result.new_scans = len(fresh)
    shipment = await Shipment.get(id=shipment.id)
    if status is not None and current and shipment.status != status and shipment.status not in _FINAL:
        await _set_status(actor, shipment, status, tracking, ref)
    if tracking.estimated_delivery and current and shipment.estimated_delivery != tracking.estimated_delivery:
        await Shipment.filter(id=shipment.id).update(estimated_delivery=tracking.estimated_delivery)
    shipment = await Shipment.get(id=shipment.id)
    newest_scan = max((when for when in (latest, newest_in_push, shipment.last_scan_at) if when), default=None)
    if newest_scan is not None and newest_scan != shipment.last_scan_at:
        await Shipment.filter(id=shipment.id).update(last_scan_at=newest_scan)
    if forward:
        await clear_alerts(tenant_id=actor.tenant_id, order_id=order_id, kind=STALLED, actor=actor.name)
    if shipment.status != S.LABEL_CREATED:
        await clear_alerts(tenant_id=actor.tenant_id, order_id=order_id, kind=NOT_MOVING, actor=actor.name)
    await _side_alerts(actor, order_id, tracking, unmapped)
    changed = bool(fresh) or shipment.status != before_status
    result.outcome = TrackingOutcome.APPLIED if changed else TrackingOutcome.UNCHANGED
    result.status = shipment.status
    if not same_carrier(shipment.carrier, tracking.carrier):
        result.notes.append(f"carrier differs: the shipment says {shipment.carrier}, the push {tracking.carrier}")
    if changed or unmapped or tracking.issues:
        inferred = inferred_times(fresh)
        after = {"shipment_id": shipment.id, "status": shipment.status, "status_code": tracking.status_code,
                 "extra_codes": dict(tracking.extra_codes), "unmapped": unmapped, "new_scans": len(fresh)}
        if inferred["count"]:
            after["inferred_times"] = inferred
        notes = [*result.notes, _inferred_note(inferred)] if inferred["count"] else result.notes
        reason = (f"{tracking.provider} {tracking.carrier} {tracking.tracking_no}: {len(fresh)} new scans"
                  + ("" if current else " (push older than the last scan)") + "".join(f"; {note}" for note in notes))
        await log.append(
            tenant_id=actor.tenant_id, order_id=order_id, type="intake.tracking_applied", actor=actor.name,
            source=actor.source, reason=reason, before={"shipment_id": shipment.id, "status": before_status},
            after=after, payload_ref=ref,
        )
    return result


def inferred_times(events: list[InboundTrackingEvent]) -> dict[str, Any]:
    """How many scan times were placed in a zone by the parser, and how many per zone (for lineage)."""
    zones = Counter(event.time_zone or "unknown" for event in events if event.time_inferred)
    return {"count": sum(zones.values()), "zones": dict(sorted(zones.items()))}


def _inferred_note(inferred: dict[str, Any]) -> str:
    zones = ", ".join(f"{zone} ({count})" for zone, count in inferred["zones"].items())
    return f"{inferred['count']} scan times came without a UTC offset and were read as local time in {zones}"


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
        for shipment in await _without_carrier_scans(idle):
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


async def _without_carrier_scans(shipments: list[Shipment]) -> list[Shipment]:
    """Those with no scan past the label: a parcel with carrier scans is moving, whatever its stored status says.

    A shipment reported by a channel (``source="channel"``) can carry scans that
    arrived before it existed or were filed under a status no table knew; it
    is not "not moving" while those scans show the carrier has it.
    """
    if not shipments:
        return []
    moving = set(await TrackingEvent.filter(shipment_id__in=[s.id for s in shipments])
                 .exclude(status=S.LABEL_CREATED).values_list("shipment_id", flat=True))
    return [s for s in shipments if s.id not in moving]


async def _try_lock() -> bool:
    connection = connections.get("default")
    if connection.capabilities.dialect != "postgres":
        return True
    rows = await connection.execute_query_dict("SELECT pg_try_advisory_xact_lock(74210001) AS ok")
    return bool(rows and rows[0]["ok"])


def provider_tables(provider: str) -> list[str]:
    return [name for name in status_maps.TABLES if name.split(".", 1)[0] == provider]
