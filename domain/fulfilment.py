"""Getting an order out of the door: allocate, pick, pack, hand to a carrier, track.

``ship_order`` records the hand-over (a tracking number exists); pick-up and
delivery are known only from carrier tracking, through ``record_tracking``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from domain.actor import Actor
from domain.errors import NotFound, ValidationFailed
from domain.orders import _require_writer, _save_with_event, lock_order
from domain.snapshots import order_state
from domain.statuses import OrderStatus, ShipmentStatus
from domain.transitions import MoveContext, check_transition
from domain.unit_of_work import unit_of_work
from events import log
from models import Order, OrderLine, Shipment, TrackingEvent, Warehouse

#: Shipment statuses a later scan may not move away from.
_FINAL_SHIPMENT = frozenset({ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED, ShipmentStatus.EXPIRED})


async def allocate_order(actor: Actor, order_id: int, warehouse_id: int, reason: str = "") -> Order:
    """Assign every line of a paid order to one warehouse."""
    _require_writer(actor)
    async with unit_of_work():
        order = await lock_order(actor, order_id)
        warehouse = await Warehouse.filter(id=warehouse_id, tenant_id=actor.tenant_id).first()
        if warehouse is None:
            raise NotFound("no such warehouse", field="warehouseId")
        check_transition(OrderStatus(order.status), OrderStatus.ALLOCATED, MoveContext(actor.role, actor.source, reason))
        before = order_state(order)
        order.status = OrderStatus.ALLOCATED
        order.warehouse_id = warehouse.id  # type: ignore[attr-defined]
        await OrderLine.filter(order_id=order.id).update(warehouse_id=warehouse.id)
        await _save_with_event(actor, order, before, "order.allocated", reason or f"allocated to {warehouse.code}")
    return order


async def ship_order(
    actor: Actor, order_id: int, carrier: str, tracking_no: str, *, estimated_delivery: datetime | None = None
) -> Shipment:
    """Record the hand-over of a packed order: a shipment with a tracking number, order SHIPPED."""
    _require_writer(actor)
    if not carrier.strip() or not tracking_no.strip():
        raise ValidationFailed("carrier and tracking number are both required", field="trackingNo")
    async with unit_of_work():
        order = await lock_order(actor, order_id)
        check_transition(OrderStatus(order.status), OrderStatus.SHIPPED, MoveContext(actor.role, actor.source, ""))
        before = order_state(order)
        now = datetime.now(UTC)
        shipment = await Shipment.create(
            order_id=order.id,
            warehouse_id=order.warehouse_id,  # type: ignore[attr-defined]
            carrier=carrier.strip(),
            tracking_no=tracking_no.strip(),
            status=ShipmentStatus.LABEL_CREATED,
            shipped_at=now,
            estimated_delivery=estimated_delivery,
        )
        order.status = OrderStatus.SHIPPED
        await _save_with_event(actor, order, before, "order.shipped", f"{carrier} {tracking_no}")
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
) -> TrackingEvent:
    """Add one carrier scan; a delivery scan moves the order to DELIVERED."""
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
                await _save_with_event(actor, order, before, "order.status_changed", "carrier reported delivery")
    return event
