"""Getting an order out of the door: allocate, pick, pack, hand to a carrier, track.

``ship_order`` records the hand-over (a tracking number exists); pick-up and
delivery are known only from carrier tracking, through ``record_tracking``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from domain.actor import Actor
from domain.allocation import allocate
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.order_machine import MoveContext, check_transition
from domain.order_writes import lock_order, require_writer, save_with_event
from domain.snapshots import order_state
from domain.statuses import OrderStatus, ShipmentStatus
from domain.stock import reservations
from domain.stock.reservations import ReservationKind
from domain.unit_of_work import unit_of_work
from events import log
from models import Order, Shipment, TrackingEvent

#: Shipment statuses a later scan may not move away from.
_FINAL_SHIPMENT = frozenset({ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED, ShipmentStatus.EXPIRED})


async def allocate_order(actor: Actor, order_id: int, warehouse_id: int | None = None, reason: str = "") -> Order:
    """Reserve every line of a paid order, at ``warehouse_id`` or where the tenant's allocation policy says."""
    return await allocate.allocate_order(actor, order_id, warehouse_id, reason)


async def ship_order(
    actor: Actor,
    order_id: int,
    carrier: str,
    tracking_no: str,
    *,
    estimated_delivery: datetime | None = None,
    warehouse_id: int | None = None,
    shipped_at: datetime | None = None,
) -> Shipment:
    """Record the hand-over of a packed order: a shipment with a tracking number, its reservations consumed.

    A split order ships per warehouse (``warehouse_id``): it is PARTIALLY_SHIPPED
    until the last warehouse's parcel leaves. ``shipped_at`` is when the parcel
    was handed over, if that was earlier than now (a late report); never later.
    """
    require_writer(actor)
    if not carrier.strip() or not tracking_no.strip():
        raise ValidationFailed("carrier and tracking number are both required", field="trackingNo")
    if shipped_at is not None and (shipped_at.tzinfo is None or shipped_at > datetime.now(UTC)):
        raise ValidationFailed("the hand-over time must be timezone-aware and not in the future", field="shippedAt")
    async with unit_of_work():
        order = await lock_order(actor, order_id)
        live = [r for r in await reservations.live_for_order(order.id) if r.kind == ReservationKind.ORDER]
        leaving = [r for r in live if warehouse_id is None or r.warehouse_id == warehouse_id]  # type: ignore[attr-defined]
        target = OrderStatus.SHIPPED if len(leaving) == len(live) else OrderStatus.PARTIALLY_SHIPPED
        check_transition(OrderStatus(order.status), target, MoveContext(actor.role, actor.source, ""))
        if not leaving:
            raise Conflict("nothing is reserved for this order here, so nothing can ship", field="warehouseId")
        before = order_state(order)
        now = datetime.now(UTC)
        shipment = await Shipment.create(
            order_id=order.id,
            warehouse_id=warehouse_id or order.warehouse_id,  # type: ignore[attr-defined]
            carrier=carrier.strip(),
            tracking_no=tracking_no.strip(),
            status=ShipmentStatus.LABEL_CREATED,
            shipped_at=shipped_at or now,
            estimated_delivery=estimated_delivery,
        )
        order.status = target
        await save_with_event(actor, order, before, "order.shipped", f"{carrier} {tracking_no}")
        await reservations.consume(actor, order, leaving, f"shipped {carrier} {tracking_no}")
    return shipment


async def record_tracking(
    actor: Actor,
    shipment_id: int,
    status: ShipmentStatus,
    occurred_at: datetime,
    *,
    description: str = "",
    location: str = "",
    raw_code: str = "",
    time_inferred: bool = False,
) -> TrackingEvent:
    """Add one carrier scan; a delivery scan moves the order to DELIVERED.

    ``time_inferred``: the carrier gave a local time without offset, placed in a zone by the parser.
    """
    async with unit_of_work():
        shipment = (
            await Shipment.filter(id=shipment_id, order__tenant_id=actor.tenant_id).select_for_update().first()
        )
        if shipment is None:
            raise NotFound("no such shipment", field="shipmentId")
        event = await TrackingEvent.create(
            shipment_id=shipment.id,
            status=status,
            raw_code=raw_code,
            description=description,
            location=location,
            occurred_at=occurred_at,
            source=actor.name,
            time_inferred=time_inferred,
        )
        before_status = shipment.status
        if before_status not in _FINAL_SHIPMENT:
            shipment.status = status
            if status == ShipmentStatus.DELIVERED:
                shipment.delivered_at = occurred_at
            await shipment.save()
        await log.append(
            tenant_id=actor.tenant_id,
            order_id=shipment.order_id,  # type: ignore[attr-defined]
            type="shipment.tracking",
            actor=actor.name,
            source=actor.source,
            reason=description,
            before={"shipment_id": shipment.id, "status": before_status},
            after={"shipment_id": shipment.id, "status": shipment.status, "raw_code": raw_code},
        )
        if status == ShipmentStatus.DELIVERED:
            order = await lock_order(actor, shipment.order_id)  # type: ignore[attr-defined]
            if order.status in (OrderStatus.SHIPPED, OrderStatus.PARTIALLY_SHIPPED):
                before = order_state(order)
                order.status = OrderStatus.DELIVERED
                await save_with_event(actor, order, before, "order.status_changed", "carrier reported delivery")
    return event
