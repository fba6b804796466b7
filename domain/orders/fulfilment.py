"""Getting an order out of the door: allocate, pick, pack, hand to a carrier, track.

``ship_order`` records the hand-over (a tracking number exists); pick-up and
delivery are known only from carrier tracking, through ``record_tracking``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from domain.actor import Actor
from domain.allocation import allocate, groups
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.order_machine import MoveContext, check_transition
from domain.order_writes import lock_order, require_writer, save_with_event
from domain.snapshots import order_state
from domain.statuses import OrderStatus, ShipmentStatus
from domain.stock import reservations
from domain.stock.reservations import ReservationKind
from domain.unit_of_work import unit_of_work
from events import log
from models import Order, OrderLine, Reservation, Shipment, TrackingEvent
from models.order import order_no

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
    parcel: int | None = None,
) -> Shipment:
    """Record the hand-over of a packed order: a shipment with a tracking number, its reservations consumed.

    An order split over warehouses ships per warehouse (``warehouse_id``), one
    split by hand per parcel (``parcel``, see ``domain.orders.split``); given
    both, only that parcel's lines in that warehouse leave. The order is
    PARTIALLY_SHIPPED until the last of its reserved lines leaves.
    ``shipped_at`` is when the parcel was handed over, if that was earlier than
    now (a late report); never later.

    A merge leader (``domain.orders.merge``) ships its members in the same
    parcel: each member gets its own shipment row with the same carrier and
    tracking number, its matching reservations consumed and its own lineage.
    Members follow the leader from any allocated status (their picking is the
    leader's); a held member, or one with lines not reserved, stops the
    hand-over. A member cannot be shipped on its own.
    """
    require_writer(actor)
    if not carrier.strip() or not tracking_no.strip():
        raise ValidationFailed("carrier and tracking number are both required", field="trackingNo")
    if shipped_at is not None and (shipped_at.tzinfo is None or shipped_at > datetime.now(UTC)):
        raise ValidationFailed("the hand-over time must be timezone-aware and not in the future", field="shippedAt")
    if parcel is not None and parcel < 1:
        raise ValidationFailed("parcels are numbered from 1", field="parcel")
    async with unit_of_work():
        order = (await groups.lock_group(actor, order_id)).order
        groups.refuse_member(order, "ship")
        live, leaving = await _leaving(order, warehouse_id, parcel)
        target = OrderStatus.SHIPPED if len(leaving) == len(live) else OrderStatus.PARTIALLY_SHIPPED
        nothing_here = Conflict("nothing is reserved for this order here, so nothing can ship",
                                field="parcel" if parcel is not None else "warehouseId")
        if live and not leaving:  # something is left, elsewhere: say so rather than name a move
            raise nothing_here
        if not order.status == target == OrderStatus.PARTIALLY_SHIPPED:  # a middle parcel of several leaves: no move
            check_transition(OrderStatus(order.status), target, MoveContext(actor.role, actor.source, ""))
        if not leaving:
            raise nothing_here
        followers = await _followers(order, warehouse_id, parcel)
        hand_over = _HandOver(carrier.strip(), tracking_no.strip(), shipped_at or datetime.now(UTC), estimated_delivery, warehouse_id)
        shipment = await hand_over.ship(actor, order, leaving, target, f"{carrier} {tracking_no}")
        for member, member_leaving, member_target in followers:
            await hand_over.ship(actor, member, member_leaving, member_target,
                                 f"{carrier} {tracking_no}, in the parcel of {order_no(order.id)}")
    return shipment


#: Statuses a merge member ships from when its leader's parcel leaves.
_FOLLOWS = frozenset({OrderStatus.ALLOCATED, OrderStatus.PICKING, OrderStatus.PACKED, OrderStatus.PARTIALLY_SHIPPED})


async def _leaving(order: Order, warehouse_id: int | None, parcel: int | None) -> tuple[list[Reservation], list[Reservation]]:
    """The order's live reservations, and those of them leaving now (in the warehouse, of the parcel)."""
    live = [r for r in await reservations.live_for_order(order.id) if r.kind == ReservationKind.ORDER]
    parcels = dict(await OrderLine.filter(order_id=order.id).values_list("id", "parcel")) if parcel is not None else {}
    leaving = [r for r in live
               if (warehouse_id is None or r.warehouse_id == warehouse_id)  # type: ignore[attr-defined]
               and (parcel is None or parcels.get(r.line_id) == parcel)]  # type: ignore[attr-defined]
    return live, leaving


async def _followers(
    leader: Order, warehouse_id: int | None, parcel: int | None
) -> list[tuple[Order, list[Reservation], OrderStatus]]:
    """The leader's members with something in this parcel, what of theirs leaves and the status each moves to."""
    followers = []
    for member in await groups.members_of(leader):
        if member.status == OrderStatus.ON_HOLD:
            raise Conflict(f"{order_no(member.id)}, merged into this order, is on hold: release it or unmerge it before "
                           "the parcel leaves", field="id")
        if await allocate.unallocated_lines(member):
            raise Conflict(f"{order_no(member.id)}, merged into this order, has lines not reserved: allocate it (it goes "
                           "to this order's warehouse) or unmerge it first", field="id")
        live, leaving = await _leaving(member, warehouse_id, parcel)
        if not leaving:
            continue
        if member.status not in _FOLLOWS:
            raise Conflict(f"{order_no(member.id)}, merged into this order, is {member.status} and cannot ship", field="id")
        followers.append((member, leaving, OrderStatus.SHIPPED if len(leaving) == len(live) else OrderStatus.PARTIALLY_SHIPPED))
    return followers


@dataclass(frozen=True, slots=True)
class _HandOver:
    """One parcel handed to a carrier: the same waybill for every order in it."""

    carrier: str
    tracking_no: str
    shipped_at: datetime
    estimated_delivery: datetime | None
    warehouse_id: int | None

    async def ship(self, actor: Actor, order: Order, leaving: list[Reservation], target: OrderStatus, reason: str) -> Shipment:
        """A shipment row for ``order``, its status moved to ``target`` and ``leaving`` consumed, with lineage."""
        before = order_state(order)
        at = {r.warehouse_id for r in leaving}  # type: ignore[attr-defined]
        shipment = await Shipment.create(
            order_id=order.id,
            warehouse_id=self.warehouse_id or (at.pop() if len(at) == 1 else order.warehouse_id),  # type: ignore[attr-defined]
            carrier=self.carrier,
            tracking_no=self.tracking_no,
            status=ShipmentStatus.LABEL_CREATED,
            shipped_at=self.shipped_at,
            estimated_delivery=self.estimated_delivery,
        )
        order.status = target
        await save_with_event(actor, order, before, "order.shipped", reason)
        await reservations.consume(actor, order, leaving, f"shipped {self.carrier} {self.tracking_no}")
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
